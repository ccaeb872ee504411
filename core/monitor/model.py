"""What one monitor sample holds: counts per sync state for each object type and direction, plus the latest
errors. Immutable values, so a screen or a JSON writer can hold them without a lock."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import datetime

ZUORA_TO_NS = "Zuora→NS"
NS_TO_ZUORA = "NS→Zuora"
STATES = ("pending", "processing", "done", "error", "ignored", "waiting")


@dataclass(frozen=True)
class SyncRow:
    object: str  # what an operator calls it: "Invoices", "Customer payments"
    side: str  # ZUORA_TO_NS or NS_TO_ZUORA
    pending: int = 0  # the connector will pick it up
    processing: int = 0  # the connector is on it (`Creating …`, TTA Processing)
    done: int = 0
    error: int = 0
    ignored: int = 0  # set aside by hand (TTA / status Ignore), or never sent and dated before the cutover date
    waiting: int = 0  # not eligible yet (an IS payment whose Zuora Sync Updates is not Yes)
    rate_per_min: float | None = None  # records finished (done or error) per minute; None until two samples
    eta_s: float | None = None  # seconds until pending + processing is through; None: no backlog, no rate, stalled
    stalled: bool = False  # a backlog that did not move since the sample before (no estimate, never "0:00")
    still_since: datetime | None = None  # UTC: the first sample since which nothing finished (a stall's start)

    @property
    def key(self) -> str:
        return row_key(self.object, self.side)

    @property
    def backlog(self) -> int:
        return self.pending + self.processing

    @property
    def finished(self) -> int:
        return self.done + self.error


def row_key(object: str, side: str) -> str:
    """The stable key of a row across samples: a table row key and the rate history's key."""
    return f"{object}|{side}"


@dataclass(frozen=True)
class SyncError:
    object: str
    side: str
    record_id: str
    number: str | None
    status: str
    sync_date: str | None  # when the connector last wrote the record: its sync date, else its last update

    @property
    def key(self) -> str:
        """Stable across samples: the error table's row key."""
        return f"{self.side}|{self.record_id}"


@dataclass(frozen=True)
class MonitorSample:
    taken_at: datetime  # UTC, when the sample started
    invoice_settlement: bool
    rows: list[SyncRow] = field(default_factory=list)
    errors: list[SyncError] = field(default_factory=list)
    api_calls: int = 0  # HTTP calls this sample made, both systems together
    duration_s: float = 0.0

    def row(self, object: str, side: str) -> SyncRow | None:
        return next((r for r in self.rows if r.object == object and r.side == side), None)

    def to_dict(self) -> dict:
        """Plain JSON-ready figures (the `--json` line)."""
        out = asdict(self)
        out["taken_at"] = self.taken_at.isoformat(timespec="seconds")
        out["duration_s"] = round(self.duration_s, 3)
        for r in out["rows"]:
            if r["still_since"] is not None:
                r["still_since"] = r["still_since"].isoformat(timespec="seconds")
            for k in ("rate_per_min", "eta_s"):
                if r[k] is not None:
                    r[k] = round(r[k], 2)
        return out


def format_eta(seconds: float | None) -> str:
    """`m:ss` or `h:mm:ss`, rounded up (work left never reads as 0:00); an en dash when there is no estimate."""
    if seconds is None:
        return "–"
    total = math.ceil(seconds)
    h, rem = divmod(total, 3600)
    return f"{h}:{rem // 60:02d}:{rem % 60:02d}" if h else f"{rem // 60}:{rem % 60:02d}"


def eta_text(row: SyncRow) -> str:
    """A row's ETA cell: "done" only for an empty backlog without errors (errors still need someone: "errors");
    "stalled" for a backlog that stopped moving; an en dash until two samples give a rate; else the estimate,
    at least 0:01."""
    if row.backlog <= 0:
        return "errors" if row.error else "done"
    if row.stalled:
        return "stalled"
    return format_eta(row.eta_s)
