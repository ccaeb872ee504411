"""Throughput from successive samples: a rate per minute over a sliding window, an ETA for the backlog, and a
short series per row for a sparkline. Bounded deques, so a monitor left open for days stays the same size."""

from __future__ import annotations

from collections import deque

RATE_WINDOW_S = 60.0  # long enough to smooth the connector's batches, short enough to follow a change
SERIES_POINTS = 60  # throughput points kept per row for a sparkline
_POINTS_KEPT = 240  # raw (time, finished) points per row; the window needs far fewer at any sane interval


class RateTracker:
    def __init__(self, window_s: float = RATE_WINDOW_S, series_points: int = SERIES_POINTS):
        self.window_s = window_s
        self._points: dict[str, deque[tuple[float, int]]] = {}
        self._series: dict[str, deque[float]] = {}
        self._series_points = series_points

    def observe(self, key: str, at: float, finished: int) -> float | None:
        """Record a row's finished count at monotonic time `at`; the rate per minute over the window, or None
        for the first point. A count that falls (records sent back to No) reads as no progress, not negative."""
        points = self._points.setdefault(key, deque(maxlen=_POINTS_KEPT))
        if points and at <= points[-1][0]:
            return self.rate(key)
        if points:
            last_at, last = points[-1]
            step = max(0, finished - last) * 60.0 / (at - last_at)
            self._series.setdefault(key, deque(maxlen=self._series_points)).append(step)
        points.append((at, finished))
        # Keep one point at or before the window's start, so the rate always spans the whole window.
        while len(points) > 2 and points[1][0] <= at - self.window_s:
            points.popleft()
        return self.rate(key)

    def rate(self, key: str) -> float | None:
        points = self._points.get(key)
        if not points or len(points) < 2:
            return None
        (t0, f0), (t1, f1) = points[0], points[-1]
        return max(0, f1 - f0) * 60.0 / (t1 - t0)

    def moved_last(self, key: str) -> bool | None:
        """Whether the row finished anything between its last two samples; None before a second sample."""
        series = self._series.get(key)
        return bool(series[-1]) if series else None

    def history(self, key: str) -> list[float]:
        """Throughput per minute between successive samples, oldest first."""
        return list(self._series.get(key, ()))

    def forget(self, keep: set[str]) -> None:
        """Drop rows that no longer exist (IIAs once Invoice Settlement is on)."""
        for table in (self._points, self._series):
            for key in [k for k in table if k not in keep]:
                del table[key]


def eta_seconds(backlog: int, rate_per_min: float | None) -> float | None:
    """Seconds to clear `backlog` at `rate_per_min`; None when there is no backlog or nothing moves."""
    if backlog <= 0 or not rate_per_min:
        return None
    return backlog / rate_per_min * 60.0
