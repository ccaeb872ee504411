"""The confirmation before a write: the exact count, the system, the field and the new value.

A plain confirmation focuses the confirming button, so Enter does what it says; Tab moves to Cancel, and Enter then
cancels. The line above the buttons always names what Enter does now. On production profiles the person types the
profile name instead (the field has the focus): a deliberate act, not a reflex on Enter. Esc cancels, and a cancel
always says so: a write that was not made is never silent.
"""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


class ConfirmWrite(ModalScreen[bool]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    ConfirmWrite { align: center middle; }
    ConfirmWrite > Vertical { width: 76; max-width: 95%; height: auto; max-height: 95%; border: thick $warning;
                              background: $surface; padding: 1 2; }
    ConfirmWrite #what-scroll { height: auto; max-height: 16; margin-bottom: 1; }
    ConfirmWrite #enter-hint { color: $text-muted; }
    ConfirmWrite Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    ConfirmWrite Button { margin-left: 2; }
    """

    def __init__(self, title: str, what: str, *, typed_word: str | None = None, confirm_label: str = "Apply",
                 cancel_label: str = "Cancel", cancelled: str | None = ""):
        """`cancelled` is the notification a cancel shows: by default "Not applied: nothing was written" (or
        "Retire cancelled: …" after its label); None when the dialog guards nothing that could be written."""
        super().__init__()
        self.title_text = title
        self.what = what
        self.typed_word = typed_word
        self.confirm_label = confirm_label
        self.cancel_label = cancel_label
        if cancelled == "":
            cancelled = ("Not applied" if confirm_label == "Apply" else f"{confirm_label} cancelled") + \
                ": nothing was written"
        self.cancelled = cancelled

    @property
    def help_title(self) -> str:
        return self.title_text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"[b]{self.title_text}[/b]")
            with VerticalScroll(id="what-scroll", can_focus=False):  # Tab goes between the buttons
                yield Static(self.what, id="what", markup=False)
            if self.typed_word:
                yield Label(f"This is a production profile. Type [b]{self.typed_word}[/b] to confirm:")
                yield Input(id="typed", placeholder=self.typed_word)
            yield Static(id="enter-hint", markup=False)
            with Horizontal():
                yield Button(self.cancel_label, id="cancel")
                yield Button(self.confirm_label, id="apply", variant="warning", disabled=bool(self.typed_word))

    def on_mount(self) -> None:
        (self.query_one("#typed") if self.typed_word else self.query_one("#apply")).focus()
        self.show_hint()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self.show_hint()

    def show_hint(self) -> None:
        """Say what Enter does with the focus where it is now."""
        focused = self.focused
        esc = f"Esc: {self.cancel_label.lower()}"
        if isinstance(focused, Input):
            hint = f"Type {self.typed_word}, then Enter to {self.confirm_label.lower()} · {esc}"
        elif isinstance(focused, Button):
            other = self.cancel_label if focused.id == "apply" else self.confirm_label
            hint = f"Enter: {focused.label} · Tab: {other} · {esc}"
        else:
            hint = esc
        self.query_one("#enter-hint", Static).update(hint)

    @on(Input.Changed, "#typed")
    def typed(self, event: Input.Changed) -> None:
        self.query_one("#apply", Button).disabled = event.value.strip() != self.typed_word

    @on(Input.Submitted, "#typed")
    def typed_enter(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.typed_word:
            self.dismiss(True)
            return
        self.notify(f"Type {self.typed_word} exactly to {self.confirm_label.lower()} (Esc cancels)",
                    severity="warning", timeout=5)

    @on(Button.Pressed, "#apply")
    def apply(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    def action_cancel(self) -> None:
        if self.cancelled:
            self.app.notify(self.cancelled, timeout=4)
        self.dismiss(False)
