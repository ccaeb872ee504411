"""Apply writes only what the plan showed and the step still selects (issue 11, item 5), over loopback.

A plan is sealed when it is made; a plan item edited in the journal afterwards (pointed at a memo E1 does not
select) is refused and the memo untouched, and so is a plan made for another step. A record that changed after
planning (marked by hand, its reason code changed) is skipped and reported, and the rest written. The re-check
reads one query per slice of records.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from cli_support import run, simulated_profile
from sim_tenant import add_credit_memos, add_invoices

from core.config import get_profile
from core.demo import DemoTenant
from core.errors import ConfigError
from core.journal import Journal
from core.runbook.actions import PlanRefused, fix_for
from core.runbook.engine import Runbook
from core.runbook.model import Status
from core.runbook.render import confirm_text
from core.session import Session

pytestmark = pytest.mark.timeout(120)
MEMOS = 120
AR_MIG = "AR Mig - negative invoice"


class _Calls:
    """Counts the bulk updates (and the memos they send), and the Data Queries that re-check planned memos (E1's
    selection by id)."""

    def __init__(self):
        self.bulk_puts = self.rechecks = 0
        self.sent: list[str] = []

    def __call__(self, request):
        if request.method == "PUT" and request.url.path.endswith("/bulk"):
            self.bulk_puts += 1
            self.sent += [m["id"] for m in json.loads(request.content)["memos"]]
        if request.method == "POST" and request.url.path.endswith("/query/jobs"):
            self.rechecks += b"AND m.id IN (" in request.content


def _memos(sim) -> tuple[list[str], list[str]]:
    """MEMOS AR Mig memos whose negative invoices NetSuite has (E1 marks them), and 3 memos of no migration
    (E1 never selects them)."""
    store = sim.store
    account = store.scalar("SELECT id FROM account LIMIT 1")
    negatives = add_invoices(sim, MEMOS, account=account, amount=-1.0)
    targets = add_credit_memos(sim, MEMOS, account=account, start=10_000, invoices=negatives)
    others = add_credit_memos(sim, 3, account=account, start=20_000, reason="Correction")
    store.set_setting("invoice_settlement", True)
    return targets, others


@pytest.fixture
async def rb():
    async with DemoTenant(scale=50, connector_pace_s=0) as demo:
        targets, others = _memos(demo.sim)
        calls = _Calls()
        async with Session(demo.profile, demo.credentials, zuora_options={"on_request": calls}) as session:
            with Journal.for_profile(demo.profile) as journal:
                runbook = Runbook(demo.profile, journal, session)
                runbook.store, runbook.calls, runbook.targets, runbook.others = demo.sim.store, calls, targets, others
                yield runbook


def _tta(rb, ids) -> dict[str, str]:
    return {r["id"]: r["transferredtoaccounting"] for r in rb.store.query(
        f"SELECT id, transferredtoaccounting FROM creditmemo WHERE id IN ({','.join('?' * len(ids))})", list(ids))}


def _api_writes(rb) -> list[dict]:
    return rb.store.query("SELECT record_id FROM sim_write_log WHERE source = 'api' AND field = "
                          "'TransferredToAccounting'")


def _edit_journal(rb, sql: str, params: tuple) -> None:
    """What someone with the journal file can do behind the tool's back."""
    with sqlite3.connect(Path(rb.profile.data_dir) / "journal.db") as db:
        db.execute(sql, params)


