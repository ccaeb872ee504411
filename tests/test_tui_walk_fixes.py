"""Pilot tests for what a consultant hit walking the demo: the Simulated tenant panel asks only for what the step
screen offers, remembers what was played, and the step screens below read again what it recorded."""

from __future__ import annotations

from textual.widgets import OptionList

from core.playing import playables
from tests.test_tui_simulated import open_panel, play
from tests.tui_helpers import demo_app, wait_ready, wait_until
from tui.screens.confirm import ConfirmWrite
from tui.screens.simulated import SimulatedScreen
from tui.screens.step import StepScreen
from tui.widgets.variable_editor import VariableEditor


def test_the_panel_asks_for_a_confirmation_only_where_the_step_screen_offers_one():
    after = {p.key: p.afterwards for p in playables()}
    for key in ("F1", "G1"):  # no confirmation on their screens: n would type the note into the footer's keys
        assert after[key] == f"Re-check {key} on its step screen (r)."
    for key in ("A2", "C7", "H1"):
        assert after[key] == f"Confirm {key} on its step screen (n), with a note."


async def test_a_step_screen_reads_again_what_the_panel_recorded():
    app = demo_app(scale=300)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        app.push_screen(StepScreen("A2"))
        await wait_until(pilot, lambda: isinstance(app.screen, StepScreen)
                         and app.screen.query(VariableEditor))
        step = app.screen
        editor = step.query_one(VariableEditor)
        assert editor.variable == "old_instance_id"
        await wait_until(pilot, lambda: editor.record is not None)
        assert editor.record.value is None
        panel = await open_panel(pilot)
        assert (await play(pilot, panel, "A2")).startswith("✓")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is step)
        await wait_until(pilot, lambda: editor.record.value is not None)
        assert editor.field.value == editor.record.value  # the row shows the value the act recorded


async def test_the_panel_remembers_what_was_played_and_asks_before_playing_it_again():
    app = demo_app(scale=300)
    async with app.run_test(size=(120, 36)) as pilot:
        panel = await open_panel(pilot)
        assert (await play(pilot, panel, "A2")).startswith("✓")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, SimulatedScreen))
        again = await open_panel(pilot)
        options = again.query_one("#sim-actions", OptionList)
        assert "✓ played" in str(options.get_option("A2").prompt)
        assert again.selected_key() != "A2"  # a stray Enter does not replay it
        assert any("A2" in strip.text and "✓" in strip.text for strip in again.query_one("#sim-log").lines)
        options.highlighted = options.get_option_index("A2")
        await pilot.pause(0.05)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmWrite))
        assert again.playing is None
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is again)
        assert again.playing is None


async def test_the_runbook_footer_shows_the_main_keys_within_80_columns():
    from textual.widgets._footer import FooterKey

    app = demo_app(scale=200)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        main = {"enter", "n", "c", "v", "i", "S", "ctrl+r", "f1", "m"}

        def keys() -> dict:
            return {k.key: k for k in app.screen.query(FooterKey)}

        # the footer is rebuilt when the bindings change and laid out a refresh later: wait for it to settle
        await wait_until(pilot, lambda: main <= set(keys()) and all(k.region.width for k in keys().values()))
        assert all(k.region.right <= 80 and k.region.width for k in keys().values())  # none cut or pushed off


async def test_the_variable_row_says_who_with_a_space_after_the_mark():
    app = demo_app(scale=200)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        app.backend.runbook.set_variable("target_migration_date", "2099-01-15")
        app.push_screen(StepScreen("B1"))
        await wait_until(pilot, lambda: isinstance(app.screen, StepScreen) and app.screen.query(VariableEditor))
        editor = next(e for e in app.screen.query(VariableEditor) if e.variable == "target_migration_date")
        await wait_until(pilot, lambda: editor.record is not None and editor.record.value is not None)
        inline = str(editor.query_one(".var-state-inline").render())
        assert inline.startswith("✓ ") and "operator" in inline.lower()


async def test_ctrl_r_names_the_palette_entries_for_the_other_formats(tmp_path):
    app = demo_app(scale=200)
    app.downloads_dir = tmp_path
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: any("Sign-off report saved" in n.message for n in app._notifications))
        saved = next(n.message for n in app._notifications if "Sign-off report saved" in n.message)
        assert "Ctrl+P, Report as HTML / PDF / JSON" in saved


