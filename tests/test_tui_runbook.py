"""Pilot tests: a consultant's path through the checklist on the demo tenant, keys only."""

from __future__ import annotations

import asyncio

from textual.widgets import DataTable, Input, Static

from core.runbook.model import Phase
from sim_tenant import migrate
from tests.tui_helpers import demo_app, wait_ready, wait_until
from tui.screens.confirm import ConfirmWrite
from tui.screens.runbook import RunbookScreen
from tui.screens.step import StepScreen


async def go_to_step(pilot, step_id: str) -> StepScreen:
    """Through the command palette, as a person would: Ctrl+P, "Go to step …", Enter."""
    await pilot.press("ctrl+p")
    await pilot.pause(0.2)
    await pilot.press(*f"go to step {step_id}:")
    await pilot.pause(0.5)
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, StepScreen))
    assert pilot.app.screen.step_id == step_id
    return pilot.app.screen


async def test_check_a_phase_then_confirm_a_human_step():
    app = demo_app(scale=300)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        home = app.screen
        assert isinstance(home, RunbookScreen)
        await pilot.press("c")  # check phase A in workers; rows update as results land
        await wait_until(pilot, lambda: not home.running and app.backend.state("A1").result is not None)
        table = home.query_one("#steps", DataTable)
        assert str(table.get_cell("A1", "st")) == "✓"
        assert app.backend.state("A1").status == "pass"

        await go_to_step(pilot, "B5")
        await pilot.press("n")  # focus the note
        assert isinstance(app.focused, Input)
        await pilot.press(*"reviewed integrations with the client team")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.backend.state("B5").confirmation is not None)
        confirmation = app.backend.state("B5").confirmation
        assert confirmation.note == "reviewed integrations with the client team"
        assert app.backend.state("B5").status == "pass"
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is home)
        assert home.phase is Phase.B  # the palette moved the checklist to the step's phase
        assert str(home.query_one("#steps", DataTable).get_cell("B5", "st")) == "◉"


async def test_plan_and_apply_e1_from_the_step_screen():
    app = demo_app(scale=300)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        store = app.backend.demo.sim.store
        # Zuora Support's part (D1), done by the simulator's stand-in.
        await asyncio.to_thread(migrate, app.backend.demo.sim)
        # Case 2 memos (their negative invoice never reached NetSuite) are marked too: booked in NetSuite by hand.
        app.backend.runbook.set_variable("e1_decision", "mark-yes")
        targets = store.scalar("SELECT count(*) FROM creditmemo WHERE reasoncode = 'AR Mig - negative invoice' "
                               "AND coalesce(transferredtoaccounting, 'No') <> 'Yes'")
        assert targets > 0

        screen = await go_to_step(pilot, "E1")
        await pilot.press("r")
        await wait_until(pilot, lambda: app.backend.state("E1").result is not None)
        assert app.backend.state("E1").result.count == targets

        def footer_actions() -> set[str]:
            return {b.binding.action for b in app.active_bindings.values() if b.enabled}

        assert {"recheck", "plan", "apply"} <= footer_actions() and "export_plan" not in footer_actions()
        await pilot.press("p")
        await wait_until(pilot, lambda: screen.plan is not None)
        assert screen.plan.total == targets
        await wait_until(pilot, lambda: "export_plan" in footer_actions())  # Export is offered once there is a plan
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmWrite))
        shown = str(app.screen.query_one("#what", Static).render())  # the seal the person compares with the plan's
        assert shown.startswith(f"Plan #{screen.plan.plan_id} · seal {screen.plan.seal[:8]} · {targets} CreditMemo")
        await pilot.click("#apply")
        await wait_until(pilot, lambda: app.screen is screen and not screen.applying
                         and app.backend.state("E1").status == "pass", timeout=30)
        left = store.scalar("SELECT count(*) FROM creditmemo WHERE reasoncode = 'AR Mig - negative invoice' "
                            "AND coalesce(transferredtoaccounting, 'No') <> 'Yes'")
        assert left == 0
        assert "Apply done" in str(screen.query_one("#apply-status").render())


async def test_apply_feedback_after_esc_and_resume_is_never_stale():
    """Esc during an apply cancels safely and says where it stopped; applying again resumes the same plan; the
    status, the progress bar and the plan's header are the run's own each time, never one run behind."""
    app = demo_app(scale=10_000, zuora_concurrency=2)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot, timeout=60)
        await asyncio.to_thread(migrate, app.backend.demo.sim)
        app.backend.runbook.set_variable("e1_decision", "mark-yes")
        screen = await go_to_step(pilot, "E1")
        await pilot.press("p")
        await wait_until(pilot, lambda: screen.plan is not None, timeout=60)
        total = screen.plan.total
        assert total > 150  # several bulk calls of 50, two at a time
        app.backend.demo.sim.config.latency_ms = 1500  # slow enough to be caught half-way
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmWrite))
        await pilot.press("enter")  # the dialog's focused button applies
        await wait_until(pilot, lambda: app.screen is screen and screen.applying)
        panel = screen.query_one("#apply-panel")
        await pilot.pause(0.2)
        body = screen.query_one("#step-body")  # the progress is on screen at 80x24, though p scrolled to the plan
        # shown, then scrolled into view a refresh later: a loaded box may take longer than the pause
        await wait_until(pilot, lambda: not panel.has_class("hidden") and body.scroll_y <= panel.virtual_region.y
                         and panel.virtual_region.bottom <= body.scroll_y + body.size.height)
        await pilot.press("a")  # pressed again while it runs: it says so, and starts nothing
        await wait_until(pilot, lambda: any("applying already" in n.message for n in app._notifications))
        # The memos are re-read just before the first write: cancel once writes are on their way.
        await wait_until(pilot, lambda: app.backend.journal.plan(screen.plan.plan_id).counts["sent"] > 0,
                         timeout=30)
        await pilot.press("escape")  # cancel safely
        await wait_until(pilot, lambda: not screen.applying, timeout=60)
        assert app.screen is screen  # Esc cancelled the apply; it did not leave the screen
        plan = app.backend.journal.latest_plan("E1")
        status = str(screen.query_one("#apply-status", Static).render())
        assert status.startswith("Apply cancelled:") and f"{plan.remaining:,} of {total:,} still to write" in status
        assert 0 < plan.remaining < total
        header = str(screen.query_one("#plan-text", Static).render()).splitlines()[0]
        assert f"{plan.remaining:,}" in header  # the plan's header is this run's, not the one before

        app.backend.demo.sim.config.latency_ms = 0
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmWrite))
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen and not screen.applying
                         and app.backend.state("E1").status == "pass", timeout=60)
        assert app.backend.journal.latest_plan("E1").plan_id == plan.plan_id  # resumed, not planned again
        status = str(screen.query_one("#apply-status", Static).render())
        assert status.startswith("Apply done:") and f"0 of {total:,} still to write" in status
        assert "Re-check: Every AR Mig memo" in status
        assert screen.query_one("#apply-progress").percentage == 1.0
