"""The connector instances register: round trip, licence warnings, the F3c carry-over, the ticket's ids, and the
new OAuth client's token test over real loopback HTTP (the secret is never written anywhere)."""

from __future__ import annotations

import getpass
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from cli_support import run, simulated_profile
from pydantic import SecretStr

from core.config import config_path, get_profile
from core.profile import Profile
from core.demo import DemoTenant
from core.errors import ConfigError
from core.instances import InstanceRegister, instances_for_ticket
from core.journal import Journal
from core.runbook.model import CheckResult, Status
from core.secrets import CredentialStore
from core.sim.support import create_oauth_client
from cli import instances as instances_cli

ACCOUNT = "1234567_SB1"


@pytest.fixture
def profile(tmp_path) -> Profile:
    return Profile(name="acme", zuora_env="us-cloud1-api-sandbox", netsuite_account_id=ACCOUNT,
                   data_dir=tmp_path / "acme")


@pytest.fixture
def journal(profile):
    with Journal.for_profile(profile) as j:
        yield j


def test_round_trip_survives_reopening_the_journal(profile, journal):
    register = InstanceRegister(journal, profile)
    old = register.add(environment="production", role="old", instance_id="48213", account_id="zuora-1a2b",
                       environment_id="9f3c-11", oauth_client_id="c-old", notes="captured in A2")
    new = register.add(environment="production", role="new", instance_id=" 50001 ")
    assert (old.netsuite_account_id, new.netsuite_account_id) == (ACCOUNT, ACCOUNT)  # the profile's by default
    assert (new.kind, new.status, new.instance_id) == ("permanent", "active", "50001")

    updated = register.update("50001", account_id="zuora-9z8y", environment_id="e-2", oauth_client_id="c-new")
    assert (updated.account_id, updated.oauth_client_id) == ("zuora-9z8y", "c-new")
    assert register.update(f"#{new.key}", notes="").notes == ""  # by register number too; empty clears
    retired = register.retire("48213", note="replaced by 50001")
    assert retired.status == "retired" and "replaced by 50001" in retired.notes and "captured in A2" in retired.notes

    with Journal.for_profile(profile) as again:
        reread = InstanceRegister(again, profile)
        assert [(i.ref, i.status) for i in reread.list()] == [("48213", "retired"), ("50001", "active")]
        assert [i.ref for i in reread.list(live_only=True)] == ["50001"]
        assert reread.get("50001").updated_at >= reread.get("50001").created_at


def test_bad_input_says_what_to_do(profile, journal):
    register = InstanceRegister(journal, profile)
    register.add(environment="sandbox", role="old", instance_id="777")
    with pytest.raises(ConfigError, match="environment.*sandbox.*production"):
        register.add(environment="prod", role="old")
    with pytest.raises(ConfigError, match="needs its environment"):
        register.add(instance_id="1")
    with pytest.raises(ConfigError, match="already in the register.*cutover instances update 777"):
        register.add(environment="sandbox", role="new", instance_id="777")
    with pytest.raises(ConfigError, match="not a NetSuite account id"):
        register.add(environment="sandbox", role="new", netsuite_account_id="acme corp")
    with pytest.raises(ConfigError, match="not an id: copy it from the connector's Logs tab"):
        register.update("777", account_id="two words")
    with pytest.raises(ConfigError, match="role cannot be cleared: give one of old, new"):
        register.update("777", role=None)  # a blank choice in the form
    with pytest.raises(ConfigError, match="no connector instance '9' in the register.*known: 777"):
        register.retire("9")


