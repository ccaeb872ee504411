"""Drill-down from a sync error to the record in both systems, through the real clients over loopback."""

from __future__ import annotations

from textual.widgets import DataTable

from core.demo import DemoTenant
from core.monitor import NS_TO_ZUORA, ZUORA_TO_NS, Sampler
from core.monitor.model import row_key
from core.monitor.records import record_in_both_systems
from core.session import Session
from tests.tui_helpers import demo_app, open_monitor, wait_until
from tui.screens.record import RecordScreen


async def test_every_sampled_error_opens_its_source_record():
    async with DemoTenant(scale=300, connector_pace_s=0) as demo:
        async with Session(demo.profile, demo.credentials) as session:
            sample = await Sampler(session.zuora, session.netsuite, demo.profile.netsuite_fields).sample()
            assert {e.side for e in sample.errors} == {ZUORA_TO_NS, NS_TO_ZUORA}
            for error in sample.errors:
                view = await record_in_both_systems(session.zuora, session.netsuite,
                                                    demo.profile.netsuite_fields, error)
                source = view.zuora if error.side == ZUORA_TO_NS else view.netsuite
                assert source is not None, error
                assert str(source["id"]) == error.record_id
                assert source.get("integrationstatus__ns", source.get("custbodyzuoraintegrationstatus")) \
                    == error.status


async def test_enter_on_an_error_shows_both_systems():
    app = demo_app(scale=300, interval=0.5)
    async with app.run_test(size=(120, 36)) as pilot:
        monitor = await open_monitor(pilot, samples=1)
        errors = monitor.query_one("#error-table", DataTable)
        errors.focus()
        await wait_until(pilot, lambda: errors.row_count > 0)
        under_cursor = errors.coordinate_to_cell_key(errors.cursor_coordinate).row_key.value
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RecordScreen))
        await wait_until(pilot, lambda: app.screen.view is not None and app.screen.reason is not None)
        assert app.screen.error.key == under_cursor
        titles = [str(t.border_title) for t in app.screen.query(".system")]
        assert titles == ["Zuora", "NetSuite"]
        assert app.screen.view.zuora is not None or app.screen.view.netsuite is not None
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is monitor)


async def test_enter_on_a_sync_row_jumps_to_its_latest_error():
    app = demo_app(scale=300, interval=0.5)
    async with app.run_test(size=(120, 36)) as pilot:
        monitor = await open_monitor(pilot, samples=1)
        rows, errors = monitor.query_one("#sync-table", DataTable), monitor.query_one("#error-table", DataTable)
        await wait_until(pilot, lambda: errors.row_count > 0)
        latest = monitor.last_sample.errors[-1]  # the bottom error's object: the jump must move the cursor
        rows.focus()
        rows.move_cursor(row=rows.get_row_index(row_key(latest.object, latest.side)))
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.focused is errors)
        key = errors.coordinate_to_cell_key(errors.cursor_coordinate).row_key.value
        assert next(e for e in monitor.last_sample.errors if e.key == key).object == latest.object
        await pilot.press("enter")  # and the error opens in both systems
        await wait_until(pilot, lambda: isinstance(app.screen, RecordScreen))
