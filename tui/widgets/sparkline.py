"""A text sparkline that fits in a DataTable cell (Textual's Sparkline widget cannot live inside a table)."""

from __future__ import annotations

from collections.abc import Sequence

BARS = "▁▂▃▄▅▆▇█"


def sparkline_text(values: Sequence[float], width: int = 10) -> str:
    """The last `width` values scaled to eight bar heights; flat zero shows as the lowest bar."""
    tail = [max(0.0, float(v)) for v in list(values)[-width:]]
    if not tail:
        return ""
    top = max(tail)
    if top <= 0:
        return BARS[0] * len(tail)
    return "".join(BARS[min(len(BARS) - 1, int(v / top * (len(BARS) - 1) + 0.5))] for v in tail)
