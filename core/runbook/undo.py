"""Undo: take back the writes of an apply (E1, E2, G2), as a write like any other.

An undo is a plan whose items are the undone plan's written records, each with current = the value the apply
wrote and new = the value the record had before (the journal kept both). It is sealed, shown, confirmed and
applied by the same machinery as any plan (core.runbook.actions), so it resumes after a kill and a finished one
makes no write call. Its re-check reads the records themselves, not the step's selection: a record that no
longer holds what the apply wrote was changed by someone since, and is skipped and listed, never overwritten.

Undoing an undo restores the original apply. The undo of an apply is found from the apply (`Journal.undo_plan`),
so running the same undo again resumes it, or finds nothing left to write.

E1 and E2 mark credit memos so the new connector leaves them alone: once its first run (H1) is recorded it may
already have pushed them, so taking those marks back is refused unless a person types why (kept in the plan, and
so in the report). Setting Transferred to Accounting from Yes back to No needs Zuora's "Override Transferred to
Accounting" permission: without it Zuora refuses each memo, and each refusal says what to ask for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import ConfigError, CutoverError
from core.journal import Journal, apply_lock
from core.runbook.actions import (
    PlanItems,
    RESUMABLE,
    Planning,
    PlanRefused,
    PlanRun,
    ProgressCallback,
    check_plan,
    fix_for,
    settle_sent,
)
from core.runbook.fixes import Fix
from core.runbook.model import ApplyOutcome, PlanSummary

GUARDED = ("E1", "E2")  # marks the new connector reads: undoing them after its first run may be too late
FIRST_RUN = "H1"
WRITTEN = ("written", "found-written")  # outcomes of an item whose value the apply put there
MIN_REASON = 5


class UndoRefused(CutoverError):
    """The undo is not allowed as asked: nothing was planned or written."""


@dataclass(frozen=True)
class HistoryRow:
    """One apply or undo of a step's fix, as the report lists them: one history, oldest first."""

    plan_id: int
    step_id: str
    kind: str  # "apply" | "undo"
    undoes: int | None  # the plan an undo takes back
    field: str
    system: str
    object: str
    by: str | None  # who made the plan (the operator recorded in the profile)
    started_at: str | None  # its first apply run
    ended_at: str | None  # its last apply run
    status: str  # done | applying | cancelled | failed | superseded
    written: int
    skipped: int
    failed: int
    runs: tuple[int, ...]  # apply run ids
    override_reason: str | None = None


def history(journal: Journal, step_id: str | None = None) -> list[HistoryRow]:
    """Every plan an apply ran on, the fixes' own and the undos, oldest first."""
    rows = []
    for plan in journal.plans_applied(step_id):
        runs = journal.apply_runs(plan.plan_id)
        rows.append(HistoryRow(
            plan_id=plan.plan_id, step_id=plan.step_id, kind="apply" if plan.undoes is None else "undo",
            undoes=plan.undoes, field=plan.field, system=plan.system, object=plan.object, by=plan.created_by,
            started_at=runs[0]["started_at"], ended_at=runs[-1]["ended_at"], status=plan.status,
            written=plan.counts.get("done", 0), skipped=plan.counts.get("skipped", 0),
            failed=plan.counts.get("failed", 0), runs=tuple(r["id"] for r in runs),
            override_reason=plan.override_reason))
    return rows


def undone_plan(journal: Journal, step_id: str, run_id: int | None = None) -> PlanSummary:
    """The plan an undo takes back: apply run `run_id`'s plan (all its runs' writes), else the step's latest
    applied plan of its own fix."""
    if run_id is not None:
        run = journal.apply_run(run_id)
        if run is None:
            raise ConfigError(f"there is no apply run {run_id} in the journal",
                              hint=f"leave out --run to undo the latest apply of {step_id}")
        plan = journal.plan(run["plan_id"])
        if plan.step_id != step_id:
            raise ConfigError(f"apply run {run_id} wrote {plan.step_id}, not {step_id}",
                              hint=f"cutover undo {plan.step_id} --run {run_id}")
        return plan
    applied = [p for p in journal.plans_applied(step_id) if p.undoes is None]
    if not applied:
        raise ConfigError(f"{step_id} has not been applied: there is nothing to undo",
                          hint=f"see what an apply would write: cutover plan {step_id}")
    return applied[-1]


def _depth(journal: Journal, plan: PlanSummary) -> int:
    """0 for a fix's own plan, 1 for its undo, 2 for the undo of that undo, ..."""
    depth = 0
    while plan.undoes is not None:
        plan, depth = journal.plan(plan.undoes), depth + 1
    return depth


def first_run_recorded(journal: Journal) -> bool:
    """H1 (the new connector's first run) has a result or a confirmation, even a withdrawn one: it may have run."""
    return journal.latest_result(FIRST_RUN) is not None or bool(journal.confirmation_history(FIRST_RUN))


