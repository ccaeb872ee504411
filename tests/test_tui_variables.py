"""Pilot tests: the run variables in the app. The Variables screen lists every variable with its value, who set it and
when; a value is edited in place with the same validation as `cutover set`. A bad value is refused under the field
and nothing is stored; a good one is stored under the operator and shown with who and when; a choice offers only
its choices; an empty value clears; a connector id set here lands in the instances register. The editor works on
its own in any app that carries a backend."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Input, Select, Static

from core.profile import OPERATOR_ENV
from core.demo import DEMO_OPERATOR, DemoTenant
from core.runbook.variables import RunVariables
from tests.tui_helpers import demo_app, wait_ready, wait_until
from tui.backend import Backend
from tui.screens.instances import InstancesScreen
from tui.screens.operator import OperatorScreen
from tui.screens.variables import VariablesScreen
from tui.widgets.variable_editor import VariableEditor

SIZES = [(120, 36), (80, 24)]


def history_rows(app) -> int:
    """Every variable ever recorded: a refused value must not add one."""
    return app.backend.journal.query("SELECT count(*) AS n FROM variable_history")[0]["n"]


def cell(screen: VariablesScreen, name: str, column: str) -> str:
    return str(screen.query_one("#variables", DataTable).get_cell(name, column))


def detail(screen: VariablesScreen) -> str:
    return str(screen.query_one("#variable-detail", Static).render())


async def open_variables(pilot) -> VariablesScreen:
    app = pilot.app
    await wait_ready(pilot)
    app.push_screen(VariablesScreen())
    await wait_until(pilot, lambda: isinstance(app.screen, VariablesScreen) and bool(app.screen.records))
    return app.screen


async def edit(pilot, screen: VariablesScreen, name: str, key: str = "enter") -> VariableEditor:
    """Walk the table down to the variable with the arrow keys, then Enter (or e): the editor, focused."""
    table = screen.query_one("#variables", DataTable)
    assert pilot.app.focused is table
    table.move_cursor(row=0)
    await pilot.press(*["down"] * table.get_row_index(name))
    assert screen.current() == name
    await pilot.press(key)
    await wait_until(pilot, lambda: screen.editor is not None and screen.editor.variable == name)
    editor = screen.editor
    assert pilot.app.focused is editor.field
    return editor


async def stored(pilot, name: str, rows_before: int) -> dict:
    app = pilot.app
    await wait_until(pilot, lambda: history_rows(app) > rows_before and app.screen.editor is None)
    return app.backend.journal.variable_history(name)[-1]


def cursor_visible(screen: VariablesScreen) -> bool:
    """The highlighted row is on screen (the pane below changes height with what it shows)."""
    table = screen.query_one("#variables", DataTable)
    shown = table.scrollable_content_region.height - table.header_height
    return 0 <= table.cursor_row - round(table.scroll_y) < shown


def fits(screen: VariablesScreen, width: int) -> None:
    table = screen.query_one("#variables", DataTable)
    assert table.max_scroll_x == 0  # every column on screen, nothing to scroll sideways
    assert screen.query_one("#variable-pane").region.right <= width


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_a_bad_timestamp_is_refused_under_the_field_a_good_one_is_stored_with_who_and_when(size):
    app = demo_app(scale=1)
    async with app.run_test(size=size) as pilot:
        screen = await open_variables(pilot)
        table = screen.query_one("#variables", DataTable)
        assert [k.value for k in table.rows if k.value in RunVariables.names()] == RunVariables.names()
        assert "old_cutover_dates.invoice" in table.rows  # dotted names too, under their group
        fits(screen, size[0])
        journal = app.backend.journal
        before = history_rows(app)

        editor = await edit(pilot, screen, "freeze_ts")
        assert editor.field.placeholder == "e.g. 2026-10-28T18:00Z (UTC)"  # the expected form, as an example
        await pilot.press(*"soon", "enter")
        await wait_until(pilot, lambda: editor.problem != "")
        assert editor.problem == ("freeze_ts: expected a UTC date and time like 2026-10-28T18:00Z or "
                                  "'2026-10-28 18:00', not 'soon'")
        problem = editor.query_one(".var-problem")
        assert problem.region.y == editor.field.region.bottom  # right under the field
        assert problem.region.right <= size[0]
        assert history_rows(app) == before and journal.variables().freeze_ts is None  # nothing stored
        assert cell(screen, "freeze_ts", "value") == "–"
        assert screen.editor is editor and editor.field.value == "soon"  # kept, to correct it

        await pilot.press("escape")  # the stored value back, the message gone
        assert editor.field.value == "" and editor.problem == ""
        assert screen.editor is editor

        await pilot.press(*"2026-10-28 18:00", "enter")
        row = await stored(pilot, "freeze_ts", before)
        assert row["value"] == "2026-10-28T18:00:00Z" and row["set_by"] == DEMO_OPERATOR.label
        assert journal.variables().dump()["freeze_ts"] == "2026-10-28T18:00:00Z"
        assert app.focused is table  # back on the table, the row redrawn in place
        assert cell(screen, "freeze_ts", "value") == "2026-10-28T18:00:00Z"
        assert cell(screen, "freeze_ts", "by") == "Demo operator"
        assert cell(screen, "freeze_ts", "at") in row["set_at"].replace("T", " ")
        assert f"by {DEMO_OPERATOR.label}, {row['set_at'][:10]}" in detail(screen)
        await wait_until(pilot, lambda: cursor_visible(screen))
        fits(screen, size[0])

        # Clearing: an empty value, stored as such, and still says who cleared it and when.
        before = history_rows(app)
        editor = await edit(pilot, screen, "freeze_ts", key="e")
        assert editor.field.value == "2026-10-28T18:00:00Z"
        await pilot.press("backspace", "enter")  # the text is selected on focus: one key empties it
        row = await stored(pilot, "freeze_ts", before)
        assert row["value"] is None and journal.variables().freeze_ts is None
        assert cell(screen, "freeze_ts", "value") == "–" and cell(screen, "freeze_ts", "by") == "Demo operator"
        assert "cleared" in detail(screen)

        await pilot.press("escape")  # no editor open: Back
        await wait_until(pilot, lambda: not isinstance(app.screen, VariablesScreen))


async def test_a_choice_offers_only_its_choices_and_not_recorded_clears_it():
    app = demo_app(scale=1)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_variables(pilot)
        before = history_rows(app)
        editor = await edit(pilot, screen, "provisioning_path")
        select = editor.field
        assert isinstance(select, Select)
        assert [value for _, value in select._options] == [Select.NULL, "edit-instance", "new-instance",
                                                           "new-tenant"]
        await pilot.press("enter")  # open the list; the blank "not recorded" is first
        await pilot.press("down", "down", "enter")
        row = await stored(pilot, "provisioning_path", before)
        assert row["value"] == "new-instance" and row["set_by"] == DEMO_OPERATOR.label
        assert app.backend.journal.variables().provisioning_path == "new-instance"
        assert cell(screen, "provisioning_path", "value") == "new-instance"
        await wait_until(pilot, lambda: cursor_visible(screen))

        before = history_rows(app)
        editor = await edit(pilot, screen, "provisioning_path")
        assert editor.field.value == "new-instance"
        await pilot.press("enter", "home", "enter")  # "not recorded"
        row = await stored(pilot, "provisioning_path", before)
        assert row["value"] is None and app.backend.journal.variables().provisioning_path is None
        assert cell(screen, "provisioning_path", "value") == "–"

        editor = await edit(pilot, screen, "provisioning_path")
        await pilot.press("escape")  # nothing to restore: the editor closes, nothing recorded
        await wait_until(pilot, lambda: screen.editor is None)
        assert app.focused is screen.query_one("#variables") and history_rows(app) == before + 1


async def test_a_connector_id_set_here_lands_in_the_instances_register():
    app = demo_app(scale=1)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_variables(pilot)
        register = app.backend.run.register
        assert register.instance_for("new") is None
        assert "⇄" in cell(screen, "new_instance_id", "name")
        table = screen.query_one("#variables", DataTable)
        table.move_cursor(row=table.get_row_index("new_instance_id"))
        await pilot.pause()
        assert "instances register (i opens it)" in detail(screen)

        before = history_rows(app)
        editor = await edit(pilot, screen, "new_instance_id")
        await pilot.press(*"NEW 47", "enter")  # the register's rule for ids, shown the same way
        await wait_until(pilot, lambda: editor.problem != "")
        assert "is not an id" in editor.problem
        assert register.instance_for("new") is None and history_rows(app) == before

        await pilot.press("escape")
        await pilot.press(*"NEW-4711", "enter")
        row = await stored(pilot, "new_instance_id", before)
        assert row["value"] == "NEW-4711"
        instance = register.instance_for("new")
        assert instance is not None and instance.instance_id == "NEW-4711"
        assert instance.environment == app.backend.profile.environment
        assert cell(screen, "new_instance_id", "value") == "NEW-4711"

        await pilot.press("i")  # the register shows it; back here, the screen reads the variables again
        await wait_until(pilot, lambda: isinstance(app.screen, InstancesScreen))
        instances = app.screen.query_one("#instances", DataTable)
        await wait_until(pilot, lambda: instances.row_count == 1)
        assert "NEW-4711" in [str(c) for c in instances.get_row_at(0)]
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)

        before = history_rows(app)
        await edit(pilot, screen, "new_instance_id")
        await pilot.press("backspace", "enter")  # cleared in the register too
        row = await stored(pilot, "new_instance_id", before)
        assert row["value"] is None and register.instance_for("new").instance_id is None
        assert cell(screen, "new_instance_id", "value") == "–"


async def test_the_first_save_asks_who_when_the_profile_names_nobody(monkeypatch):
    monkeypatch.delenv(OPERATOR_ENV, raising=False)
    app = demo_app(scale=1)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_variables(pilot)
        app.backend.use_operator(None)
        assert app.backend.needs_operator
        before = history_rows(app)
        editor = await edit(pilot, screen, "migration_date")
        await pilot.press(*"2026-11-02", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, OperatorScreen))
        await pilot.press(*"Ada Lovelace", "enter", *"ada@example.com", "enter")
        row = await stored(pilot, "migration_date", before)
        assert row["value"] == "2026-11-02" and row["set_by"] == "Ada Lovelace <ada@example.com>"
        assert editor.is_attached is False and cell(screen, "migration_date", "by") == "Ada Lovelace"


class EditorApp(App):
    """A tiny app holding two editors, as a step screen would: the parent only listens to their messages."""

    def __init__(self, backend: Backend):
        super().__init__()
        self.backend = backend
        self.changes: list[tuple[str, str | None]] = []
        self.refusals: list[tuple[str, str]] = []

    def compose(self) -> ComposeResult:
        yield VariableEditor("freeze_ts", id="freeze")
        yield VariableEditor("e2_decision", compact=True, id="e2")

    def on_variable_editor_changed(self, event: VariableEditor.Changed) -> None:
        self.changes.append((event.name, event.value))

    def on_variable_editor_refused(self, event: VariableEditor.Refused) -> None:
        self.refusals.append((event.name, event.message))


async def test_the_editor_works_on_its_own_at_80_columns():
    backend = Backend(demo=DemoTenant(scale=1))
    await backend.open()
    try:
        app = EditorApp(backend)
        async with app.run_test(size=(80, 24)) as pilot:
            freeze = app.query_one("#freeze", VariableEditor)
            await wait_until(pilot, lambda: freeze.record is not None)  # read in a worker on mount
            assert "not recorded" in str(freeze.query_one(".var-state", Static).render())
            assert "when the old connector stopped (C7)" in str(freeze.query_one(".var-label", Static).render())
            assert all(w.region.right <= 80 for w in app.query("VariableEditor *") if w.display)

            freeze.focus_field()
            await pilot.press(*"28/10/2026", "enter")
            await wait_until(pilot, lambda: app.refusals)
            assert app.refusals[0][0] == "freeze_ts" and "expected a UTC date and time" in freeze.problem
            assert app.changes == [] and backend.journal.variable_history("freeze_ts") == []
            await pilot.press("escape")
            assert isinstance(app.focused, Input) and app.focused.value == "" and freeze.problem == ""

            await pilot.press(*"2026-10-28T18:00Z", "enter")
            await wait_until(pilot, lambda: app.changes)
            assert app.changes == [("freeze_ts", "2026-10-28T18:00:00Z")]
            state = str(freeze.query_one(".var-state", Static).render())
            assert "2026-10-28T18:00:00Z" in state and f"set by {DEMO_OPERATOR.label}" in state

            e2 = app.query_one("#e2", VariableEditor)
            await wait_until(pilot, lambda: e2.record is not None)
            assert [v for _, v in e2.field._options] == [Select.NULL, "sync", "mark-yes", "ignore"]
            e2.focus_field()
            await pilot.press("enter", "down", "enter")  # the compact one: name, choice, who on one line
            await wait_until(pilot, lambda: len(app.changes) == 2)
            assert app.changes[1] == ("e2_decision", "sync")
            assert e2.field.region.y == e2.query_one(".var-name").region.y
            assert "Demo operator" in str(e2.query_one(".var-state-inline", Static).render())
    finally:
        await backend.close()


def hand_edit(backend: Backend, name: str, value: str) -> None:
    """A stored value the parser no longer takes, as sqlite3 (or an older cutover) would leave it."""
    import sqlite3

    db = sqlite3.connect(backend.journal.path)
    try:
        db.execute("INSERT INTO variable(name, value, set_at, set_by) VALUES (?, ?, '2026-01-01T00:00:00Z', 'x') "
                   "ON CONFLICT(name) DO UPDATE SET value = excluded.value", (name, value))
        db.commit()
    finally:
        db.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_an_unreadable_stored_value_is_shown_and_repaired_in_place(size):
    app = demo_app(scale=1)
    async with app.run_test(size=size) as pilot:
        await wait_ready(pilot)
        app.backend.runbook.set_variable("migration_date", "2026-11-02")
        hand_edit(app.backend, "freeze_ts", "28/10/2026")
        screen = await open_variables(pilot)
        assert cell(screen, "freeze_ts", "value") == "✗ 28/10/2026"  # marked, with the raw text
        assert cell(screen, "migration_date", "value") == "2026-11-02"  # the rest still reads
        assert len([k for k in screen.query_one("#variables", DataTable).rows if k.value in RunVariables.names()]) \
            == len(RunVariables.names())
        fits(screen, size[0])

        editor = await edit(pilot, screen, "freeze_ts")
        state = str(editor.query_one(".var-state", Static).render())
        assert "unreadable: the journal holds '28/10/2026', not a UTC date and time like 2026-10-28T18:00Z" in state
        assert editor.field.value == "28/10/2026"  # the raw text, to correct
        before = history_rows(app)
        await pilot.press("enter")  # unchanged: says why it does not read, stores nothing
        await wait_until(pilot, lambda: editor.problem != "")
        assert "expected a UTC date and time" in editor.problem and history_rows(app) == before

        await pilot.press("escape")
        await pilot.press("home", "ctrl+k", *"2026-10-28 18:00", "enter")  # the raw text replaced
        row = await stored(pilot, "freeze_ts", before)
        assert row["value"] == "2026-10-28T18:00:00Z"
        assert app.backend.journal.variables().unreadable == {}
        assert cell(screen, "freeze_ts", "value") == "2026-10-28T18:00:00Z"


async def test_a_step_editor_shows_an_unreadable_value_without_failing():
    backend = Backend(demo=DemoTenant(scale=1))
    await backend.open()
    try:
        hand_edit(backend, "freeze_ts", "garbage")
        hand_edit(backend, "e2_decision", "maybe")
        app = EditorApp(backend)
        async with app.run_test(size=(80, 24)) as pilot:
            freeze, e2 = app.query_one("#freeze", VariableEditor), app.query_one("#e2", VariableEditor)
            await wait_until(pilot, lambda: freeze.record is not None and e2.record is not None)
            assert "✗ unreadable: the journal holds 'garbage'" in str(freeze.query_one(".var-state", Static).render())
            assert str(e2.query_one(".var-state-inline", Static).render()).startswith("✗ ")
            assert e2.field.value is Select.NULL  # a choice it does not offer is not forced into the list
            e2.focus_field()
            await pilot.press("enter", "down", "enter")  # the list opens on "not recorded": the first choice
            await wait_until(pilot, lambda: app.changes)
            assert app.changes == [("e2_decision", "sync")]
            assert backend.journal.variables().unreadable == {"freeze_ts": "garbage"}
    finally:
        await backend.close()
