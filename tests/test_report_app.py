"""The sign-off report from the app: the palette offers it in every format, and each is saved to the downloads
folder through Textual's delivery (a PDF byte for byte, though Textual 8.2.8's terminal driver saves text only),
with a notification naming the file."""

from __future__ import annotations

import io

import pytest
from test_tui_app_shell import errors, messages
from textual.app import App

from tests.tui_helpers import demo_app, wait_ready, wait_until

pytestmark = pytest.mark.timeout(90)


def _commands(app) -> dict[str, object]:
    return {c.title: c.callback for c in app.get_system_commands(app.screen)}


async def test_the_palette_saves_the_report_as_print_ready_html(tmp_path, monkeypatch):
    delivered = []
    original = App.deliver_text

    def spy(self, path_or_file, **options):
        delivered.append(options)
        return original(self, path_or_file, **options)

    monkeypatch.setattr(App, "deliver_text", spy)
    app = demo_app(scale=200)
    app.downloads_dir = tmp_path
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await wait_ready(pilot)
        assert {"Report", "Report as HTML", "Report as PDF", "Report as JSON"} <= set(_commands(app))
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"Report as HTML")
        await pilot.pause(0.5)
        await pilot.press("enter")
        saved = tmp_path / "report-demo.html"
        await wait_until(pilot, lambda: any("Sign-off report (HTML) saved" in m for m in messages(app)))
        page = saved.read_text(encoding="utf-8")
        assert page.startswith("<!DOCTYPE html>") and "@media print" in page and "SIMULATED TENANT" in page
        assert delivered[-1]["mime_type"] == "text/html" and delivered[-1]["save_filename"] == "report-demo.html"
        assert any(f"saved to {saved}" in m for m in messages(app))


async def test_the_palette_saves_a_pdf_whole(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    pytest.importorskip("xhtml2pdf", reason="the pdf extra is not installed")
    app = demo_app(scale=200)
    app.downloads_dir = tmp_path
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await wait_ready(pilot)
        _commands(app)["Report as PDF"]()
        saved = tmp_path / "report-demo.pdf"
        await wait_until(pilot, lambda: any("Sign-off report (PDF) saved" in m for m in messages(app)), timeout=60)
        assert not errors(app)
        reader = pypdf.PdfReader(io.BytesIO(saved.read_bytes()))  # every byte as written: it parses
        first = reader.pages[0].extract_text()
        assert "Sign-off report: demo" in first and "SIMULATED TENANT" in first


async def test_a_pdf_without_the_extra_is_one_notification_naming_it(tmp_path, monkeypatch):
    import core.report_pdf

    monkeypatch.setattr(core.report_pdf, "have_xhtml2pdf", lambda: False)
    monkeypatch.setattr(core.report_pdf, "chromium", lambda: None)
    app = demo_app(scale=200)
    app.downloads_dir = tmp_path
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await wait_ready(pilot)
        _commands(app)["Report as PDF"]()
        await wait_until(pilot, lambda: errors(app))
        assert len(errors(app)) == 1 and "[pdf]" in errors(app)[0] and errors(app)[0].startswith("Report not saved")
        assert not list(tmp_path.iterdir())