def test_licence_warning_counts_live_permanent_instances_per_environment(profile, journal):
    register = InstanceRegister(journal, profile)
    register.add(environment="production", role="old", instance_id="48213", account_id="acc-p")
    register.add(environment="sandbox", role="old", instance_id="777", account_id="acc-s")
    assert register.warnings() == []  # one sandbox + one production: what a licence includes

    journal.set_variable("provisioning_path", "new-instance")
    assert any("path new-instance adds a second permanent production instance next to 48213" in w
               for w in register.warnings())

    register.add(environment="production", role="new", instance_id="50001")
    [warning] = [w for w in register.warnings() if "production" in w]
    assert "2 permanent production instances are live (48213, 50001)" in warning
    assert "a licence includes two permanent instances, one sandbox and one production" in warning

    register.add(environment="sandbox", role="new", instance_id="t-1", kind="temporary",
                 provisioned_on=(date.today() - timedelta(days=110)).isoformat())
    register.add(environment="sandbox", role="new", instance_id="t-0", kind="temporary",
                 provisioned_on=(date.today() - timedelta(days=130)).isoformat())
    warnings = register.warnings()
    assert not any("sandbox instances are live" in w for w in warnings)  # temporary ones take no licensed place
    assert any(w.startswith("temporary instance t-1 expires on") for w in warnings)
    assert any(w.startswith("temporary instance t-0 expired on") and "retire it" in w for w in warnings)

    register.retire("48213")
    register.retire("t-0")
    assert [w for w in register.warnings() if "live" in w or "expired" in w] == []


def test_new_tenant_path_carries_the_old_ids_over(profile, journal):
    register = InstanceRegister(journal, profile)
    journal.set_variable("provisioning_path", "new-tenant")
    register.add(environment="production", role="old", instance_id="48213", account_id="acc-p",
                 environment_id="env-p")
    new = register.add(environment="production", role="new", instance_id="60001")
    assert (new.account_id, new.environment_id) == ("acc-p", "env-p")
    assert register.warnings() == []  # the same AccountId moved: still one licensed production instance
    with pytest.raises(ConfigError, match="re-uses the old production instance's Account ID acc-p"):
        register.update("60001", account_id="something-else")

    # Recorded in the other order: the sandbox ids reach the new instance once the old one has them.
    register.add(environment="sandbox", role="new", instance_id="60002")
    register.add(environment="sandbox", role="old", instance_id="777")
    register.update("777", account_id="acc-s", environment_id="env-s")
    assert (register.get("60002").account_id, register.get("60002").environment_id) == ("acc-s", "env-s")


def test_the_old_instance_f3a_re_pointed_reads_as_re_pointed_on_the_edit_path(profile, journal):
    register = InstanceRegister(journal, profile)
    old = register.add(environment="production", role="old", instance_id="48213", oauth_client_id="client-old")
    journal.set_variable("provisioning_path", "edit-instance")
    journal.set_variable("new_oauth_client_id", "client-new")
    assert register.role_words(register.get("48213")) == "old"  # F3a not done: still the old client
    register.update("48213", oauth_client_id="client-new")  # F3a: the same instance, the new OAuth client
    assert register.role_words(register.get("48213")) == "re-pointed"
    assert register.get("48213").role == old.role == "old"  # the stored role stays: old_instance_id finds it
    journal.set_variable("provisioning_path", "new-instance")  # on another path it is simply the old one
    assert register.role_words(register.get("48213")) == "old"


def test_netsuite_credentials_stay_when_the_account_is_unchanged(profile, journal):
    register = InstanceRegister(journal, profile)
    register.add(environment="production", role="old", instance_id="48213")
    same = register.add(environment="production", role="new", instance_id="50001")
    assert register.netsuite_note(same) == f"NetSuite credentials unchanged: same account {ACCOUNT}"
    moved = register.update("50001", netsuite_account_id="7654321")
    note = register.netsuite_note(moved)
    assert note.startswith(f"NetSuite account changes from {ACCOUNT} to 7654321")
    assert "cutover credentials set PROFILE --only netsuite" in note


def test_ticket_ids_come_from_the_register(profile, journal):
    register = InstanceRegister(journal, profile)
    assert instances_for_ticket(journal) == {}  # nothing recorded: the ticket keeps the run variables
    register.add(environment="production", role="old", instance_id="48213", account_id="acc-p",
                 environment_id="env-p")
    register.add(environment="production", role="new", instance_id="50001", oauth_client_id="c-new")
    ids = instances_for_ticket(journal)
    assert {k: ids[k] for k in ("old_instance_id", "old_account_id", "old_environment_id", "new_instance_id",
                                "new_oauth_client_id")} == {
        "old_instance_id": "48213", "old_account_id": "acc-p", "old_environment_id": "env-p",
        "new_instance_id": "50001", "new_oauth_client_id": "c-new"}
    assert "new_account_id" not in ids  # Support has not provisioned it yet
    assert ids["netsuite_credentials"] == f"NetSuite credentials unchanged: same account {ACCOUNT}"
    assert "production new instance 50001" in ids["instances"] and "licence" in ids["licence_warnings"]