async def test_a_plan_item_pointed_at_a_memo_e1_does_not_select_is_refused_and_the_memo_untouched(rb):
    plan = await rb.plan("E1")
    targets = set(rb.targets)
    assert {i["record_id"] for i in rb.journal.iter_plan_items(plan.plan_id)} == targets
    assert len(plan.seal) == 64 and plan.seal == rb.journal.seal_of(plan.plan_id)
    assert f"Plan #{plan.plan_id} · seal {plan.seal[:8]} · {MEMOS} CreditMemo records" in confirm_text(plan, "demo")
    outsider = rb.others[0]

    _edit_journal(rb, "UPDATE plan_item SET record_id = ? WHERE plan_id = ? AND seq = 7", (outsider, plan.plan_id))
    with pytest.raises(PlanRefused, match=f"plan {plan.plan_id} changed since it was sealed") as refused:
        await rb.apply("E1", plan_id=plan.plan_id)
    assert refused.value.hint == "make a new plan: cutover plan E1"
    with pytest.raises(PlanRefused, match="changed since it was sealed"):
        await rb.apply("E1")  # resuming the latest plan is refused the same way
    assert rb.calls.bulk_puts == 0 and _api_writes(rb) == []
    assert _tta(rb, [outsider]) == {outsider: "No"}
    assert rb.journal.plan(plan.plan_id).counts["pending"] == MEMOS  # nothing claimed, nothing sent

    # Someone who also rewrites the seal gets past it; the re-check before the write still stops the memo.
    _edit_journal(rb, "UPDATE plan SET seal = ? WHERE id = ?", (rb.journal.seal_of(plan.plan_id), plan.plan_id))
    outcome = await rb.apply("E1", plan_id=plan.plan_id)
    assert (outcome.skipped, outcome.written, outcome.failed) == (1, MEMOS - 1, 0)
    assert _tta(rb, [outsider]) == {outsider: "No"}
    written = {w["record_id"] for w in _api_writes(rb)}
    assert outsider not in written and len(written) == MEMOS - 1
    skipped = list(rb.journal.iter_plan_items(plan.plan_id, ("skipped",)))
    assert [(i["record_id"], i["error"]) for i in skipped] == [(outsider, "no longer selected by E1")]
    assert [a["record_id"] for a in rb.journal.audit_log("E1", skipped=True)] == [outsider]
    assert outsider not in {a["record_id"] for a in rb.journal.audit_log("E1")}
    assert outcome.plan.status == "done" and outcome.plan.remaining == 0


async def test_a_plan_made_for_another_step_is_refused(rb):
    e2 = rb.journal.create_plan("E2", system="zuora", object="CreditMemo", field="transferredToAccounting",
                                new_value="Ignore", concurrency=40)
    rb.journal.add_plan_items(e2, [(rb.others[0], "CM00020000", "No", "Ignore")])
    rb.journal.finish_plan(e2, calls=1, estimate_s=1.5)
    with pytest.raises(PlanRefused, match=f"plan {e2} was made for E2, not E1: nothing was written") as refused:
        await rb.apply("E1", plan_id=e2)
    assert refused.value.hint == "make a new plan: cutover plan E1"
    assert rb.calls.bulk_puts == 0 and _tta(rb, rb.others) == dict.fromkeys(rb.others, "No")


async def test_the_seal_the_person_saw_must_match(rb):
    plan = await rb.plan("E1")
    with pytest.raises(ConfigError, match="is not a plan seal: quote at least 4 of its hex digits"):
        await rb.apply("E1", plan_id=plan.plan_id, seal="zz")
    other = "0000" if not plan.seal.startswith("0000") else "ffff"
    with pytest.raises(PlanRefused, match=f"has seal {plan.seal[:8]}, not the {other} you saw"):
        await rb.apply("E1", plan_id=plan.plan_id, seal=other)
    assert rb.calls.bulk_puts == 0
    outcome = await rb.apply("E1", plan_id=plan.plan_id, seal=plan.seal[:8].upper())
    assert outcome.written == MEMOS and outcome.recheck.status is Status.PASS


async def test_records_changed_after_planning_are_skipped_and_reported_and_the_rest_written(rb, monkeypatch):
    plan = await rb.plan("E1")
    by_hand, recoded, errored = rb.targets[3], rb.targets[50], rb.targets[99]
    rb.store.execute("UPDATE creditmemo SET transferredtoaccounting = 'Yes' WHERE id = ?", (by_hand,))
    rb.store.execute("UPDATE creditmemo SET reasoncode = 'Correction' WHERE id = ?", (recoded,))
    rb.store.execute("UPDATE creditmemo SET transferredtoaccounting = 'Error' WHERE id = ?", (errored,))
    monkeypatch.setattr(fix_for("E1"), "recheck_slice", 40)  # 3 slices of 40 memos
    progress = []

    outcome = await rb.apply("E1", plan_id=plan.plan_id, progress=progress.append)
    assert (outcome.written, outcome.skipped, outcome.failed) == (MEMOS - 3, 3, 0)
    assert rb.calls.rechecks == 3  # one re-check query per slice
    reasons = {i["record_id"]: i["error"] for i in rb.journal.iter_plan_items(plan.plan_id, ("skipped",))}
    assert reasons == {by_hand: "changed since the plan: No -> Yes", recoded: "no longer selected by E1",
                       errored: "changed since the plan: No -> Error"}
    assert _tta(rb, reasons) == {by_hand: "Yes", recoded: "No", errored: "Error"}  # none of them written
    written = {w["record_id"] for w in _api_writes(rb)}
    assert written == set(rb.targets) - set(reasons) and len(_api_writes(rb)) == MEMOS - 3
    assert {a["record_id"] for a in rb.journal.audit_log("E1", skipped=True)} == set(reasons)
    assert progress[-1].skipped == 3 and progress[-1].done == MEMOS - 3 and progress[-1].eta_s == 0
    assert outcome.plan.status == "done" and outcome.plan.counts["skipped"] == 3
    run = rb.journal.apply_runs(plan.plan_id)[-1]
    assert (run["written"], run["skipped"]) == (MEMOS - 3, 3)
    # The memo left at Error is what the step's check still finds: skipped is reported, never hidden.
    assert outcome.recheck.status is Status.FAIL and outcome.recheck.count == 1


