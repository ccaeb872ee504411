"""F1 opens help for the screen in front: its purpose and its keys; Esc closes it."""

from __future__ import annotations

from textual.widgets import Markdown

from tests.tui_helpers import demo_app, wait_ready, wait_until
from tui.screens.help import HelpScreen


async def _help_text(pilot) -> str:
    await pilot.press("f1")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
    text = pilot.app.screen.text
    assert pilot.app.screen.query_one(Markdown)
    await pilot.press("escape")
    await wait_until(pilot, lambda: not isinstance(pilot.app.screen, HelpScreen))
    return text


async def test_f1_help_on_the_runbook_step_and_monitor_screens():
    app = demo_app(scale=200)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        text = await _help_text(pilot)
        assert "# Runbook" in text and "Check every step of the phase" in text and "Ctrl+P" in text
        assert "`?`" in text and "question_mark" not in text  # the key as it is typed

        app.open_step("E1")
        await pilot.pause(0.3)
        text = await _help_text(pilot)
        assert "Plan" in text and "Apply" in text and "Esc cancels safely" in text
        await pilot.press("escape")

        await pilot.press("m")
        await pilot.pause(0.3)
        text = await _help_text(pilot)
        assert "# Monitor" in text and "Pause" in text and "stale" in text
