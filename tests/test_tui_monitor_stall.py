"""The monitor explains what it shows: a stalled row's Enter says since when nothing moved and what to check,
Run Now always answers with a notification, and a row with errors never reads 'done'."""

from __future__ import annotations

from textual.widgets import DataTable

from core.monitor.model import SyncRow, eta_text
from tests.tui_helpers import demo_app, open_monitor, wait_until


def _messages(app) -> list[str]:
    return [n.message for n in app._notifications]


def test_a_row_with_errors_and_no_backlog_never_reads_done():
    assert eta_text(SyncRow("Customer accounts", "Zuora→NS", done=40, error=2)) == "errors"
    assert eta_text(SyncRow("Customer accounts", "Zuora→NS", done=40)) == "done"


async def test_enter_on_a_stalled_row_explains_the_stall_and_run_now_answers():
    app = demo_app(scale=200, interval=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_monitor(pilot, samples=1)
        app.backend.demo.sim.connector.stop()  # the scheduler is off: nothing will move
        table = screen.query_one("#sync-table", DataTable)
        errors = screen.query_one("#error-table", DataTable)
        await wait_until(pilot, lambda: screen.last_sample is not None and any(
            r.stalled and r.key in table.rows for r in screen.last_sample.rows), timeout=20)
        with_errors = {f"{e.object}|{e.side}" for e in screen.last_sample.errors if e.key in errors.rows}
        row = next(r for r in screen.last_sample.rows if r.stalled and r.key not in with_errors)
        table.focus()
        table.move_cursor(row=table.get_row_index(row.key))
        await pilot.press("enter")
        text = "\n".join(_messages(app))
        assert "No recent errors" not in text
        assert f"{row.backlog:,} pending" in text and "no progress since" in text
        assert "Run Now" in text and "H4" in text
        assert str(table.get_cell(row.key, "eta")) == "stalled"

        before = len(app._notifications)
        await pilot.press("R")  # the connector is stopped: the refusal is what the operator reads
        await wait_until(pilot, lambda: any("stopped" in m for m in _messages(app)[before:]), timeout=20)
        refusal = next(n for n in list(app._notifications)[before:] if "stopped" in n.message)
        assert refusal.severity == "warning"

        app.backend.demo.sim.connector.start()
        before = len(app._notifications)
        await pilot.press("R")
        await wait_until(pilot, lambda: any("records synced" in m for m in _messages(app)[before:]), timeout=30)
