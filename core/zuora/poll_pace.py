"""When to poll a Data Query job (apis.md A5.3): the tenant's recent job times decide the first wait."""

from __future__ import annotations

from collections import deque


class PollPace:
    """When to poll a Data Query job: first near how long this tenant's recent jobs took, then backing off.

    A fixed first wait is wrong both ways: too long for a small count on a quiet tenant (every check waits it out),
    too short for a big export (every job pays extra polls). Jobs on one tenant take alike, so the first poll goes
    where most recent jobs had finished: the 80th percentile of the last few. A job already done at its first
    poll may have finished much sooner, so its duration is taken as a fraction of that wait; the estimate then
    creeps down until a job needs a second poll, and a job that needed several pulls it back up.
    """

    SHRINK = 0.6  # a hit at the first poll: the job took at most this wait; probe a little sooner next time
    MEMORY = 8

    def __init__(self, first: float = 0.05, floor: float = 0.01, cap: float = 5.0):
        self.floor, self.cap = floor, cap
        self._recent: deque[float] = deque([first], maxlen=self.MEMORY)

    def first_wait(self) -> float:
        ordered = sorted(self._recent)
        return min(self.cap, max(self.floor, ordered[int(0.8 * (len(ordered) - 1))]))

    def finished(self, took: float, polls: int, first_wait: float) -> None:
        self._recent.append(first_wait * self.SHRINK if polls <= 1 else took)
