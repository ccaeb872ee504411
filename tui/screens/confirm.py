"""The confirmation before a write: the exact count, the system, the field and the new value.

On production profiles the person types the profile name: a deliberate act, not a reflex on `y`.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


class ConfirmWrite(ModalScreen[bool]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    ConfirmWrite { align: center middle; }
    ConfirmWrite > Vertical { width: 76; max-width: 95%; height: auto; border: thick $warning;
                              background: $surface; padding: 1 2; }
    ConfirmWrite #what { margin-bottom: 1; }
    ConfirmWrite Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    ConfirmWrite Button { margin-left: 2; }
    """

    def __init__(self, title: str, what: str, *, typed_word: str | None = None, confirm_label: str = "Apply"):
        super().__init__()
        self.title_text = title
        self.what = what
        self.typed_word = typed_word
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"[b]{self.title_text}[/b]")
            yield Static(self.what, id="what")
            if self.typed_word:
                yield Label(f"This is a production profile. Type [b]{self.typed_word}[/b] to confirm:")
                yield Input(id="typed", placeholder=self.typed_word)
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button(self.confirm_label, id="apply", variant="warning", disabled=bool(self.typed_word))

    def on_mount(self) -> None:
        (self.query_one("#typed") if self.typed_word else self.query_one("#cancel")).focus()

    @on(Input.Changed, "#typed")
    def typed(self, event: Input.Changed) -> None:
        self.query_one("#apply", Button).disabled = event.value.strip() != self.typed_word

    @on(Input.Submitted, "#typed")
    def typed_enter(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.typed_word:
            self.dismiss(True)

    @on(Button.Pressed, "#apply")
    def apply(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
