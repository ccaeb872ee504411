"""A step's result taken before a person last recorded something (a variable, a confirmation, a ticket, a waiver,
an apply) is checked again when its screen opens, instead of showing a world the run has moved past."""

from __future__ import annotations

import time

from textual.widgets import Static

from core.journal import Journal
from core.runbook.model import utc_now
from tests.tui_helpers import demo_app, wait_ready, wait_until
from tui.screens.step import StepScreen


def test_the_journal_says_whether_a_person_recorded_anything_since_a_time(tmp_path):
    with Journal(tmp_path / "journal.db", operator="Ann <ann@example.com>") as journal:
        before = "2000-01-01T00:00:00Z"
        assert not journal.recorded_since(before)  # nothing recorded yet
        journal.confirm("B4", "period open")
        assert journal.recorded_since(before)
        later = "2999-01-01T00:00:00Z"
        assert not journal.recorded_since(later)
        now = utc_now()
        time.sleep(1.05)  # the journal's times are whole seconds
        assert not journal.recorded_since(now)
        journal.set_variable("freeze_ts", "2026-12-01T10:00:00Z")
        assert journal.recorded_since(now)
        now = utc_now()
        time.sleep(1.05)
        journal.withdraw_confirmation("B4")  # taking a record back is a change too
        assert journal.recorded_since(now) and not journal.variables_set_since(now)  # but no variable changed


def _head(screen) -> str:
    return str(screen.query_one("#step-head", Static).render())


async def test_c6_checked_before_freeze_ts_is_checked_again_when_its_screen_opens():
    app = demo_app(scale=200)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        backend = app.backend
        first = await backend.check("C6")
        assert "freeze_ts is not recorded" in first.summary
        time.sleep(1.05)  # whole-second times: the variable is set strictly after the check
        backend.journal.set_variable("freeze_ts", utc_now())  # recorded elsewhere: C7's screen, or the CLI
        app.push_screen(StepScreen("C6"))
        await wait_until(pilot, lambda: isinstance(app.screen, StepScreen) and app.screen.is_mounted)
        screen = app.screen
        await wait_until(pilot, lambda: backend.runbook.state("C6").result.checked_at > first.checked_at, timeout=30)
        await wait_until(pilot, lambda: "not recorded" not in _head(screen) and "checking" not in _head(screen))
        assert "freeze_ts is not recorded" not in str(screen.query_one("#step-check", Static).render())


async def test_a_fail_is_checked_again_after_a_variable_changes_but_not_after_a_confirmation():
    """A fail is the tenant's data: a confirmation elsewhere leaves it alone (opening a screen never costs a Data
    Query job for nothing), but a run variable it may be counted against (C6's freeze_ts) re-checks it."""
    app = demo_app(scale=200)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        backend = app.backend
        backend.journal.set_variable("freeze_ts", "2020-01-01T00:00:00Z")  # long ago: C6 finds what was made since
        first = await backend.check("C6")
        assert first.status.value == "fail", first.summary
        time.sleep(1.05)
        backend.journal.confirm("B4", "period open")  # a record, but not one C6 reads
        app.push_screen(StepScreen("C6"))
        await wait_until(pilot, lambda: isinstance(app.screen, StepScreen) and app.screen.is_mounted)
        await pilot.pause(1.0)  # long enough for a re-check to have started and landed
        assert backend.runbook.state("C6").result.checked_at == first.checked_at
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, StepScreen))
        backend.journal.set_variable("freeze_ts", utc_now())  # the freeze C6 counts from moves
        app.push_screen(StepScreen("C6"))
        await wait_until(pilot, lambda: backend.runbook.state("C6").result.checked_at > first.checked_at, timeout=30)
        assert backend.runbook.state("C6").result.status.value == "pass"
