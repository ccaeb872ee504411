"""Pilot tests: the demo's "Simulated tenant" panel plays what a person or Zuora Support would do outside the app.

The panel is opened with `push_screen` (its key and palette entry live in tui.app); an action is played with Enter
on its row, as a person would.
"""

from __future__ import annotations

from textual.widgets import OptionList, RichLog

from core.demo import DEMO_OPERATOR
from core.runbook.model import Status
from tests.tui_helpers import demo_app, wait_ready, wait_until
from tui.app import CutoverApp
from tui.backend import Backend
from tui.screens.runbook import RunbookScreen
from tui.screens.simulated import SimulatedScreen

FIXES = ("B2/V1", "B2/V2", "B2/V3", "B2/V4", "B2/V5", "B2/V6", "B3")


async def open_panel(pilot) -> SimulatedScreen:
    await wait_ready(pilot)
    pilot.app.push_screen(SimulatedScreen())
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, SimulatedScreen)
                     and pilot.app.screen.player is not None)
    # A RichLog holds its writes until it first has a size (a layout later): wait for the log's first lines
    await wait_until(pilot, lambda: pilot.app.screen.query_one("#sim-log", RichLog).lines)
    return pilot.app.screen


async def play(pilot, screen: SimulatedScreen, key: str, timeout: float = 60.0, *, anyway: bool = False) -> str:
    """Highlight the action's row and press Enter; wait for it to end. Its outcome text (✓ played … / ▲ refused).
    `anyway`: the step is blocked, so the panel asks first; play it out of order."""
    from tui.screens.confirm import ConfirmWrite

    options = screen.query_one("#sim-actions", OptionList)
    options.highlighted = options.get_option_index(key)
    await pilot.pause(0.05)
    screen.outcomes.pop(key, None)
    await pilot.press("enter")
    if anyway:
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmWrite))
        assert "out of order" in str(pilot.app.screen.title_text)
        await pilot.press("enter")
    await wait_until(pilot, lambda: screen.playing is None and key in screen.outcomes, timeout)
    return screen.outcomes[key].plain


def log_text(screen: SimulatedScreen) -> str:
    return "\n".join(strip.text for strip in screen.query_one("#sim-log", RichLog).lines)


def notifications(app) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def test_the_panel_lists_simulated_actions_in_runbook_order_without_the_tools_own_writes():
    app = demo_app(scale=300)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_panel(pilot)
        keys = list(screen.actions)
        assert not {"E1", "E2", "G2"} & set(keys)  # the tool's own writes: applied on their step screens
        assert keys[:8] == ["A2", *FIXES]
        assert keys.index("C7") < keys.index("D1") < keys.index("F1") < keys.index("G1") < keys.index("H1")
        assert {"F3a", "F3b"} <= set(keys)  # both until A3 records the path
        assert keys[-3:] == ["run-now", "time-passes", "start-old"]
        options = screen.query_one("#sim-actions", OptionList)
        d1 = str(options.get_option("D1").prompt)
        assert d1.startswith("Simulated D1 · Support enables IS and runs the migration")
        assert all(str(options.get_option(k).prompt).startswith("Simulated ") for k in keys)
        assert "Run Now (the connector instance Connect opens)" in str(options.get_option("run-now").prompt)
        assert "Time passes: scheduled runs of every running instance" in str(
            options.get_option("time-passes").prompt)
        footer_actions = {b.binding.action for b in app.active_bindings.values() if b.binding.show}
        assert {"play", "back"} <= footer_actions
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, RunbookScreen))


async def test_fixing_the_seeded_records_lets_v1_pass_and_records_nothing_for_the_person():
    app = demo_app(scale=300)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_panel(pilot)
        backend = app.backend
        before = await backend.check("B2/V1")
        assert before.status is not Status.PASS and before.count  # the seed has records for V1 to list
        assert (await play(pilot, screen, "B2/V1")).startswith("✓")
        assert "fixed at the source" in log_text(screen)
        await wait_until(pilot, lambda: any("Simulated: B2/V1" in n for n in notifications(app)))
        after = await backend.check("B2/V1")
        assert after.status is Status.PASS, after.summary
        assert backend.state("B2/V1").confirmation is None  # the act confirms nothing for the person


