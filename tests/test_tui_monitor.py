"""The monitor screen on a live demo tenant: figures move without a refresh, keys stay instant when the
tenant is slow, and a slow poll shows as stale rather than freezing the screen."""

from __future__ import annotations

import statistics
import time

from textual.widgets import DataTable, Static

from tests.tui_helpers import demo_app, open_monitor, wait_until
from tui.screens.monitor import MonitorScreen


def _cell(table: DataTable, key: str, col: str) -> int:
    return int(str(table.get_cell(key, col)).replace(",", ""))


async def test_monitor_counts_move_after_run_now_without_refresh():
    app = demo_app(scale=300, interval=0.3)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_monitor(pilot)
        assert isinstance(screen, MonitorScreen)
        table = screen.query_one("#sync-table", DataTable)
        key = "Invoices|Zuora→NS"
        await wait_until(pilot, lambda: key in table.rows)
        pending0, done0 = _cell(table, key, "pending"), _cell(table, key, "done")
        assert pending0 > 0
        cursor = table.cursor_row
        await pilot.press("R")  # the simulator connector's Run Now
        await wait_until(pilot, lambda: _cell(table, key, "done") > done0 and _cell(table, key, "pending") < pending0,
                         timeout=30)
        assert table.cursor_row == cursor  # updated in place: the cursor did not move
        assert screen.samples_taken >= 2


async def test_monitor_keys_stay_fast_and_header_goes_stale_on_a_slow_tenant():
    app = demo_app(scale=200, interval=0.5, latency_ms=2000)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_monitor(pilot, samples=1)
        assert isinstance(screen, MonitorScreen)
        # A sample now takes several 2 s round trips: the next poll is in flight and late.
        header = screen.query_one("#monitor-header", Static)
        await wait_until(pilot, lambda: "stale" in str(header.render()), timeout=30)
        assert screen.is_stale
        # Time from the key press to the moment its action runs (not to the next idle repaint).
        handled: list[float] = []
        toggle = screen.action_toggle_pause

        def timed_toggle() -> None:
            handled.append(time.perf_counter())
            toggle()

        screen.action_toggle_pause = timed_toggle
        timings = []
        for _ in range(6):
            before = screen.paused
            started = time.perf_counter()
            await pilot.press("p")
            timings.append(handled[-1] - started)
            assert screen.paused is not before
            assert screen.is_stale or screen.poll_started_at is not None  # polls keep going meanwhile
        # The bar is 100 ms on an idle machine; a loaded CI box (2 busy cores) can miss that without anything
        # waiting on the polls. A key held behind a poll would wait out its 2 s round trips: 0.5 s still tells them
        # apart.
        assert statistics.median(timings) < 0.5, timings


async def test_monitor_fits_80x24_and_widens_again():
    app = demo_app(scale=200, interval=0.5)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_monitor(pilot)
        table = screen.query_one("#sync-table", DataTable)
        await wait_until(pilot, lambda: "Invoices|Zuora→NS" in table.rows)
        await pilot.pause(0.2)
        # the table's size follows its rows a refresh later, which a loaded box may not reach in the pause: wait for it
        await wait_until(pilot, lambda: table.virtual_size.width <= table.scrollable_content_region.width)
        assert [c.key.value for c in table.ordered_columns][-1] == "eta"  # the sparkline gave way
        assert table.virtual_size.width <= table.scrollable_content_region.width  # ETA on screen, no sideways scroll
        header = str(screen.query_one("#monitor-header", Static).render())
        assert "calls" in header and len(header) <= 78
        await pilot.resize_terminal(130, 30)
        await wait_until(pilot, lambda: [c.key.value for c in table.ordered_columns][-1] == "trend")
        await wait_until(pilot, lambda: "Invoices|Zuora→NS" in table.rows)
        assert str(table.get_cell("Invoices|Zuora→NS", "side")) == "Zuora→NS"
        assert "waiting" in [c.key.value for c in table.ordered_columns]
        await pilot.resize_terminal(120, 30)  # the README's screenshot size: wide, and still no sideways scroll
        await wait_until(pilot, lambda: screen.size.width == 120)
        await pilot.pause(0.3)  # the table is laid out a refresh after the screen
        await wait_until(pilot, lambda: table.virtual_size.width <= table.scrollable_content_region.width)
