"""The run variables (key `v`, and the palette): every variable in the runbook's order with its value, who set it and
when, and what it is; Enter (or `e`) edits the highlighted one in place, with the same validation as `cutover set`.

The connector ids (⇄) live in the instances register (`i` opens it): editing one here writes the register, which the
variable mirrors. Reads and writes run in thread workers that post their results; the handlers render. After a
save only that row is redrawn (and, for a connector id, the ids the register may have carried over with it).
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.events import Resize
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from core.instances import MIRRORED
from core.runbook.variables import RunVariables
from tui.widgets.topbar import TopBar
from tui.variable_records import (NOT_RECORDED, VariableRecord, one_line, person, read_variables, unreadable_note,
                                  variable_form, when)
from tui.widgets.variable_editor import VariableEditor

REGISTER_MARK = "⇄"
WIDE = 100  # from this many columns the table has a description column and full dates


def _rows() -> list[tuple[str, str | None]]:
    """(row key, variable name or None for a group's heading), in RunVariables' order."""
    out: list[tuple[str, str | None]] = []
    for name in RunVariables.names():
        group, dot, _ = name.partition(".")
        if dot and (group, None) not in out:
            out.append((group, None))
        out.append((name, name))
    return out


def _group_description(group: str) -> str:
    return RunVariables.model_fields[group].description or ""


class VariablesScreen(Screen):
    TITLE = "Run variables"
    AUTO_FOCUS = "#variables"
    HELP = (
        "The run variables: the facts recorded once (mostly in Phase A) and reused by checks, tickets and actions. "
        "Each row shows the value, who set it last and when (UTC), and what it is.\n\n"
        "- Enter or `e` edits the highlighted variable below the table. Enter stores it, with the same rules as "
        "`cutover set`: dates like 2026-10-28, UTC times like 2026-10-28T18:00Z, ids without spaces, and choices "
        "from a list. A refused value is explained under the field and nothing is stored. An empty value clears "
        "the variable. Esc puts the stored value back; Esc again closes the editor.\n"
        "- ⇄ connector ids (old and new Instance ID, Account ID, Environment ID) live in the connector instances "
        "register (`i`). Editing one here writes the register, and the variable mirrors it.\n"
        "- The first record asks for your name and email when the profile names no operator."
    )
    BINDINGS = [
        Binding("e", "edit", "Edit", id="variables.edit"),
        Binding("i", "app.instances", "Instances", id="variables.instances"),
        Binding("escape", "close_editor", "Close editor", id="variables.close_editor"),
        Binding("escape", "back", "Back", id="variables.back"),
    ]
    DEFAULT_CSS = """
    VariablesScreen #variables-legend { height: auto; padding: 0 1; color: $text-muted; }
    VariablesScreen #variables { height: 1fr; border: round $primary-darken-1; scrollbar-size-vertical: 1; }
    VariablesScreen #variable-pane { height: auto; max-height: 12; border: round $primary-darken-2; padding: 0 1; }
    VariablesScreen #variable-detail { height: auto; }
    """

    class Read(Message):
        """A worker read these records (all of them, or the few a save may have changed)."""

        def __init__(self, records: dict[str, VariableRecord]):
            super().__init__()
            self.records = records

    def __init__(self):
        super().__init__()
        self.records: dict[str, VariableRecord] = {}
        self.wide: bool | None = None  # the column layout drawn (None: not yet)
        self.editor: VariableEditor | None = None

    @property
    def help_title(self) -> str:
        return "Run variables"

    def compose(self) -> ComposeResult:
        yield TopBar(id="topbar")
        yield Static(Text.assemble("Enter or e edits · ", (REGISTER_MARK, "bold cyan"),
                                   " connector ids live in the instances register (i), edited here too · "
                                   "times are UTC"), id="variables-legend")
        table = DataTable(id="variables", cursor_type="row", zebra_stripes=True)
        table.border_title = "Run variables"
        yield table
        with Vertical(id="variable-pane"):
            yield Static(id="variable-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.app.backend.bind_topbar(self.query_one(TopBar))
        self.layout_table(self.size.width)
        self.load()

    def on_screen_resume(self) -> None:
        if self.records:  # back from another screen (the register, a step): it may have changed a value
            self.load()

    # ---- reading (thread worker; the handler renders) -------------------------------------------------------------
    @work(thread=True, group="variables-read", exit_on_error=False)
    def load(self, names: list[str] | None = None) -> None:
        if not self.app.backend.ready:
            self.app.call_from_thread(self.notify, "Still connecting…", timeout=3)
            return
        try:
            records = read_variables(self.app.backend, names)
        except Exception as exc:
            self.app.call_from_thread(self.notify, one_line(exc), title="Variables not read", severity="error",
                                      timeout=10)
            return
        self.post_message(self.Read(records))

    @on(Read)
    def read(self, event: Read) -> None:
        changed = {n: r for n, r in event.records.items() if self.records.get(n) != r}
        self.records.update(event.records)
        table = self.query_one("#variables", DataTable)
        if not table.row_count:
            self.fill_table()
        else:
            for name, record in changed.items():
                self.update_row(record)
        self.show_detail()

    # ---- the table ------------------------------------------------------------------------------------------
    def on_resize(self, event: Resize) -> None:
        self.layout_table(event.size.width)

    def columns(self, width: int) -> list[tuple[str, str, int]]:
        """(key, label, width) for a screen this wide: every column fits without scrolling sideways."""
        room = width - 2 - 1 - 2 * 4  # the border, the scrollbar, each column's padding
        if width >= WIDE:
            room -= 2  # the description column's padding
            fixed = [("name", "Variable", 22), ("value", "Value", 22), ("by", "Set by", 16), ("at", "Set at", 16)]
            return fixed + [("about", "What it is", max(8, room - sum(w for *_, w in fixed)))]
        fixed = [("name", "Variable", 21), ("by", "Set by", 13), ("at", "Set at", 11)]
        return fixed[:1] + [("value", "Value", max(12, room - sum(w for *_, w in fixed)))] + fixed[1:]

    def layout_table(self, width: int) -> None:
        wide = width >= WIDE
        table = self.query_one("#variables", DataTable)
        if wide == self.wide and table.columns:
            return
        self.wide = wide
        table.clear(columns=True)
        for key, label, size in self.columns(width):
            table.add_column(label, key=key, width=size)
        if self.records:
            self.fill_table()

    def fill_table(self) -> None:
        table = self.query_one("#variables", DataTable)
        at = table.cursor_row
        table.clear()
        for key, name in _rows():
            table.add_row(*self.cells(key, name), key=key)
        if table.row_count:
            table.move_cursor(row=min(at, table.row_count - 1))

    def cells(self, key: str, name: str | None) -> list[Text]:
        if name is None:  # a group's heading: its members follow, indented
            out = [Text(key, style="bold"), Text(""), Text(""), Text("")]
            return out + ([Text(_group_description(key), style="dim")] if self.wide else [])
        record = self.records.get(name) or VariableRecord(name)
        label = Text("  ." + name.partition(".")[2] if "." in name else name, no_wrap=True, overflow="ellipsis")
        if name in MIRRORED:
            label.append(f" {REGISTER_MARK}", style="bold cyan")
        if record.unreadable:  # the raw text, marked: Enter edits it into a value that reads
            value = Text.assemble(("✗ ", "bold red"), (record.value or "", "red"), no_wrap=True, overflow="ellipsis")
        elif record.value is not None:
            value = Text(record.value, no_wrap=True, overflow="ellipsis")
        else:
            value = Text("–", style="dim")
        by = Text(person(record.set_by), no_wrap=True, overflow="ellipsis")
        at = Text(when(record.set_at, short=not self.wide), no_wrap=True)
        cells = [label, value, by, at]
        if self.wide:
            cells.append(Text(RunVariables.describe(name), style="dim", no_wrap=True, overflow="ellipsis"))
        return cells

    def update_row(self, record: VariableRecord) -> None:
        table = self.query_one("#variables", DataTable)
        if record.name not in table.rows:
            return
        cells = dict(zip(("name", "value", "by", "at", "about"), self.cells(record.name, record.name)))
        for column in ("value", "by", "at"):
            table.update_cell(record.name, column, cells[column])

    def current(self) -> str | None:
        """The highlighted row's key: a variable's name, or a group's."""
        table = self.query_one("#variables", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def keep_cursor_in_view(self) -> None:
        """The pane below grows and shrinks with what it shows: once laid out, the highlighted row stays visible."""
        table = self.query_one("#variables", DataTable)
        self.call_after_refresh(lambda: table.move_cursor(row=table.cursor_row, scroll=True))

    @on(DataTable.RowHighlighted, "#variables")
    def show_detail(self) -> None:
        if self.editor is not None:  # the editor holds the pane; the detail is drawn again when it closes
            return
        key = self.current()
        pane = self.query_one("#variable-pane")
        detail = self.query_one("#variable-detail", Static)
        if key is None:
            pane.border_title = ""
            detail.update("Reading the run variables…")
            return
        pane.border_title = key
        self.keep_cursor_in_view()  # runs once the pane has its new height
        if key not in RunVariables.names():
            members = [n for n in RunVariables.names() if n.startswith(key + ".")]
            detail.update(Text.assemble((_group_description(key), "bold"), "\n",
                                        f"Its members: {', '.join(m.partition('.')[2] for m in members)}. "
                                        "Pick one to edit it.", style=""))
            return
        record = self.records.get(key) or VariableRecord(key)
        text = Text()
        text.append(RunVariables.describe(key), style="bold")
        text.append("\nValue   ")
        if record.unreadable:
            text.append(unreadable_note(record), style="bold red")
        else:
            text.append(record.value if record.value is not None else ("cleared" if record.ever_set else NOT_RECORDED),
                        style="" if record.value is not None else "italic dim")
        if record.ever_set:
            text.append(f"\nSet     by {record.set_by}, {when(record.set_at)} UTC")
        text.append(f"\nForm    {variable_form(key).rule} · Enter edits", style="dim")
        if key in MIRRORED:
            text.append("\n")
            text.append(REGISTER_MARK, style="bold cyan")
            text.append("       Lives in the instances register (i opens it); editing it here writes the register.")
        detail.update(text)

    # ---- editing ------------------------------------------------------------------------------------------------
    @on(DataTable.RowSelected, "#variables")
    async def row_selected(self) -> None:
        await self.action_edit()

    async def action_edit(self) -> None:
        key = self.current()
        if key is None:
            return
        if key not in RunVariables.names():
            self.notify(f"{key} is a group: pick one of its dates below it", timeout=4)
            return
        await self.remove_editor()
        self.editor = VariableEditor(key, record=self.records.get(key), id="variable-editor")
        self.query_one("#variable-detail").display = False
        pane = self.query_one("#variable-pane")
        pane.border_title = f"Edit {key}"
        pane.border_subtitle = "Enter stores · empty clears · Esc restores, then closes"
        await pane.mount(self.editor)
        self.editor.focus_field()
        self.keep_cursor_in_view()
        self.refresh_bindings()

    async def remove_editor(self) -> None:
        if self.editor is not None:
            editor, self.editor = self.editor, None
            await editor.remove()
        self.query_one("#variable-pane").border_subtitle = ""
        self.query_one("#variable-detail").display = True
        self.refresh_bindings()

    async def action_close_editor(self) -> None:
        await self.remove_editor()
        self.query_one("#variables", DataTable).focus()
        self.show_detail()

    @on(VariableEditor.Changed)
    async def stored(self, event: VariableEditor.Changed) -> None:
        record = VariableRecord(event.name, event.value, event.set_by, event.set_at)
        self.records[event.name] = record
        self.update_row(record)
        shown = event.value if event.value is not None else "cleared"
        self.notify(f"{event.name} = {shown}", title="Recorded", timeout=4)
        if event.name in MIRRORED:  # the register may carry other ids over with it (F3c): read those again
            self.load([n for n in MIRRORED if n != event.name])
        await self.action_close_editor()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close_editor":
            return self.editor is not None
        if action in ("back", "edit"):
            return self.editor is None
        return True

    def action_back(self) -> None:
        self.app.pop_screen()
