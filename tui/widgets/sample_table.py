"""The records a check found, as a table that fits the screen: amounts and dates stay whole, the widest text
columns are narrowed first, and the title says how many of how many are shown."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import DataTable

from core.runbook.checks import SAMPLE_LIMIT
from tui.app_words import app_words

if TYPE_CHECKING:
    from core.runbook.model import StepState

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def sample_cell(value) -> Text:
    """Amounts right-aligned with 2 decimals, dates and the rest as they are; too long a value ends in …."""
    if value is None:
        return Text("")
    if isinstance(value, float):
        return Text(f"{value:,.2f}", justify="right")
    if isinstance(value, int) and not isinstance(value, bool):
        return Text(f"{value:,}", justify="right")
    return Text(app_words(str(value)), no_wrap=True, overflow="ellipsis")  # I2's rows quote steps' summaries


def fit_widths(columns: list[str], cells: list[list[Text]], available: int) -> list[int]:
    """Each column as wide as its widest value (or label); when they do not all fit in `available` cells, the
    widest text columns are narrowed first (to 8 at least, labels too), so amounts and dates stay whole."""
    widths = [max([len(c), *(t.cell_len for t in (row[i] for row in cells))]) for i, c in enumerate(columns)]
    budget = available - 2 * len(columns)  # DataTable pads each cell by one on either side

    def whole(i: int) -> bool:  # amounts, counts and dates are never cut
        return all(row[i].justify == "right" or _DATE.match(row[i].plain) or not row[i].plain for row in cells)

    floors = [max(t.cell_len for t in (row[i] for row in cells)) if whole(i) else min(widths[i], 8)
              for i in range(len(columns))]
    while sum(widths) > budget:
        wide = [i for i in range(len(widths)) if widths[i] > floors[i]]
        if not wide:
            break
        i = max(wide, key=widths.__getitem__)
        widths[i] = max(floors[i], widths[i] - (sum(widths) - budget))
    return widths


class SampleTable(DataTable):
    """A step's "Records found": hidden when the check found none."""

    def __init__(self, **kwargs):
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.border_title = "Records found"

    def show(self, state: StepState, available: int) -> None:
        """The sample of `state`'s result in `available` cells of width."""
        self.clear(columns=True)
        rows = list(state.result.sample) if state.result else []
        self.display = bool(rows)
        if not rows:
            return
        rows = rows[:SAMPLE_LIMIT]
        columns = list(dict.fromkeys(k for r in rows for k in r))
        if len({r.get("part") for r in rows}) == 1:  # one counted part: its name is the panel's title already
            columns = [c for c in columns if c != "part"]
        cells = [[sample_cell(r.get(c)) for c in columns] for r in rows]
        for column, width in zip(columns, fit_widths(columns, cells, available)):
            self.add_column(column, width=width)
        for row in cells:
            self.add_row(*row)
        # the total is what the sampled parts counted (a sample may mix parts: V9's 51 + 11), never fewer than shown
        details = state.result.details or {}
        sampled = sum(details.get(part, 0) for part in {r.get("part") for r in rows})
        total = max(sampled, state.result.count or 0, len(rows))
        self.border_title = (f"Records found ({total:,})" if total == len(rows)
                             else f"Records found ({len(rows)} of {total:,} shown)")
