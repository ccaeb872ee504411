"""When to retry a Zuora call and how long to wait (apis.md A4, "Retry guidance"), as a stamina backoff hook.

Retried: no answer (timeouts, dropped connections), HTTP 429/500/502/503/504, and categories 50, 61, 70, 99;
category 60 a few times only. Never: 10, 11, 2x, 30, 40, 45, 90 (the request needs fixing, not repeating).
The wait is full-jitter exponential backoff, or Retry-After when Zuora asks for longer.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import stamina

import core.retry_log  # noqa: F401  (retries logged at INFO, for -v only)
from core.errors import AuthError, RateLimited
from core.zuora.errors import Unanswered, category

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_CATEGORIES = frozenset({50, 61, 70, 99})
INTERNAL_ERROR_RETRIES = 3  # category 60: an internal error may be a bug, so only a few tries
TOKEN_RENEWALS = 2  # a 401 renews the token and retries; a token refused on first use twice means real trouble
# A call that got no answer within the timeout is tried this many times more, not retry_attempts: each try costs a
# whole timeout, and a server silent four times running is not answering (--timeout then bounds the wait).
TIMEOUT_RETRIES = 3


T = TypeVar("T")


class TokenRejected(AuthError):
    """A call got 401 with a token we held: renew it and try again (the token, not the credentials, failed).
    `expired`: Zuora had taken this token before, so it expired or was revoked since."""

    def __init__(self, *args, expired: bool = False, **kw):
        super().__init__(*args, **kw)
        self.expired = expired


class Backoff:
    """The retry decisions of one logical call (all its attempts)."""

    def __init__(self, base: float, cap: float):
        self.base = base
        self.cap = cap
        self.failures = 0
        self.internal_errors = 0
        self.renewals = 0
        self.timeouts = 0

    def __call__(self, exc: Exception) -> bool | float:
        """stamina's backoff hook: False to give up, or the seconds to wait before the next attempt."""
        if isinstance(exc, TokenRejected):
            if exc.expired:  # a token that worked, now refused: renewing cures it, however often it happens
                return 0.0
            self.renewals += 1
            if self.renewals > TOKEN_RENEWALS:
                return False
            return 0.0 if self.renewals == 1 else self.wait()  # the first renewal retries at once
        if not retryable(exc):
            return False
        if category(exc) == 60:
            self.internal_errors += 1
            if self.internal_errors > INTERNAL_ERROR_RETRIES:
                return False
        if getattr(exc, "timed_out", False):
            self.timeouts += 1
            if self.timeouts > TIMEOUT_RETRIES:
                return False
        retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
        return max(self.wait(), retry_after or 0.0)

    def wait(self) -> float:
        self.failures += 1
        return random.uniform(0.0, min(self.cap, self.base * 2 ** self.failures))


def retryable(exc: BaseException) -> bool:
    if isinstance(exc, Unanswered):
        return True
    cat = category(exc)
    if cat is not None:
        return cat in RETRY_CATEGORIES or cat == 60
    return getattr(exc, "status", None) in RETRY_STATUSES


async def with_retries(attempt: Callable[[], Awaitable[T]], *, attempts: int, base: float, cap: float) -> T:
    """Run `attempt` until it succeeds, retrying as Zuora advises; the last error is raised as is."""
    # Most calls succeed at once: stamina (and tenacity under it) is set up only for a call that failed, and is
    # handed that failure as its first attempt, so the retries, their waits and their log lines are as before.
    try:
        return await attempt()
    except Exception as exc:
        failed: Exception | None = exc
    async for trial in stamina.retry_context(on=Backoff(base, cap), attempts=attempts, timeout=None):
        with trial:
            if failed is not None:
                first, failed = failed, None
                raise first
            return await attempt()
    raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover
