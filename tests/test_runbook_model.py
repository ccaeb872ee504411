"""The runbook as data: every step of runbook.md with its kind and parts, query building from run variables and
the profile's script ids only, ticket drafts, and how a step's status folds from results, confirmations, tickets,
variables and gates. No network: the engine runs here on the journal alone."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from core.profile import NetSuiteFields, Profile
from core.errors import ConfigError, CutoverError
from core.journal import Journal
from core.runbook.engine import Runbook
from core.runbook.fixes import Fix
from core.runbook.model import CheckResult, Kind, MissingInput, Phase, QueryContext, Status, resolve
from core.runbook.stand_ins import StandIn
from core.runbook.tickets import TicketIncomplete
from core.runbook.steps.d_migration import MIGRATION_GATES
from core.runbook import render
from core.runbook.phases import RUNBOOK, find_step, select_steps
from core.runbook.variables import RunVariables

RUNBOOK_IDS = ["A1", "A2", "A3", "B1", "B2", *(f"B2/V{n}" for n in range(1, 10)), "B3", "B4", "B5", "B6",
               *(f"C{n}" for n in range(1, 8)), "D1", "D2", "E1", "E2", "E3", "F1", "F2", "F3a", "F3b", "F3c",
               "F4", "F5", "F6", "F7", "G1", "G2", "G3", "H1", "H2", "H3", "H4", "I1", "I2"]
KINDS = {"A1": "AUTO", "A2": "HUMAN", "A3": "HUMAN", "B1": "TICKET + HUMAN", "B2": "VERIFY", "B2/V7": "AUTO",
         "B2/V8": "HUMAN", "B2/V9": "HUMAN", "C1": "AUTO + HUMAN", "C2": "AUTO + HUMAN", "C5": "AUTO + HUMAN",
         "C7": "HUMAN + VERIFY", "D1": "TICKET", "D2": "AUTO", "E1": "AUTO", "E2": "AUTO + HUMAN", "E3": "HUMAN + VERIFY",
         "F1": "HUMAN + AUTO", "F4": "TICKET", "G1": "HUMAN + VERIFY", "G2": "AUTO", "G3": "AUTO", "H1": "HUMAN",
         "H2": "AUTO", "H3": "AUTO", "H4": "HUMAN", "I1": "HUMAN", "I2": "AUTO"}
ODD_FIELDS = {"zuora_id": "custbody_acme_zid", "zuora_integration_status": "custbody_acme_zstatus",
              "zuora_type": "custbody_acme_ztype", "zuora_origin": "custbody_acme_zorigin",
              "zuora_customer_id_payment": "custbody_acme_zcust", "zuora_sync_updates": "custbody_acme_zsync"}


def _ctx(**variables) -> QueryContext:
    v = RunVariables()
    for name, text in variables.items():
        v = v.set(name.replace("__", "."), text)
    return QueryContext(variables=v, fields=ODD_FIELDS, sync_updates_yes="1", profile_name="acme",
                        invoice_settlement=True)


def test_every_runbook_step_is_there_in_order_with_its_kind():
    assert [s.id for s in RUNBOOK] == RUNBOOK_IDS
    assert [p for p in Phase] == sorted({s.phase for s in RUNBOOK}, key=lambda p: "ABCDEFGHI".index(p.letter))
    for step in RUNBOOK:
        assert step.why and step.title, step.id
        assert step.doc_url.startswith("https://docs.zuora.com/en/"), step.id
        assert step.id[0] == step.phase.letter
        if step.id in KINDS:
            assert step.kinds == KINDS[step.id], step.id
        if Kind.HUMAN in (step.kind, step.also) and step.id != "B2":
            assert step.instructions, f"{step.id} is HUMAN but has no instructions"
        if Kind.TICKET in (step.kind, step.also):
            assert step.ticket is not None, step.id
        if step.action:  # a step owns its fix, built from its own query
            assert isinstance(step.action, Fix) and step.action.step_id == step.id, step.id
        if step.stand_in is not None:
            assert isinstance(step.stand_in, StandIn) and step.stand_in.what, step.id
    assert {s.id for s in RUNBOOK if s.action} == {"E1", "E2", "G2"}
    assert find_step("B2").children == tuple(f"B2/V{n}" for n in range(1, 10))
    # Every step the rehearsal can act for has a stand-in; only the group, C6 (checked with C7) and the path the
    # rehearsal never takes have none.
    assert {s.id for s in RUNBOOK if s.stand_in is None} == {"B2", "C6", "F3c"}


def test_gates_follow_the_runbook_guards():
    """R8: nothing goes to Support while a record would be stranded; the scheduler waits for everything."""
    assert find_step("D1").gates == (*(f"B2/V{n}" for n in range(1, 7)), "B3", "C1", "C2", "C3", "C4", "C5",
                                     "C6", "C7")
    assert find_step("F7").gates == ("E1",) and find_step("H1").gates == ("E1", "E2")
    assert find_step("H4").gates == ("E1", "E2", "G1", "G2", "H1", "H2", "H3")
    assert find_step("E3").gates == ("C7",) and find_step("I1").gates == ("H4",)


def test_ids_aliases_and_selection():
    assert find_step("v3").id == "B2/V3"
    assert find_step("f3A").id == "F3a"
    with pytest.raises(ConfigError, match="no runbook step 'E9'.*E1, E2, E3"):
        find_step("E9")
    assert [s.id for s in select_steps(["E"])] == ["E1", "E2", "E3"]
    assert [s.id for s in select_steps(["H2", "A1", "V2"])] == ["A1", "B2/V2", "H2"]  # runbook order, once
    assert len(select_steps([])) == len(RUNBOOK)


def test_queries_take_script_ids_from_the_profile_only():
    ctx = _ctx(freeze_ts="2026-10-28 18:00", old_cutover_dates__iia="2024-05-01", new_memo_cutover="2026-11-01",
               target_migration_date="2026-11-20", is_enabled_ts="2026-11-21 10:00")
    built = []
    for step in RUNBOOK:
        for part in step.check.parts if step.check else ():
            for piece in (part.where, part.columns, part.ids_from):
                if piece is not None:
                    built.append(resolve(piece, ctx))
    text = "\n".join(built)
    assert "custbody_acme_zsync" in text and "custbody_acme_zid" in text
    assert "custbodyzuora" not in text.lower()  # no documented-pattern id is ever hard-coded
    assert "TO_DATE('2026-10-28', 'YYYY-MM-DD')" in text
    assert "adjustmentdate >= DATE '2024-05-01'" in text
    # H3's memos are bounded by IS, never by the memo cutover a person recorded (a late one strands memos)
    assert "m.createddate >= TIMESTAMP '2026-11-21 10:00:00'" in text and "'2026-11-01'" not in text
    assert "startdate <= DATE '2026-11-20' AND enddate >= DATE '2026-11-20'" in text  # B4's period


def test_missing_inputs_and_bad_script_ids_are_named():
    g2 = find_step("G2").check.parts[0]
    with pytest.raises(MissingInput, match="run variable freeze_ts is not recorded"):
        resolve(g2.where, _ctx())
    ctx = _ctx(freeze_ts="2026-10-28")
    ctx.fields = {**ODD_FIELDS, "zuora_sync_updates": None}
    with pytest.raises(MissingInput, match="NetSuite field zuora_sync_updates is not mapped in profile acme"):
        resolve(g2.where, ctx)
    ctx.fields = {**ODD_FIELDS, "zuora_sync_updates": "x; DROP TABLE transaction"}
    with pytest.raises(ConfigError, match="bad script id"):
        resolve(g2.where, ctx)


def test_run_variables_parse_and_round_trip():
    v = RunVariables().set("freeze_ts", "2026-10-28T20:00+02:00").set("migration_date", "2026-11-02")
    assert v.freeze_ts == datetime.fromisoformat("2026-10-28T18:00:00+00:00")
    assert v.migration_date == date(2026, 11, 2)
    assert RunVariables.load(v.dump()) == v
    with pytest.raises(ConfigError, match="e2_decision: expected one of sync, mark-yes, ignore"):
        v.set("e2_decision", "maybe")
    with pytest.raises(ConfigError, match="zuora_base_url: expected an https URL"):
        v.set("zuora_base_url", "http://rest.zuora.com")


@pytest.fixture
def runbook(tmp_path):
    profile = Profile(name="acme", zuora_env="us-cloud1-api-sandbox", netsuite_account_id="1234567_SB1",
                      data_dir=tmp_path / "acme", netsuite_fields=NetSuiteFields(**ODD_FIELDS))
    with Journal.for_profile(profile) as journal:
        yield Runbook(profile, journal)


def test_human_steps_need_their_variables_then_a_confirmation(runbook):
    assert runbook.state("A2").status is Status.NOT_RUN
    with pytest.raises(ConfigError, match="A2 needs old_instance_id, old_account_id recorded first"):
        runbook.confirm("A2", "captured")
    runbook.set_variable("old_instance_id", "inst-1")
    runbook.set_variable("old_account_id", "acct-1")
    runbook.confirm("A2", "captured from the Logs tab")
    state = runbook.state("A2")
    assert state.status is Status.PASS and "captured from the Logs tab" in state.summary
    with pytest.raises(ConfigError, match="E1 is not confirmed by hand"):
        runbook.confirm("E1", "done")


def test_gates_block_h1_until_e1_passes(runbook):
    runbook.set_variable("e2_decision", "sync")
    with pytest.raises(CutoverError, match="H1 is blocked: E1 is not-run"):
        runbook.confirm("H1", "ran it")
    h1 = runbook.state("H1")
    assert h1.blocked_by == ("E1", "E2") and h1.status is Status.BLOCKED
    assert h1.summary.startswith("blocked until E1, E2 are done: E1 not-run")
    assert runbook.state("H1").to_dict()["blocked_by"] == ["E1", "E2"]
    runbook.journal.record_result(CheckResult("E1", Status.PASS, 0, "Every AR Mig memo is marked transferred"))
    runbook.journal.record_result(CheckResult("E2", Status.PASS, 0, "decision: sync"))
    runbook.confirm("H1", "first run at 10:00")
    assert runbook.state("H1").status is Status.PASS


def test_the_provisioning_path_decides_phase_f(runbook):
    runbook.set_variable("provisioning_path", "edit-instance")
    assert runbook.state("F3b").applicable is False and runbook.state("F3b").status is Status.NOT_NEEDED
    with pytest.raises(ConfigError, match="F3b does not apply"):
        runbook.confirm("F3b", "x")
    runbook.record_ticket("F4", "00042")
    assert runbook.state("F4").status is Status.PASS  # the new ids are needed on the new-instance path only
    runbook.set_variable("provisioning_path", "new-instance")
    assert runbook.state("F4").missing == ("new_account_id", "new_environment_id")
    assert runbook.state("F4").status is Status.NEEDS_ACTION


def test_a_parent_shows_its_worst_row(runbook):
    for n in range(1, 8):
        runbook.journal.record_result(CheckResult(f"B2/V{n}", Status.PASS, 0, "ok"))
    runbook.journal.record_result(CheckResult("B2/V3", Status.NEEDS_ACTION, 2, "2 posted negative invoices"))
    b2 = runbook.state("B2")
    assert b2.status is Status.NEEDS_ACTION and "B2/V3: 2 posted negative invoices" in b2.summary


def test_tickets_are_drafted_with_ids_dates_and_counts(runbook):
    runbook.set_variable("old_instance_id", "inst-old-7")
    runbook.journal.set_variable("target_migration_date", "2026-11-20")  # recorded earlier, read back
    runbook.journal.record_result(CheckResult("B2/V1", Status.NEEDS_ACTION, 2, "2 draft accounts with credit "
                                                                                 "balance"))
    # Nothing goes to Support with a placeholder in it: what is missing is asked for, then checked, first.
    with pytest.raises(TicketIncomplete) as missing:
        runbook.ticket("B1")
    assert missing.value.needs.variables == ("old_account_id",)
    assert missing.value.needs.checks == ("B2/V2", "B2/V3", "B2/V4", "B2/V5", "B2/V6", "B2/V7", "B2/V9", "B3")
    runbook.set_variable("old_account_id", "acct-1")
    for step_id in missing.value.needs.checks:
        runbook.journal.record_result(CheckResult(step_id, Status.PASS, 0, f"{step_id} is clean"))
    draft = runbook.ticket("B1")
    assert "inst-old-7" in draft.body and "2026-11-20" in draft.body
    assert "- 2 draft accounts with credit balance (checked 20" in draft.body  # a sentence, no status code
    assert "needs-action" not in draft.text and "<" not in draft.text and "not recorded" not in draft.text
    assert "Our current choice" not in draft.body  # the optional A3 choice is left out while unrecorded
    assert draft.subject.endswith("for acme")
    runbook.record_ticket("B1", "00123")
    assert runbook.journal.variables().b1_ticket == "00123"  # mirrored into the run variable
    with pytest.raises(CutoverError, match="D1 is blocked: B2/V1 is needs-action: 2 draft accounts"):
        runbook.ticket("D1")  # nothing to ask Support for while a migration gate is open
    with pytest.raises(CutoverError, match="D1 is blocked"):
        runbook.record_ticket("D1", "00124")
    _pass_migration_gates(runbook)
    assert "00123" in runbook.ticket("D1").body
    with pytest.raises(ConfigError, match="E1 has no Support ticket"):
        runbook.ticket("E1")


def test_a_ticket_says_what_was_waived_and_by_whom_instead_of_vouching_for_it(runbook):
    runbook.journal.set_variable("target_migration_date", "2026-11-21")
    runbook.set_variable("old_instance_id", "inst-old-7")
    _pass_migration_gates(runbook)
    runbook.journal.record_result(CheckResult("B3", Status.FAIL, 6, "6 currencies without a valid migration charge"))
    runbook.waive("B3", "Support creates the charges on the day")
    body = runbook.ticket("D1").body
    b3 = next(line for line in body.splitlines() if line.startswith("One-time migration charge per currency (B3):"))
    assert "6 currencies without a valid migration charge (checked " in b3
    assert b3.endswith(f"; accepted on purpose by {runbook.journal.waivers()['B3'].who}: Support creates the charges on "
                       "the day)"), b3
    assert "in place" not in body and "((" not in body  # no claim over a quoted result, no summary in a summary
    assert "IIAs and negative invoices since then (C6): ok (checked " in body  # a pass is quoted as it is
    # Every waived gate is said to Support before the closing line, not only the ones the template quotes.
    runbook.journal.record_result(CheckResult("C1", Status.NEEDS_ACTION, 1, "1 IIA not yet in NetSuite"))
    runbook.waive("C1", "the IIA is before the cutover date on purpose")
    body = runbook.ticket("D1").body
    head, _, tail = body.partition("We go ahead with these accepted on purpose:")
    assert tail and tail.rstrip().endswith("Thank you.")
    assert "- B3 (One-time migration charge per currency): 6 currencies without a valid migration charge" in tail
    assert "- C1 (All invoice item adjustments synced): 1 IIA not yet in NetSuite (checked " in tail
    assert "the IIA is before the cutover date on purpose)" in tail
    assert "- C2 " not in tail  # passed, not waived


def _pass_migration_gates(runbook):
    for step_id in (*MIGRATION_GATES, "C2", "C6"):
        runbook.journal.record_result(CheckResult(step_id, Status.PASS, 0, "ok"))
    runbook.set_variable("freeze_ts", "2026-11-20 18:00")
    runbook.confirm("C7", "scheduler off")


def test_d1_is_blocked_until_every_migration_gate_is_done(runbook):
    runbook.journal.set_variable("target_migration_date", "2026-11-21")  # recorded earlier, read back
    _pass_migration_gates(runbook)
    runbook.journal.record_result(CheckResult("B3", Status.FAIL, 5, "5 currencies without a valid migration charge"))
    runbook.journal.record_result(CheckResult("C2", Status.FAIL, 2, "2 negative invoices not yet in NetSuite"))
    d1 = runbook.state("D1")
    assert d1.status is Status.BLOCKED and d1.blocked_by == ("B3", "C2")
    assert "B3 fail: 5 currencies without a valid migration charge" in d1.summary
    assert "C2 fail: 2 negative invoices not yet in NetSuite" in d1.summary
    runbook.waive("B3", "the five currencies have no credit balance or negative invoice left; Support agreed")
    assert runbook.state("B3").status is Status.WAIVED
    assert runbook.state("D1").blocked_by == ("C2",)  # a waiver satisfies a gate
    runbook.journal.record_result(CheckResult("C2", Status.PASS, 0, "Every negative invoice is in NetSuite"))
    assert runbook.state("D1").status is Status.NOT_RUN
    runbook.set_variable("old_instance_id", "inst-old-7")
    assert runbook.ticket("D1").subject


def test_a_waiver_names_who_when_why_and_can_be_withdrawn(runbook):
    runbook.journal.record_result(CheckResult("B2/V6", Status.NEEDS_ACTION, 3, "3 draft payments"))
    with pytest.raises(ConfigError, match="say why"):
        runbook.waive("V6", "ok")
    with pytest.raises(ConfigError, match="B2 is a group"):
        runbook.waive("B2", "the whole checklist is fine")
    with pytest.raises(ConfigError, match="sign-off .I2. cannot be waived"):
        runbook.waive("I2", "we are done anyway")
    waiver = runbook.waive("V6", "the three drafts are test payments Support will delete")
    v6 = runbook.state("V6")
    assert v6.status is Status.WAIVED and v6.status.done and v6.waiver == waiver
    assert waiver.who == "Test Operator <test@example.com>"  # the profile's operator, never the OS user
    assert "waived by Test Operator" in v6.summary and "(found: 3 draft payments)" in v6.summary
    assert v6.to_dict()["waiver_reason"] == "the three drafts are test payments Support will delete"
    runbook.withdraw_waiver("V6", "Support says they are real")
    assert runbook.state("V6").status is Status.NEEDS_ACTION
    with pytest.raises(ConfigError, match="no waiver to withdraw"):
        runbook.withdraw_waiver("V6")
    history = runbook.journal.waiver_history()
    assert [h["withdraw_reason"] for h in history] == ["Support says they are real"]
    runbook.journal.record_result(CheckResult("B2/V1", Status.PASS, 0, "ok"))
    with pytest.raises(ConfigError, match="nothing to waive"):
        runbook.waive("V1", "passes anyway, just in case")


def test_a_passing_step_stays_passed_when_a_gate_regresses(runbook):
    runbook.set_variable("e2_decision", "sync")
    runbook.journal.record_result(CheckResult("E1", Status.PASS, 0, "ok"))
    runbook.journal.record_result(CheckResult("E2", Status.PASS, 0, "ok"))
    runbook.confirm("H1", "first run")
    runbook.journal.record_result(CheckResult("E1", Status.FAIL, 3, "3 AR Mig memos not marked transferred"))
    assert runbook.state("H1").status is Status.PASS  # done stays done; E1 itself shows the failure
    assert runbook.state("H4").status is Status.BLOCKED


def test_the_main_screens_detail_fits_its_width_numbers_first(runbook):
    sample = tuple({"id": f"8a8{n:029d}", "adjustmentnumber": f"IA{n:08d}", "invoicenumber": f"INV{n:08d}",
                    "type": "Credit", "amount": -12.5, "adjustmentdate": "2026-10-01"} for n in range(7))
    runbook.journal.record_result(CheckResult("C1", Status.FAIL, 7, "7 IIAs not yet in NetSuite", sample))
    text = render.detail_text(runbook.state("C1"), runbook.context(), width=60)
    head, *rows = text.splitlines()[1:]
    assert head.split()[0] == "adjustmentnumber" and "id" not in head.split()  # the 32-char id did not fit
    assert all(len(line) <= 60 for line in [head, *rows])
    assert rows[0].startswith("IA00000000") and rows[-1] == "… 2 more (Enter opens the step)"
    wide = render.detail_text(runbook.state("C1"), runbook.context(), width=200)
    assert wide.splitlines()[1].split()[-1] == "id"


def test_a_passed_check_on_a_step_that_waits_for_a_confirmation_says_so(runbook):
    from core.runbook import render

    runbook.journal.record_result(CheckResult("B2/V9", Status.PASS, 62, "62 memos to convert"))
    state = runbook.state("B2/V9")
    assert state.status is Status.NEEDS_ACTION  # the header's "!": the check passed, the person has not confirmed
    text = render.check_text(state, runbook.context())
    assert "Result  ✓ pass · 62" in text and "the step is done once confirmed (cutover confirm B2/V9" in text
    runbook.confirm("B2/V9", "code given to Support")
    assert "done once confirmed" not in render.check_text(runbook.state("B2/V9"), runbook.context())
