"""The fixes the tool writes itself: plan -> dry run -> confirm -> apply -> verify (E1, E2, G2).

A plan reads the current values server-side and streams every target into the journal as it reads it (never
all in a list). Apply claims items from the journal a batch at a time (marking them `sent` before they leave),
records each item's outcome (and an audit row) as its answer arrives, and ends with the step's re-check.
A killed apply leaves some items `sent`: the next apply reads their current values first and only re-sends
those that did not land, so a confirmed write is never repeated and a finished plan makes no write call.
"""

from __future__ import annotations

import asyncio
import math
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any

from core.errors import ConfigError, CutoverError
from core.journal import apply_lock
from core.runbook.checks import AR_MIG, ID_CHUNK, QueryContext, resolve
from core.sql_literals import quote
from core.runbook.engine import Runbook
from core.runbook.model import ApplyOutcome, ApplyProgress, PlanSummary, System, Where
from core.runbook.phases import find_step
from core.runbook.steps.e_data_fixes import E2_TARGET, credit_balance_memos
from core.runbook.steps.g_payments import backfill_targets

PLAN_CHUNK = 500  # plan items written to the journal per transaction
SLICE_ROWS = 100_000  # Data Query rows per keyset slice (Live allows 500,000 output rows per job)
RESUMABLE = ("planned", "applying", "cancelled", "failed")  # plan states an apply picks up where they stand
PROGRESS_EVERY_S = 0.2  # the fastest an apply reports progress to its screen or terminal
ProgressCallback = Callable[[ApplyProgress], None]


def _chunked(ids: list[str]) -> list[list[str]]:
    return [ids[i:i + ID_CHUNK] for i in range(0, len(ids), ID_CHUNK)]


@dataclass(frozen=True)
class Target:
    record_id: str
    number: str | None
    current: str | None


class Fix(ABC):
    """One step's write: what it targets, the value it sets, how it reads current values and writes."""

    step_id: str
    system: System
    object: str
    field: str
    batch: int  # records per write call
    seconds_per_call: float  # typical latency of one write call, for the estimate
    default_limit: int  # the vendor's usual concurrency limit
    invoice_settlement = False  # True: the records exist only once IS is on

    @abstractmethod
    def new_value(self, ctx: QueryContext) -> str:
        """Defined by each fix."""

    def field_name(self, ctx: QueryContext) -> str:
        """The field as the plan and the audit log name it."""
        return self.field

    @abstractmethod
    def targets(self, ctx: QueryContext, clients: Any) -> AsyncIterator[Target]:
        """Defined by each fix."""

    @abstractmethod
    def current_query(self, ctx: QueryContext, ids: list[str]) -> str:
        """SQL reading `id` and `current` (the field's value) of these records."""

    @abstractmethod
    async def rows(self, clients: Any, sql: str) -> list[dict]:
        """Defined by each fix."""

    async def current_values(self, ctx: QueryContext, clients: Any, ids: list[str]) -> dict[str, str | None]:
        """Record id -> the field's value now, read a chunk of ids at a time (resuming a killed apply)."""
        out: dict[str, str | None] = {}
        for chunk in _chunked(ids):
            rows = await self.rows(clients, self.current_query(ctx, chunk))
            out.update({str(r["id"]): r.get("current") for r in rows})
        return out

    @abstractmethod
    async def write(self, ctx: QueryContext, clients: Any, items: AsyncIterator[dict],
                    report: Callable[..., Any]) -> int:
        """Send every item; call report(item, success, error, request_id) per item; return the write calls made."""

    def limit(self, clients: Any) -> int:
        client = clients.zuora if self.system == "zuora" else clients.netsuite
        return int(getattr(client, "max_concurrency", self.default_limit) or self.default_limit)


class CreditMemoTransferred(Fix):
    """Set transferredToAccounting on credit memos through PUT /v1/credit-memos/bulk (<= 50 per call)."""

    system, object, field = "zuora", "CreditMemo", "transferredToAccounting"
    batch, seconds_per_call, default_limit = 50, 1.5, 40
    invoice_settlement = True

    def __init__(self, step_id: str, where: Where, value: Callable[[QueryContext], str]):
        self.step_id, self._where, self._value = step_id, where, value

    def new_value(self, ctx: QueryContext) -> str:
        return self._value(ctx)

    async def targets(self, ctx: QueryContext, clients: Any) -> AsyncIterator[Target]:
        new = quote(self.new_value(ctx))
        where = resolve(self._where, ctx)
        last = ""
        while True:  # keyset slices keep each Data Query job under its output-row limit
            sql = (f"SELECT id, memonumber, transferredtoaccounting FROM creditmemo WHERE {where} "
                   f"AND coalesce(transferredtoaccounting, 'No') <> {new} AND id > {quote(last)} "
                   f"ORDER BY id LIMIT {SLICE_ROWS}")
            n = 0
            async for row in clients.zuora.data_query(sql):
                n += 1
                last = str(row["id"])
                yield Target(last, row.get("memonumber"), row.get("transferredtoaccounting"))
            if n < SLICE_ROWS:
                return

    def current_query(self, ctx: QueryContext, ids: list[str]) -> str:
        return (f"SELECT id, transferredtoaccounting AS current FROM creditmemo "
                f"WHERE id IN ({', '.join(map(quote, ids))})")

    async def rows(self, clients: Any, sql: str) -> list[dict]:
        return await clients.zuora.data_query_rows(sql)

    async def write(self, ctx: QueryContext, clients: Any, items: AsyncIterator[dict],
                    report: Callable[..., Any]) -> int:
        in_flight: dict[str, dict] = {}

        async def updates() -> AsyncIterator[dict]:
            async for item in items:
                in_flight[item["record_id"]] = item
                yield {"id": item["record_id"], self.field: item["new"]}

        async def on_result(result) -> None:
            item = in_flight.pop(result.id)
            error = None if result.success else f"{result.error_message} [code {result.error_code}]"
            await report(item, result.success, error, result.request_id)

        summary = await clients.zuora.bulk_update_credit_memos(updates(), on_result=on_result)
        return summary.requests


