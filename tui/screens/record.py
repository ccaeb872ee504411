"""A sync error's record side by side: Zuora's fields and NetSuite's, fetched in a worker."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, LoadingIndicator

from core.monitor.model import SyncError
from core.monitor.records import RecordView


class RecordScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q", "dismiss", "Back")]
    DEFAULT_CSS = """
    RecordScreen { align: center middle; }
    RecordScreen #frame { width: 96%; height: 90%; border: thick $accent; background: $surface; }
    RecordScreen #title { height: auto; padding: 0 1; }
    RecordScreen DataTable { width: 1fr; height: 1fr; }
    """

    def __init__(self, error: SyncError):
        super().__init__()
        self.error = error

    def compose(self) -> ComposeResult:
        with Horizontal(id="frame"):
            pass
        yield Footer()

    def on_mount(self) -> None:
        frame = self.query_one("#frame")
        frame.border_title = f"{self.error.object} {self.error.number or self.error.record_id} · {self.error.status}"
        frame.mount(LoadingIndicator())
        self.load()

    @work(exclusive=True, group="record", exit_on_error=False)
    async def load(self) -> None:
        try:
            view = await self.app.backend.record_view(self.error)
        except Exception as exc:  # shown, never raised into the app
            self.app.notify(self.app.describe_error(exc), title="Could not load the record", severity="error")
            self.dismiss()
            return
        self.show(view)

    def show(self, view: RecordView) -> None:
        frame = self.query_one("#frame")
        frame.remove_children()
        for title, record in (("Zuora", view.zuora), ("NetSuite", view.netsuite)):
            table = DataTable(cursor_type="row", zebra_stripes=True)
            table.border_title = title
            frame.mount(table)
            table.add_columns("Field", "Value")
            if record is None:
                table.add_row(Text("not found", style="bold red"), "")
                continue
            for k, v in record.items():
                table.add_row(k, "" if v is None else str(v))