def _guard(journal: Journal, step_id: str, target: PlanSummary, reason: str | None) -> str | None:
    """Refuse to take back E1/E2's marks after H1 without a typed reason; the reason to record, if any."""
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) < MIN_REASON:
        raise ConfigError("say why the undo goes ahead (a few words): it is recorded in the journal and the report",
                          hint=f'cutover undo {step_id} --override-reason "…"')
    takes_back = _depth(journal, target) % 2 == 0  # undoing the fix itself (or a redo of it), not an undo
    if step_id in GUARDED and takes_back and reason is None and first_run_recorded(journal):
        raise UndoRefused(f"{step_id} cannot be undone: the new connector's first run (H1) is recorded, so it may "
                          f"already have pushed these memos to NetSuite; nothing was planned or written",
                          hint=f"check NetSuite for them first; to undo anyway, say why: cutover undo {step_id} "
                               f'--override-reason "…"')
    return reason


# ---- plan ---------------------------------------------------------------------------------------------------------
async def plan_undo(runbook: Planning, step_id: str, *, run_id: int | None = None,
                    override_reason: str | None = None) -> PlanSummary:
    """The undo plan of the step's latest apply (or of apply run `run_id`): the standing one if there is one
    (resumed, or finished: nothing left to write), else a new sealed one."""
    fix = fix_for(step_id)
    journal = runbook.journal
    with apply_lock(runbook.profile.data_dir, runbook.profile.name, fix.step_id):
        target = undone_plan(journal, fix.step_id, run_id)
        standing = journal.undo_plan(target.plan_id)
        if standing is not None and standing.status != "planning":
            if not standing.remaining or standing.override_reason or not override_reason:
                return standing  # apply_undo refuses it if H1 now needs a reason it lacks
            journal.set_plan_status(standing.plan_id, "superseded")  # a reason given now: a new plan records it
        reason = _guard(journal, fix.step_id, target, override_reason)
        # A killed apply's in-flight writes: recorded as written if they landed, so they are undone too.
        await settle_sent(runbook, fix, journal.plan(target.plan_id))
        return await _plan(runbook, fix, journal.plan(target.plan_id), reason)


def _written(journal: Journal, plan_id: int):
    for item in journal.iter_plan_items(plan_id, ("done",)):
        if item["outcome"] in WRITTEN:
            yield item


async def _plan(runbook: Planning, fix: Fix, target: PlanSummary, reason: str | None) -> PlanSummary:
    journal = runbook.journal
    before = {fix.value_before(r["current"]) for r in journal.query(
        "SELECT DISTINCT current FROM plan_item WHERE plan_id = ? AND status = 'done' AND outcome IN (?, ?) LIMIT 2",
        (target.plan_id, *WRITTEN))}
    shown = next(iter(before)) if len(before) == 1 else None
    limit = fix.limit(runbook.clients)
    plan_id = journal.create_plan(fix.step_id, system=target.system, object=target.object, field=target.field,
                                  new_value=("(empty)" if shown is None else shown) if len(before) == 1
                                  else "each record's value before", concurrency=limit,
                                  undoes=target.plan_id, override_reason=reason)
    items = PlanItems(journal, plan_id)
    for item in _written(journal, target.plan_id):
        items.add((item["record_id"], item["number"], item["new"], fix.value_before(item["current"])))
    return items.finish(fix, limit)


# ---- apply --------------------------------------------------------------------------------------------------------
async def apply_undo(runbook: Planning, step_id: str, *, plan_id: int, seal: str | None = None,
                     on_progress: ProgressCallback | None = None, cancel: Any = None) -> ApplyOutcome:
    """Apply undo plan `plan_id` as apply applies any plan (sealed, re-checked slice by slice, journalled per
    item, resumable), then re-check the step. The step's gates are not asked: taking a write back is always
    allowed, but for E1/E2 after H1 (see `_guard`)."""
    fix = fix_for(step_id)
    profile, journal = runbook.profile, runbook.journal
    if profile.read_only:
        raise ConfigError(f"profile {profile.name} is read-only: undo is refused (its plan is shown)",
                          hint="use a profile with write access, or set read_only = false if this one has it")
    with apply_lock(profile.data_dir, profile.name, fix.step_id):
        plan = journal.plan(plan_id)
        if plan.undoes is None:
            raise PlanRefused(f"plan {plan.plan_id} is not an undo: nothing was written",
                              hint=f"make the undo plan: cutover undo {fix.step_id}")
        check_plan(journal, plan, fix.step_id, seal)
        target = journal.plan(plan.undoes)
        if plan.remaining:  # H1 may have been recorded since the plan was made
            _guard(journal, fix.step_id, target, plan.override_reason)
        if target.status in RESUMABLE:  # what it left unwritten is not resumed by a later apply
            journal.set_plan_status(target.plan_id, "superseded")
        run = PlanRun(runbook, fix, plan, on_progress, cancel)
        calls, ended = await run.go()
    return await run.outcome(calls, ended)
