"""Profiles: TOML + environment through pydantic-settings, tomlkit writes that keep comments, validation messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import (
    config_path, get_profile, load_profiles, remove_profile, save_profile, scan_profiles, validate_profile,
)
from core.profile import NetSuiteFields, Profile, default_data_dir
from core.errors import ConfigError
from core.sim.catalog import NS_FIELD_LABELS
from core.zuora.environments import ENVIRONMENT_NAMES

ACME = {"zuora_env": "us-cloud1-api-sandbox", "netsuite_account_id": "1234567_SB1"}


def write_config(text: str) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_paths_follow_xdg_and_the_override(tmp_path, monkeypatch):
    assert config_path() == tmp_path / "config" / "cutover" / "config.toml"
    assert validate_profile("acme", ACME).data_dir == tmp_path / "data" / "cutover" / "acme"
    monkeypatch.setenv("CUTOVER_CONFIG_FILE", str(tmp_path / "elsewhere.toml"))
    assert config_path() == tmp_path / "elsewhere.toml"
    save_profile(validate_profile("acme", ACME))
    assert (tmp_path / "elsewhere.toml").exists() and get_profile("acme").netsuite_account_id == "1234567_SB1"


def test_save_then_load_round_trips_every_setting(tmp_path):
    profile = validate_profile("acme-prod", {
        "zuora_env": "PROD_EU", "netsuite_account_id": "7654321", "environment": "production", "read_only": True,
        "data_dir": str(tmp_path / "runs"),
        "netsuite_fields": {"zuora_sync_updates": "CUSTBODY_ZUORA_SYNC_UPDATES", "sync_updates_yes": "T"}})
    assert profile.zuora_env == "eu-production"  # SDK alias, kept under our name
    save_profile(profile)
    assert get_profile("acme-prod") == profile
    assert profile.netsuite_fields.zuora_sync_updates == "custbody_zuora_sync_updates"
    assert profile.zuora_url() == "https://rest.eu.zuora.com"
    assert profile.netsuite_url() == "https://7654321.suitetalk.api.netsuite.com"
    assert profile.is_production and profile.title == "acme-prod (Zuora eu-production · NetSuite 7654321)"


def test_writing_keeps_the_consultants_comments(tmp_path):
    path = write_config(
        "# my notes about these tenants\n"
        "[profiles.acme]  # the UAT pair\n"
        "zuora_env = \"us-cloud1-api-sandbox\"  # moved from cloud 2 in May\n"
        "netsuite_account_id = \"1234567_SB1\"\n"
        "\n"
        "[profiles.acme.netsuite_fields]\n"
        "# confirmed with the NetSuite admin on 3 March\n"
        "zuora_id = \"custbodyzuoraid\"\n")
    acme = get_profile("acme")
    save_profile(acme.model_copy(update={"read_only": True}))
    save_profile(validate_profile("beta", {**ACME, "netsuite_account_id": "999_SB2"}))
    text = path.read_text()
    for comment in ("# my notes about these tenants", "# the UAT pair", "# moved from cloud 2 in May",
                    "# confirmed with the NetSuite admin on 3 March"):
        assert comment in text
    assert get_profile("acme").read_only is True
    assert get_profile("beta").netsuite_account_id == "999_SB2"
    assert "zuora_sync_updates has no documented script id" in text  # hint left in the new table


def test_switching_from_env_to_base_url_drops_the_stale_key():
    save_profile(validate_profile("acme", ACME))
    save_profile(validate_profile("acme", {"zuora_base_url": "https://rest.private.example.com",
                                           "netsuite_account_id": "1234567_SB1"}))
    assert "zuora_env" not in config_path().read_text()
    assert get_profile("acme").zuora_url() == "https://rest.private.example.com"


def test_environment_beats_the_file_and_nests_with_double_underscores(monkeypatch):
    save_profile(validate_profile("acme", ACME))
    monkeypatch.setenv("CUTOVER_PROFILES__ACME__READ_ONLY", "true")
    monkeypatch.setenv("CUTOVER_PROFILES__ACME__NETSUITE_FIELDS__ZUORA_SYNC_UPDATES", "custbody_zsu")
    monkeypatch.setenv("CUTOVER_PROFILES__CI__ZUORA_ENV", "SBX")
    monkeypatch.setenv("CUTOVER_PROFILES__CI__NETSUITE_ACCOUNT_ID", "42_SB1")
    acme = get_profile("acme")
    assert acme.read_only is True and acme.netsuite_fields.zuora_sync_updates == "custbody_zsu"
    assert acme.netsuite_fields.zuora_id == "custbodyzuoraid"  # deep merge: the file's other keys stay
    assert sorted(load_profiles()) == ["acme", "ci"]


def test_unknown_profile_lists_the_known_ones():
    save_profile(validate_profile("acme", ACME))
    save_profile(validate_profile("beta", ACME))
    with pytest.raises(ConfigError, match=r"no profile named 'gamma' \(known profiles: acme, beta\)") as info:
        get_profile("gamma")
    assert "cutover profile add" in str(info.value)


@pytest.mark.parametrize("data, field, fix", [
    ({"zuora_env": "mars", "netsuite_account_id": "1_SB1"}, "zuora_env", "us-cloud1-production"),
    ({"netsuite_account_id": "1_SB1"}, "give exactly one of zuora_env", "zuora_base_url"),
    ({**ACME, "zuora_base_url": "https://x.example.com"}, "exactly one", "zuora_env"),
    ({**ACME, "netsuite_account_id": "acme corp"}, "netsuite_account_id", "Setup > Company"),
    ({**ACME, "netsuite_base_url": "http://ns.example.com"}, "plain http", "https"),
    ({"zuora_base_url": "http://rest.example.com", "netsuite_account_id": "1_SB1"}, "zuora_base_url", "https"),
    ({**ACME, "environment": "staging"}, "environment", "'sandbox' or 'production'"),
    ({**ACME, "zuora_env": "us-cloud1-production"}, "production data center", "--production"),
    ({**ACME, "netsuite_account_id": "1234567"}, "no sandbox suffix", "--production"),
    ({**ACME, "netsuite_fields": {"zuora_id": "Zuora ID"}}, "netsuite_fields.zuora_id", "Transaction Body Fields"),
    ({**ACME, "netsuite_fields": {"zuora_colour": "custbodyx"}}, "netsuite_fields.zuora_colour", "spelling"),
    ({**ACME, "readonly": True}, "readonly", "not a known setting"),
    ({**ACME, "zuora_client_secret": "s3cret"}, "looks like a secret", "cutover credentials set"),
    ({**ACME, "netsuite": {"token_secret": "s3cret"}}, "looks like a secret", "keyring"),
])
def test_validation_names_the_field_and_the_fix(data, field, fix):
    with pytest.raises(ConfigError) as info:
        validate_profile("acme", data)
    text = str(info.value)
    assert field in text and fix in text
    assert "s3cret" not in text


def test_bad_profile_names_are_refused():
    with pytest.raises(ConfigError, match="not a usable profile name"):
        validate_profile("Acme__Prod", ACME)


def test_loopback_urls_may_be_plain_http_for_the_simulator():
    p = validate_profile("sim", {"zuora_base_url": "http://127.0.0.1:8080/", "netsuite_account_id": "TSTDRV2207311_SB1",
                                 "netsuite_base_url": "http://localhost:8080/services/rest"})
    assert p.zuora_url() == "http://127.0.0.1:8080"
    assert p.netsuite_url() == "http://localhost:8080"


def test_every_named_zuora_environment_is_accepted():
    for name in ENVIRONMENT_NAMES:
        p = validate_profile("x", {"zuora_env": name, "netsuite_account_id": "1_SB1",
                                   "environment": "production"})
        assert p.zuora_url().startswith("https://rest.")


def test_secrets_in_the_file_are_refused_even_outside_profiles():
    write_config('netsuite_token_secret = "s3cret"\n[profiles.acme]\nzuora_env = "SBX"\nnetsuite_account_id = "1_SB1"\n')
    with pytest.raises(ConfigError, match="looks like a secret") as info:
        get_profile("acme")
    assert "s3cret" not in str(info.value)


def test_a_secret_in_a_profile_environment_variable_is_refused(monkeypatch):
    save_profile(validate_profile("acme", ACME))
    monkeypatch.setenv("CUTOVER_PROFILES__ACME__ZUORA_CLIENT_SECRET", "s3cret")
    with pytest.raises(ConfigError, match="looks like a secret"):
        get_profile("acme")


def test_one_broken_profile_hides_no_other():
    write_config('[profiles.good]\nzuora_env = "SBX"\nnetsuite_account_id = "1_SB1"\n'
                 '[profiles.bad]\nzuora_env = "SBX"\nnetsuite_account_id = "not an id"\n')
    assert get_profile("good").name == "good"
    scanned = scan_profiles()
    assert isinstance(scanned["good"], Profile) and isinstance(scanned["bad"], ConfigError)
    with pytest.raises(ConfigError, match="'bad'"):
        load_profiles()


def test_toml_syntax_errors_say_where():
    write_config('[profiles.acme\nzuora_env = "SBX"\n')
    with pytest.raises(ConfigError, match=r"not valid TOML.*line 1"):
        get_profile("acme")


def test_remove_profile_keeps_the_others():
    save_profile(validate_profile("acme", ACME))
    save_profile(validate_profile("beta", ACME))
    remove_profile("acme")
    assert list(load_profiles()) == ["beta"]
    with pytest.raises(ConfigError, match="known profiles: beta"):
        remove_profile("acme")


def test_netsuite_field_defaults_follow_the_documented_pattern():
    fields = NetSuiteFields()
    assert set(NetSuiteFields.keys()) == set(NS_FIELD_LABELS)
    for key, script_id in fields.script_ids().items():
        label = NS_FIELD_LABELS[key].removeprefix("Zuora ")
        assert script_id == "custbodyzuora" + "".join(ch for ch in label.lower() if ch.isalnum())
    assert fields.zuora_sync_updates is None and fields.unmapped() == ["zuora_sync_updates"]
    assert fields.sync_updates_yes == "Yes"


def test_default_data_dir_is_not_written_to_the_file():
    save_profile(validate_profile("acme", ACME))
    assert "data_dir" not in config_path().read_text()
    assert get_profile("acme").data_dir == default_data_dir("acme")
