"""The header every screen shows: where you are (profile, both systems), IS on/off, the connector, read-only.

Operators must always see *where* they are (Dolphie #15): a production profile is shown in the warning colour.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static


def wall_clock() -> str:
    return time.strftime("%H:%M:%S")


class TopBar(Static):
    DEFAULT_CSS = """
    TopBar { dock: top; height: 1; background: $primary-background; color: $text; padding: 0 1; }
    """

    profile_label: reactive[str] = reactive("")
    production: reactive[bool] = reactive(False)
    read_only: reactive[bool] = reactive(False)
    invoice_settlement: reactive[bool | None] = reactive(None)
    connector: reactive[str] = reactive("")
    extra: reactive[str] = reactive("")
    clock = staticmethod(wall_clock)  # snapshot tests freeze it

    def on_mount(self) -> None:
        self.set_interval(1.0, self.refresh)

    def render(self) -> Text:
        """The fullest variant that fits: the profile's detail goes first, then the clock, then words."""
        clock = self.clock()
        width = self.size.width - 2  # the padding
        variants = [(True, True, True), (False, True, True), (False, False, True), (False, False, False)]
        for detail, show_clock, words in variants:
            t = self._segments(detail, words)
            if len(t.plain) + (len(clock) + 1 if show_clock else 0) <= width:
                break
        if show_clock:
            t.append(" " * max(1, width - len(t.plain) - len(clock)))
            t.append(clock, style="dim")
        return t

    def _segments(self, detail: bool, words: bool) -> Text:
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append("cutover", style="bold")
        t.append(" ─ ")
        label = self.profile_label or "no profile"
        t.append(label if detail else label.split(" (")[0], style="bold yellow" if self.production else "bold")
        if self.production:
            t.append(" PRODUCTION", style="bold black on yellow")
        if self.read_only:
            t.append(" read-only", style="bold cyan")
        is_text = {None: "?", True: "on", False: "off"}[self.invoice_settlement]
        t.append(f" ─ IS: {is_text}")
        if self.connector:
            t.append(f" ─ connector: {self.connector}" if words else f" ─ {self.connector}")
        if self.extra:
            t.append(f" ─ {self.extra}")
        return t
