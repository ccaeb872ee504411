"""The header's "IS: on/off" is the newest answer Zuora gave, to the monitor's sampler or to the runbook: D1's check
seeing IS on after the monitor sampled "off" turns the header on, as the step screen says."""

from __future__ import annotations

import asyncio

from sim_tenant import migrate

from tests.tui_helpers import demo_app, open_monitor, wait_until
from tui.widgets.topbar import TopBar


async def test_the_header_follows_d1_after_the_monitor_sampled_is_off():
    app = demo_app(scale=200, interval=0.5)
    async with app.run_test(size=(120, 36)) as pilot:
        monitor = await open_monitor(pilot, samples=1)
        backend = app.backend
        assert backend.current_sampler is not None and backend.current_sampler.invoice_settlement is False
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is not monitor)
        bar = app.screen.query_one(TopBar)
        assert backend.invoice_settlement is False and bar.invoice_settlement is False
        await asyncio.to_thread(migrate, backend.demo.sim)  # Support turned IS on
        await backend.check("D1")
        assert backend.invoice_settlement is True  # the runbook's answer is newer than the sampler's
        await wait_until(pilot, lambda: bar.invoice_settlement is True)
