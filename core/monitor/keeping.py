"""The monitor's samples kept in the journal, for the sign-off report's sync chart: each sample's counts per object
and direction (no error rows, no rates: the chart draws the backlog going down). The journal bounds how many stay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from core.monitor.model import MonitorSample

if TYPE_CHECKING:
    from core.journal import Journal

KEPT_COUNTS = ("pending", "processing", "done", "error", "ignored", "waiting")


def keeper(journal: Journal) -> Callable[[MonitorSample], None]:
    """A Sampler's `keep=`: writes each sample to `journal` (blocking: the Sampler calls it off the event loop)."""
    def keep(sample: MonitorSample) -> None:
        rows = [{"object": r.object, "side": r.side, **{k: getattr(r, k) for k in KEPT_COUNTS}} for r in sample.rows]
        journal.keep_monitor_sample(sample.taken_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                                    sample.invoice_settlement, rows)
    return keep
