"""An async limiter that keeps requests in flight at Zuora's concurrency limit, never above it (apis.md A9).

Zuora advertises its limit and the slots left in `Concurrency-Limit-Limit` / `-Remaining` on each answer. The
capacity follows them: it never exceeds the advertised limit, shrinks when other clients of the tenant hold
slots or when Zuora answers 429, and grows back one slot per good answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


class AdaptiveLimiter:
    def __init__(self, ceiling: int):
        if ceiling < 1:
            raise ValueError("the concurrency ceiling must be at least 1")
        self.ceiling = ceiling  # what the caller allows
        self.advertised: int | None = None  # what Zuora said last
        self.capacity = ceiling
        self.in_flight = 0
        self.peak = 0
        self._waiters: asyncio.Condition | None = None

    @property
    def _cond(self) -> asyncio.Condition:
        if self._waiters is None:
            self._waiters = asyncio.Condition()
        return self._waiters

    async def __aenter__(self) -> AdaptiveLimiter:
        if self.in_flight < self.capacity and self._waiters is None:
            self.in_flight += 1  # the common case: a free slot and nobody queued
        else:
            async with self._cond:
                await self._cond.wait_for(lambda: self.in_flight < self.capacity)
                self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        return self

    async def __aexit__(self, *exc) -> None:
        self.in_flight -= 1
        if self._waiters is not None:
            async with self._waiters:
                self._waiters.notify(max(1, self.capacity - self.in_flight))

    def observe(self, headers: Mapping[str, str]) -> None:
        """Follow the limit headers (lower-case names, as httpx gives them) of an answer that arrived while this
        request still held its slot."""
        limit = _header_int(headers, "concurrency-limit-limit")
        if limit is None or limit < 1:
            return
        self.advertised = limit
        target = min(self.ceiling, limit)
        remaining = _header_int(headers, "concurrency-limit-remaining")
        if remaining is not None:
            # Slots Zuora counts busy beyond ours belong to other clients of the tenant: leave them be.
            others = limit - remaining - self.in_flight
            if others > 0:
                target = min(target, limit - others)
        if target < self.capacity:
            self.capacity = max(1, target)
        elif self.capacity < target:
            self.capacity += 1

    def rate_limited(self) -> None:
        """Zuora answered 429: we (or others) are over the limit, so give one slot back."""
        self.capacity = max(1, min(self.capacity, self.in_flight) - 1)
