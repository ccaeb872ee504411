"""The sign-off report as a PDF: through the `pdf` extra (xhtml2pdf, pure Python, installs with pip alone), else
through Chromium's --print-to-pdf where it is installed (Debian's `chromium`), else one line naming both.

xhtml2pdf reads its own flavour of the HTML (core.report_html, for_pdf=True); Chromium prints the page a browser
shows, with its print stylesheet. Either way the whole PDF is built in memory: a report with a 100k-record audit
log is better written as HTML and printed from a browser.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from importlib import metadata
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from core.errors import ConfigError, CutoverError

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_TIMEOUT_S = 120


def distribution_name() -> str:
    """The name pip knows this tool by (pyproject's project name, whatever it is renamed to), for the hint."""
    names = metadata.packages_distributions().get("cli", [])
    return next((n for n in names if "cutover" in n.lower()), names[0] if names else "cutover")


def chromium() -> str | None:
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def have_xhtml2pdf() -> bool:
    try:
        import xhtml2pdf  # noqa: F401
    except ImportError:
        return False
    return True


def pdf_bytes(render: Callable[[TextIO, bool], None]) -> bytes:
    """The PDF of the page `render(out, for_pdf)` writes (core.report.render_html, bound to a run and a paper)."""
    if have_xhtml2pdf():
        html = io.StringIO()
        render(html, True)
        return _xhtml2pdf(html.getvalue())
    browser = chromium()
    if browser is not None:
        html = io.StringIO()
        render(html, False)
        return _chromium(browser, html.getvalue())
    raise ConfigError("a PDF report needs the pdf extra or Chromium, and neither is installed",
                      hint=f"pip install '{distribution_name()}[pdf]', or install Chromium, or write --format html "
                           "and print it from a browser")


def _xhtml2pdf(html: str) -> bytes:
    from xhtml2pdf import pisa

    out = io.BytesIO()
    status = pisa.CreatePDF(html, dest=out, encoding="utf-8")
    if status.err:
        raise CutoverError(f"xhtml2pdf could not lay out the report ({status.err} errors)",
                           hint="write --format html and print it from a browser")
    return out.getvalue()


def _chromium(browser: str, html: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="cutover-report-") as folder:
        page, pdf = Path(folder) / "report.html", Path(folder) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        try:
            subprocess.run([browser, "--headless", "--disable-gpu", "--no-sandbox", "--no-pdf-header-footer",
                            f"--user-data-dir={folder}/profile", f"--print-to-pdf={pdf}", page.as_uri()],
                           check=True, capture_output=True, timeout=CHROMIUM_TIMEOUT_S)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            raise CutoverError(f"Chromium could not print the report to PDF ({type(exc).__name__})",
                               hint="write --format html and print it from a browser") from None
        if not pdf.exists():
            raise CutoverError("Chromium printed no PDF", hint="write --format html and print it from a browser")
        return pdf.read_bytes()
