"""Credit memos over REST (apis.md A7, A8): read one, update one, update many in bulk, and the IS probe.

The bulk update streams its input in batches of 50 (Zuora's maximum), keeps as many batches in flight as the
concurrency limit allows, and reports each memo's outcome as soon as its batch returns, so the caller can
journal it before anything else happens to it.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from core.errors import ApiError
from core.zuora.errors import category, expect_object, read_failure

if TYPE_CHECKING:
    from core.zuora.client import ZuoraClient

BULK_MAX = 50  # `maxItems: 50` on PUT /v1/credit-memos/bulk


@dataclass(frozen=True)
class BulkItemResult:
    id: str
    success: bool
    error_code: str | int | None = None
    error_message: str | None = None
    request_id: str | None = None


@dataclass
class BulkSummary:
    total: int = 0
    succeeded: int = 0
    failed: int = 0
    requests: int = 0  # bulk calls made (one a batch, retries not counted)
    elapsed_s: float = 0.0

    def add(self, result: BulkItemResult) -> None:
        self.total += 1
        if result.success:
            self.succeeded += 1
        else:
            self.failed += 1


def _memo_path(client: ZuoraClient, key: str = "") -> str:
    base = f"/v1/{client.memo_path}"
    return f"{base}/{quote(key, safe='')}" if key else base


async def get_credit_memo(client: ZuoraClient, key: str) -> dict:
    """One memo by id or number (NotFound if there is none)."""
    return expect_object(await client.call("GET", _memo_path(client, key)), f"credit memo {key}")


async def update_credit_memo(client: ZuoraClient, key: str, fields: dict) -> dict:
    """Set `fields` (REST names, e.g. `transferredToAccounting`) on one memo; the memo as Zuora now has it."""
    return expect_object(await client.call("PUT", _memo_path(client, key), json=fields), f"credit memo {key}")


async def invoice_settlement_enabled(client: ZuoraClient) -> bool:
    """A8 probe: memo operations answer a category-10 permission error when Invoice Settlement is off."""
    try:
        await client.call("GET", _memo_path(client), params={"pageSize": 1})
    except ApiError as err:
        if category(err) == 10 or err.status == 403:
            return False
        raise
    return True


async def _batches(updates: AsyncIterable[dict] | Iterable[dict]) -> AsyncIterator[list[dict]]:
    if not isinstance(updates, AsyncIterable):  # a plain iterable is cut with islice, not one await per memo
        items = iter(updates)
        while batch := [_checked(update) for update in itertools.islice(items, BULK_MAX)]:
            yield batch
        return
    batch: list[dict] = []
    async for update in updates:
        batch.append(_checked(update))
        if len(batch) == BULK_MAX:
            yield batch
            batch = []
    if batch:
        yield batch


def _checked(update: Any) -> dict:
    if not isinstance(update, dict) or not isinstance(update.get("id"), str) or not update["id"]:
        raise ValueError(f"each bulk memo update is a dict with the memo's 'id', not {update!r:.80}")
    return update


def _item_result(sent: dict, item: Any, request_id: str | None) -> BulkItemResult:
    if not isinstance(item, dict):
        return BulkItemResult(sent["id"], False, None, "Zuora returned no result for this memo", request_id)
    if item.get("success") is True:
        return BulkItemResult(sent["id"], True, request_id=request_id)
    failure = read_failure(200, {**item, "success": False}, item.get("requestId") or request_id)
    return BulkItemResult(sent["id"], False, failure.code if failure else None,
                          failure.message if failure else "the memo was not updated", request_id)


async def _update_batch(client: ZuoraClient, batch: list[dict]) -> list[BulkItemResult]:
    try:
        body, request_id = await client.call_with_request_id("PUT", _memo_path(client, "bulk"),
                                                             json={"memos": batch})
        items = expect_object(body, "bulk credit memo update").get("memos")
    except ApiError as err:  # the whole batch failed after its retries: every memo in it failed with it
        return [BulkItemResult(m["id"], False, err.code, err.message, err.request_id) for m in batch]
    items = items if isinstance(items, list) else []
    if len(items) == len(batch):
        return [_item_result(sent, item, request_id) for sent, item in zip(batch, items, strict=True)]
    by_id = {item.get("id"): item for item in items if isinstance(item, dict)}
    return [_item_result(sent, by_id.get(sent["id"]), request_id) for sent in batch]


async def bulk_update_credit_memos(
    client: ZuoraClient, updates: AsyncIterable[dict] | Iterable[dict], *,
    on_result: Callable[[BulkItemResult], Awaitable[None] | None] | None = None,
) -> BulkSummary:
    """Apply `updates` (dicts with `id` plus REST fields) through PUT .../bulk; a summary once all returned."""
    summary = BulkSummary()
    started = time.monotonic()
    # Enough batches queued that a free slot never waits on this loop, few enough that memory stays flat and that a
    # cancelled apply (which stops handing out batches) has little already queued: the slots Zuora allows now, +2.
    def window() -> int:
        return client.limiter.capacity + 2
    finished: asyncio.Queue[list[BulkItemResult] | BaseException] = asyncio.Queue()
    running: set[asyncio.Task[None]] = set()

    async def run(batch: list[dict]) -> None:
        try:
            finished.put_nowait(await _update_batch(client, batch))
        except BaseException as exc:  # a bug, or cancellation: the loop below re-raises it
            finished.put_nowait(exc)
            raise

    reported = 0  # batches whose results went to the caller

    async def report_next() -> None:
        nonlocal reported
        outcome = await finished.get()
        reported += 1
        if isinstance(outcome, BaseException):
            raise outcome
        for result in outcome:
            summary.add(result)
            if on_result is not None:
                pending = on_result(result)
                if pending is not None and inspect.isawaitable(pending):
                    await pending

    try:
        async for batch in _batches(updates):
            while summary.requests - reported >= window() or not finished.empty():
                await report_next()
            task = asyncio.create_task(run(batch))
            running.add(task)
            task.add_done_callback(running.discard)
            summary.requests += 1
        while summary.requests > reported:
            await report_next()
    finally:
        for task in running:  # only when the caller's callback or input failed: stop what is still going
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
    summary.elapsed_s = time.monotonic() - started
    return summary
