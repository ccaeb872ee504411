"""The operators' live monitor: both systems' sync state per object type, updated in place.

The loop is Dolphie's: a worker takes a sample, the handler renders a keyed diff, then a timer schedules the
next sample only after this one finished, so a slow tenant can never pile up polls. The UI never waits on the
network: a slow or failed poll shows as stale in the header while the table keeps its cursor and scroll.
"""

from __future__ import annotations

import asyncio
import time

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static
from textual.worker import Worker, WorkerState

from core.monitor.model import MonitorSample, SyncError, SyncRow, eta_text, row_key
from tui.screens.monitor_rows import (COLUMNS, COMPACT_BELOW, COMPACT_COLUMNS, COMPACT_SIDES, RowFilter, fmt_count,
                                      stall_text)
from tui.widgets.sparkline import sparkline_text


class MonitorScreen(Screen):
    """Live tables for operators. Reachable from anywhere with `m`."""

    TITLE = "Monitor"
    AUTO_FOCUS = "#sync-table"
    BINDINGS = [
        Binding("p", "toggle_pause", "Pause", id="monitor.pause"),
        Binding("slash", "filter", "Filter", id="monitor.filter"),
        Binding("R", "run_now", "Run Now (sim)", id="monitor.run_now"),
        Binding("s", "sample_now", "Sample now", id="monitor.sample_now"),
        Binding("escape", "back", "Back", id="monitor.back"),
    ]
    HELP = (
        "The monitor samples both systems every few seconds with server-side counts (a handful of API calls "
        "per sample, so the connector keeps its concurrency).\n\n"
        "- Rows: one per object type and direction; Pending → Processing → Done, or Error.\n"
        "- Waiting (wide screens): NetSuite payments that sync only once their Zuora Sync Updates is Yes (G2).\n"
        "- Rate/min and ETA come from the change between samples. ETA reads 'done' once nothing is left, 'errors' "
        "when nothing is left but errors, "
        "'stalled' when a backlog did not move since the sample before, and – until two samples give a rate.\n"
        "- Pending leaves out what the connector will never pick: records set to Ignore, and, once their "
        "cutover dates are recorded (`cutover set old_cutover_dates.invoice …`), records dated before them "
        "(`cutover monitor --json` counts those as ignored).\n"
        "- `/` filters both tables by object, or by a state name (pending, processing, done, error): the errors "
        "table keeps the errors of the rows shown.\n"
        "- `p` pauses the display (sampling goes on); `s` samples now.\n"
        "- Enter on a row jumps to its latest error; on a stalled row without errors it says since when "
        "nothing moved, the connector's last run where known, and what to check (schedule on? H4; Run Now). Enter on an error shows the record in both systems and "
        "the connector's error text (on a real tenant: where to read it in the connector's Warning log).\n"
        "- `R` triggers the simulator connector's Run Now (demo tenant only).\n"
        "- The header turns to 'stale' when a sample is late; the table keeps its cursor."
    )

    def __init__(self, interval: float | None = None):
        super().__init__()
        self.interval = interval
        self.paused = False
        self.filter = RowFilter()
        self.last_sample: MonitorSample | None = None
        self.last_ok_at: float | None = None
        self.poll_started_at: float | None = None
        self.last_error: str | None = None
        self.samples_taken = 0
        self._pending_render: MonitorSample | None = None
        self.compact = False

    # ---- layout ---------------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(id="monitor-header")
        with Vertical(id="monitor-body"):
            yield Input(placeholder="filter both tables: object name, or pending / processing / done / error",
                        id="monitor-filter", classes="hidden")
            table = DataTable(id="sync-table", cursor_type="row", zebra_stripes=True)
            table.border_title = "Sync state"
            yield table
            errors = DataTable(id="error-table", cursor_type="row")
            errors.border_title = "Latest errors"
            yield errors
        yield Footer()

    def on_mount(self) -> None:
        self.set_columns()
        errors = self.query_one("#error-table", DataTable)
        for key, label in (("sync_date", "Sync date"), ("number", "Record"), ("side", "Side"),
                           ("status", "Status"), ("object", "Object")):
            errors.add_column(label, key=key)
        if self.interval is None:
            self.interval = self.app.backend.monitor_interval
        self.set_interval(1.0, self.refresh_header)
        self.refresh_header()
        self.take_sample()

    @property
    def columns(self) -> tuple[tuple[str, str], ...]:
        return COMPACT_COLUMNS if self.compact else COLUMNS

    def set_columns(self) -> None:
        self.compact = self.app.size.width < COMPACT_BELOW
        table = self.query_one("#sync-table", DataTable)
        table.clear(columns=True)
        for key, label in self.columns:
            table.add_column(label, key=key)

    def on_resize(self) -> None:
        if (self.app.size.width < COMPACT_BELOW) != self.compact:
            self.set_columns()
            if self.last_sample is not None:
                self.render_sample(self.last_sample)

    # ---- sampling (worker) and scheduling -------------------------------------------------------------------
    @work(exclusive=True, group="monitor-poll", exit_on_error=False)
    async def take_sample(self) -> MonitorSample:
        self.poll_started_at = time.monotonic()
        sampler = await self.app.backend.sampler()
        return await sampler.sample()

    @on(Worker.StateChanged)
    def on_sample_done(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "monitor-poll" or event.state not in (
                WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        self.poll_started_at = None
        if event.state == WorkerState.SUCCESS:
            sample = event.worker.result
            self.last_sample, self.last_ok_at, self.last_error = sample, time.monotonic(), None
            self.samples_taken += 1
            if self.paused:
                self._pending_render = sample
            else:
                self.render_sample(sample)
        elif event.state == WorkerState.ERROR:
            self.last_error = self.app.describe_error(event.worker.error)
            self.notify(self.last_error, title="Monitor sample failed", severity="error", timeout=6)
        self.refresh_header()
        if event.state != WorkerState.CANCELLED and self.is_attached:
            self.set_timer(self.interval or 5.0, self.take_sample)

    # ---- rendering ------------------------------------------------------------------------------------------
    def render_sample(self, sample: MonitorSample) -> None:
        """Update cells by row key; never clear the table under the operator's cursor."""
        table = self.query_one("#sync-table", DataTable)
        sampler = self.app.backend.current_sampler
        wanted = [r for r in sample.rows if self.filter.keeps(r)]
        wanted_keys = {r.key for r in wanted}
        with self.app.batch_update():
            for key in [k.value for k in table.rows if k.value not in wanted_keys]:
                table.remove_row(key)
            for row in wanted:
                key = row.key
                cells = {
                    "object": row.object, "side": COMPACT_SIDES.get(row.side, row.side) if self.compact else row.side,
                    "pending": fmt_count(row.pending),
                    "processing": fmt_count(row.processing), "done": fmt_count(row.done),
                    "error": Text(fmt_count(row.error), style="bold red" if row.error else ""),
                    "waiting": Text(fmt_count(row.waiting), style="bold yellow" if row.waiting else ""),
                    "rate": "–" if row.rate_per_min is None else f"{row.rate_per_min:,.0f}",
                    "eta": Text(eta_text(row), style="yellow" if row.stalled else ""),
                }
                if self.compact:
                    del cells["waiting"]
                else:
                    cells["trend"] = sparkline_text(sampler.history(key) if sampler else [], width=10)
                if key in table.rows:
                    for col, value in cells.items():
                        if str(table.get_cell(key, col)) != str(value):
                            table.update_cell(key, col, value, update_width=True)
                else:
                    table.add_row(*(cells[c] for c, _ in self.columns), key=key)
            self.render_errors(sample)

    def render_errors(self, sample: MonitorSample) -> None:
        """The latest errors the filter keeps, by row key, newest first."""
        table = self.query_one("#error-table", DataTable)
        rows = {r.key: r for r in sample.rows}
        errors = [e for e in sample.errors if self.filter.keeps_error(e, rows.get(row_key(e.object, e.side)))]
        shown = f"{len(errors)} of {len(sample.errors)}" if self.filter.active else f"{len(errors)}"
        table.border_title = f"Latest errors ({shown})"
        keys = [e.key for e in errors]
        for key in [k.value for k in table.rows if k.value not in set(keys)]:
            table.remove_row(key)
        added = False
        for key, e in zip(keys, errors):
            if key not in table.rows:
                table.add_row(e.sync_date or "–", e.number or e.record_id, e.side, e.status, e.object, key=key)
                added = True
        if added:  # newest first, whichever sample brought them
            table.sort("sync_date", reverse=True)

    def refresh_header(self) -> None:
        header = self.header_text(short=False)
        if len(header.plain) > self.app.size.width - 2:  # 80x24: the same facts in fewer words
            header = self.header_text(short=True)
        self.query_one("#monitor-header", Static).update(header)

    def header_text(self, short: bool) -> Text:
        backend = self.app.backend
        now = time.monotonic()
        every = f"{self.interval or 5:g} s"
        head = f"{backend.profile_name} ─ {every}" if short else f"Monitor ─ {backend.profile_name} ─ every {every}"
        if self.last_ok_at is None:
            freshness, style = "waiting for the first sample", "yellow"
        else:
            age = now - self.last_ok_at
            stamp = time.strftime("%H:%M:%S", time.localtime(time.time() - age))
            late = self.poll_started_at is not None and now - self.poll_started_at > (self.interval or 5)
            if self.last_error or late or age > 2 * (self.interval or 5) + 1:
                freshness, style = f"{'' if short else 'last sample '}{stamp} (stale {age:.0f} s)", "bold yellow"
            else:
                freshness, style = f"{'' if short else 'last sample '}{stamp} (fresh)", "green"
        header = Text(head + " ─ ", no_wrap=True, overflow="ellipsis")
        header.append(freshness, style=style)
        if self.paused:
            header.append(" [paused]", style="bold magenta")
        if self.last_sample is not None:
            calls = f"{self.last_sample.api_calls} calls" if short else f"{self.last_sample.api_calls} calls/sample"
            header.append(f" ─ IS {'on' if self.last_sample.invoice_settlement else 'off'} ─ {calls}")
        return header

    @property
    def is_stale(self) -> bool:
        if self.last_ok_at is None:
            return True
        late = self.poll_started_at is not None and time.monotonic() - self.poll_started_at > (self.interval or 5)
        return bool(self.last_error) or late

    # ---- actions --------------------------------------------------------------------------------------------
    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if not self.paused and self._pending_render is not None:
            self.render_sample(self._pending_render)
            self._pending_render = None
        self.refresh_header()
        self.notify("Display paused: sampling goes on" if self.paused else "Display resumed", timeout=2)

    def action_filter(self) -> None:
        box = self.query_one("#monitor-filter", Input)
        box.remove_class("hidden")
        box.focus()

    @on(Input.Submitted, "#monitor-filter")
    @on(Input.Changed, "#monitor-filter")
    def apply_filter(self, event: Input.Changed | Input.Submitted) -> None:
        self.filter = RowFilter(event.value)
        if self.last_sample is not None:
            self.render_sample(self.last_sample)
        if isinstance(event, Input.Submitted):
            if not event.value:
                event.input.add_class("hidden")
            self.query_one("#sync-table", DataTable).focus()

    def action_sample_now(self) -> None:
        self.take_sample()

    def action_back(self) -> None:
        box = self.query_one("#monitor-filter", Input)
        if box.has_focus:
            box.value = ""
            box.add_class("hidden")
            self.query_one("#sync-table", DataTable).focus()
            return
        self.app.pop_screen()

    # Enter is the focused table's own "select" (Textual's convention): on a sync row it moves to that object's
    # latest error, on an error it opens the record in both systems.
    @on(DataTable.RowSelected, "#sync-table")
    def sync_row_selected(self, event: DataTable.RowSelected) -> None:
        errors = self.query_one("#error-table", DataTable)
        shown = [e for e in self.last_sample.errors if e.key in errors.rows] if self.last_sample else []
        first = next((e for e in shown if row_key(e.object, e.side) == event.row_key.value), None)
        if first is None:
            row = next((r for r in self.last_sample.rows if r.key == event.row_key.value), None) \
                if self.last_sample else None
            if row is not None and row.stalled:
                self.explain_stall(row)
            else:
                self.notify("No recent errors for this row", timeout=3)
            return
        errors.move_cursor(row=errors.get_row_index(first.key))
        errors.focus()

    @on(DataTable.RowSelected, "#error-table")
    def error_selected(self, event: DataTable.RowSelected) -> None:
        error = next((e for e in self.last_sample.errors if e.key == event.row_key.value), None) \
            if self.last_sample else None
        if error is not None:
            self.open_error(error)

    @work(group="monitor-stall", exit_on_error=False)
    async def explain_stall(self, row: SyncRow) -> None:
        """Why a backlog may not move, from what the sample and (on the demo) the simulated connector know."""
        facts = await asyncio.to_thread(self.app.backend.demo_connector_facts)
        self.notify(stall_text(row, facts), title=f"{row.object} {row.side}: stalled", severity="warning",
                    timeout=20)

    def open_error(self, error: SyncError) -> None:
        from tui.screens.record import RecordScreen

        self.app.push_screen(RecordScreen(error))

    def action_run_now(self) -> None:
        if not self.app.backend.is_demo:
            self.notify("Run Now is only for the simulated tenant: on a real tenant use the connector's "
                        "Logs > Run Now", severity="warning", timeout=6)
            return
        self.run_connector()

    @work(exclusive=True, group="monitor-run-now", exit_on_error=False, thread=True)
    def run_connector(self) -> None:
        self.app.call_from_thread(self.notify, "Connector run started (simulator)", timeout=3)
        try:
            summary, completed = self.app.backend.run_demo_connector()
        except Exception as exc:  # a worker's error is otherwise silent (exit_on_error=False): say it
            self.app.call_from_thread(self.notify, self.app.describe_error(exc), title="Run Now failed",
                                      severity="error", timeout=8)
            return
        if completed:
            self.app.call_from_thread(self.notify, f"Connector run finished: {summary}", timeout=5)
        else:
            self.app.call_from_thread(self.notify, f"The connector did not run: {summary}", title="Run Now",
                                      severity="warning", timeout=8)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "run_now":
            return True if self.app.backend.is_demo else None
        return True
