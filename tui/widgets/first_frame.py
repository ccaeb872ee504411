"""The runbook screen's first frame: its phase list and step table drawn as plain Statics.

Textual's OptionList and DataTable cost more to style, compose and draw than the rest of the screen together (their
stylesheets are parsed on first mount), so the first frame shows these look-alikes, and the screen mounts the real
widgets once that frame is on the terminal (Textual's Ready), swapping them in within one refresh. Nothing here is
interactive: until the swap there is no step to move to (the runbook's definitions load after it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from core.runbook.vocabulary import Phase

if TYPE_CHECKING:
    from core.runbook.model import StepState


def phase_label(phase: Phase, badge: tuple[str, str, int, int] | None, *, folded: bool) -> Text:
    """A phase's line in the sidebar: its badge (glyph, style, done, total), or none before the states are read."""
    label = Text()
    if badge is None:
        label.append("  ")
        label.append(phase.letter, style="bold")
        if not folded:
            label.append(f"  {phase.label}", style="")
        return label
    glyph, style, passed, total = badge
    label.append(f"{glyph} ", style=style)
    label.append(phase.letter, style="bold")
    if folded:
        label.append(f" {passed}/{total}", style="dim")
    else:
        label.append(f"  {phase.label:<11}", style="")
        label.append(f"{passed}/{total}", style="dim")
    return label


class PhaseSketch(Static):
    """The phase list as the first frame shows it: the phases without badges, in PhaseList's box."""

    DEFAULT_CSS = """
    PhaseSketch { width: 26; height: 1fr; border: round $primary-darken-1; padding: 0 1; background: $surface; }
    PhaseSketch.folded { width: 13; }
    """

    def __init__(self, **kw):
        super().__init__(markup=False, **kw)
        self.border_title = "Phases"
        self.folded = False

    def set_folded(self, folded: bool) -> None:
        self.folded = folded
        self.set_class(folded, "folded")

    def show(self, by_phase: dict[Phase, list[StepState]] | None) -> None:
        """The same call as PhaseList.show; the sketch is only ever drawn before the states are read."""
        self.update(Text("\n").join(phase_label(phase, None, folded=self.folded) for phase in Phase))


class StepsSketch(Static, can_focus=True):
    """The step table's box and column headings, empty: the steps arrive with the runbook's definitions. It holds
    the focus until the table comes, so the footer's keys are settled before the first frame is drawn."""

    DEFAULT_CSS = """
    StepsSketch { height: 1fr; border: round $primary-darken-1; background: $surface; text-style: bold; }
    """

    def __init__(self, columns: tuple[str, ...], **kw):
        super().__init__(Text("".join(f" {label} " for label in columns), no_wrap=True), markup=False, **kw)
