"""A row of the monitor's sync-state table, apart from the screen that draws it: the columns it is shown in (wide, and
compact at 80x24), whether the `/` filter keeps it (RowFilter, which the errors table follows), and what Enter on a
stalled row says (`stall_text`). Plain functions of core.monitor's rows, so they read, and test, without a screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from core.monitor.model import SyncError, SyncRow

# Waiting: IS payments whose Zuora Sync Updates is not Yes yet (step G2), shown while there is room.
COLUMNS = (("object", "Object"), ("side", "Side"), ("pending", "Pending"), ("processing", "Processing"),
           ("done", "Done"), ("error", "Error"), ("waiting", "Waiting"), ("rate", "Rate/min"), ("eta", "ETA"),
           ("trend", "Throughput"))
# Below this width the table drops Waiting and the sparkline and shortens its headers, so ETA stays on screen
# at 80x24.
COMPACT_BELOW = 116
COMPACT_COLUMNS = (("object", "Object"), ("side", "Side"), ("pending", "Pend"), ("processing", "Proc"),
                   ("done", "Done"), ("error", "Err"), ("rate", "/min"), ("eta", "ETA"))
COMPACT_SIDES = {"Zuora→NS": "Z→NS", "NS→Zuora": "NS→Z"}
STATES = ("pending", "processing", "done", "error")


def fmt_count(n: int | None) -> str:
    return "–" if n is None else f"{n:,}"


@dataclass
class RowFilter:
    """`/` text: a state name keeps rows with work in that state; anything else matches the object name (or the
    direction). The errors table follows: an error stays when its own row would (every error for `error`)."""

    text: str = ""

    @property
    def active(self) -> bool:
        return bool(self.text.strip())

    def keeps(self, row: SyncRow) -> bool:
        t = self.text.strip().lower()
        if not t:
            return True
        if t in STATES:
            return bool(getattr(row, t))
        return self._names(t, row.object, row.side)

    def keeps_error(self, error: SyncError, row: SyncRow | None) -> bool:
        """`row`: the error's own row in the same sample, if it has one."""
        t = self.text.strip().lower()
        if not t or t == "error":
            return True
        if t in STATES:
            return row is not None and self.keeps(row)
        return self._names(t, error.object, error.side)

    @staticmethod
    def _names(t: str, object: str, side: str) -> bool:
        return t in object.lower() or t in side.lower()


def _clock(stamp: datetime | str | None) -> str | None:
    """HH:MM:SS UTC of a datetime or an ISO text; None when there is none."""
    if not stamp:
        return None
    moment = stamp if isinstance(stamp, datetime) else datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    return f"{moment.astimezone(UTC):%H:%M:%S} UTC"


def stall_text(row: SyncRow, connector: dict | None) -> str:
    """Enter on a stalled row: how much waits since when, the connector's last run where it is known (the
    simulator's; a real connector's runs are only in Zuora Connect), and what to check."""
    lines = [f"{row.backlog:,} pending, no progress since {_clock(row.still_since) or 'the sample before'}."]
    if connector is None:
        lines.append("The connector's last run: see Zuora Connect, the instance's Logs.")
        lines.append("Check: is its schedule on (H4)? Logs > Run Now runs it once.")
        return "\n".join(lines)
    last = connector.get("last_run") or {}
    if last:
        ended = _clock(last.get("ended")) or "still running"
        lines.append(f"The connector's last run ended {ended} ({last.get('status')}, "
                     f"{last.get('synced', 0):,} synced, {last.get('errors', 0):,} errors).")
    else:
        lines.append("The connector has not run yet.")
    state = connector.get("state")
    schedule = "off" if not connector.get("schedule_interval_s") else f"every {connector['schedule_interval_s']:g} s"
    lines.append(f"Connector {state}, schedule {schedule}. Check: is the schedule on (H4)? "
                 f"R runs it now (Run Now).")
    return "\n".join(lines)
