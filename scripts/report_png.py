"""Render the sign-off report's first page to screenshots/report.png with a headless browser, for the README.

    .venv/bin/python scripts/report_png.py            # a rehearsal (seed 1), its report as HTML, page 1 as PNG
    .venv/bin/python scripts/report_png.py --keep DIR # also keep the report's HTML in DIR

Not a CI test: it needs Chromium (or Google Chrome) installed. The report comes from an unattended rehearsal on the
simulated tenant, so it is marked as a rehearsal on every page. Chromium screenshots the page in a window of A4's
size (the summary is the first page); without a browser the script says so and exits 2, writing nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.rehearsal import Rehearsal  # noqa: E402
from core.report import write_report  # noqa: E402
from core.report_pdf import CHROMIUM_NAMES, chromium  # noqa: E402

# A4 at 96 dpi: 794 x 1123 CSS pixels; the summary fits one page.
WINDOW = "794,1123"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="keep the report's HTML in this folder")
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "screenshots" / "report.png")
    args = parser.parse_args()
    browser = chromium()
    if browser is None:
        print(f"no headless browser here ({', '.join(CHROMIUM_NAMES)} not on PATH): install Chromium "
              "(apt-get install chromium) and run again", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="cutover-report-png-") as folder:
        html = Path(folder) / "report.html"

        def write(rehearsal: Rehearsal) -> None:
            write_report(rehearsal.opened, html, "html")

        outcome = asyncio.run(Rehearsal(seed=1, scale="small", before_close=write).run())
        print(f"rehearsal {'passed' if outcome.passed else 'left steps open'} in {outcome.elapsed_s:.1f} s",
              file=sys.stderr)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([browser, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
                        f"--user-data-dir={folder}/profile", f"--window-size={WINDOW}",
                        f"--screenshot={args.output.resolve()}", html.as_uri()],
                       check=True, capture_output=True, timeout=120)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(html, args.keep / "report.html")
    print(f"first page written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
