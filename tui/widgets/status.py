"""Status glyphs with colour: the glyph carries the meaning, colour helps (never colour alone)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from core.runbook.vocabulary import Status

if TYPE_CHECKING:
    from core.runbook.model import StepState

STYLES = {"pass": "bold green", "fail": "bold red", "needs-action": "bold yellow", "error": "bold magenta",
          "not-run": "dim", "running": "bold cyan", "confirmed": "bold green", "blocked": "yellow",
          "waived": "bold blue", "not-needed": "dim"}
GLYPHS = {**{str(s): s.glyph for s in Status}, "running": "…", "confirmed": "◉"}


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