# ---- the new OAuth client over loopback --------------------------------------------------------------------------
def _secret_files(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


async def test_token_test_with_the_new_client_and_with_a_wrong_secret(tmp_path):
    async with DemoTenant(scale=1) as demo:
        new_client = create_oauth_client(demo.sim.store, "IS connector")  # F1, as the Zuora UI would
        with Journal.for_profile(demo.profile) as journal:
            register = InstanceRegister(journal, demo.profile)
            register.add(environment="sandbox", role="old", instance_id="48213")
            target = register.add(environment="sandbox", role="new", instance_id="50001")

            zuora, netsuite = await register.test_oauth_client(
                new_client["client_id"], SecretStr(new_client["client_secret"]), demo.credentials, timeout=5)
            assert zuora.ok and new_client["client_id"] in zuora.detail and "gets a token" in zuora.detail
            assert netsuite.ok and netsuite.detail.startswith("NetSuite credentials unchanged: same account")
            recorded = register.get("50001")
            assert recorded.oauth_client_id == new_client["client_id"] and "gets a token" in recorded.oauth_check

            zuora, netsuite = await register.test_oauth_client(
                new_client["client_id"], SecretStr("not-the-secret"), demo.credentials, ref=target.key, timeout=5)
            assert not zuora.ok and zuora.reason == "credentials" and netsuite.ok
            assert "refused" in register.get("50001").oauth_check
            with pytest.raises(ConfigError, match="id and secret"):
                await register.test_oauth_client(new_client["client_id"], SecretStr(" "), demo.credentials)

            files = _secret_files(Path(demo.profile.data_dir), config_path().parent)
            assert any(f.name.startswith("journal.db") for f in files)
            for f in files:
                data = f.read_bytes()
                assert new_client["client_secret"].encode() not in data, f
                assert b"not-the-secret" not in data, f


def test_cli_round_trip_and_test_oauth_prompts(capsys, monkeypatch):
    with simulated_profile(capsys, monkeypatch, name="acme") as demo:
        code, out, err = run(capsys, "instances", "add", "--profile", "acme", "--environment", "sandbox", "--role",
                             "old", "--instance-id", "48213", "--account-id", "acc-s")
        assert code == 0, err
        code, out, err = run(capsys, "instances", "add", "--profile", "acme", "--environment", "sandbox", "--role",
                             "new", "--instance-id", "50001")
        assert code == 0 and "NetSuite credentials unchanged: same account" in out
        assert "warning: 2 permanent sandbox instances are live (48213, 50001)" in out

        new_client = create_oauth_client(demo.sim.store, "IS connector")
        answers = iter([new_client["client_id"], new_client["client_secret"]])
        prompts = []
        monkeypatch.setattr(getpass, "getpass", lambda prompt: prompts.append(prompt) or next(answers))
        monkeypatch.setattr(instances_cli.sys, "stdin", type("Tty", (), {"isatty": lambda self: True})())
        code, out, err = run(capsys, "instances", "test-oauth", "--profile", "acme", "--timeout", "5")
        assert code == 0, err
        assert prompts == ["New OAuth client id: ", "New OAuth client secret: "]
        zuora, netsuite = out.splitlines()[:2]
        assert zuora.split()[:2] == ["Zuora", "ok"] and netsuite.split()[:2] == ["NetSuite", "ok"]
        assert new_client["client_secret"] not in out + err

        answers = iter(["", new_client["client_secret"]])  # Enter keeps the recorded client id
        code, out, err = run(capsys, "instances", "test-oauth", "--profile", "acme", "--instance", "50001", "--json")
        tested = json.loads(out)  # one object, as every --json
        assert code == 0 and tested["ok"] is True, err
        assert (tested["profile"], tested["instance"], tested["recorded"]) == ("acme", "50001", True)
        assert [(c["system"], c["ok"]) for c in tested["checks"]] == [("Zuora", True), ("NetSuite", True)]
        assert new_client["client_secret"] not in out + err

        code, out, err = run(capsys, "instances", "retire", "48213", "--profile", "acme", "--note", "after go-live")
        assert code == 0 and "retired #1" in out and "warning" not in out
        code, out, _ = run(capsys, "instances", "list", "--profile", "acme", "--json")
        listed = json.loads(out)
        assert [i["instance_id"] for i in listed["instances"]] == ["50001"] and listed["warnings"] == []
        assert listed["instances"][0]["oauth_client_id"] == new_client["client_id"]
        assert get_profile("acme").netsuite_account_id == demo.profile.netsuite_account_id
        assert CredentialStore().load("acme").netsuite_token_id is not None  # the NetSuite login was not asked for

        code, _, err = run(capsys, "instances", "update", "404", "--profile", "acme", "--notes", "x")
        assert code == 2 and "no connector instance '404'" in err and "Traceback" not in err


def test_the_f4_ticket_draft_takes_its_ids_from_the_register(profile, journal):
    from core.runbook.engine import Runbook

    register = InstanceRegister(journal, profile)  # the profile is a sandbox: its ticket is about sandbox
    register.add(environment="sandbox", role="old", instance_id="48213", account_id="zuora-1a2b",
                 environment_id="env-old-9f3c")
    register.add(environment="sandbox", role="new", instance_id="50001", account_id="zuora-9z8y",
                 environment_id="env-new-2e", oauth_client_id="client-new-77")
    journal.set_variable("new_instance_id", "stale-variable-id")  # the register wins over a stale variable
    runbook = Runbook(profile, journal)
    for name, value in (("is_enabled_ts", "2026-11-21 10:00"), ("migration_date", "2026-11-21"),
                        ("provisioning_path", "new-instance"), ("new_oauth_client_id", "client-new-77"),
                        ("connect_login_name", "acme-oauth"), ("e2_decision", "mark-yes")):
        runbook.set_variable(name, value)
    for step_id in ("E1", "E2"):
        journal.record_result(CheckResult(step_id, Status.PASS, 0, f"{step_id} done"))
    text = runbook.ticket("F4").text
    for expected in ("48213", "zuora-1a2b", "env-old-9f3c", "50001", "client-new-77", "NetSuite credentials"):
        assert expected in text, expected
    assert "stale-variable-id" not in text
    assert "sandbox new instance 50001" in text  # the register's own lines


def test_connector_ids_have_one_source_of_truth_the_register(profile):
    """`cutover set old_instance_id` writes the register; the register's edits show in the run variables."""
    from core.run import Run

    with Run(profile) as run:
        variables = run.runbook.set_variable("old_instance_id", "48213")
        old = run.register.instance_for("old")
        assert (old.instance_id, old.environment, old.role) == ("48213", profile.environment, "old")
        assert variables.old_instance_id == "48213"
        run.register.update("48213", account_id="zuora-1a2b")  # edited in the register (screen or CLI) ...
        assert run.journal.variables().old_account_id == "zuora-1a2b"  # ... and the variable follows
        run.runbook.set_variable("new_instance_id", "50001")
        run.runbook.set_variable("new_account_id", "zuora-9z8y")
        assert run.register.instance_for("new").account_id == "zuora-9z8y"
        with pytest.raises(ConfigError, match="is not an id"):
            run.runbook.set_variable("new_environment_id", "two words")
        assert run.journal.variables().new_environment_id is None  # nothing stored on a bad value
        run.runbook.set_variable("old_account_id", "")  # clearing clears it in the register too
        assert run.register.get("48213").account_id is None and run.journal.variables().old_account_id is None
        assert sorted(i.ref for i in run.register.list()) == ["48213", "50001"]  # one row per role, never two
