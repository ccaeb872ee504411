"""`cutover check|plan|apply|confirm|ticket|set|vars`, in process, against the simulator over loopback."""

from __future__ import annotations

import builtins
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cli_support import run, simulated_profile

from core.config import get_profile, save_profile
from core.profile import NetSuiteFields
from core.sim.catalog import NS_FIELD_IDS

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def sim_profile(capsys, monkeypatch):
    """Profile `sim` on a live simulator, with the simulated account's script ids mapped."""
    with simulated_profile(capsys, monkeypatch) as demo:
        save_profile(get_profile("sim").model_copy(update={"netsuite_fields": NetSuiteFields(**NS_FIELD_IDS)}))
        run(capsys, "set", "freeze_ts", demo.sim.store.setting("scenario.freeze_date"), "--profile", "sim")
        yield demo


def test_check_json_has_every_field_and_the_exit_code_says_attention(capsys):
    code, out, err = run(capsys, "check", "C2", "V1", "A1", "--demo", "--json")
    assert code == 1, err
    steps = {s["id"]: s for s in json.loads(out)}
    assert list(steps) == ["A1", "B2/V1", "C2"]
    for s in steps.values():
        assert {"id", "phase", "kind", "status", "count", "summary", "checked_at", "sample", "query"} <= set(s)
    assert steps["A1"]["status"] == "pass" and steps["C2"]["status"] == "fail" and steps["C2"]["count"] > 0
    assert steps["C2"]["phase"] == "C" and steps["C2"]["kind"] == "AUTO + HUMAN"
    assert steps["C2"]["sample"] and "invoicenumber" in steps["C2"]["sample"][0]
    assert "FROM invoice i JOIN account a" in steps["C2"]["query"]


def test_check_table_and_exit_zero_when_all_pass(capsys):
    code, out, _ = run(capsys, "check", "A1", "--demo")
    assert code == 0
    header, row = out.splitlines()
    assert header.split()[:4] == ["St", "Id", "Kind", "Count"]
    assert row.startswith("✓  A1") and "Invoice Settlement is off and the connector is installed" in row


def test_unknown_steps_and_bad_values_are_one_clear_line(capsys, sim_profile):
    code, _, err = run(capsys, "check", "Z9", "--demo")
    assert code == 2 and err.strip().startswith("cutover: no runbook step 'Z9'") and "Traceback" not in err
    code, _, err = run(capsys, "set", "freeze_ts", "soon", "--profile", "sim")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "freeze_ts: expected a UTC date and time like 2026-10-28T18:00Z" in err
    code, _, err = run(capsys, "vars", "--profile", "nobody")
    assert code == 2 and "nobody" in err and "Traceback" not in err


def test_variables_confirmations_and_tickets(capsys, sim_profile, tmp_path):
    code, out, _ = run(capsys, "set", "old_cutover_dates.invoice", "2024-01-01", "--profile", "sim")
    assert code == 0 and out.strip() == "old_cutover_dates.invoice = 2024-01-01"
    code, out, _ = run(capsys, "vars", "--profile", "sim", "--json")
    assert json.loads(out)["old_cutover_dates.invoice"] == {"value": "2024-01-01", "state": "recorded"}

    code, _, err = run(capsys, "confirm", "A2", "--note", "captured", "--profile", "sim")
    assert code == 2 and "A2 needs old_instance_id, old_account_id recorded first" in err
    run(capsys, "set", "old_instance_id", "inst-9", "--profile", "sim")
    run(capsys, "set", "old_account_id", "acct-9", "--profile", "sim")
    code, out, _ = run(capsys, "confirm", "A2", "--note", "captured", "--profile", "sim")
    assert code == 0 and "A2 confirmed by" in out
    code, _, err = run(capsys, "confirm", "A2", "--note", "ids read again", "--profile", "sim")
    assert code == 2 and "A2 is confirmed already by" in err and "--replace" in err  # replacing is on purpose only
    code, out, _ = run(capsys, "confirm", "A2", "--note", "ids read again", "--replace", "--profile", "sim")
    assert code == 0 and "A2 confirmed by" in out

    draft = tmp_path / "b1.txt"
    code, _, err = run(capsys, "ticket", "B1", "--profile", "sim", "--save", str(draft))
    assert code == 2 and "before drafting the B1 ticket, record target_migration_date and check B2/V1" in err
    run(capsys, "set", "target_migration_date", str(datetime.now(UTC).date() + timedelta(days=30)), "--profile", "sim")
    run(capsys, "check", "B2", "B3", "--profile", "sim")
    code, out, _ = run(capsys, "ticket", "B1", "--profile", "sim", "--save", str(draft))
    assert code == 0 and out.startswith("Subject: Invoice Settlement: compatibility review")
    assert "(instance inst-9, account acct-9)" in draft.read_text() and "<" not in draft.read_text()
    code, out, _ = run(capsys, "ticket", "B1", "--number", "00777", "--profile", "sim")
    assert code == 0 and "ticket 00777 recorded" in out
    code, _, err = run(capsys, "ticket", "B1", "--number", "00778", "--profile", "sim")
    assert code == 2 and "B1 already has ticket 00777" in err  # replacing is on purpose only
    code, out, _ = run(capsys, "ticket", "B1", "--number", "00778", "--replace", "--profile", "sim")
    assert code == 0 and "ticket 00778 recorded" in out
    code, out, _ = run(capsys, "report", "--profile", "sim", "--format", "json")
    assert [t["number"] for t in json.loads(out)["tickets"]] == ["00777", "00778"]  # the old one stays on record
    code, out, _ = run(capsys, "confirm", "A2", "--withdraw", "--profile", "sim")
    assert code == 0 and "withdrawn" in out and "confirm when done" in out
    code, out, _ = run(capsys, "vars", "--profile", "sim")
    assert any(line.startswith("b1_ticket") and "00778" in line for line in out.splitlines())


