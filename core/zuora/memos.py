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
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import stamina

from core.errors import ApiError
from core.zuora.errors import SYSTEM, category, category_of, expect_object, read_failure
from core.zuora.retry import Backoff, retryable

if TYPE_CHECKING:
    from core.zuora.calls import ZuoraCalls

BULK_MAX = 50  # `maxItems: 50` on PUT /v1/credit-memos/bulk
ITEM_ATTEMPTS = 6  # a memo's own tries when Zuora answers it with a retryable failure (lock competition, ...)


@dataclass(frozen=True)
class BulkItemResult:
    id: str
    success: bool
    error_code: str | int | None = None
    error_message: str | None = None
    request_id: str | None = None
    call_failed: bool = False  # the whole bulk call failed after its own retries, not this memo on its own


@dataclass
class BulkSummary:
    total: int = 0
    succeeded: int = 0
    failed: int = 0
    requests: int = 0  # bulk calls made (a memo sent again rides in a later one; HTTP retries not counted)
    retried: int = 0  # memos sent again after a retryable failure of their own
    elapsed_s: float = 0.0

    def add(self, result: BulkItemResult) -> None:
        self.total += 1
        if result.success:
            self.succeeded += 1
        else:
            self.failed += 1


def _memo_path(client: ZuoraCalls, key: str = "") -> str:
    base = f"/v1/{client.memo_path}"
    return f"{base}/{quote(key, safe='')}" if key else base


async def get_credit_memo(client: ZuoraCalls, key: str) -> dict:
    """One memo by id or number (NotFound if there is none)."""
    return expect_object(await client.call("GET", _memo_path(client, key)), f"credit memo {key}")


async def update_credit_memo(client: ZuoraCalls, key: str, fields: dict) -> dict:
    """Set `fields` (REST names, e.g. `transferredToAccounting`) on one memo; the memo as Zuora now has it."""
    return expect_object(await client.call("PUT", _memo_path(client, key), json=fields), f"credit memo {key}")


async def invoice_settlement_enabled(client: ZuoraCalls) -> bool:
    """A8 probe: memo operations answer a category-10 permission error when Invoice Settlement is off."""
    try:
        await client.call("GET", _memo_path(client), params={"pageSize": 1})
    except ApiError as err:
        if category(err) == 10 or err.status == 403:
            return False
        raise
    return True


class _Feed:
    """The caller's updates, taken a few at a time (a plain iterable is cut with islice, not one await per memo)."""

    def __init__(self, updates: AsyncIterable[dict] | Iterable[dict]):
        self._async: AsyncIterator[dict] | None = aiter(updates) if isinstance(updates, AsyncIterable) else None
        self._sync: Iterator[dict] | None = None if self._async is not None else iter(updates)  # type: ignore[arg-type]
        self.done = False

    async def take(self, n: int) -> list[dict]:
        if self.done or n <= 0:
            return []
        if self._sync is not None:
            batch = [_checked(update) for update in itertools.islice(self._sync, n)]
        else:
            batch = []
            while len(batch) < n:
                try:
                    batch.append(_checked(await anext(self._async)))
                except StopAsyncIteration:
                    break
        self.done = len(batch) < n
        return batch


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


async def _update_batch(client: ZuoraCalls, batch: list[dict]) -> list[BulkItemResult]:
    try:
        body, request_id = await client.call_with_request_id("PUT", _memo_path(client, "bulk"),
                                                             json={"memos": batch})
        items = expect_object(body, "bulk credit memo update").get("memos")
    except ApiError as err:  # the whole batch failed after its retries: every memo in it failed with it
        next_step = err.hint or "apply the step again once Zuora answers; the memos left are sent again"
        message = f"{err.message} ({next_step})"
        return [BulkItemResult(m["id"], False, err.code, message, err.request_id, call_failed=True) for m in batch]
    items = items if isinstance(items, list) else []
    if len(items) == len(batch):
        return [_item_result(sent, item, request_id) for sent, item in zip(batch, items, strict=True)]
    by_id = {item.get("id"): item for item in items if isinstance(item, dict)}
    return [_item_result(sent, by_id.get(sent["id"]), request_id) for sent in batch]


# ---- a memo's own retries ------------------------------------------------------------------------------------------
class _StillFailing(ApiError):
    """A memo's retryable failure, raised to stamina so that it backs off before the memo is sent again."""

    def __init__(self, result: BulkItemResult):
        super().__init__(result.error_code, result.error_message or "", result.request_id, system=SYSTEM)
        self.result = result
        self.category = category_of(result.error_code)


def _retryable(result: BulkItemResult) -> bool:
    """A memo's own failure that Zuora marks as retryable. A failed call was retried as a call already: its memos
    are not retried again, or a dead tenant would cost ITEM_ATTEMPTS times the call's retries."""
    return not result.success and not result.call_failed and retryable(_StillFailing(result))


