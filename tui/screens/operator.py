"""Who is doing this? Asked once, before the first thing the journal records under a name (a confirmation, a ticket
number, a waiver, a plan or a write), when the profile names no operator and CUTOVER_OPERATOR is unset.

The name and email are checked with core.profile.Operator (its message shows inline), saved in the profile's
config in a thread worker, and the open run records under them from then on. Then the action goes on.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Input, Label, Static

from core.profile import Operator
from core.errors import ConfigError
from tui.person_records import make_operator
from tui.widgets.form import FormRow, text_input


class OperatorScreen(ModalScreen[Operator | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    OperatorScreen { align: center middle; }
    OperatorScreen > Vertical { width: 76; max-width: 95%; height: auto; max-height: 95%; border: thick $accent;
                                background: $surface; padding: 0 1; }
    OperatorScreen #operator-why { margin: 1 0; }
    OperatorScreen FormRow > Label { width: 8; }
    OperatorScreen #operator-problem { color: $text-error; height: auto; margin-top: 1; }
    OperatorScreen Horizontal#operator-buttons { height: auto; align-horizontal: right; margin-top: 1; }
    OperatorScreen Button { margin-left: 2; }
    """

    def __init__(self, profile_name: str, *, in_memory: bool = False):
        super().__init__()
        self.profile_name = profile_name
        self.in_memory = in_memory
        self.saving = False

    def compose(self) -> ComposeResult:
        where = "for this session" if self.in_memory else f"in profile {self.profile_name}, asked once"
        with Vertical():
            yield Label("[b]Who is doing this?[/b]")
            yield Static("The journal records a name and an email with every confirmation, waiver, ticket and "
                         f"write, and the sign-off report shows them. Saved {where}.", id="operator-why",
                         markup=False)
            yield FormRow("Name", text_input("operator-name", placeholder="e.g. Ada Lovelace"))
            yield FormRow("Email", text_input("operator-email", placeholder="e.g. ada@example.com"))
            yield Static(id="operator-problem", markup=False)
            with Horizontal(id="operator-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save and go on", id="save", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#operator-name", Input).focus()

    def problem(self, text: str) -> None:
        self.query_one("#operator-problem", Static).update(text)

    @on(Input.Submitted, "#operator-name")
    def name_entered(self) -> None:
        self.query_one("#operator-email", Input).focus()

    @on(Input.Submitted, "#operator-email")
    @on(Button.Pressed, "#save")
    def submit(self) -> None:
        if self.saving:
            return
        name = self.query_one("#operator-name", Input).value
        email = self.query_one("#operator-email", Input).value
        try:
            make_operator(name, email)  # cheap: refuse a bad field on the spot, nothing saved
        except ConfigError as exc:
            self.problem(str(exc))
            field = "#operator-email" if str(exc).startswith("email") else "#operator-name"
            self.query_one(field, Input).focus()
            return
        self.problem("")
        self.saving = True
        self.query_one("#save", Button).disabled = True
        self.save(name, email)

    @work(thread=True, group="operator-save", exit_on_error=False)
    def save(self, name: str, email: str) -> None:
        try:
            operator = self.app.backend.save_operator(name, email)
        except Exception as exc:  # an unwritable config file: said inline, the fields keep their text
            self.app.call_from_thread(self.refused, exc)
            return
        self.app.call_from_thread(self.dismiss, operator)

    def refused(self, exc: BaseException) -> None:
        self.saving = False
        self.query_one("#save", Button).disabled = False
        text = self.app.describe_error(exc)
        self.problem(text)
        self.notify(text, title="Operator not saved", severity="error", timeout=10)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        if not self.saving:
            self.dismiss(None)


def with_operator(screen: Screen, then: Callable[[], None]) -> None:
    """Run `then` now if the run knows who records; otherwise ask once, then run it (or nothing, on Esc)."""
    backend = screen.app.backend
    if not backend.needs_operator:
        then()
        return

    def answered(operator: Operator | None) -> None:
        if operator is None:
            screen.notify("Nothing recorded: the journal needs a name and an email first", severity="warning",
                          timeout=5)
            return
        screen.notify(f"Recording as {operator.label}", timeout=4)
        then()

    screen.app.push_screen(OperatorScreen(backend.profile_name, in_memory=backend.is_demo), answered)