class PaymentSyncUpdates(Fix):
    """G2: set Zuora Sync Updates (the profile's script id) on window customer payments, one PATCH each."""

    step_id, system, object, field = "G2", "netsuite", "customerPayment", "Zuora Sync Updates"
    batch, seconds_per_call, default_limit = 1, 1.0, 10

    def new_value(self, ctx: QueryContext) -> str:
        return ctx.sync_updates_yes

    def field_name(self, ctx: QueryContext) -> str:
        return ctx.ns("zuora_sync_updates")

    async def targets(self, ctx: QueryContext, clients: Any) -> AsyncIterator[Target]:
        select = f"t.id, t.tranid, t.{self.field_name(ctx)} AS current FROM transaction t"
        async for row in clients.netsuite.suiteql_by_id(select, where=backfill_targets(ctx), id_column="t.id"):
            yield Target(str(row["id"]), row.get("tranid"), row.get("current"))

    def current_query(self, ctx: QueryContext, ids: list[str]) -> str:
        listed = ", ".join(str(int(i)) for i in ids)  # NetSuite internal ids are integers
        return f"SELECT t.id, t.{self.field_name(ctx)} AS current FROM transaction t WHERE t.id IN ({listed})"

    async def rows(self, clients: Any, sql: str) -> list[dict]:
        return await clients.netsuite.suiteql_rows(sql)

    async def write(self, ctx: QueryContext, clients: Any, items: AsyncIterator[dict],
                    report: Callable[..., Any]) -> int:
        field, calls, take = self.field_name(ctx), 0, asyncio.Lock()

        async def worker() -> None:
            nonlocal calls
            while True:
                async with take:  # one async generator, many workers
                    item = await anext(items, None)
                if item is None:
                    return
                calls += 1
                try:
                    await clients.netsuite.update_customer_payment(item["record_id"], {field: item["new"]})
                except CutoverError as exc:
                    await report(item, False, str(exc), None)
                else:
                    await report(item, True, None, None)

        await asyncio.gather(*(worker() for _ in range(self.limit(clients))))
        return calls


def _e2_value(ctx: QueryContext) -> str:
    decision = ctx.var("e2_decision")
    if decision not in E2_TARGET:
        raise ConfigError(f"the E2 decision is {decision!r}: the memos sync as they are, nothing to write",
                          hint="record another decision with `cutover set e2_decision mark-yes|ignore` to mark them")
    return E2_TARGET[decision]


FIXES: dict[str, Fix] = {
    "E1": CreditMemoTransferred("E1", f"reasoncode = {AR_MIG}", lambda ctx: "Yes"),
    "E2": CreditMemoTransferred("E2", credit_balance_memos, _e2_value),
    "G2": PaymentSyncUpdates(),
}


def fix_for(step_id: str) -> Fix:
    step = find_step(step_id)
    if step.action not in FIXES:
        raise ConfigError(f"{step.id} has nothing for the tool to write",
                          hint="fixes: " + ", ".join(FIXES) + f"; see `cutover check {step.id}` for what to do")
    return FIXES[step.action]


# ---- plan -------------------------------------------------------------------------------------------------------
async def make_plan(runbook: Runbook, step_id: str) -> PlanSummary:
    """Read the current values and store the exact records to change. Refused while an apply runs."""
    fix = fix_for(step_id)
    with apply_lock(runbook.profile.data_dir, runbook.profile.name, fix.step_id):
        return await _plan(runbook, fix)


async def _plan(runbook: Runbook, fix: Fix) -> PlanSummary:
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
    chunk: list[tuple[str, str | None, str | None, str]] = []
    total = 0
    async for target in fix.targets(ctx, runbook.clients):
        chunk.append((target.record_id, target.number, target.current, new))
        if len(chunk) == PLAN_CHUNK:
            total += journal.add_plan_items(plan_id, chunk)
            chunk = []
    total += journal.add_plan_items(plan_id, chunk)
    calls = math.ceil(total / fix.batch)
    return journal.finish_plan(plan_id, calls=calls, estimate_s=math.ceil(calls / limit) * fix.seconds_per_call)


