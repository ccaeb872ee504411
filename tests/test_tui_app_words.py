"""The app never sends a consultant to a terminal for what a screen does: core's command lines ("cutover confirm H1
--note ...") become the screen and key that do it (tui.app_words), in instructions, summaries, dialogs and tables."""

from __future__ import annotations

import re

import pytest
from textual.widgets import Static

from core.runbook.phases import RUNBOOK
from tests.tui_helpers import demo_app, wait_ready, wait_until
from tui.app_words import app_words
from tui.screens.step import StepScreen

# What a screen does; `cutover check F1 --oauth-secret` and `cutover profile fields` stay, said as the command line's.
COMMAND = re.compile(r"cutover (set|confirm|ticket|apply|plan|waive|undo) ")
PATHS = (None, "new-instance", "edit-instance", "new-tenant")


@pytest.mark.parametrize("path", PATHS)
def test_no_instruction_of_any_step_names_a_command_a_screen_does(path):
    said = [(step.id, line) for step in RUNBOOK for line in step.instructions_on(path) if COMMAND.search(line)]
    assert len(said) >= 8  # core's words do name the command line: the app must translate them all
    left = [(sid, app_words(line)) for sid, line in said if COMMAND.search(app_words(line))]
    assert left == []


@pytest.mark.parametrize(("core", "app"), [
    ("confirm when done (cutover confirm H1 --note ...)", "confirm when done (confirm H1 with n on its screen)"),
    ("record the ticket number (cutover ticket B1 --number N)",
     "record the ticket number (in the ticket number field of B1's screen)"),
    ("Record the time: cutover set go_live_ts 'YYYY-MM-DD HH:MM' (UTC).",
     "Record the time: set go_live_ts in its field or with v (UTC)."),
    ("cutover set e2_decision sync|mark-yes|ignore, then cutover apply E2",
     "choose e2_decision in its field or with v, then plan and apply E2 with p and a on its screen"),
    ("51 AR Mig memos not marked transferred (cutover apply E1)",
     "51 AR Mig memos not marked transferred (plan and apply E1 with p and a on its screen)"),
    ("or waive them with a reason (cutover waive STEP --reason ...)",
     "or waive them with a reason (waive it with w on its step's screen)"),
    ("Needs: old_instance_id, old_account_id (cutover set VAR VALUE)",
     "Needs: old_instance_id, old_account_id (set on the step's screen, or with v)"),
    ("Decide: cutover set e1_decision sync (the new connector sends them) or mark-yes",
     "Decide: set e1_decision in its field or with v, to sync (the new connector sends them) or mark-yes"),
    ("Debit/Credit Memos cutover set to 2026-12-01 and recorded",  # prose, not a command
     "Debit/Credit Memos cutover set to 2026-12-01 and recorded"),
])
def test_each_command_becomes_the_screen_and_key(core, app):
    assert app_words(core) == app


def _shown(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_a_step_screen_and_the_runbook_preview_say_keys_not_commands():
    app = demo_app(scale=200)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        runbook = app.screen
        await pilot.press("n")  # phase B: B1's preview asks for its ticket number and target date
        await wait_until(pilot, lambda: "B1" in str(runbook.query_one("#step-detail", Static).border_title))
        await wait_until(pilot, lambda: "ticket number" in _shown(runbook, "#step-detail"))
        preview = _shown(runbook, "#step-detail")
        assert not COMMAND.search(preview), preview
        app.push_screen(StepScreen("A2"))
        await wait_until(pilot, lambda: isinstance(app.screen, StepScreen) and app.screen.is_mounted
                         and "old_account_id" in _shown(app.screen, "#step-instructions"))
        instructions = _shown(app.screen, "#step-instructions")
        assert "set old_account_id above" in instructions, instructions  # its field is on this screen
        assert not COMMAND.search(instructions)
