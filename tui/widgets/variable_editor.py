"""One run variable, edited where it is read: its name and what it is, the stored value with who set it and when, and
a field to change it with the same validation as `cutover set` (dates, UTC timestamps, ids and choices).

    editor = VariableEditor("freeze_ts")                 # reads its record in a thread worker on mount
    editor = VariableEditor("freeze_ts", record=known)   # or starts from a record the parent already holds
    editor.focus_field()

- Text variables get an Input whose placeholder shows the expected form ("2026-10-28T18:00Z" for a timestamp);
  Enter stores the text, an empty text clears the variable. Choices (Literal types such as provisioning_path) get
  a Select offering only those choices, plus "not recorded" to clear; picking one stores it.
- Storing goes through `app.backend.runbook.set_variable` in a thread worker (connector ids land in the instances
  register, which the variables mirror), after `with_operator` has made sure the journal knows who records.
- A refused value leaves its one-line message right under the field and stores nothing; Esc puts the stored value
  back (and, when nothing was typed, lets Esc go on to the screen: Back).
- A stored value that no longer parses (an older version's, or edited by hand) shows as unreadable with its raw text
  and what is expected; the field holds that text to correct, and storing a good value repairs it.
- Messages: `VariableEditor.Changed(editor, name, value, set_by, set_at)` after a value is stored (set or cleared);
  `VariableEditor.Refused(editor, name, text, message)` when a value is refused. Both bubble.

The worker never touches widgets: it posts its outcome to the editor, whose handlers render (Textual's
post_message pattern). The app must carry a `backend` (tui.backend.Backend), as CutoverApp does.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from core.instances import MIRRORED
from core.runbook.variables import RunVariables
from tui.variable_records import (NOT_RECORDED, VariableRecord, one_line, person, read_variables, store_variable,
                                  unreadable_note, variable_form, when)


class VariableEditor(Vertical):
    """See the module docstring. `compact=True` puts the name, the field and who/when on one line (for a step
    screen's list of the variables it needs); the description then shows as the field's tooltip."""

    DEFAULT_CSS = """
    VariableEditor { height: auto; }
    VariableEditor .var-label { height: auto; }
    VariableEditor .var-row { height: auto; }
    VariableEditor .var-name { width: 29; height: 1; text-style: bold; text-wrap: nowrap; text-overflow: ellipsis;
                               display: none; }
    VariableEditor .var-row Input > .input--placeholder { color: $text-muted; text-style: italic; }
    VariableEditor .var-row Input, VariableEditor .var-row Select { width: 1fr; }
    VariableEditor .var-row Input { background: $boost; }
    VariableEditor .var-state-inline { width: auto; max-width: 40%; height: 1; padding-left: 1; display: none; }
    VariableEditor .var-problem { color: $text-error; height: auto; display: none; }
    VariableEditor .var-problem.-shown { display: block; }
    VariableEditor .var-state { height: auto; color: $text-muted; }
    VariableEditor.-compact .var-label, VariableEditor.-compact .var-state { display: none; }
    VariableEditor.-compact .var-name, VariableEditor.-compact .var-state-inline { display: block; }
    """
    BINDINGS = [Binding("escape", "restore", "Restore", id="variable_editor.restore")]

    class Changed(Message):
        """A value was stored (set, or cleared: value None). `set_by` and `set_at` are the journal's record."""

        def __init__(self, editor: VariableEditor, name: str, value: str | None, set_by: str | None = None,
                     set_at: str | None = None):
            super().__init__()
            self.editor = editor
            self.name = name
            self.value = value
            self.set_by = set_by
            self.set_at = set_at

        @property
        def control(self) -> VariableEditor:
            return self.editor

    class Refused(Message):
        """A value was refused: `message` is the one line shown under the field; nothing was stored."""

        def __init__(self, editor: VariableEditor, name: str, text: str, message: str):
            super().__init__()
            self.editor = editor
            self.name = name
            self.text = text
            self.message = message

        @property
        def control(self) -> VariableEditor:
            return self.editor

    class Loaded(Message, bubble=False):
        """(Internal) the worker read or stored the record."""

        def __init__(self, record: VariableRecord, stored: bool):
            super().__init__()
            self.record = record
            self.stored = stored

    class Failed(Message, bubble=False):
        """(Internal) the worker's read or store failed."""

        def __init__(self, text: str | None, message: str):
            super().__init__()
            self.text = text
            self.message = message

    def __init__(self, name: str, *, record: VariableRecord | None = None, compact: bool = False,
                 id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self.variable = RunVariables.canonical(name)
        self.form = variable_form(self.variable)
        self.description = RunVariables.describe(self.variable)
        self.record: VariableRecord | None = record
        self.saving = False
        self.set_class(compact, "-compact")

    # ---- layout ---------------------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        label = Text()
        label.append(self.variable, style="bold")
        if self.description:
            label.append(f" · {self.description}", style="dim")
        if self.variable in MIRRORED:
            label.append(" · lives in the instances register", style="dim italic")
        yield Static(label, classes="var-label")
        with Horizontal(classes="var-row"):
            name = Label(self.variable, classes="var-name")
            name.tooltip = self.variable  # in full, should a narrow screen cut it
            yield name
            if self.form.choices:
                field: Widget = Select([(c, c) for c in self.form.choices], prompt=NOT_RECORDED, allow_blank=True,
                                       compact=True, classes="var-field")
            else:
                field = Input(placeholder=self.form.placeholder, compact=True, classes="var-field")
            field.tooltip = f"{self.description}\nExpected: {self.form.rule}" if self.description else self.form.rule
            yield field
            yield Static(classes="var-state-inline")
        yield Static(classes="var-problem", markup=False)
        yield Static(classes="var-state")

    def on_mount(self) -> None:
        if self.record is not None:
            self.show_record(self.record, restore=True)
        else:
            self.show_state(Text("reading…", style="dim"))
            self.load()

    @property
    def field(self) -> Input | Select:
        return self.query_one(".var-field")  # type: ignore[return-value]

    def focus_field(self) -> None:
        self.field.focus()

    @property
    def stored_text(self) -> str:
        return (self.record.value if self.record else None) or ""

    @property
    def typed_text(self) -> str:
        field = self.field
        if isinstance(field, Select):
            return "" if field.value is Select.NULL else str(field.value)
        return field.value.strip()

    # ---- rendering --------------------------------------------------------------------------------------------------
    def show_record(self, record: VariableRecord, *, restore: bool) -> None:
        self.record = record
        if restore:
            self.put_back()
        if record.unreadable:
            line = Text.assemble(("✗ ", "bold red"), (unreadable_note(record), "red"))
        elif record.value is not None:
            line = Text.assemble(("✓ ", "bold green"), (record.value, "bold"))
        elif record.ever_set:
            line = Text.assemble(("○ ", "dim"), ("cleared", "italic"))
        else:
            line = Text.assemble(("○ ", "dim"), (NOT_RECORDED, "italic"))
        inline = line.copy()
        if record.ever_set:
            line.append(f" · set by {record.set_by} · {when(record.set_at)} UTC")
            inline = Text.assemble(inline[:2], (f"{person(record.set_by)} {when(record.set_at, short=True)}", ""))
        self.show_state(line, inline)

    def show_state(self, line: Text, inline: Text | None = None) -> None:
        self.query_one(".var-state", Static).update(line)
        self.query_one(".var-state-inline", Static).update(inline if inline is not None else line)

    def show_problem(self, message: str) -> None:
        problem = self.query_one(".var-problem", Static)
        problem.update(f"× {message}" if message else "")
        problem.set_class(bool(message), "-shown")
        self.refresh_bindings()

    @property
    def problem(self) -> str:
        """The refusal shown under the field ('' when none)."""
        widget = self.query_one(".var-problem", Static)
        return str(widget.render()).removeprefix("× ") if widget.has_class("-shown") else ""

    def put_back(self) -> None:
        """The field shows the stored value again."""
        field = self.field
        if isinstance(field, Select):  # an unreadable stored choice is none of the choices: shown as not chosen
            field.value = self.stored_text if self.stored_text in self.form.choices else Select.NULL
        else:
            field.value = self.stored_text

    # ---- editing ------------------------------------------------------------------------------------------------
    @on(Input.Submitted, ".var-field")
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    @on(Select.Changed, ".var-field")
    def chosen(self, event: Select.Changed) -> None:
        event.stop()
        self.refresh_bindings()
        if self.record is not None and self.typed_text != self.stored_text:  # a person's choice, not put_back
            self.submit()

    def submit(self) -> None:
        """Store what the field holds (Enter does this): refused on the spot, or stored in a worker."""
        if self.record is None or self.saving:
            return
        text = self.typed_text
        if text == self.stored_text and not self.record.unreadable:  # unreadable: Enter says why it is refused
            self.show_problem("")
            self.show_record(self.record, restore=False)
            return
        from tui.screens.operator import with_operator  # late: the screens build on the widgets

        with_operator(self.screen, lambda: self.start_saving(text))

    def start_saving(self, text: str) -> None:
        if not self.is_attached or self.saving:
            return
        self.saving = True
        self.show_state(Text("… storing", style="dim"))
        self.save(text)

    @property
    def edited(self) -> bool:
        """The field differs from the stored value, or a refusal is shown: Esc has something to undo."""
        return self.record is not None and (self.typed_text != self.stored_text or bool(self.problem))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "restore":  # off (and out of the footer) with nothing to undo: Esc goes on to the screen
            return self.edited
        return True

    def action_restore(self) -> None:
        """Esc: the stored value back in the field, the message gone."""
        if not self.edited:
            raise SkipAction()
        self.show_problem("")
        self.put_back()

    @on(Input.Changed, ".var-field")
    def typed(self) -> None:
        self.refresh_bindings()  # Esc: Restore while the text differs from the stored value

    def reload(self) -> None:
        """Read the record again (the parent knows it changed elsewhere); the field shows it."""
        self.load()

    # ---- workers: they post, the handlers render ---------------------------------------------------------------
    @work(thread=True, group="variable-editor-read", exit_on_error=False)
    def load(self) -> None:
        try:
            record = read_variables(self.app.backend, [self.variable])[self.variable]
        except Exception as exc:
            self.post_message(self.Failed(None, one_line(exc)))
            return
        self.post_message(self.Loaded(record, stored=False))

    @work(thread=True, group="variable-editor-save", exit_on_error=False)
    def save(self, text: str) -> None:
        try:
            record = store_variable(self.app.backend, self.variable, text)
        except Exception as exc:  # ConfigError: the expected form; the register's id rule; nothing stored
            self.post_message(self.Failed(text, one_line(exc)))
            return
        self.post_message(self.Loaded(record, stored=True))

    @on(Loaded)
    def loaded(self, event: Loaded) -> None:
        self.saving = False
        typing = not event.stored and self.edited  # a re-read while the person types keeps their text
        if not typing:
            self.show_problem("")
        self.show_record(event.record, restore=not typing)
        if event.stored:
            r = event.record
            self.post_message(self.Changed(self, r.name, r.value, r.set_by, r.set_at))

    @on(Failed)
    def failed(self, event: Failed) -> None:
        self.saving = False
        self.show_problem(event.message)
        if self.record is not None:
            self.show_record(self.record, restore=False)  # the field keeps the refused text, to correct it
        else:
            self.show_state(Text("○ not read", style="dim"))
        if event.text is not None:
            self.post_message(self.Refused(self, self.variable, event.text, event.message))