def _next_step(result: BulkItemResult, tries: int) -> str:
    """What the person does about a memo that stayed failed: the reason Zuora gave is not enough on its own."""
    cat = category_of(result.error_code)
    if _retryable(result):
        return f"still failing after {tries} tries: apply the step again later to send it again"
    if cat == 40:
        return "the memo is no longer in Zuora: make a new plan"
    if cat == 10 and "Override Transferred to Accounting" in (result.error_message or ""):
        return ("ask your Zuora admin for the Override Transferred to Accounting permission for the API user, then "
                "run the undo again")
    if cat in (10, 11):
        return "the Zuora user behind this OAuth client may not update credit memos: fix its role, then apply again"
    if cat is not None:
        return "Zuora refuses this change for this memo: look at the memo in Zuora, fix it there, then apply again"
    return "apply the step again; the memos left are sent again"


def _settled(result: BulkItemResult, tries: int) -> BulkItemResult:
    """The memo's last answer; a failure says what to do next (a failed call's says so already)."""
    if result.success or result.call_failed:
        return result
    return replace(result, error_message=f"{result.error_message} ({_next_step(result, tries)})")


async def bulk_update_credit_memos(
    client: ZuoraCalls, updates: AsyncIterable[dict] | Iterable[dict], *,
    on_result: Callable[[BulkItemResult], Awaitable[None] | None] | None = None,
) -> BulkSummary:
    """Apply `updates` (dicts with `id` plus REST fields) through PUT .../bulk; a summary once all returned.

    A memo that fails on its own with an error Zuora marks as retryable (lock competition, a temporary error) is
    sent again in a later bulk call after a backoff, up to ITEM_ATTEMPTS times in all; each memo is reported
    once, with its last answer."""
    summary = BulkSummary()
    started = time.monotonic()

    # Enough batches queued that a free slot never waits on this loop, few enough that memory stays flat and that a
    # cancelled apply (which stops handing out batches) has little already queued: the slots Zuora allows now, +2.
    def window() -> int:
        return client.limiter.capacity + 2

    # What the loop below waits on: a bulk call's answers, a memo due to be sent again, a retried memo's last answer.
    events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    tasks: set[asyncio.Task[None]] = set()
    resend: deque[tuple[dict, asyncio.Future[BulkItemResult]]] = deque()
    resent: dict[int, asyncio.Future[BulkItemResult]] = {}  # id() of an update sent again -> its waiting retry
    in_flight = retrying = 0
    feed = _Feed(updates)

    def start(coro) -> None:
        task = asyncio.create_task(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def send(batch: list[dict]) -> None:
        try:
            events.put_nowait(("answers", (batch, await _update_batch(client, batch))))
        except BaseException as exc:  # a bug, or cancellation: the loop below re-raises it
            events.put_nowait(("error", exc))
            raise

    async def retried(update: dict, first: BulkItemResult) -> None:
        result, tries = first, 1
        try:
            async for attempt in stamina.retry_context(on=Backoff(client.backoff_base, client.backoff_cap),
                                                       attempts=ITEM_ATTEMPTS, timeout=None):
                with attempt:
                    if attempt.num > 1:  # the first attempt is the one that failed already: back off first
                        answer = asyncio.get_running_loop().create_future()
                        resend.append((update, answer))
                        events.put_nowait(("resend", None))
                        result, tries = await answer, attempt.num
                    if _retryable(result):
                        raise _StillFailing(result)
        except _StillFailing:
            pass  # its tries ran out (or the category allows no more): the last failure stands
        events.put_nowait(("settled", _settled(result, tries)))

    async def report(result: BulkItemResult) -> None:
        summary.add(result)
        if on_result is not None:
            pending = on_result(result)
            if pending is not None and inspect.isawaitable(pending):
                await pending

    async def report_answers(batch: list[dict], results: list[BulkItemResult]) -> None:
        """A bulk call's answers, memo by memo: the per-memo work runs 50 times a call, so it stays inline."""
        nonlocal retrying
        for update, result in zip(batch, results, strict=True):
            if resent:
                waiting = resent.pop(id(update), None)
                if waiting is not None:
                    waiting.set_result(result)
                    continue
            if not result.success:
                if _retryable(result):
                    retrying += 1
                    summary.retried += 1
                    start(retried(update, result))
                    continue
                result = _settled(result, 1)
            summary.add(result)
            if on_result is not None:
                pending = on_result(result)
                if pending is not None and inspect.isawaitable(pending):
                    await pending

    async def next_event() -> None:
        nonlocal in_flight, retrying
        kind, payload = await events.get()
        if kind == "error":
            raise payload
        if kind == "settled":
            retrying -= 1
            await report(payload)
        elif kind == "answers":
            in_flight -= 1
            await report_answers(*payload)

    def next_batch() -> list[dict]:
        """Memos due to be sent again first, then new ones, at most BULK_MAX."""
        batch = []
        while resend and len(batch) < BULK_MAX:
            update, answer = resend.popleft()
            resent[id(update)] = answer
            batch.append(update)
        return batch

    try:
        while True:
            while in_flight >= window() or not events.empty():
                await next_event()
            batch = next_batch()
            batch += await feed.take(BULK_MAX - len(batch))
            if batch:
                start(send(batch))
                in_flight += 1
                summary.requests += 1
            elif in_flight or retrying:
                await next_event()  # answers, a memo due again, or a retried memo's last answer
            else:
                break
    finally:
        for task in list(tasks):  # only when the caller's callback or input failed: stop what is still going
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
    summary.elapsed_s = time.monotonic() - started
    return summary