async def test_b3_played_with_a_date_weeks_out_says_the_demo_cannot_wait_and_what_to_do():
    """A date 7+ days out (as B1 advises) puts B3's two-day window in the future; the demo's clock never gets
    there. The panel says so at once, and following its advice lets B3 pass."""
    from datetime import date, timedelta

    app = demo_app(scale=200)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_panel(pilot)
        backend = app.backend
        far = date.today() + timedelta(days=19)
        backend.runbook.set_variable("target_migration_date", far.isoformat())
        assert (await play(pilot, screen, "B3")).startswith("✓")
        said = lambda: " ".join(log_text(screen).split())  # noqa: E731 - the log wraps at its width
        await wait_until(pilot, lambda: "record today as target_migration_date on B1" in said())
        assert f"on or after {far - timedelta(days=2)}, two days before the migration on {far}" in said()
        assert "Nothing played yet" not in said()  # the hint went with the first line played
        assert (await backend.check("B3")).status is Status.FAIL  # honest: made too early for that date
        backend.runbook.set_variable("target_migration_date", date.today().isoformat())
        b3 = await backend.check("B3")
        assert b3.status is Status.PASS, b3.summary


async def test_c7_stops_the_old_instance_in_the_simulator_and_leaves_the_confirmation_to_the_person():
    app = demo_app(scale=300)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_panel(pilot)
        backend, connector = app.backend, app.backend.demo.sim.connector
        # C7 reads the old instance's id, which A2 records; the panel says so instead of acting on nothing.
        assert (await play(pilot, screen, "C7")).startswith("▲")
        assert "old_instance_id" in log_text(screen)
        assert (await play(pilot, screen, "A2")).startswith("✓")
        old = backend.run.journal.variables().old_instance_id
        assert old and connector.instance(old)["state"] == "running"
        assert (await play(pilot, screen, "C7")).startswith("✓")
        assert connector.instance(old)["state"] == "stopped"
        assert f"old instance {old} stopped" in log_text(screen)
        assert backend.state("C7").confirmation is None
        assert (await play(pilot, screen, "start-old")).startswith("✓")  # stop or start: both are offered
        assert connector.instance(old)["state"] == "running"


async def test_d1_is_refused_with_the_worlds_reason_then_migrates_once_the_records_are_fixed():
    app = demo_app(scale=300)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_panel(pilot)
        backend, store = app.backend, app.backend.demo.sim.store
        assert (await play(pilot, screen, "D1", anyway=True)).startswith("▲")
        assert "cannot start" in log_text(screen)  # the simulated Support's own reason
        await wait_until(pilot, lambda: any("Not done: D1" in n and "cannot start" in n for n in notifications(app)))
        assert not store.invoice_settlement
        assert app.screen is screen and screen.playing is None  # still usable

        for key in FIXES:
            assert (await play(pilot, screen, key)).startswith("✓"), log_text(screen)
        assert (await play(pilot, screen, "D1", timeout=120, anyway=True)).startswith("✓"), log_text(screen)
        assert store.invoice_settlement
        variables = backend.run.journal.variables()
        assert variables.migration_date is not None
        history = backend.run.journal.variable_history("migration_date")
        assert [h["set_by"] for h in history] == [DEMO_OPERATOR.label]
        assert backend.state("D1").ticket is None  # Support's part only: the ticket is the person's
        assert "Support's migration" in log_text(screen)
        assert backend.invoice_settlement is True  # the header's IS flag was probed afresh
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, RunbookScreen))


async def test_the_panel_refuses_a_real_profile():
    app = CutoverApp(Backend(profile_name="acme-sbx"))  # no such profile: the backend never connects
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        assert not app.backend.is_demo
        app.push_screen(SimulatedScreen())
        for _ in range(100):  # it leaves after its first refresh; a busy CI box can take a while to get there
            await pilot.pause(0.05)
            if not isinstance(app.screen, SimulatedScreen):
                break
        assert not isinstance(app.screen, SimulatedScreen)
        await wait_until(pilot, lambda: any("demo only" in n for n in notifications(app)))


async def test_an_act_whose_step_is_blocked_asks_first_and_esc_plays_nothing():
    """One Enter must not run Support's migration out of order: D1 is blocked, so the panel asks."""
    from tui.screens.confirm import ConfirmWrite

    app = demo_app(scale=300)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_panel(pilot)
        options = screen.query_one("#sim-actions", OptionList)
        options.highlighted = options.get_option_index("D1")
        await pilot.pause(0.05)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmWrite))
        assert "D1 is blocked until" in app.screen.what and "C7" in app.screen.what
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        await pilot.pause(0.3)
        assert screen.playing is None and "D1" not in screen.outcomes
        assert not app.backend.demo.sim.store.invoice_settlement