def test_plan_and_apply_g2_from_the_command_line(capsys, sim_profile, tmp_path):
    store = sim_profile.sim.store
    export = tmp_path / "g2.csv"
    code, out, err = run(capsys, "plan", "G2", "--profile", "sim", "--export", str(export))
    assert code == 0, err
    planned = int(out.split(": ")[1].split()[0])
    assert planned > 0 and f"exported {planned} records" in out
    assert "custbody_zuora_sync_updates -> Yes" in out

    code, _, err = run(capsys, "apply", "G2", "--profile", "sim")  # no --yes, and stdin is not a terminal
    assert code == 2 and "not on a terminal" in err
    assert store.scalar("SELECT count(*) FROM sim_write_log WHERE source = 'api'") == 0

    code, out, err = run(capsys, "apply", "G2", "--profile", "sim", "--yes")
    assert code == 0, out + err
    assert f"{planned} written" in out and "Re-check G2: pass" in out
    assert store.scalar("SELECT count(*) FROM sim_write_log WHERE source = 'api'") == planned
    code, out, _ = run(capsys, "apply", "G2", "--profile", "sim", "--yes")
    assert code == 0 and "Nothing to write." in out and "in 0 write calls" in out


def test_production_asks_for_the_profile_name_and_read_only_refuses(capsys, sim_profile, monkeypatch):
    save_profile(get_profile("sim").model_copy(update={"environment": "production"}))
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    answers = iter(["yes"])
    monkeypatch.setattr(builtins, "input", lambda prompt: next(answers))
    code, out, _ = run(capsys, "apply", "G2", "--profile", "sim")
    assert code == 1 and "Not applied." in out  # "yes" is not the profile's name

    save_profile(get_profile("sim").model_copy(update={"read_only": True}))
    code, _, err = run(capsys, "apply", "G2", "--profile", "sim", "--yes")
    assert code == 2 and "profile sim is read-only: apply is refused" in err
    assert sim_profile.sim.store.scalar("SELECT count(*) FROM sim_write_log WHERE source = 'api'") == 0


