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
    """Seeded, so a failing run can be replayed with the same fault sequence.

    A call's faults come from one stream, in the order calls arrive. A record's own faults (a memo in a bulk update)
    are rolled per record and try instead (`roll_for`): concurrent calls arrive in any order, and a stream would
    then hand a memo's n-th try a different fate from run to run."""

    def __init__(self, faults: Faults):
        self.faults = faults
        self._rng = random.Random(faults.seed or 0)
        self._lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self._tries: dict[tuple[str, str], int] = {}  # (kind, record) -> rolls so far: only kinds that are on

    def roll(self, kind: str) -> bool:
        rate = getattr(self.faults, kind)
        if not rate:
            return False
        with self._lock:
            hit = self._rng.random() < rate
            if hit:
                self.counts[kind] = self.counts.get(kind, 0) + 1
            return hit

    def roll_for(self, kind: str, key: str) -> random.Random | None:
        """`key`'s n-th roll of `kind` (a memo's n-th try): the same in every run of a seed, whatever the order.
        On a hit, the roll's own generator, for choosing how it fails."""
        rate = getattr(self.faults, kind)
        if not rate:
            return None
        with self._lock:
            n = self._tries[(kind, key)] = self._tries.get((kind, key), 0) + 1
            rng = random.Random(f"{self.faults.seed or 0}:{kind}:{key}:{n}")
            if rng.random() >= rate:
                return None
            self.counts[kind] = self.counts.get(kind, 0) + 1
            return rng

    def choice(self, options):
        with self._lock:
            return self._rng.choice(options)
