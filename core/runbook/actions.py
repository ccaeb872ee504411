"""Plan -> dry run -> confirm -> apply -> verify, for any step's Fix (core.runbook.fixes): E1, E2, G2.

A plan reads the current values server-side and streams every target into the journal as it reads it (never
all in a list). Apply claims items from the journal a batch at a time (marking them `sent` before they leave),
records each item's outcome (and an audit row) as its answer arrives, and ends with the step's re-check.
A killed apply leaves some items `sent`: the next apply reads their current values first and only re-sends
those that did not land, so a confirmed write is never repeated and a finished plan makes no write call.

A plan is sealed when it is made (Journal.seal_of). Apply recomputes the seal and refuses a plan whose items
changed since, or that was made for another step; then it re-checks each slice of records just before writing
it (core.runbook.recheck) and skips, and reports, any record that no longer matches the plan.

The functions take what they need through `Planning` (the engine's Runbook is one), never the engine itself.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any, Protocol

from core.errors import ConfigError, CutoverError
from core.journal import Journal, apply_lock
from core.runbook.fixes import Fix
from core.runbook.model import ApplyOutcome, ApplyProgress, CheckResult, PlanSummary, QueryContext
from core.runbook.phases import RUNBOOK, find_step
from core.runbook.recheck import ReadAhead, same_value, slices


class Planning(Protocol):
    """What planning and applying a fix need from a run."""

    profile: Any
    journal: Journal
    clients: Any

    def context(self) -> QueryContext: ...

    async def invoice_settlement(self, *, fresh: bool = False) -> bool: ...

    def require_gates(self, step_id: str) -> None: ...

    async def check_step(self, step: Any) -> CheckResult: ...


PLAN_CHUNK = 500  # plan items written to the journal per transaction
RESUMABLE = ("planned", "applying", "cancelled", "failed")  # plan states an apply picks up where they stand
PROGRESS_EVERY_S = 0.2  # the fastest an apply reports progress to its screen or terminal
SEAL_PREFIX_MIN = 4  # hex digits of a seal a person must quote to name a plan by it
ProgressCallback = Callable[[ApplyProgress], None]


class PlanRefused(CutoverError):
    """The plan is not the one to apply: it changed since it was sealed, or it is another step's or another seal's."""


def fix_for(step_id: str) -> Fix:
    fixes = ", ".join(s.id for s in RUNBOOK if s.action)
    try:
        step = find_step(step_id)
    except ConfigError:  # only these plan, apply and undo: name them, not the phase letters
        raise ConfigError(f"no runbook step {step_id.strip()!r} with a fix", hint=f"the steps that plan: {fixes}") \
            from None
    if step.action is None:
        raise ConfigError(f"{step.id} has nothing for the tool to write",
                          hint=f"fixes: {fixes}; see `cutover check {step.id}` for what to do")
    return step.action


# ---- plan -------------------------------------------------------------------------------------------------------
async def make_plan(runbook: Planning, step_id: str) -> PlanSummary:
    """Read the current values and store the exact records to change. Refused while an apply runs."""
    fix = fix_for(step_id)
    with apply_lock(runbook.profile.data_dir, runbook.profile.name, fix.step_id):
        return await _plan(runbook, fix)


async def _plan(runbook: Planning, fix: Fix) -> PlanSummary:
    if fix.invoice_settlement and not await runbook.invoice_settlement(fresh=True):
        raise ConfigError(f"{fix.step_id} comes after the IS migration, and Invoice Settlement is off on this tenant",
                          hint="see D1: Support enables IS and runs the migration first")
    ctx = runbook.context()
    new = fix.new_value(ctx)
    limit = fix.limit(runbook.clients)
    journal = runbook.journal
    plan_id = journal.create_plan(fix.step_id, system=fix.system, object=fix.object,
                                  field=fix.field_name(ctx),
                                  new_value=new, concurrency=limit)
    items = PlanItems(journal, plan_id)
    async for target in fix.targets(ctx, runbook.clients):
        items.add((target.record_id, target.number, target.current, new))
    return items.finish(fix, limit)


class PlanItems:
    """A plan's items, written to the journal PLAN_CHUNK at a time as they are found, so a plan of a million
    records never sits in memory; `finish` seals the plan with its call count and estimate at `limit`."""

    def __init__(self, journal: Journal, plan_id: int):
        self.journal, self.plan_id = journal, plan_id
        self.chunk: list[tuple[str, str | None, str | None, str | None]] = []
        self.total = 0

    def add(self, item: tuple[str, str | None, str | None, str | None]) -> None:
        self.chunk.append(item)
        if len(self.chunk) == PLAN_CHUNK:
            self._flush()

    def _flush(self) -> None:
        self.total += self.journal.add_plan_items(self.plan_id, self.chunk)
        self.chunk = []

    def finish(self, fix: Fix, limit: int) -> PlanSummary:
        self._flush()
        calls = math.ceil(self.total / fix.batch)
        return self.journal.finish_plan(self.plan_id, calls=calls,
                                        estimate_s=math.ceil(calls / limit) * fix.seconds_per_call)


async def prepare(runbook: Planning, step_id: str) -> PlanSummary:
    """The plan an apply would run: an unfinished one (resume), else a fresh one."""
    fix = fix_for(step_id)
    with apply_lock(runbook.profile.data_dir, runbook.profile.name, fix.step_id):
        return await _resumable_or_new(runbook, fix)


async def _resumable_or_new(runbook: Planning, fix: Fix) -> PlanSummary:
    """Lock held by the caller."""
    latest = runbook.journal.latest_plan(fix.step_id)
    if latest is not None and latest.status in RESUMABLE:
        return latest
    return await _plan(runbook, fix)


# ---- apply ------------------------------------------------------------------------------------------------------
async def apply(runbook: Planning, step_id: str, *, plan_id: int | None = None, seal: str | None = None,
                on_progress: ProgressCallback | None = None, cancel: Any = None) -> ApplyOutcome:
    """Apply the step's plan (the given one, an unfinished one, or a fresh one), then re-check the step.

    `seal` is the seal (or its first digits) the person saw: a plan with another one is refused. `cancel` is
    anything with is_set() (threading.Event, asyncio.Event): items already sent finish and are recorded; nothing
    new is sent.
    """
    fix = fix_for(step_id)
    profile = runbook.profile
    if profile.read_only:
        raise ConfigError(f"profile {profile.name} is read-only: apply is refused (plans still work)",
                          hint="use a profile with write access, or set read_only = false if this one has it")
    runbook.require_gates(fix.step_id)
    with apply_lock(profile.data_dir, profile.name, fix.step_id):
        if plan_id is not None:  # the plan the person saw: exactly that one
            plan = runbook.journal.plan(plan_id)
        else:
            plan = await _resumable_or_new(runbook, fix)
        check_plan(runbook.journal, plan, fix.step_id, seal)
        run = PlanRun(runbook, fix, plan, on_progress, cancel)
        calls, plan = await run.go()
    return await run.outcome(calls, plan)


def check_plan(journal: Journal, plan: PlanSummary, step_id: str, seal: str | None = None) -> None:
    """Refuse, before anything is written, a plan that is not the step's, not complete and current, not exactly
    what was sealed, or (given the seal the person saw, or its first digits) not the plan they reviewed."""
    new_plan = f"make a new plan: cutover plan {step_id}"
    if plan.step_id != step_id:
        raise PlanRefused(f"plan {plan.plan_id} was made for {plan.step_id}, not {step_id}: nothing was written",
                          hint=new_plan)
    if plan.status == "superseded":
        raise PlanRefused(f"plan {plan.plan_id} was replaced by a newer plan of {step_id}: nothing was written",
                          hint="review the newer plan before applying it")
    if plan.status == "planning":
        raise PlanRefused(f"plan {plan.plan_id} is incomplete: its planning was interrupted", hint=new_plan)
    seen = None if seal is None else seal.strip().lower()
    if seen is not None and (len(seen) < SEAL_PREFIX_MIN or any(c not in "0123456789abcdef" for c in seen)):
        raise ConfigError(f"{seal!r} is not a plan seal: quote at least {SEAL_PREFIX_MIN} of its hex digits",
                          hint=f"the seal is on the plan's first line: cutover plan {step_id}")
    if plan.seal is None:
        raise PlanRefused(f"plan {plan.plan_id} has no seal (it was made by an older cutover): nothing was written",
                          hint=new_plan)
    if seen is not None and not plan.seal.startswith(seen):
        raise PlanRefused(f"plan {plan.plan_id} has seal {plan.short_seal}, not the {seen[:8]} you saw: it is not "
                          "the plan you reviewed; nothing was written", hint=f"review it with `cutover plan "
                          f"{plan.step_id}` (a new plan), then apply with its seal")
    if journal.seal_of(plan.plan_id) != plan.seal:
        raise PlanRefused(f"plan {plan.plan_id} changed since it was sealed ({plan.short_seal}): its records are "
                          "not the ones it showed; nothing was written", hint=new_plan)


async def settle_sent(runbook: Planning, fix: Fix, plan: PlanSummary) -> int:
    """Items a run sent without learning that they landed (killed before the answer: `sent`; the answer lost
    to a timeout: `failed`): done if the value is there now, else `sent` ones are pending again. Returns how many
    were found written. Lock held by the caller."""
    journal, ctx = runbook.journal, runbook.context()
    sent = list(journal.iter_plan_items(plan.plan_id, ("sent", "failed")))
    if not sent:
        return 0
    current = await fix.current_values(ctx, runbook.clients, [i["record_id"] for i in sent])

    def landed(item: dict) -> bool:  # an undo may write an empty value: a record absent is not "empty now"
        return item["record_id"] in current and same_value(current[item["record_id"]], item["new"])

    found = 0
    for item in sent:
        if landed(item):
            journal.record_outcome(plan, item, success=True, outcome="found-written")
            found += 1
    journal.reset_items(plan.plan_id, [i["seq"] for i in sent if i["status"] == "sent" and not landed(i)])
    return found


class PlanRun:
    """One apply run of a checked plan (the lock held by the caller): reconcile, re-check ahead, write, record."""

    def __init__(self, runbook: Planning, fix: Fix, plan: PlanSummary, on_progress: ProgressCallback | None,
                 cancel: Any):
        self.runbook, self.journal, self.fix, self.plan = runbook, runbook.journal, fix, plan
        self.ctx = runbook.context()
        self.on_progress, self.cancel = on_progress, cancel
        self.written = self.failed = self.found = self.skipped = 0
        self.cancelled = False
        self.started = time.monotonic()
        self.last_progress = self.started - PROGRESS_EVERY_S  # the first item reports at once
        self.done_before = plan.counts.get("done", 0)
        self.skipped_before = plan.counts.get("skipped", 0)

    async def go(self) -> tuple[int, PlanSummary]:
        """The write calls made, and the plan as it ended."""
        await self._reconcile()
        run_id = self.journal.start_apply_run(self.plan.plan_id)
        calls = 0
        items = slices(self.journal.iter_plan_items(self.plan.plan_id, ("pending", "failed")), self.fix.recheck_slice)
        if self.plan.undoes is None:
            ahead = ReadAhead(self.fix.step_id, items,
                              lambda ids: self.fix.still_selected(self.ctx, self.runbook.clients, ids))
        else:  # an undo: each record must still hold what the undone apply wrote, whatever the step selects now
            ahead = ReadAhead(self.fix.step_id, items,
                              lambda ids: self.fix.current_values(self.ctx, self.runbook.clients, ids),
                              missing=f"no longer in {self.fix.system.capitalize()}", since="the apply")
        try:
            calls = await self.fix.write(self.ctx, self.runbook.clients, self._items(ahead), self._report)
        finally:
            await ahead.aclose()
            ended = self.journal.plan(self.plan.plan_id)
            status = "done" if not ended.remaining else "cancelled" if self.cancelled else "failed"
            self.journal.end_apply_run(run_id, outcome=status, written=self.written, failed=self.failed,
                                       write_calls=calls, skipped=self.skipped)
        self._progress(final=True)
        return calls, replace(ended, status=status)  # the status end_apply_run just stored

    async def _reconcile(self) -> None:
        self.found += await settle_sent(self.runbook, self.fix, self.plan)

    async def outcome(self, calls: int, plan: PlanSummary) -> ApplyOutcome:
        """The run's outcome with the step re-checked (after the lock is released)."""
        recheck = await self.runbook.check_step(self.fix.step_id)
        return ApplyOutcome(plan=plan, written=self.written, failed=self.failed, already_set=self.found,
                            cancelled=self.cancelled, write_calls=calls, recheck=recheck, skipped=self.skipped)

    async def _items(self, ahead: ReadAhead) -> AsyncIterator[dict]:
        """Each slice's items that the re-check kept, claimed a write call's worth at a time; its other items are
        recorded as skipped first."""
        while not self._cancelled():
            checked = await ahead.next()
            if checked is None or self._cancelled():
                return
            if checked.skip:
                self.skipped += self.journal.record_skips(self.plan, checked.skip)
                self._progress()
            after, upto = checked.items[0]["seq"] - 1, checked.items[-1]["seq"]
            while checked.keep and not self._cancelled():
                claimed = self.journal.claim_items(self.plan.plan_id, after, self.fix.batch, upto_seq=upto)
                if not claimed:
                    break
                after = claimed[-1]["seq"]
                for item in claimed:
                    yield item

    def _cancelled(self) -> bool:
        if self.cancel is not None and self.cancel.is_set():
            self.cancelled = True
        return self.cancelled

    async def _report(self, item: dict, success: bool, error: str | None, request_id: str | None) -> None:
        self.journal.record_outcome(self.plan, item, success=success, outcome="written" if success else "failed",
                                    error=error, request_id=request_id)
        if success:
            self.written += 1
        else:
            self.failed += 1
        self._progress()

    def _progress(self, final: bool = False) -> None:
        """At most every PROGRESS_EVERY_S, and once at the end: a million items must not mean a million redraws."""
        now = time.monotonic()
        if self.on_progress is None or (not final and now - self.last_progress < PROGRESS_EVERY_S):
            return
        self.last_progress = now
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = (self.written + self.failed) / elapsed
        done = self.done_before + self.written + self.found
        skipped = self.skipped_before + self.skipped
        left = self.plan.total - done - self.failed - skipped
        self.on_progress(ApplyProgress(done=done, total=self.plan.total, failed=self.failed, rate_per_s=rate,
                                       eta_s=0.0 if final or left <= 0 else (left / rate if rate else None),
                                       skipped=skipped))