async def prepare(runbook: Runbook, step_id: str) -> PlanSummary:
    """The plan an apply would run: an unfinished one (resume), else a fresh one."""
    fix = fix_for(step_id)
    with apply_lock(runbook.profile.data_dir, runbook.profile.name, fix.step_id):
        return await _resumable_or_new(runbook, fix)


async def _resumable_or_new(runbook: Runbook, fix: Fix) -> PlanSummary:
    """Lock held by the caller."""
    latest = runbook.journal.latest_plan(fix.step_id)
    if latest is not None and latest.status in RESUMABLE:
        return latest
    return await _plan(runbook, fix)


# ---- apply ------------------------------------------------------------------------------------------------------
async def apply(runbook: Runbook, step_id: str, *, plan_id: int | None = None,
                on_progress: ProgressCallback | None = None, cancel: Any = None) -> ApplyOutcome:
    """Apply the step's plan (the given one, an unfinished one, or a fresh one), then re-check the step.

    `cancel` is anything with is_set() (threading.Event, asyncio.Event): items already sent finish and are
    recorded; nothing new is sent.
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
            if plan.step_id != fix.step_id:
                raise ConfigError(f"plan {plan.plan_id} belongs to {plan.step_id}, not {fix.step_id}")
            if plan.status == "superseded":
                raise ConfigError(f"plan {plan.plan_id} was replaced by a newer plan of {fix.step_id}",
                                  hint="review the newer plan before applying it")
            if plan.status == "planning":
                raise ConfigError(f"plan {plan.plan_id} is incomplete: its planning was interrupted",
                                  hint=f"make a new one with `cutover plan {fix.step_id}`")
        else:
            plan = await _resumable_or_new(runbook, fix)
        run = _Apply(runbook, fix, plan, on_progress, cancel)
        calls, plan = await run.go()
    recheck = await runbook.check_step(fix.step_id)
    return ApplyOutcome(plan=plan, written=run.written, failed=run.failed, already_set=run.found,
                        cancelled=run.cancelled, write_calls=calls, recheck=recheck)


class _Apply:
    def __init__(self, runbook: Runbook, fix: Fix, plan: PlanSummary, on_progress: ProgressCallback | None,
                 cancel: Any):
        self.runbook, self.journal, self.fix, self.plan = runbook, runbook.journal, fix, plan
        self.ctx = runbook.context()
        self.on_progress, self.cancel = on_progress, cancel
        self.written = self.failed = self.found = 0
        self.cancelled = False
        self.started = time.monotonic()
        self.last_progress = self.started - PROGRESS_EVERY_S  # the first item reports at once
        self.done_before = plan.counts.get("done", 0)

    async def go(self) -> tuple[int, PlanSummary]:
        """The write calls made, and the plan as it ended."""
        await self._reconcile()
        run_id = self.journal.start_apply_run(self.plan.plan_id)
        calls = 0
        try:
            calls = await self.fix.write(self.ctx, self.runbook.clients, self._items(), self._report)
        finally:
            ended = self.journal.plan(self.plan.plan_id)
            status = "done" if not ended.remaining else "cancelled" if self.cancelled else "failed"
            self.journal.end_apply_run(run_id, outcome=status, written=self.written, failed=self.failed,
                                       write_calls=calls)
        self._progress(final=True)
        return calls, replace(ended, status=status)  # the status end_apply_run just stored

    async def _reconcile(self) -> None:
        """Items a dead run sent without recording the answer: done if the value landed, else pending."""
        sent = list(self.journal.iter_plan_items(self.plan.plan_id, ("sent",)))
        if not sent:
            return
        current = await self.fix.current_values(self.ctx, self.runbook.clients, [i["record_id"] for i in sent])
        for item in sent:
            if current.get(item["record_id"]) == item["new"]:
                self.journal.record_outcome(self.plan, item, success=True, outcome="found-written")
                self.found += 1
        self.journal.reset_items(self.plan.plan_id, [i["seq"] for i in sent
                                                     if current.get(i["record_id"]) != i["new"]])

    async def _items(self) -> AsyncIterator[dict]:
        after = 0
        while not self._cancelled():
            claimed = self.journal.claim_items(self.plan.plan_id, after, self.fix.batch)
            if not claimed:
                return
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
        left = self.plan.total - done - self.failed
        self.on_progress(ApplyProgress(done=done, total=self.plan.total, failed=self.failed, rate_per_s=rate,
                                       eta_s=0.0 if final or left <= 0 else (left / rate if rate else None)))


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
                                              "total", "calls", "estimate_s", "limit", "created_at", "status")}
        out.write(json.dumps({"plan": head})[:-1] + ', "items": [\n')
        for item in journal.iter_plan_items(plan_id):
            out.write(("," if n else "") + json.dumps({c: item[c] for c in cols}) + "\n")
            n += 1
        out.write("]}\n")
    return n
