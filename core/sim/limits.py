"""Concurrency gates and fault dice for the simulator.

A gate counts requests in flight, including the injected latency, so a client that sends more than the limit
at once gets the vendor's 429, as on a real tenant.
"""

from __future__ import annotations

import random
import threading

from core.sim.config import Faults


class ConcurrencyGate:
    def __init__(self, name: str, limit: int):
        self.name = name
        self.limit = limit
        self.in_flight = 0
        self.peak = 0
        self.rejected = 0
        self._lock = threading.Lock()

    def try_enter(self) -> bool:
        with self._lock:
            if self.in_flight >= self.limit:
                self.rejected += 1
                return False
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            return True

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.in_flight)


class FaultDice:
    """Seeded, so a failing run can be replayed with the same fault sequence."""

    def __init__(self, faults: Faults):
        self.faults = faults
        self._rng = random.Random(faults.seed or 0)
        self._lock = threading.Lock()
        self.counts: dict[str, int] = {}

    def roll(self, kind: str) -> bool:
        rate = getattr(self.faults, kind)
        if not rate:
            return False
        with self._lock:
            hit = self._rng.random() < rate
            if hit:
                self.counts[kind] = self.counts.get(kind, 0) + 1
            return hit

    def choice(self, options):
        with self._lock:
            return self._rng.choice(options)