def test_the_command_line_shows_the_seal_and_refuses_another_plan_or_seal(capsys, monkeypatch):
    with simulated_profile(capsys, monkeypatch) as demo:
        targets, _ = _memos(demo.sim)
        code, out, err = run(capsys, "plan", "E1", "--profile", "sim")
        assert code == 0, err
        journal = Journal.for_profile(get_profile("sim"))
        plan = journal.latest_plan("E1")
        assert f"Plan {plan.plan_id} for E1 (seal {plan.seal[:8]}): {MEMOS} zuora CreditMemo records" in out

        e2 = journal.create_plan("E2", system="zuora", object="CreditMemo", field="transferredToAccounting",
                                 new_value="Ignore", concurrency=40)
        journal.finish_plan(e2, calls=0, estimate_s=0)
        code, out, err = run(capsys, "apply", "E1", "--profile", "sim", "--yes", "--plan", str(e2))
        assert code == 2 and "Traceback" not in err + out
        assert len(err.strip().splitlines()) == 1 and err.strip().endswith(
            f"plan {e2} was made for E2, not E1: nothing was written (make a new plan: cutover plan E1)")
        code, out, err = run(capsys, "apply", "E1", "--profile", "sim", "--yes", "--seal", "0000" if not
                             plan.seal.startswith("0000") else "ffff")
        assert code == 2 and "you saw: it is not the plan you reviewed; nothing was written" in err
        assert demo.sim.store.scalar("SELECT count(*) FROM sim_write_log WHERE source = 'api'") == 0

        demo.sim.store.execute("UPDATE creditmemo SET reasoncode = 'Correction' WHERE id = ?", (targets[5],))
        code, out, err = run(capsys, "apply", "E1", "--profile", "sim", "--yes", "--seal", plan.seal[:6])
        assert code == 0, out + err
        assert f"(seal {plan.seal[:8]})" in out and f"{MEMOS - 1} written" in out and "1 skipped (no longer " in out
        assert "  skipped CM00010005: no longer selected by E1" in out.splitlines()
        assert "Re-check E1: pass" in out
        journal.close()


async def test_a_write_whose_answer_timed_out_is_found_written_not_skipped_or_sent_again(rb):
    """A bulk call that timed out after its write landed leaves its memos `failed` at the new value: the next apply
    finds them written (not 'changed since the plan') and sends only the rest."""
    plan = await rb.plan("E1")
    timed_out = rb.journal.claim_items(plan.plan_id, 0, 50)
    for item in timed_out:
        rb.journal.record_outcome(plan, item, success=False, outcome="failed", error="Zuora did not answer in time")
    landed = [i["record_id"] for i in timed_out[:30]]  # the server had written these before the answer was lost
    rb.store.executemany("UPDATE creditmemo SET transferredtoaccounting = 'Yes' WHERE id = ?", [(m,) for m in landed])

    outcome = await rb.apply("E1", plan_id=plan.plan_id)
    assert (outcome.already_set, outcome.written, outcome.skipped, outcome.failed) == (30, MEMOS - 30, 0, 0)
    assert not set(landed) & set(rb.calls.sent) and len(rb.calls.sent) == MEMOS - 30  # never sent again
    assert outcome.plan.status == "done" and outcome.recheck.status is Status.PASS
    found = {i["record_id"] for i in rb.journal.iter_plan_items(plan.plan_id) if i["outcome"] == "found-written"}
    assert found == set(landed)