def test_check_all_benchmark_smoke_at_tiny_size():
    """The benchmark's figures hold together: every call is counted, no check errs, samples stay small."""
    done = subprocess.run([sys.executable, "benchmarks/check_all.py", "--invoices", "300", "--json"],
                          cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    r = json.loads(done.stdout)
    assert r["steps_checked"] >= 25 and r["errors"] == {} and r["flat_memory"]
    assert r["data_query_jobs"] > 0 and r["suiteql_calls"] > 0
    assert r["http_calls"] >= r["floor_calls"] and r["ratio"] >= 1.0
    assert r["sample_rows_read"] <= 20 * r["steps_checked"]


def test_monitor_reads_the_recorded_cutover_dates(capsys, sim_profile):
    def invoices() -> dict:
        code, out, err = run(capsys, "monitor", "--profile", "sim", "--once", "--json")
        assert code == 0, err
        return next(r for r in json.loads(out)["rows"] if r["object"] == "Invoices")

    before = invoices()
    assert before["pending"] > 0
    # Far in the future: every invoice never sent counts as out of the connector's reach, none as a backlog.
    assert run(capsys, "set", "old_cutover_dates.invoice", "2099-01-01", "--profile", "sim")[0] == 0
    after = invoices()
    assert after["pending"] == 0 and after["ignored"] == before["ignored"] + before["pending"]


def test_waive_a_row_on_purpose_then_withdraw_it(capsys, sim_profile):
    code, _, err = run(capsys, "waive", "V6", "--profile", "sim", "--reason", "the drafts are Support's test data")
    assert code == 2 and "has not been checked" in err  # a waiver accepts what a check found
    run(capsys, "check", "V6", "--profile", "sim")
    code, _, err = run(capsys, "waive", "V6", "--profile", "sim")
    assert code == 2 and "say why" in err
    code, out, err = run(capsys, "waive", "V6", "--profile", "sim", "--reason", "the drafts are Support's test data")
    assert code == 0, err
    assert err.startswith("cutover: Zuora's migration refuses while B2/V6's records remain")  # said before it goes
    assert out.startswith("B2/V6 waived by Test Operator <test@example.com> at ")
    code, out, _ = run(capsys, "check", "V6", "B3", "--profile", "sim", "--json")
    steps = {s["id"]: s for s in json.loads(out)}
    assert steps["B2/V6"]["status"] == "waived" and steps["B2/V6"]["waived_by"] == "Test Operator <test@example.com>"
    assert steps["B2/V6"]["waiver_reason"] == "the drafts are Support's test data"
    assert "(found: 3 draft payments)" in steps["B2/V6"]["summary"]
    code, out, _ = run(capsys, "check", "V6", "--profile", "sim")
    assert code == 1 and out.splitlines()[1].startswith("≈  B2/V6")  # waived is not pass: the run is not clean
    code, out, _ = run(capsys, "waive", "V6", "--profile", "sim", "--withdraw", "--reason", "they are real")
    assert code == 0 and "withdrawn" in out and "Now: fail" in out
    code, out, _ = run(capsys, "report", "--profile", "sim")
    assert code == 0 and "## Appendix B: waivers" in out and "the drafts are Support's test data" in out and "they are real" in out


def test_d1_ticket_waits_for_its_gates(capsys, sim_profile):
    code, _, err = run(capsys, "ticket", "D1", "--profile", "sim", "--number", "00042")
    assert code == 2 and err.startswith("cutover: D1 is blocked: B2/V1 is not-run")
    code, out, _ = run(capsys, "check", "D1", "--profile", "sim", "--json")
    d1 = json.loads(out)[0]
    assert d1["status"] == "blocked" and "C7" in d1["blocked_by"] and d1["summary"].startswith("blocked until")


def test_the_operator_is_recorded_in_the_profile_and_asked_for_when_missing(capsys, monkeypatch):
    monkeypatch.delenv("CUTOVER_OPERATOR")
    code, _, err = run(capsys, "profile", "add", "acme", "--zuora-env", "us-cloud1-api-sandbox",
                       "--netsuite-account-id", "1234567_SB1", "--operator-name", "Ada Lovelace")
    assert code == 2 and "both --operator-name and --operator-email" in err
    run(capsys, "profile", "add", "acme", "--zuora-env", "us-cloud1-api-sandbox", "--netsuite-account-id",
        "1234567_SB1")
    code, _, err = run(capsys, "confirm", "B5", "--profile", "acme", "--note", "reviewed")  # not a terminal
    assert code == 2 and "who is doing this?" in err and "cutover profile operator" in err
    code, _, err = run(capsys, "profile", "operator", "acme", "--name", "Ada Lovelace", "--email", "ada@nowhere")
    assert code == 2 and "is not an email address" in err
    code, out, _ = run(capsys, "profile", "operator", "acme", "--name", "Ada Lovelace", "--email", "ada@example.com")
    assert code == 0 and out.strip() == "profile 'acme': operator Ada Lovelace <ada@example.com>"
    code, out, _ = run(capsys, "confirm", "B5", "--profile", "acme", "--note", "reviewed")
    assert code == 0 and "B5 confirmed by Ada Lovelace <ada@example.com>" in out


def test_on_a_terminal_the_operator_is_asked_once(capsys, monkeypatch):
    monkeypatch.delenv("CUTOVER_OPERATOR")
    run(capsys, "profile", "add", "acme", "--zuora-env", "us-cloud1-api-sandbox", "--netsuite-account-id",
        "1234567_SB1")
    answers = iter(["Ada Lovelace", "not-an-email", "Ada Lovelace", "ada@example.com"])
    monkeypatch.setattr(builtins, "input", lambda prompt="": next(answers))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    code, out, err = run(capsys, "confirm", "B5", "--profile", "acme", "--note", "reviewed")
    assert code == 0 and "is not an email address" in err and "Ada Lovelace <ada@example.com>" in out
    assert get_profile("acme").operator.email == "ada@example.com"  # saved: never asked again
    monkeypatch.setattr(builtins, "input", lambda prompt="": pytest.fail("asked twice"))
    assert run(capsys, "confirm", "B6", "--profile", "acme", "--note", "reviewed")[0] == 0
