"""A small dialog that asks why (a waiver, or withdrawing one) and records it.

Enter saves, Esc cancels without saving anything. The record runs in a thread worker; when core refuses (a reason
too short, a step that cannot be waived), the message is a notification and the dialog stays open with the text
as typed, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from core.errors import CutoverError


class ReasonScreen(ModalScreen[bool]):
    """Dismisses with True once `save(reason)` went through, False when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    ReasonScreen { align: center middle; }
    ReasonScreen > Vertical { width: 76; max-width: 95%; height: auto; max-height: 95%; border: thick $primary;
                              background: $surface; padding: 0 1; }
    ReasonScreen #reason-what { margin: 1 0; max-height: 8; overflow-y: auto; }
    ReasonScreen #reason { margin-bottom: 1; }
    ReasonScreen Horizontal { height: auto; align-horizontal: right; }
    ReasonScreen Button { margin-left: 2; }
    """

    def __init__(self, title: str, what: str, *, placeholder: str, save_label: str, fail_title: str,
                 save: Callable[[str], object]):
        super().__init__()
        self.title_text = title
        self.what = what
        self.placeholder = placeholder
        self.save_label = save_label
        self.fail_title = fail_title
        self.save = save
        self.saving = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"[b]{self.title_text}[/b]")
            yield Static(self.what, id="reason-what", markup=False)
            yield Input(id="reason", placeholder=self.placeholder)
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button(self.save_label, id="save", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    @on(Input.Submitted, "#reason")
    @on(Button.Pressed, "#save")
    def submit(self) -> None:
        if self.saving:
            return
        reason = self.query_one("#reason", Input).value.strip()
        if not reason:
            self.notify("Say why first: it is recorded with your name and goes in the sign-off report",
                        severity="warning", timeout=5)
            return
        self.saving = True
        self.query_one("#save", Button).disabled = True
        self.record(reason)

    @work(thread=True, group="reason-save", exit_on_error=False)
    def record(self, reason: str) -> None:
        try:
            self.save(reason)
        except Exception as exc:  # core's refusal: a notification, and the dialog keeps what was typed
            self.app.call_from_thread(self.refused, exc)
            return
        self.app.call_from_thread(self.dismiss, True)

    def refused(self, exc: BaseException) -> None:
        self.saving = False
        self.query_one("#save", Button).disabled = False
        # The command-line spelling of a hint means nothing here: the dialog is the way to do it in the app.
        text = exc.message if isinstance(exc, CutoverError) and "cutover " in exc.hint else \
            self.app.describe_error(exc)
        self.notify(text, title=self.fail_title, severity="error", timeout=10)
        self.query_one("#reason", Input).focus()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        if self.saving:  # the record is on its way: its outcome decides
            return
        self.dismiss(False)
