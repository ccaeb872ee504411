"""F1 help: what the focused screen is for and its keys, built from the screen's own HELP and bindings."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Markdown

from tui.widgets.status import GLYPHS

STATUS_WORDS = {
    "pass": "passes: done, and its check (if it has one) finds nothing wrong",
    "fail": "fails: the check found records to fix",
    "needs-action": "needs action: a run variable, a confirmation or a ticket number is missing",
    "error": "error: the check could not run (the reason is on its screen)",
    "not-run": "not run or not confirmed yet",
    "running": "checking now",
    "confirmed": "done on a person's word: confirmed, or its ticket number recorded",
    "blocked": "blocked: steps it waits for are not done; nothing is recorded or applied before",
    "waived": "waived: a person accepted what the check found, on purpose (who, when and why on its screen; "
              "`w` on a step waives it or withdraws the waiver)",
    "not-needed": "not needed on the chosen re-provisioning path",
}

GENERAL = """
## Everywhere
- **Ctrl+P** opens the command palette: every step ("Go to step E1"), every screen and action.
- **m** opens the live monitor, **Ctrl+R** writes the sign-off report, **i** the connector instances.
- **F1** shows this help; **Esc** goes back; **q** quits (work in progress is journaled, nothing is lost).
- Nothing is written on a single key press: writes always go through a plan and a confirmation.
- Every confirmation, waiver, ticket and write is recorded under the profile's operator (name and email), asked
  once when the profile has none.

## Statuses
| | Means |
|---|---|
""" + "\n".join(f"| `{GLYPHS[k]}` | {words} |" for k, words in STATUS_WORDS.items()) + "\n"


def help_markdown(screen: Screen) -> str:
    title = getattr(screen, "help_title", None) or getattr(screen, "TITLE", None) or type(screen).__name__
    body = getattr(screen, "HELP", "") or ""
    keys = []
    for binding in screen._bindings.key_to_bindings.values():  # the screen's own bindings
        for b in binding:
            if isinstance(b, Binding) and b.description:
                keys.append(f"| `{b.key_display or b.key}` | {b.description} |")
    table = "\n".join(["| Key | Does |", "|---|---|", *dict.fromkeys(keys)]) if keys else ""
    return f"# {title}\n\n{body}\n\n{table}\n{GENERAL}"


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; max-width: 100; height: 90%; border: thick $accent;
                                  background: $surface; padding: 0 1; }
    """

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(self.text)
