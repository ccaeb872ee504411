"""The report's two charts as hand-written SVG (no plotting library): the cutover's timeline (what happened to
each phase, when) and sync progress (the connector's backlog per object, from the monitor's kept samples).

Both are plain strings a browser, Chromium's PDF printer and xhtml2pdf (through svglib) all draw. Every text in
them is escaped: object names and step ids are the only words, but nothing unescaped goes into markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from core.runbook.model import Phase

TONE_COLOURS = {"good": "#1b7f3b", "bad": "#b3261e", "open": "#b26a00", "waived": "#5b5fc7", "muted": "#8a8a8a"}
SERIES_COLOURS = ("#1f5fa8", "#c2571a", "#2e8b57", "#8e44ad", "#b8860b", "#d6336c", "#17a2b8", "#6c757d")
WIDTH, LEFT, RIGHT, TOP = 720, 44, 16, 14


@dataclass(frozen=True)
class Event:
    at: datetime
    phase: str  # the phase's letter
    step_id: str
    tone: str  # a key of TONE_COLOURS
    until: datetime | None = None  # an apply run: drawn as a bar to its end


def parse_at(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _ticks(start: datetime, end: datetime, n: int = 5) -> list[tuple[float, str]]:
    """n+1 evenly spaced labels; dates for a span of days, times (and the day once) for a shorter one."""
    span = (end - start).total_seconds() or 1.0
    fmt = "%m-%d" if span > 3 * 86400 else "%m-%d %H:%M" if span > 3600 else "%H:%M:%S"
    n = max(1, min(n, int(span))) if span < n else n  # a run of seconds: one label a second at most
    return [(i / n, datetime.fromtimestamp(start.timestamp() + span * i / n, UTC).strftime(fmt)) for i in range(n + 1)]


def _frame(height: int, title: str) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" role="img" font-family="Helvetica, Arial, sans-serif" font-size="10">',
            f"<title>{escape(title)}</title>",
            f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>']


def _axis(parts: list[str], start: datetime, end: datetime, y: float) -> None:
    plot = WIDTH - LEFT - RIGHT
    parts.append(f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" stroke="#444" stroke-width="1"/>')
    for frac, label in _ticks(start, end):
        x = LEFT + frac * plot
        anchor = "start" if frac == 0 else "end" if frac == 1 else "middle"
        parts.append(f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + 4}" stroke="#444" stroke-width="1"/>')
        parts.append(f'<text x="{x:.1f}" y="{y + 15}" text-anchor="{anchor}" fill="#333">{escape(label)} UTC'
                     f"</text>" if frac == 0 else
                     f'<text x="{x:.1f}" y="{y + 15}" text-anchor="{anchor}" fill="#333">{escape(label)}</text>')


def timeline_svg(events: Sequence[Event]) -> str | None:
    """One row per phase, a dot per check, confirmation, ticket or waiver (coloured by its outcome), a bar per apply
    run. None when the journal holds nothing yet."""
    if not events:
        return None
    start = min(e.at for e in events)
    end = max(max(e.at, e.until or e.at) for e in events)
    if end <= start:
        end = datetime.fromtimestamp(start.timestamp() + 60, UTC)
    row_h, rows = 20, [p.letter for p in Phase]
    height = TOP + row_h * len(rows) + 30
    plot, span = WIDTH - LEFT - RIGHT, (end - start).total_seconds()

    def x(at: datetime) -> float:
        return LEFT + plot * (at - start).total_seconds() / span

    parts = _frame(height, "Cutover timeline: each phase's checks, confirmations, tickets and applies over time")
    for i, letter in enumerate(rows):
        y = TOP + row_h * i + row_h / 2
        fill = "#f4f6f8" if i % 2 == 0 else "#ffffff"
        parts.append(f'<rect x="{LEFT}" y="{TOP + row_h * i}" width="{plot}" height="{row_h}" fill="{fill}"/>')
        parts.append(f'<text x="{LEFT - 8}" y="{y + 3.5:.1f}" text-anchor="end" fill="#333" font-weight="bold">'
                     f"{escape(letter)}</text>")
    for e in sorted(events, key=lambda e: e.until is None):  # bars first, dots over them
        if e.phase not in rows:
            continue
        y = TOP + row_h * rows.index(e.phase) + row_h / 2
        colour = TONE_COLOURS.get(e.tone, TONE_COLOURS["muted"])
        if e.until is not None:
            w = max(3.0, x(e.until) - x(e.at))
            parts.append(f'<rect x="{x(e.at):.1f}" y="{y - 5:.1f}" width="{w:.1f}" height="10" rx="2" '
                         f'fill="{colour}" fill-opacity="0.45" stroke="{colour}"><title>{escape(e.step_id)} apply'
                         f"</title></rect>")
        else:
            parts.append(f'<circle cx="{x(e.at):.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">'
                         f"<title>{escape(e.step_id)}</title></circle>")
    _axis(parts, start, end, TOP + row_h * len(rows) + 2)
    parts.append("</svg>")
    return "\n".join(parts)


def sync_svg(samples: Sequence[dict]) -> tuple[str, list[str]] | None:
    """The backlog (pending + processing) of each object and direction over the kept samples, with a legend; the
    series that never had a backlog are left out. (svg, the series named) or None without two samples."""
    points: dict[str, list[tuple[datetime, int]]] = {}
    for s in samples:
        at = parse_at(s["taken_at"])
        if at is None:
            continue
        for r in s["rows"]:
            points.setdefault(f"{r['object']} {r['side']}", []).append((at, r["pending"] + r["processing"]))
    series = {k: v for k, v in points.items() if any(n for _, n in v)}
    times = sorted({at for v in points.values() for at, _ in v})
    if len(times) < 2:
        return None
    start, end = times[0], times[-1]
    top = max((n for v in series.values() for _, n in v), default=0) or 1
    plot_h, legend_rows = 170, (len(series) + 2) // 3
    height = TOP + plot_h + 30 + 16 * legend_rows
    plot, span = WIDTH - LEFT - RIGHT, (end - start).total_seconds()
    parts = _frame(height, "Sync progress: records waiting for the connector, per object, from the monitor's samples")
    for i in range(5):  # horizontal grid with the record counts
        y = TOP + plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 3.5:.1f}" text-anchor="end" fill="#333">'
                     f"{round(top * (4 - i) / 4):,}</text>")
    for i, (name, pts) in enumerate(series.items()):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        coords = " ".join(f"{LEFT + plot * (at - start).total_seconds() / span:.1f},"
                          f"{TOP + plot_h * (1 - n / top):.1f}" for at, n in pts)
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>')
        lx, ly = LEFT + (i % 3) * (plot / 3), TOP + plot_h + 34 + 16 * (i // 3)
        parts.append(f'<rect x="{lx:.1f}" y="{ly - 8:.1f}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 14:.1f}" y="{ly + 1:.1f}" fill="#333">{escape(name)}</text>')
    _axis(parts, start, end, TOP + plot_h)
    parts.append("</svg>")
    return "\n".join(parts), list(series)
