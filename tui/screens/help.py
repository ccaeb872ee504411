"""F1 help: what the focused screen is for and its keys, built from the screen's own HELP and bindings."""

from __future__ import annotations

import re

from textual._context import NoActiveAppError
from textual.app import ComposeResult
from textual.binding import Binding, BindingsMap
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

KEYS = """
## Everywhere
- **Ctrl+P** opens the command palette: every step ("Go to step E1"), every screen and action.
- **m** the live monitor · **i** the connector instances register · **v** the run variables (who set each, and
  when){simulated}
- **Ctrl+R** writes the sign-off report (Markdown) into your downloads folder; the notification names the file.
  The palette (Ctrl+P, "Report as") saves it as print-ready HTML, PDF or JSON.
- **F1** shows this help; **Esc** goes back.
- **q** (or Ctrl+Q) quits. It asks first when a write is still running (an apply, a confirmation, a ticket, a
  report), or when the demo would lose what was done in it.
- Nothing is written on a single key press: writes always go through a plan and a confirmation. In a confirmation,
  Enter does what the focused button says (the dialog names it), Esc cancels.
- Every confirmation, waiver, ticket and write is recorded under the profile's operator (name and email), asked
  once when the profile has none.
"""

SIMULATED_KEY = """
- **S** (shift+s, demo only) the Simulated tenant: what Zuora Support or a person would do outside the app, each
  labelled with the step it stands in for"""

STATUSES = """
## Statuses
| | Means |
|---|---|
""" + "\n".join(f"| `{GLYPHS[k]}` | {words} |" for k, words in STATUS_WORDS.items()) + "\n"


THEME_AND_KEYS = """
## Theme and keys
- **Ctrl+P**, *Theme*: the theme you pick is saved in the config file (`cutover locate config`) and used
  next time; the `TEXTUAL_THEME` variable, when set, wins over it.
- Any key with an id can be rebound in the config file's `[keymap]` table, as in Posting: `"app.monitor" =
  "ctrl+o"` (several keys: `"ctrl+o,f9"`). The Id column lists them; a wrong entry is a warning when the app
  starts, and the other entries still apply.
"""


def key_rows(bindings: BindingsMap, keymap: dict[str, str]) -> list[str]:
    """| key | does | id | for each described binding, with the keymap's keys in place of the defaults."""
    bindings = bindings.copy()
    if keymap:
        bindings.apply_keymap(keymap)
    rows = []
    for group in bindings.key_to_bindings.values():
        for b in group:
            if isinstance(b, Binding) and b.description:
                rows.append(f"| `{b.key_display or b.key}` | {b.tooltip or b.description} | {f'`{b.id}`' if b.id else ''} |")
    return list(dict.fromkeys(rows))


def general_help(demo: bool) -> str:
    """The keys every screen shares (S only on the demo: a real tenant has no stand-ins), and the statuses."""
    return KEYS.format(simulated=SIMULATED_KEY if demo else ".") + STATUSES


def screen_title(screen: Screen) -> str:
    """The screen's own name: its `help_title` (a step says which), its TITLE, else words from its class name."""
    title = getattr(screen, "help_title", None) or getattr(screen, "TITLE", None)
    if title:
        return str(title)
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", re.sub(r"Screen$", "", type(screen).__name__)) or "Help"
    return words[:1] + words[1:].lower()


def help_markdown(screen: Screen, demo: bool | None = None) -> str:
    if demo is None:
        try:
            demo = bool(getattr(getattr(screen.app, "backend", None), "is_demo", False))
        except Exception:  # a screen outside a running app (NoActiveAppError): a real profile's keys
            demo = False
    body = getattr(screen, "HELP", "") or ""
    try:
        app = screen.app
    except NoActiveAppError:  # outside a running app: the default keys, no app-wide table
        app = None
    keymap = getattr(app, "_keymap", None) or {}  # Textual's record of App.set_keymap (tui.preferences)
    header = ["| Key | Does | Id |", "|---|---|---|"]
    keys = key_rows(screen._bindings, keymap)  # the screen's own bindings
    table = "\n".join([*header, *keys]) if keys else ""
    app_keys = key_rows(app._bindings, keymap) if app is not None else []
    app_table = "\n".join(["Everywhere:", "", *header, *app_keys]) + "\n" if app_keys else ""
    return f"# {screen_title(screen)}\n\n{body}\n\n{table}\n{general_help(demo)}{THEME_AND_KEYS}\n{app_table}"


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
