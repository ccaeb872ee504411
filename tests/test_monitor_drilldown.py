"""The monitor's drill-down and tables, as issue 10 found them: the connector's own error reason (the simulated
connector's log on the demo, the Warning log named on a real tenant), whole values at 80x24, the `/` filter on
the errors table too, and no "0:00" ETA for a backlog that does not move."""

from __future__ import annotations

import httpx
import pytest
from textual.widgets import DataTable

import core.sim.connector as sim_connector
from core.monitor import NS_TO_ZUORA, ZUORA_TO_NS, Sampler, SyncError, SyncRow, eta_text, format_eta
from core.monitor.records import REAL_LOG, SIMULATED_LOG, real_tenant_reason, simulated_reason
from core.sim.catalog import NS_FIELD_IDS
from core.sim.control import SimControl
from tests.tui_helpers import demo_app, open_monitor, wait_until
from tui.backend import Backend
from tui.screens.record import RecordScreen


def screen_text(app) -> str:
    """What the terminal shows now, as plain text."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def failed(summary: dict) -> dict[str, str]:
    """Record id -> the message of its failure in this run."""
    return {str(e["id"]): e["message"] for e in summary["error_samples"]}


# ---- the simulated connector's error log -------------------------------------------------------------------------
def test_the_connector_logs_the_latest_message_per_failed_record(sim, monkeypatch):
    assert sim.connector.errors() == []  # seeded errors were never failed by a run
    first = sim.connector.run()
    messages = failed(first)
    assert messages, "the seed has records the connector refuses"
    for record_id, message in messages.items():
        (entry,) = sim.connector.errors(record_id)
        assert entry["message"] == message and entry["run_id"] == first["run_id"] and entry["step"]
    second = sim.connector.run()  # the same records fail again: one entry each, from the latest run
    again = set(failed(second)) & set(messages)
    assert again
    for record_id in again:
        (entry,) = sim.connector.errors(record_id)
        assert entry["run_id"] == second["run_id"]
    newest = sim.connector.errors(limit=1)[0]
    assert newest["run_id"] == second["run_id"]

    monkeypatch.setattr(sim_connector, "ERROR_LOG_KEPT", 2)  # bounded: the oldest drop out
    third = sim.connector.run()
    kept = sim.connector.errors(limit=100)
    assert len(kept) == 2 and {e["run_id"] for e in kept} == {third["run_id"]}


async def test_the_log_is_served_read_only_under_sim(sim, sim_server):
    summary = sim.connector.run()
    record_id, message = next(iter(failed(summary).items()))
    c = sim.credentials

    async def token() -> str:
        return sim.issue_token(c.zuora_client_id, c.zuora_client_secret)["access_token"]

    async with SimControl(sim_server.base_url, token) as control:
        (entry,) = await control.connector_errors(record_id)
        assert entry["message"] == message and entry["record_id"] == record_id
        assert await control.connector_errors("no-such-record") == []
        assert len(await control.connector_errors(limit=1)) == 1
    async with httpx.AsyncClient(base_url=sim_server.base_url) as http:
        assert (await http.get("/_sim/connector/errors")).status_code == 401
        bearer = {"Authorization": f"Bearer {await token()}"}
        assert (await http.post("/_sim/connector/errors", headers=bearer)).status_code == 405
        assert (await http.get("/_sim/connector/errors", params={"limit": "x"}, headers=bearer)).status_code == 400


class _Log:
    def __init__(self, entries):
        self.entries = entries

    async def connector_errors(self, record_id=None):
        return [e for e in self.entries if e["record_id"] == record_id]


async def test_reason_texts():
    error = SyncError("Payments", ZUORA_TO_NS, "a" * 32, "P-00000001", "Error Creating Payment", None)
    real = real_tenant_reason(error)
    assert real.source == REAL_LOG and real.message is None
    assert "Warning log" in real.note and "Logs > Download Logs" in real.note and "P-00000001" in real.note
    seeded = await simulated_reason(_Log([]), error)
    assert seeded.source == SIMULATED_LOG and seeded.message is None and "no failure" in seeded.note
    logged = await simulated_reason(_Log([{"record_id": "a" * 32, "message": "payment method 'X' has no match",
                                           "ts": "2026-01-02 03:04:05", "step": "payments", "run_id": 3}]), error)
    assert logged.message == "payment method 'X' has no match" and "2026-01-02 03:04:05" in logged.note


# ---- the drill-down on screen ------------------------------------------------------------------------------------
async def open_error(pilot, monitor, key: str) -> RecordScreen:
    errors = monitor.query_one("#error-table", DataTable)
    await wait_until(pilot, lambda: key in errors.rows)
    errors.focus()
    errors.move_cursor(row=errors.get_row_index(key))
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, RecordScreen))
    screen = pilot.app.screen
    await wait_until(pilot, lambda: screen.view is not None and screen.reason is not None)
    await pilot.pause(0.1)
    return screen


async def test_drilldown_shows_the_simulated_connectors_reason():
    app = demo_app(scale=300, interval=0.3)
    async with app.run_test(size=(120, 36)) as pilot:
        monitor = await open_monitor(pilot, samples=1)
        connector = app.backend.demo.sim.connector
        await pilot.press("R")  # the simulated connector's Run Now: it fails the seeded bad records again
        await wait_until(pilot, lambda: connector.errors() and not connector.status()["running_now"], timeout=60)
        logged = {e["record_id"]: e["message"] for e in connector.errors(limit=500)}

        def a_logged_error():
            sample = monitor.last_sample
            return next((e for e in sample.errors if e.record_id in logged), None) if sample else None

        await wait_until(pilot, lambda: a_logged_error() is not None, timeout=30)
        error = a_logged_error()
        screen = await open_error(pilot, monitor, error.key)
        assert screen.reason.source == SIMULATED_LOG and screen.reason.message == logged[error.record_id]
        text = screen_text(app)
        assert "Simulated connector's log" in text
        assert logged[error.record_id][:40] in text.replace("\n", " ")


async def test_drilldown_on_a_real_tenant_names_the_warning_log(monkeypatch):
    app = demo_app(scale=300, interval=0.5)
    async with app.run_test(size=(120, 36)) as pilot:
        monitor = await open_monitor(pilot, samples=1)
        monkeypatch.setattr(Backend, "is_demo", property(lambda self: False))  # as on a real profile
        screen = await open_error(pilot, monitor, monitor.last_sample.errors[0].key)
        assert screen.reason.source == REAL_LOG and screen.reason.message is None
        text = screen_text(app)
        assert "Connector's Warning log" in text and "Logs > Download Logs" in text


async def test_drilldown_values_are_whole_at_80x24():
    app = demo_app(scale=300, interval=0.5)
    async with app.run_test(size=(80, 24)) as pilot:
        monitor = await open_monitor(pilot, samples=1)
        zuora_side = next(e for e in monitor.last_sample.errors if e.side == ZUORA_TO_NS)
        ns_side = next(e for e in monitor.last_sample.errors if e.side == NS_TO_ZUORA)
        for error in (zuora_side, ns_side):
            screen = await open_error(pilot, monitor, error.key)
            values = [str(v) for r in (screen.view.zuora, screen.view.netsuite) if r for v in r.values()
                      if v not in (None, "")]
            assert max(map(len, values)) >= 32  # ids among them
            frame = screen.query_one("#frame")
            seen = []
            for y in range(0, int(frame.max_scroll_y) + frame.size.height, max(1, frame.size.height - 2)):
                frame.scroll_to(y=y, animate=False)
                await pilot.pause(0.05)
                seen.append(screen_text(app))
            text = "\n".join(seen)
            assert [v for v in values if v not in text] == []  # every value whole, none cut
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.screen is monitor)


# ---- the filter reaches the errors table ------------------------------------------------------------------------
async def test_filter_applies_to_the_errors_table_too():
    app = demo_app(scale=300, interval=0.5)
    async with app.run_test(size=(120, 36)) as pilot:
        monitor = await open_monitor(pilot, samples=1)
        rows, errors = monitor.query_one("#sync-table", DataTable), monitor.query_one("#error-table", DataTable)
        await wait_until(pilot, lambda: errors.row_count > 0)
        everything = {e.key: e for e in monitor.last_sample.errors}
        objects = {e.object for e in everything.values()}
        assert len(objects) > 1

        def shown_objects() -> set[str]:
            return {everything[k.value].object for k in errors.rows if k.value in everything}

        await pilot.press("slash", *"adjust")
        await wait_until(pilot, lambda: shown_objects() == {"Invoice item adjustments"})
        assert {k.value.split("|")[0] for k in rows.rows} == {"Invoice item adjustments"}
        assert " of " in str(errors.border_title)

        monitor.query_one("#monitor-filter").value = "error"  # a state name: every error stays
        await wait_until(pilot, lambda: shown_objects() == objects)

        monitor.query_one("#monitor-filter").value = "pending"  # the errors of the rows with pending work
        sample = monitor.last_sample
        pending = {r.object for r in sample.rows if r.pending}
        await wait_until(pilot, lambda: shown_objects() == objects & pending)

        monitor.query_one("#monitor-filter").value = ""
        await wait_until(pilot, lambda: shown_objects() == objects)


# ---- ETA ----------------------------------------------------------------------------------------------------------
def test_a_backlog_that_stops_moving_reads_stalled_never_zero():
    now = [0.0]
    sampler = Sampler(None, None, NS_FIELD_IDS, clock=lambda: now[0])
    key = ("Invoices", ZUORA_TO_NS)

    def sample(at: float, pending: int, done: int) -> SyncRow:
        now[0] = at
        states = {"pending": pending, "processing": 0, "done": done, "error": 0, "ignored": 0, "waiting": 0}
        return sampler._with_rates({key: states})[0]

    first = sample(0, 1001, 0)
    assert first.rate_per_min is None and not first.stalled and eta_text(first) == "–"  # no rate yet
    burst = sample(60, 1, 1000)  # a run cleared 1,000 in a minute: one left
    assert not burst.stalled and burst.eta_s == pytest.approx(0.06)
    assert eta_text(burst) == "0:01"  # a backlog never reads 0:00
    stuck = sample(65, 1, 1000)  # and then nothing moves, while the window's rate is still high
    assert stuck.rate_per_min > 0 and stuck.stalled and stuck.eta_s is None
    assert eta_text(stuck) == "stalled"
    cleared = sample(70, 0, 1001)
    assert eta_text(cleared) == "done"

    idle = Sampler(None, None, NS_FIELD_IDS, clock=lambda: now[0])  # never moved at all: rate 0
    now[0] = 0
    idle._with_rates({key: {"pending": 5, "processing": 0, "done": 0, "error": 0, "ignored": 0, "waiting": 0}})
    now[0] = 5
    (row,) = idle._with_rates({key: {"pending": 5, "processing": 0, "done": 0, "error": 0, "ignored": 0,
                                     "waiting": 0}})
    assert row.rate_per_min == 0 and row.stalled and eta_text(row) == "stalled"


def test_format_eta_rounds_up():
    assert format_eta(None) == "–" and format_eta(0.06) == "0:01" and format_eta(59.2) == "1:00"
    assert format_eta(3600) == "1:00:00"
    assert eta_text(SyncRow("Invoices", ZUORA_TO_NS)) == "done"  # only an empty backlog is done


async def test_a_customer_account_is_looked_up_as_a_netsuite_customer():
    """Customers are no transactions: the drill-down follows the NetSuite id the connector wrote back."""
    from core.demo import DemoTenant
    from core.monitor.records import record_in_both_systems
    from core.session import Session

    async with DemoTenant(scale=300, connector_pace_s=0) as demo:
        account = demo.sim.store.query_one("SELECT * FROM account WHERE integrationid__ns IS NOT NULL LIMIT 1")
        error = SyncError("Customer accounts", ZUORA_TO_NS, account["id"], account["accountnumber"],
                          "Error Updating Customer", None)
        async with Session(demo.profile, demo.credentials) as session:
            view = await record_in_both_systems(session.zuora, session.netsuite, demo.profile.netsuite_fields, error)
    assert view.zuora["id"] == account["id"]
    assert str(view.netsuite["id"]) == str(account["integrationid__ns"])
    assert view.netsuite["custentityzuoraid"] == account["id"]