def export_plan(journal, plan_id: int, path, fmt: str | None = None) -> int:
    """Write the plan's records (current -> new, status, outcome) as CSV or JSON, streamed; returns rows written."""
    import csv
    import json
    from pathlib import Path

    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".") or "csv").lower()
    if fmt not in ("csv", "json"):
        raise ConfigError(f"cannot export a plan as {fmt!r}", hint="use a .csv or .json file name")
    plan = journal.plan(plan_id)
    cols = ("seq", "record_id", "number", "current", "new", "status", "outcome", "error", "request_id", "at")
    n = 0
    with path.open("w", newline="", encoding="utf-8") as out:
        if fmt == "csv":
            writer = csv.writer(out)
            writer.writerow(cols)
            for item in journal.iter_plan_items(plan_id):
                writer.writerow([item[c] for c in cols])
                n += 1
            return n
        head = {k: getattr(plan, k) for k in ("plan_id", "step_id", "system", "object", "field", "new_value",
                                              "total", "calls", "estimate_s", "limit", "created_at", "status", "seal")}
        out.write(json.dumps({"plan": head})[:-1] + ', "items": [\n')
        for item in journal.iter_plan_items(plan_id):
            out.write(("," if n else "") + json.dumps({c: item[c] for c in cols}) + "\n")
            n += 1
        out.write("]}\n")
    return n
