"""The files the person takes away (the sign-off report, tickets, plan exports) and where they land: every one goes
through `App.deliver_text` / `deliver_binary` into the person's downloads folder (or the browser's, under
textual-serve), and the app says where once it is there (`DeliveryComplete`) or why not (`DeliveryFailed`).

Downloads is CutoverApp's base class, as StepFix and StepRecords are StepScreen's: one concern on its own page. It
keeps what was delivered (`delivered`, for the quit question) and what is still on its way (`deliveries`, which
quitting waits for). It leans on CutoverApp for the report's `backend` and a failure's `describe_error`.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from textual import events, work
from textual.app import App

# The sign-off report's formats in the palette: label, MIME type (a PDF needs the pdf extra or Chromium).
REPORT_FORMATS = {"md": ("Markdown", "text/markdown"), "html": ("HTML, print-ready: A4", "text/html"),
                  "pdf": ("PDF, A4", "application/pdf"), "json": ("JSON, for machines", "application/json")}


def free_name(folder: Path, name: str) -> str:
    """`name`, or `stem (2).ext`, `stem (3).ext` … the first not taken in `folder`, as browsers save downloads."""
    candidate, n = name, 1
    while (folder / candidate).exists():
        n += 1
        candidate = f"{Path(name).stem} ({n}){Path(name).suffix}"
    return candidate


class Downloads(App):
    """Every file the app saves, into the downloads folder, announced; and the sign-off report, built and saved."""

    def __init__(self, downloads_dir: Path | None = None):
        super().__init__()
        self.downloads_dir = downloads_dir  # None: the person's downloads folder (platformdirs, as Textual does)
        self.deliveries: dict[str, str] = {}  # delivery key -> what it is, until DeliveryComplete/Failed
        self.delivered: list[Path] = []  # files saved through the app this session

    @property
    def downloads_folder(self) -> Path:
        from platformdirs import user_downloads_path

        return self.downloads_dir or user_downloads_path()

    def deliver_text(self, path_or_file, **options) -> str | None:
        """App.deliver_text into the downloads folder (created when missing); the app announces the file when it is
        there. `name` says what it is ("ticket text"): the notification and the quit question use it.

        A path is handed on opened as text: Textual 8.2.8 opens a path in binary but its terminal driver writes
        anything that is not a `typing.BinaryIO` instance (no real file is) in text mode, so a path fails with
        "write() argument must be str, not bytes". The driver's thread still does the reading."""
        if isinstance(path_or_file, (str, Path)):
            path = Path(path_or_file)
            if not options.get("save_filename"):
                options["save_filename"] = path.name
            path_or_file = path.open("r", encoding=options.get("encoding") or "utf-8", newline="")
        return self._delivering(super().deliver_text, path_or_file, options)

    def deliver_binary(self, path_or_file, **options) -> str | None:
        """Into the downloads folder, announced like text. Beware: Textual 8.2.8's terminal driver writes binary in
        text mode and fails (DeliveryFailed, announced); the app saves text only for now."""
        return self._delivering(super().deliver_binary, path_or_file, options)

    def _delivering(self, deliver, path_or_file, options: dict) -> str | None:
        if options.get("save_directory") is None and not self.is_web:  # served: the browser saves it, not here
            options["save_directory"] = self.downloads_dir
            try:  # a fresh account may have no Downloads folder yet; the save would fail without one
                self.downloads_folder.mkdir(parents=True, exist_ok=True)
            except OSError:
                pass  # DeliveryFailed will say why
            if options.get("save_filename"):  # an earlier session's file is never overwritten: "name (2).ext"
                options["save_filename"] = free_name(self.downloads_folder, options["save_filename"])
        key = deliver(path_or_file, **options)
        if key is not None:
            self.deliveries[key] = options.get("name") or options.get("save_filename") or "file"
        return key

    def on_delivery_complete(self, event: events.DeliveryComplete) -> None:
        what = self.deliveries.pop(event.key, None) or event.name or "file"
        if event.name == "screenshot":  # Textual's own handler announces it
            return
        if event.path is not None:
            self.delivered.append(event.path)
        where = f"to {event.path}" if event.path is not None else "to your browser's downloads"
        also = "\nOther formats: Ctrl+P, Report as HTML / PDF / JSON" if what == "sign-off report" else ""
        self.notify(f"{what[:1].upper()}{what[1:]} saved {where}{also}", title="Saved", timeout=8)

    def on_delivery_failed(self, event: events.DeliveryFailed) -> None:
        what = self.deliveries.pop(event.key, None) or event.name or "file"
        if event.name == "screenshot":
            return
        self.notify(f"{what[:1].upper()}{what[1:]} not saved: {self.describe_error(event.exception)}",
                    title="Save failed", severity="error", timeout=12)

    # ---- the sign-off report (Ctrl+R, and a palette entry per format) ---------------------------------------
    def action_report(self, fmt: str = "md") -> None:
        if not self.backend.ready:
            self.notify("Still connecting…", timeout=3)
            return
        self.export_report(fmt)

    @work(group="report", exit_on_error=False, thread=True)
    def export_report(self, fmt: str = "md") -> None:
        """The sign-off report in `fmt` (REPORT_FORMATS), built off the event loop, then delivered (a failure, such
        as a PDF without the pdf extra, is notified by the handler)."""
        from core.report import report_bytes

        data = report_bytes(self.backend.run, fmt)
        label, mime = REPORT_FORMATS[fmt]
        name = re.sub(r"[^A-Za-z0-9._-]+", "-", self.backend.profile_name)
        what = "sign-off report" if fmt == "md" else f"sign-off report ({label.split(',')[0]})"
        options = {"save_filename": f"report-{name}.{fmt}", "mime_type": mime, "name": what}
        if fmt != "pdf":
            self.call_from_thread(self.deliver_text, io.StringIO(data.decode("utf-8")), **options)
        elif self.is_web:
            self.call_from_thread(self.deliver_binary, io.BytesIO(data), **options)
        else:  # Textual 8.2.8 saves binary in text mode (see deliver_binary): Latin-1 text writes each byte as is
            self.call_from_thread(self.deliver_text, io.StringIO(data.decode("latin-1"), newline=""),
                                  encoding="latin-1", **options)
