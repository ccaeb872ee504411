"""The writes the tool makes itself, one object per step that owns one (E1, E2, G2): what it targets, the value it
sets, how it reads current values and how it writes. The step's module builds it from the step's own query, so
that query exists once; core.runbook.actions plans and applies any Fix.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from core.errors import CutoverError
from core.runbook.checks import ID_CHUNK
from core.runbook.model import QueryContext, System, Where, resolve
from core.sql_literals import quote

SLICE_ROWS = 100_000  # Data Query rows per keyset slice (Live allows 500,000 output rows per job)
# Memos re-checked by one Data Query before they are written: 40 bulk calls' worth, so a slice is re-read in
# about the time the writes before it take, and a 20k-memo apply adds 10 queries.
RECHECK_MEMOS = 2000


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
    recheck_slice: int  # planned records re-checked by one query just before they are written
    invoice_settlement = False  # True: the records exist only once IS is on

    @abstractmethod
    def new_value(self, ctx: QueryContext) -> str:
        """Defined by each fix."""

    def field_name(self, ctx: QueryContext) -> str:
        """The field as the plan and the audit log name it."""
        return self.field

    def value_before(self, old: str | None) -> str | None:
        """What an undo writes back for a record whose value before the apply was `old`."""
        return old

    @abstractmethod
    def targets(self, ctx: QueryContext, clients: Any) -> AsyncIterator[Target]:
        """Defined by each fix."""

    @abstractmethod
    def current_query(self, ctx: QueryContext, ids: list[str]) -> str:
        """SQL reading `id` and `current` (the field's value) of these records."""

    @abstractmethod
    def selected_query(self, ctx: QueryContext, ids: list[str]) -> str:
        """SQL reading `id` and `current` of those of these records the step's own selection still picks."""

    @abstractmethod
    async def rows(self, clients: Any, sql: str) -> list[dict]:
        """Defined by each fix."""

    async def still_selected(self, ctx: QueryContext, clients: Any, ids: list[str]) -> dict[str, str | None]:
        """Record id -> the field's value now, for those of `ids` (one slice) the step still selects: one query."""
        rows = await self.rows(clients, self.selected_query(ctx, ids))
        return {str(r["id"]): r.get("current") for r in rows}

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
    """Set transferredToAccounting on credit memos through PUT /v1/credit-memos/bulk (<= 50 per call).
    `where` selects the memos (the step's own query, on `creditmemo m`); those already at the new value are left
    out."""

    system, object, field = "zuora", "CreditMemo", "transferredToAccounting"
    batch, seconds_per_call, default_limit = 50, 1.5, 40
    recheck_slice = RECHECK_MEMOS
    invoice_settlement = True

    def __init__(self, step_id: str, where: Where, value: Callable[[QueryContext], str]):
        self.step_id, self._where, self._value = step_id, where, value

    def new_value(self, ctx: QueryContext) -> str:
        return self._value(ctx)

    def value_before(self, old: str | None) -> str | None:
        # An empty TTA reads as No (the targets' own coalesce), and Zuora's update takes only a value of the enum.
        return old or "No"

    async def targets(self, ctx: QueryContext, clients: Any) -> AsyncIterator[Target]:
        new = quote(self.new_value(ctx))
        where = resolve(self._where, ctx)
        last = ""
        while True:  # keyset slices keep each Data Query job under its output-row limit
            sql = (f"SELECT m.id, m.memonumber, m.transferredtoaccounting FROM creditmemo m WHERE {where} "
                   f"AND coalesce(m.transferredtoaccounting, 'No') <> {new} AND m.id > {quote(last)} "
                   f"ORDER BY m.id LIMIT {SLICE_ROWS}")
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

    def selected_query(self, ctx: QueryContext, ids: list[str]) -> str:
        return (f"SELECT m.id, m.transferredtoaccounting AS current FROM creditmemo m "
                f"WHERE {resolve(self._where, ctx)} AND m.id IN ({', '.join(map(quote, ids))})")

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
    """Set Zuora Sync Updates (the profile's script id) on customer payments, one PATCH each. `where` selects them
    (the step's own query, on `transaction t`)."""

    system, object, field = "netsuite", "customerPayment", "Zuora Sync Updates"
    batch, seconds_per_call, default_limit = 1, 1.0, 10
    recheck_slice = ID_CHUNK  # one SuiteQL IN list

    def __init__(self, step_id: str, where: Where):
        self.step_id, self._where = step_id, where

    def new_value(self, ctx: QueryContext) -> str:
        return ctx.sync_updates_yes

    def field_name(self, ctx: QueryContext) -> str:
        return ctx.ns("zuora_sync_updates")

    async def targets(self, ctx: QueryContext, clients: Any) -> AsyncIterator[Target]:
        select = f"t.id, t.tranid, t.{self.field_name(ctx)} AS current FROM transaction t"
        async for row in clients.netsuite.suiteql_by_id(select, where=resolve(self._where, ctx), id_column="t.id"):
            yield Target(str(row["id"]), row.get("tranid"), row.get("current"))

    def current_query(self, ctx: QueryContext, ids: list[str]) -> str:
        listed = ", ".join(str(int(i)) for i in ids)  # NetSuite internal ids are integers
        return f"SELECT t.id, t.{self.field_name(ctx)} AS current FROM transaction t WHERE t.id IN ({listed})"

    def selected_query(self, ctx: QueryContext, ids: list[str]) -> str:
        listed = ", ".join(str(int(i)) for i in ids)
        return (f"SELECT t.id, t.{self.field_name(ctx)} AS current FROM transaction t "
                f"WHERE {resolve(self._where, ctx)} AND t.id IN ({listed})")

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