async def test_variable_names_stay_on_their_line_and_empty_fields_read_as_examples():
    app = demo_app(scale=200)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        app.push_screen(StepScreen("F2"))
        await wait_until(pilot, lambda: isinstance(app.screen, StepScreen) and app.screen.query(VariableEditor))
        box = app.screen.query_one("#step-needs")
        longest = VariableEditor("old_cutover_dates.ns_payment", compact=True)
        await box.mount(longest)
        await wait_until(pilot, lambda: longest.query_one(".var-name").region.width > 0)  # laid out a refresh later
        for editor in app.screen.query(VariableEditor):
            name = editor.query_one(".var-name")
            assert name.region.height == 1 and name.region.width >= len(editor.variable)  # no wrap, not cut
            assert editor.field.placeholder.startswith(("e.g.", "the id, e.g."))
        login = next(e for e in app.screen.query(VariableEditor) if e.variable == "connect_login_name")
        assert "Connect" in login.field.placeholder


async def test_p_brings_the_plan_into_view_and_a_spent_plan_is_not_applied_again():
    import asyncio

    from sim_tenant import migrate
    from textual.widgets import Button

    app = demo_app(scale=300)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_ready(pilot)
        await asyncio.to_thread(migrate, app.backend.demo.sim)
        app.backend.runbook.set_variable("e1_decision", "mark-yes")
        await app.backend.check("E1")  # a result to waive: the Waive button joins the row
        app.push_screen(StepScreen("E1"))
        await wait_until(pilot, lambda: isinstance(app.screen, StepScreen))
        screen = app.screen
        await pilot.pause(0.3)
        await pilot.press("p")
        await wait_until(pilot, lambda: screen.plan is not None and screen.plan.total > 0)
        body = screen.query_one("#step-body")
        plan = screen.query_one("#plan-text")
        # the scroll to the plan comes after a refresh (call_after_refresh): wait for it rather than a fixed pause
        await wait_until(pilot, lambda: body.region.y <= plan.region.y < body.region.bottom)  # on screen, at the top
        shown = [b for b in screen.query("#step-buttons Button").results(Button) if b.display]
        assert {b.id for b in shown} >= {"recheck", "plan", "apply", "export", "waive"}
        row = screen.query_one("#step-buttons")
        for button in shown:  # the button row is not cut at 80 columns: each button whole, inside its row
            assert button.region.right <= row.region.right and button.region.width >= len(str(button.label)) + 2
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmWrite))
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen and not screen.applying and screen.applied, timeout=30)
        await wait_until(pilot, lambda: screen.plan.remaining == 0)
        await pilot.press("a")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ConfirmWrite)
        await wait_until(pilot, lambda: any("make a new plan first (p)" in n.message for n in app._notifications))


def test_sample_columns_fit_the_width_and_keep_amounts_and_dates_whole():
    from tui.widgets.sample_table import fit_widths, sample_cell

    columns = ["id", "name", "amount", "memodate"]
    rows = [{"id": "ac22c29c976c807bdfae572030c91182", "name": "Pied Piper Incorporated of Palo Alto",
             "amount": 1250.6, "memodate": "2026-12-01"}, {"id": "x", "name": "Hooli", "amount": 25.0,
                                                           "memodate": "2026-12-02"}]
    cells = [[sample_cell(r[c]) for c in columns] for r in rows]
    assert [c.plain for c in cells[0][2:]] == ["1,250.60", "2026-12-01"] and cells[1][2].plain == "25.00"
    assert cells[0][2].justify == "right"
    widths = fit_widths(columns, cells, 60)
    assert sum(widths) + 2 * len(columns) <= 60
    assert widths[2:] == [8, 10]  # the amount and the date are whole; the id and the name give way
    assert fit_widths(columns, cells, 200) == [32, 36, 8, 10]  # room enough: nothing is cut


