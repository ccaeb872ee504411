"""F1 help: what the focused screen is for and its keys, built from the screen's own HELP and bindings."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Markdown

GENERAL = """
## Everywhere
- **Ctrl+P** opens the command palette: every step ("Go to step E1"), every screen and action.
- **m** opens the live monitor, **r** the sign-off report, **i** the connector instances.
- **F1** shows this help; **Esc** goes back; **q** quits (work in progress is journaled, nothing is lost).
- Nothing is written on a single key press: writes always go through a plan and a confirmation.
"""


def help_markdown(screen: Screen) -> str:
    title = getattr(screen, "TITLE", None) or type(screen).__name__
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
