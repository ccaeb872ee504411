"""The sidebar: phases A–I with a status badge; at 80 columns it folds to the phase letters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from core.runbook.vocabulary import Phase, Status
from tui.widgets.first_frame import phase_label
from tui.widgets.status import GLYPHS, status_style

if TYPE_CHECKING:
    from core.runbook.model import StepState


def phase_badge(states: list[StepState]) -> tuple[str, str, int, int]:
    """(glyph, style, done, total) for a phase: the worst status among its applicable steps."""
    from core.runbook.state import worst  # loaded with the states themselves: the first frame has none

    relevant = [s for s in states if s.applicable and s.step.parent is None]
    total = len(relevant)
    done = sum(1 for s in relevant if s.status.done)
    if total and done == total:
        return "✓", status_style("pass"), done, total
    bad = worst(s.status for s in relevant)
    started = done or any(s.status not in (Status.NOT_RUN, Status.BLOCKED) for s in relevant)
    if bad in (Status.NOT_RUN, Status.BLOCKED) and not started:
        return GLYPHS["not-run"], status_style("not-run"), done, total  # waiting for earlier phases: not alarming
    if bad is Status.NOT_RUN and done:
        return "▶", "bold", done, total
    glyph = GLYPHS[str(bad)] if bad in (Status.ERROR, Status.FAIL, Status.NEEDS_ACTION, Status.BLOCKED) \
        else GLYPHS["not-run"]
    return glyph, status_style(str(bad)), done, total


class PhaseList(OptionList):
    """One option per phase; the option id is the phase letter."""

    DEFAULT_CSS = """
    PhaseList { width: 26; border: round $primary-darken-1; }
    PhaseList.folded { width: 13; }
    """

    def __init__(self, **kw):
        super().__init__(**kw)
        self.border_title = "Phases"
        self.folded = False

    def set_folded(self, folded: bool) -> None:
        self.folded = folded
        self.set_class(folded, "folded")

    def show(self, by_phase: dict[Phase, list[StepState]] | None) -> None:
        """Redraw the badges in place: rebuilding the options would move the highlight to A and back, and each move
        tells the runbook screen to show that phase (its cursor then lost). None: the states are not read yet, so
        the phases show without badges (the first frame)."""
        labels = [self._label(phase, None if by_phase is None else by_phase.get(phase, [])) for phase in Phase]
        if self.option_count == len(labels):
            for phase, label in zip(Phase, labels, strict=True):
                self.replace_option_prompt(phase.letter, label)
            return
        self.clear_options()
        self.add_options(Option(label, id=phase.letter) for phase, label in zip(Phase, labels, strict=True))

    def _label(self, phase: Phase, states: list[StepState] | None) -> Text:
        return phase_label(phase, None if states is None else phase_badge(states), folded=self.folded)
