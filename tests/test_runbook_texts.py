"""What the runbook says to a consultant: counts in good grammar, statuses that agree with the legend, a group row
that aggregates its rows, a waiver that a later pass makes moot, dates and ticket numbers checked where they are
typed. The engine runs on the journal alone (no network)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core.profile import NetSuiteFields, Profile
from core.errors import ConfigError
from core.journal import Journal
from core.report_summary import summarize
from core.runbook import render
from core.runbook.actions import fix_for
from core.runbook.checks import evaluate
from core.runbook.engine import Runbook, waiver_caution
from core.runbook.model import CheckResult, QueryContext, Status
from core.runbook.phases import RUNBOOK, find_step
from core.runbook.probes import journal_complete
from core.runbook.tickets import notice_words
from core.runbook.variables import RunVariables
from core.words import counted, plural

TODAY = datetime.now(UTC).date()


@pytest.fixture
def runbook(tmp_path):
    profile = Profile(name="acme", zuora_env="us-cloud1-api-sandbox", netsuite_account_id="1234567_SB1",
                      data_dir=tmp_path / "acme", netsuite_fields=NetSuiteFields())
    with Journal.for_profile(profile) as journal:
        yield Runbook(profile, journal)


def _evaluate(step_id: str, **counts: int) -> CheckResult:
    step = find_step(step_id)
    ctx = QueryContext(variables=RunVariables(), fields={})
    return evaluate(step, step.check, list(step.check.parts), {p.label: counts.get(p.label.replace(" ", "_"), 0)
                                                                for p in step.check.parts}, ctx)


def test_counts_read_as_english():
    assert [plural(1, "write call"), plural(2, "write call"), plural(1200, "step")] == [
        "1 write call", "2 write calls", "1,200 steps"]
    assert counted(1, "draft accounts with credit balance") == "1 draft account with credit balance"
    assert counted(1, "IIAs not yet in NetSuite") == "1 IIA not yet in NetSuite"
    assert counted(1, "Zuora Sync Updates fields without the default Yes") == \
        "1 Zuora Sync Updates field without the default Yes"
    assert counted(3, "payments stuck or in error") == "3 payments stuck or in error"
    assert _evaluate("V6", draft_payments=1).summary == "1 draft payment"
    assert _evaluate("C5", payments_stuck_or_in_error=1).summary.startswith("1 payment stuck or in error")


def test_validate_rows_with_records_fail_and_info_rows_count_what_they_say():
    for n in range(1, 7):  # × "found records to fix", as the legend says; not ! (something to record)
        step = find_step(f"V{n}")
        label = step.check.parts[0].label.replace(" ", "_")
        assert _evaluate(f"V{n}", **{label: 2}).status is Status.FAIL
    v7 = _evaluate("V7", error_payments=3)
    assert (v7.status, v7.count) == (Status.PASS, 3) and v7.summary.startswith("3 error payments: not migrated")
    v9 = _evaluate("V9", posted_negative_invoices=1, accounts_with_credit_balance=2)
    assert v9.count == 3 and "1 posted negative invoice and 2 credit balances" in v9.summary


def test_the_sign_off_says_one_step_is_open(runbook):
    states = [s for s in runbook.states().values()]
    for s in states:
        if s.step.id not in ("A1", "I2") and s.step.check is not None:
            runbook.journal.record_result(CheckResult(s.step.id, Status.PASS, 0, "ok"))
    ctx = QueryContext(variables=RunVariables(), fields={},
                       step_states=lambda: [s for s in runbook.states().values() if s.step.id in ("A1", "I2")])
    import asyncio

    result = asyncio.run(journal_complete(find_step("I2"), ctx, None, None))
    assert "1 step is still open (A1)" in result.summary


def test_a_past_migration_date_is_refused_when_set_and_the_ticket_counts_the_days(runbook):
    with pytest.raises(ConfigError, match=r"target_migration_date: 2020-01-01 is in the past \(today is "):
        runbook.set_variable("target_migration_date", "2020-01-01")
    runbook.set_variable("target_migration_date", str(TODAY))  # today is allowed
    runbook.journal.set_variable("target_migration_date", "2026-01-05")  # read back from the journal: fine
    assert runbook.journal.variables().target_migration_date == date(2026, 1, 5)
    assert notice_words(TODAY + timedelta(days=10), TODAY) == "10 days from today; Support asks for at least 7 " \
                                                              "days' notice"
    assert notice_words(TODAY + timedelta(days=1), TODAY) == \
        "1 day from today, less than the 7 days' notice Support asks for"
    assert notice_words(TODAY - timedelta(days=16), TODAY) == "16 days ago"
    runbook.set_variable("target_migration_date", str(TODAY + timedelta(days=3)))
    for step_id in ("B2/V1", "B2/V2", "B2/V3", "B2/V4", "B2/V5", "B2/V6", "B2/V7", "B2/V9", "B3"):
        runbook.journal.record_result(CheckResult(step_id, Status.PASS, 0, "clean"))
    runbook.set_variable("old_instance_id", "inst-1")
    runbook.set_variable("old_account_id", "acct-1")
    body = runbook.ticket("B1").body
    assert "(3 days from today, less than the 7 days' notice Support asks for)" in body
    assert "at least 7 days from now" not in body


def test_a_ticket_number_looks_like_a_support_case(runbook):
    for bad in ("abc!", "abc", "12 34", "see email"):
        with pytest.raises(ConfigError, match="is not a Support case number: expected digits"):
            runbook.record_ticket("B1", bad)
    for good in ("00123456", "#00123457", "CS-00123458"):
        assert runbook.record_ticket("B1", good, replace=True).number == good


def test_an_unknown_step_to_plan_names_the_steps_that_plan():
    with pytest.raises(ConfigError) as exc:
        fix_for("X9")
    assert exc.value.hint == "the steps that plan: E1, E2, G2"


def test_b2_aggregates_its_rows_and_says_it_has_no_ticket(runbook):
    runbook.journal.record_result(CheckResult("B2/V6", Status.FAIL, 3, "3 draft payments"))
    runbook.journal.record_result(CheckResult("B2/V1", Status.PASS, 0, "No draft account has a credit balance"))
    runbook.waive("V6", "Support deletes its three test drafts itself")
    b2 = runbook.state("B2")
    assert b2.result is not None and b2.result.summary == "B2/V6: 3 draft payments" and b2.result.count == 3
    text = render.check_text(b2, runbook.context())
    assert "ticket" not in text and "Found   B2/V6: 3 draft payments" in text
    assert render.check_text(runbook.state("B1"), runbook.context()).endswith("a recorded ticket number.")


def test_a_waiver_is_moot_once_the_step_passes(runbook):
    assert waiver_caution("V6").startswith("Zuora's migration refuses while B2/V6's records remain")
    assert waiver_caution("B3") and waiver_caution("C3") is None
    runbook.journal.record_result(CheckResult("B2/V6", Status.FAIL, 3, "3 draft payments"))
    runbook.waive("V6", "Support deletes its three test drafts itself")
    states = [runbook.states()[s.id] for s in RUNBOOK]
    phase_b = next(p for p in summarize(runbook.profile, runbook.journal, states).phases if p.letter == "B")
    assert [w["step"] for w in phase_b.waivers] == ["B2/V6"]
    runbook.journal.record_result(CheckResult("B2/V6", Status.PASS, 0, "No draft payments"))  # fixed after all
    assert runbook.state("V6").status is Status.PASS
    states = [runbook.states()[s.id] for s in RUNBOOK]
    phase_b = next(p for p in summarize(runbook.profile, runbook.journal, states).phases if p.letter == "B")
    assert phase_b.waivers == []


def test_instructions_follow_the_chosen_path():
    i1, f4 = find_step("I1"), find_step("F4")
    edit = " ".join(i1.instructions_on("edit-instance"))
    assert "Nothing to retire: instance {old_instance_id} was re-pointed (F3a) and is the live one" in edit
    assert "scheduler is off" not in edit  # H4 just turned that instance's schedule on
    assert "scheduler is off" in " ".join(i1.instructions_on("new-instance"))
    assert "new_account_id" not in " ".join(f4.instructions_on("edit-instance"))
    assert "cutover set new_account_id ID" in " ".join(f4.instructions_on("new-instance"))
    assert f4.instructions_on(None)[1].startswith("On path new-instance: Record the ids")


def test_the_report_counts_phase_rows_as_the_app_and_says_confirmed(runbook):
    runbook.set_variable("provisioning_path", "edit-instance")
    runbook.set_variable("old_instance_id", "inst-1")
    runbook.set_variable("old_account_id", "acct-1")
    runbook.confirm("A2", "captured from Advanced Settings")
    states = [runbook.states()[s.id] for s in RUNBOOK]
    done = {p.letter: p.steps for p in summarize(runbook.profile, runbook.journal, states).phases}
    assert done["B"].endswith("of 6 done")  # B1, B2 (its V rows are one row), B3-B6: the app's rows
    assert done["F"].endswith("of 7 done")  # F3b and F3c are off the edit-instance path
    from core.runbook.state import status_words

    assert status_words(runbook.state("A2")) == "◉ confirmed"


def test_c7_says_once_that_its_queries_wait_for_freeze_ts(runbook):
    import dataclasses

    ctx = dataclasses.replace(runbook.context(), invoice_settlement=False)  # C7 runs before IS is on
    text = render.check_text(runbook.state("C7"), ctx)
    assert text.count("cannot build yet: run variable freeze_ts is not recorded") == 1, text


def test_f1_points_at_the_apps_oauth_test_as_well_as_the_cli(runbook):
    text = render.instructions_text(runbook.state("F1").step, runbook.context())
    assert "Instances (i) > t Test new OAuth client" in text and "cutover check F1 --oauth-secret" in text
