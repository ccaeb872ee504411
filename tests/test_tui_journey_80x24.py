"""The whole cutover in the app at 80×24: the journey of tests/test_tui_journey.py, every key and screen, on the
smallest terminal the app supports (a file of its own so it runs beside the 120×36 one)."""

from __future__ import annotations

import pytest

from tests.test_tui_journey import drive_the_whole_cutover
from tests.tui_helpers import demo_app

pytestmark = [pytest.mark.journey, pytest.mark.slow, pytest.mark.timeout(600)]


async def test_the_whole_cutover_in_the_app_at_80x24():
    app = demo_app(scale=300)
    async with app.run_test(size=(80, 24)) as pilot:
        await drive_the_whole_cutover(pilot)
