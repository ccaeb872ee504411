"""Status glyphs with colour: the glyph carries the meaning, colour helps (never colour alone)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from rich.text import Text
from textual._context import active_app

from core.runbook.vocabulary import Status

if TYPE_CHECKING:
    from core.runbook.model import StepState

# status -> (emphasis, the theme variable its colour comes from, the Rich colour outside a running app). The
# text-* variants are the theme's colours made legible as text on its background ($error itself is a fill colour);
# an error (the check could not run) keeps the deeper $error so it stands apart from a fail.
THEMED = {"pass": ("bold", "text-success", "green"), "fail": ("bold", "text-error", "red"),
          "needs-action": ("bold", "text-warning", "yellow"), "error": ("bold", "error", "magenta"),
          "not-run": ("dim", None, None), "running": ("bold", "text-primary", "cyan"),
          "confirmed": ("bold", "text-success", "green"), "blocked": ("", "warning", "yellow"),
          "waived": ("bold", "text-secondary", "blue"), "not-needed": ("dim", None, None)}
GLYPHS = {**{str(s): s.glyph for s in Status}, "running": "…", "confirmed": "◉"}


class ThemedStyles(Mapping[str, str]):
    """status -> Rich style in the running app's theme ($success, $error, $warning ...), looked up when a cell or
    panel is drawn, so a theme picked in the palette (or TEXTUAL_THEME) colours the statuses too."""

    def __getitem__(self, status: str) -> str:
        emphasis, variable, colour = THEMED[status]
        if variable is not None:
            try:  # Textual's own record of the app running in this context (what DOMNode.app reads)
                value = active_app.get().theme_variables.get(variable, "")
            except LookupError:  # no app (a test of the text alone): Rich's named colours
                value = ""
            colour = value if value.startswith("#") else colour
        return " ".join(part for part in (emphasis, colour) if part)

    def __iter__(self) -> Iterator[str]:
        return iter(THEMED)

    def __len__(self) -> int:
        return len(THEMED)


STYLES = ThemedStyles()


def status_style(status: str) -> str:
    return STYLES.get(status, "")


def state_key(state: StepState) -> str:
    """"confirmed" for a HUMAN/TICKET step that passes on a person's word rather than a query."""
    if str(state.status) == "pass" and (state.confirmation or state.ticket) and state.result is None:
        return "confirmed"
    return str(state.status)


def status_cell(state: StepState | None, running: bool = False) -> Text:
    key = "running" if running else (state_key(state) if state else "not-run")
    return Text(GLYPHS[key], style=STYLES[key])