async def test_the_records_found_count_is_the_checks_total_and_the_table_fits_at_120():
    app = demo_app(scale=300)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await app.backend.check("C1")
        app.push_screen(StepScreen("C1"))
        # in front at once, composed and laid out later: wait for the table's size, not a fixed pause
        await wait_until(pilot, lambda: isinstance(app.screen, StepScreen) and app.screen.query("#sample")
                         and app.screen.query_one("#sample").size.width > 0)
        table = app.screen.query_one("#sample")
        state = app.backend.state("C1")
        total = sum(state.result.details.get(part, 0) for part in {r.get("part") for r in state.result.sample})
        shown = min(len(state.result.sample), 20)
        assert table.border_title == (f"Records found ({total:,})" if total == shown
                                      else f"Records found ({shown} of {total:,} shown)")
        assert sum(c.get_render_width(table) for c in table.columns.values()) <= table.size.width
        amounts = [table.get_cell_at((0, i)) for i, c in enumerate(table.columns.values()) if str(c.label) == "amount"]
        assert amounts and amounts[0].plain.endswith(".00") and amounts[0].justify == "right"


def test_core_hints_name_the_field_above_when_its_editor_is_on_screen():
    from tui.widgets.step_panels import set_above

    text = "run variable freeze_ts is not recorded: when the old connector stopped (cutover set freeze_ts VALUE)"
    assert set_above(text, ["freeze_ts"]).endswith("(set freeze_ts above)")
    # no editor for it here: it is set on its own step, or in Variables, never on a command line
    assert set_above(text, ["go_live_ts"]).endswith("stopped (set freeze_ts in its field or with v)")
    assert set_above("unreadable (repair it: cutover set freeze_ts VALUE)", ["freeze_ts"]) == \
        "unreadable (repair it in its field above)"


async def test_a_step_screen_says_set_it_above_not_a_command():
    from textual.widgets import Static

    app = demo_app(scale=300)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        app.push_screen(StepScreen("C6"))
        await wait_until(pilot, lambda: isinstance(app.screen, StepScreen) and app.screen.query(VariableEditor))
        step = app.screen
        assert "freeze_ts" in [e.variable for e in step.query(VariableEditor)]
        await pilot.press("r")

        def head() -> str:
            return str(step.query_one("#step-head", Static).render())

        await wait_until(pilot, lambda: "freeze_ts" in head())
        assert "set freeze_ts above" in head() and "cutover set" not in head()


async def test_e1_offers_its_case_2_decision_in_place_and_a_second_confirmation_asks_first():
    """E1's instructions name e1_decision (digits in a name once hid it); B5's second note asks before replacing."""
    from textual.widgets import Input

    app = demo_app(scale=300)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        app.push_screen(StepScreen("E1"))
        await wait_until(pilot, lambda: isinstance(app.screen, StepScreen) and app.screen.query(VariableEditor))
        assert "e1_decision" in [e.variable for e in app.screen.query(VariableEditor)]
        await pilot.press("escape")
        app.backend.runbook.confirm("B5", "first note")
        app.push_screen(StepScreen("B5"))
        await wait_until(pilot, lambda: isinstance(app.screen, StepScreen) and app.screen.step_id == "B5"
                         and app.screen.query("#note"))
        step = app.screen
        step.query_one("#note", Input).focus()
        await pilot.press(*"second note", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmWrite))
        assert "Replace the confirmation of B5?" == app.screen.title_text and "first note" in app.screen.what
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is step)
        assert app.backend.state("B5").confirmation.note == "first note"
        assert step.query_one("#note", Input).value == ""  # the field shows what is recorded


def test_a_step_screen_says_what_its_own_keys_do_instead_of_command_lines():
    from tui.widgets.step_panels import set_above

    assert set_above("confirm when done (cutover confirm A2 --note ...)", [], "A2") == \
        "confirm when done (n, then a note, confirms it)"
    assert set_above("(cutover ticket B1 --number N)", [], "B1") == "(type it in the ticket number field below)"
    assert set_above("decide (cutover set e2_decision sync|mark-yes|ignore)", ["e2_decision"], "E2") == \
        "decide (choose e2_decision above)"
    assert set_above("14 not marked (cutover apply E1)", [], "E1") == "14 not marked (p plans it, a applies it)"
    # another step's command, or a variable with no field here, is done elsewhere in the app: it says where
    assert set_above("blocked until cutover apply E1 is done", [], "H1") == \
        "blocked until plan and apply E1 with p and a on its screen is done"
    assert set_above("(cutover set e2_decision sync|mark-yes)", [], "E2") == "(choose e2_decision in its field or with v)"
