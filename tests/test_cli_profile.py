"""`cutover profile ...` and `cutover locate ...`, in process; `profile fields` end to end against the simulator."""

from __future__ import annotations

import json

import pytest

from core.config import config_path, get_profile
from cli_support import run, simulated_profile

from core.secrets import SECRET_NAMES, Credentials, CredentialStore
from core.sim.catalog import NS_FIELD_IDS, NS_FIELD_LABELS
from cli import main

ADD = ["profile", "add", "acme", "--zuora-env", "us-cloud1-api-sandbox", "--netsuite-account-id", "1234567_SB1"]


def test_add_list_show_remove(capsys, tmp_path):
    code, out, _ = run(capsys, *ADD, "--read-only", "--field", "zuora_sync_updates=custbody_zsu")
    assert code == 0 and "saved profile 'acme'" in out and "cutover credentials set acme" in out
    profile = get_profile("acme")
    assert profile.read_only and profile.netsuite_fields.zuora_sync_updates == "custbody_zsu"

    code, out, _ = run(capsys, "profile", "list")
    assert code == 0 and "acme" in out and "sandbox read-only" in out and "1234567_SB1" in out
    code, out, _ = run(capsys, "profile", "list", "--json")
    assert json.loads(out)["acme"]["netsuite_fields"]["zuora_sync_updates"] == "custbody_zsu"

    code, out, _ = run(capsys, "profile", "show", "acme")
    assert code == 0 and "https://rest.sandbox.na.zuora.com" in out and "custbody_zsu" in out
    assert out.count("missing") == len(SECRET_NAMES)

    code, out, _ = run(capsys, "profile", "remove", "acme")
    assert code == 0 and "cutover credentials delete acme" in out
    code, out, _ = run(capsys, "profile", "list")
    assert "no profiles yet" in out


def test_show_tells_where_each_secret_comes_from(capsys, monkeypatch):
    run(capsys, *ADD)
    CredentialStore().save("acme", Credentials.from_values({"zuora_client_id": "id-in-keyring"}))
    monkeypatch.setenv("CUTOVER_ZUORA_CLIENT_SECRET", "secret-in-env")
    code, out, _ = run(capsys, "profile", "show", "acme")
    assert code == 0
    assert "in the keyring" in out and "from CUTOVER_ZUORA_CLIENT_SECRET" in out
    assert "id-in-keyring" not in out and "secret-in-env" not in out


@pytest.mark.parametrize("extra, message", [
    (["--zuora-env", "moon"], "unknown Zuora environment 'moon' (use one of: us-cloud1-production"),
    (["--field", "zuora_colour=custbodyx"], "bad --field"),
    (["--field", "zuora_id"], "KEY=SCRIPTID"),
    (["--netsuite-base-url", "http://ns.example.com"], "plain http"),
])
def test_add_rejects_bad_input_with_a_message(capsys, extra, message):
    code, _, err = run(capsys, *ADD, *extra)
    assert code == 2 and message in err and "Traceback" not in err
    assert not config_path().exists()


def test_add_needs_exactly_one_zuora_location(capsys):
    with pytest.raises(SystemExit) as info:  # argparse's own usage error, exit 2
        main([*ADD, "--zuora-base-url", "https://rest.example.com"])
    assert info.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_add_refuses_production_signals_without_the_flag(capsys):
    args = ["profile", "add", "prod", "--zuora-env", "us-cloud1-production", "--netsuite-account-id", "1234567"]
    code, _, err = run(capsys, *args)
    assert code == 2 and "--production" in err
    code, _, _ = run(capsys, *args, "--production")
    assert code == 0 and get_profile("prod").is_production


def test_add_twice_needs_replace_which_keeps_the_field_map(capsys):
    run(capsys, *ADD, "--field", "zuora_sync_updates=custbody_zsu")
    code, _, err = run(capsys, *ADD)
    assert code == 2 and "--replace" in err
    code, _, _ = run(capsys, *ADD[:-1], "7654321_SB2", "--replace")
    assert code == 0
    profile = get_profile("acme")
    assert profile.netsuite_account_id == "7654321_SB2" and profile.netsuite_fields.zuora_sync_updates == "custbody_zsu"


def test_unknown_profile_is_a_clear_error(capsys):
    run(capsys, *ADD)
    for args in (["profile", "show", "nope"], ["profile", "remove", "nope"], ["locate", "data", "nope"]):
        code, _, err = run(capsys, *args)
        assert code == 2 and "'nope'" in err and "acme" in err


def test_locate(capsys, tmp_path):
    run(capsys, *ADD, "--data-dir", str(tmp_path / "runs"))
    assert run(capsys, "locate", "config")[1].strip() == str(tmp_path / "config" / "cutover" / "config.toml")
    assert run(capsys, "locate", "data")[1].strip() == str(tmp_path / "data" / "cutover")
    assert run(capsys, "locate", "data", "acme")[1].strip() == str(tmp_path / "runs")


# ---- `profile fields` against the simulated account ------------------------------------------------------------
@pytest.fixture
def simulated(capsys, monkeypatch):
    with simulated_profile(capsys, monkeypatch) as demo:
        fields = [(sid, NS_FIELD_LABELS[key], "BODY", "Free-Form Text", None) for key, sid in NS_FIELD_IDS.items()]
        fields.append(("custentityzuoraid", "Zuora ID", "ENTITY", "Free-Form Text", None))
        demo.sim.store.executemany("INSERT OR IGNORE INTO ns.customfield VALUES (?,?,?,?,?)", fields)
        yield demo


def test_fields_discovers_the_accounts_ids_and_apply_saves_them(capsys, simulated):
    assert get_profile("sim").netsuite_fields.zuora_sync_updates is None
    code, out, _ = run(capsys, "profile", "fields", "sim")
    assert code == 0
    assert "custbody_zuora_sync_updates" in out and "zuora_sync_updates: (not mapped) -> custbody_zuora_sync_updates" \
        in out and "--apply" in out
    assert get_profile("sim").netsuite_fields.zuora_sync_updates is None  # nothing saved without --apply

    code, out, _ = run(capsys, "profile", "fields", "sim", "--apply")
    assert code == 0 and "saved" in out
    assert get_profile("sim").netsuite_fields.script_ids() == NS_FIELD_IDS
    code, out, _ = run(capsys, "profile", "fields", "sim")
    assert "already matches" in out
