"""A sync error's record side by side: the connector's own reason, then Zuora's fields and NetSuite's, fetched in
a worker.

Values are never cut: each system's fields are a two-column grid whose values wrap, and the two systems sit side
by side only when each half has room for its longest field name and a 32-character id; otherwise (80x24) they
stack, and the whole drill-down scrolls as one.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, LoadingIndicator, Static

from core.monitor.model import SyncError
from core.monitor.records import ErrorReason, RecordView, real_tenant_reason, simulated_reason

ID_WIDTH = 32  # a Zuora id; the value room a side-by-side half must have
VALUE_ROOM = 40  # longer values wrap in either layout
PANE_CHROME = 4  # a pane's border and padding


def record_table(record: dict[str, Any]) -> Table:
    """Field and value, the value folding onto more lines rather than being cut."""
    table = Table(box=None, show_header=True, header_style="bold", expand=True, pad_edge=False, padding=(0, 1))
    table.add_column("Field", no_wrap=True, style="cyan")
    table.add_column("Value", overflow="fold", ratio=1)
    for k, v in record.items():
        table.add_row(k, Text("" if v is None else str(v)))
    return table


def room_needed(record: dict[str, Any] | None) -> int:
    """Columns a pane needs to show `record` with its ids on one line."""
    if not record:
        return 0
    field = max(len(str(k)) for k in record)
    value = max([len(str(v)) for v in record.values() if v is not None] or [0])
    return field + 1 + min(max(value, ID_WIDTH), VALUE_ROOM) + PANE_CHROME


class RecordScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q", "dismiss", "Back")]
    DEFAULT_CSS = """
    RecordScreen { align: center middle; }
    RecordScreen #frame { width: 96%; height: 90%; border: thick $accent; background: $surface; }
    RecordScreen #reason { height: auto; border: round $error; padding: 0 1; }
    RecordScreen #systems { height: auto; layout: vertical; display: none; }
    RecordScreen #systems.loaded { display: block; }
    RecordScreen #systems.side-by-side { layout: horizontal; }
    RecordScreen .system { height: auto; border: round $primary; padding: 0 1; }
    RecordScreen #systems.side-by-side .system { width: 1fr; }
    RecordScreen #queries { height: auto; padding: 0 1; color: $text-muted; }
    RecordScreen LoadingIndicator { height: 3; }
    """

    def __init__(self, error: SyncError):
        super().__init__()
        self.error = error
        self.view: RecordView | None = None
        self.reason: ErrorReason | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="frame"):
            yield Static(Text("Reading the connector's error…", style="dim"), id="reason")
            yield LoadingIndicator()
            with Container(id="systems"):
                yield Static(id="zuora", classes="system")
                yield Static(id="netsuite", classes="system")
            yield Static(id="queries")
        yield Footer()

    def on_mount(self) -> None:
        frame = self.query_one("#frame")
        frame.border_title = f"{self.error.object} {self.error.number or self.error.record_id} · {self.error.status}"
        self.query_one("#zuora").border_title = "Zuora"
        self.query_one("#netsuite").border_title = "NetSuite"
        self.load()

    @work(exclusive=True, group="record", exit_on_error=False)
    async def load(self) -> None:
        view, reason = await asyncio.gather(self.app.backend.record_view(self.error), self.error_reason(),
                                            return_exceptions=True)
        if isinstance(reason, BaseException):  # the reason is a bonus: the record still shows
            reason = ErrorReason("Connector's log", None, f"Could not read it: {self.app.describe_error(reason)}")
        self.show_reason(reason)
        if isinstance(view, BaseException):  # shown, never raised into the app
            self.app.notify(self.app.describe_error(view), title="Could not load the record", severity="error")
            self.dismiss()
            return
        self.show(view)

    async def error_reason(self) -> ErrorReason:
        """The simulated connector's log on the demo; on a real tenant, where its Warning log is."""
        backend = self.app.backend
        if not backend.is_demo:
            return real_tenant_reason(self.error)
        from core.sim.control import SimControl  # the demo only: a real profile never reaches the simulator

        async with SimControl(backend.demo.base_url, backend.session.zuora.token, timeout=30) as control:
            return await simulated_reason(control, self.error)

    def show_reason(self, reason: ErrorReason) -> None:
        self.reason = reason
        box = self.query_one("#reason", Static)
        box.border_title = reason.source
        parts: list[Text] = []
        if reason.message:
            parts.append(Text(reason.message, style="bold red"))
        parts.append(Text(reason.note, style="dim" if reason.message else ""))
        box.update(Group(*parts))

    def show(self, view: RecordView) -> None:
        self.view = view
        for widget in self.query(LoadingIndicator):
            widget.remove()
        for pane, record, system in ((self.query_one("#zuora", Static), view.zuora, "Zuora"),
                                     (self.query_one("#netsuite", Static), view.netsuite, "NetSuite")):
            pane.update(record_table(record) if record is not None
                        else Text(f"not found in {system}", style="bold red"))
        self.query_one("#queries", Static).update(
            Text("Queries run:\n" + "\n".join(view.queries)) if view.queries else "")
        self.lay_out()
        self.query_one("#systems").add_class("loaded")

    def lay_out(self) -> None:
        """Side by side when each half gives its record's values the room, stacked otherwise."""
        if self.view is None:
            return
        frame = self.query_one("#frame")
        half = (frame.scrollable_content_region.width or self.app.size.width - 6) // 2
        wide = all(room_needed(r) <= half for r in (self.view.zuora, self.view.netsuite))
        self.query_one("#systems").set_class(wide, "side-by-side")

    def on_resize(self) -> None:
        self.lay_out()
