"""The sign-off report as one self-contained, print-ready HTML page: inline CSS and SVG, no scripts, nothing to load.

On paper (a browser's Print, Chromium's --print-to-pdf) the page is A4 or Letter, statuses keep their colours,
the summary ends with the signatures on its own page, table headings repeat on each page, a timestamp never wraps,
and a rehearsal's marking is printed in the top margin of every page. `for_pdf=True` writes the flavour xhtml2pdf
reads: its frames instead of margin boxes, tables instead of grid, and the charts as SVG images it draws.

Every value is escaped: notes, summaries and record values come from people and from the tenants' data.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from html import escape
from typing import Any, TextIO

from core.report_blocks import (
    Block, Chart, Code, Facts, Heading, Headline, PageBreak, Para, Renderer, Signatures, Table, Tone, nonempty,
)
from core.report_charts import TONE_COLOURS

PAPERS = {"a4": "A4", "letter": "letter"}
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d| UTC)?)?")

_SCREEN = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
  max-width: 1200px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
h3 { margin-top: 1.6em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; width: 100%%; }
th, td { border: 1px solid #ddd; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } tr:nth-child(even) td { background: #fafafa; }
table.facts td:first-child { font-weight: 600; width: 30%%; background: #f7f7f7; }
pre { background: #f6f6f6; padding: .6em; overflow-x: auto; white-space: pre-wrap; font-size: .9em; }
.none { color: #777; font-style: italic; }
.ts { white-space: nowrap; }
.headline { font-size: 1.25em; font-weight: 700; padding: .5em .8em; border-left: 6px solid; margin: .8em 0; }
.tone-good { color: %(good)s; } .tone-bad { color: %(bad)s; } .tone-open { color: %(open)s; }
.tone-waived { color: %(waived)s; } .tone-muted { color: %(muted)s; }
.headline.tone-good { border-color: %(good)s; background: #eef7f1; }
.headline.tone-bad { border-color: %(bad)s; background: #fbeeed; }
.headline.tone-open { border-color: %(open)s; background: #fdf5e8; }
span.tone-good, span.tone-bad, span.tone-open, span.tone-waived { font-weight: 700; }
.band { background: #b26a00; color: #fff; font-weight: 700; text-align: center; padding: .3em; letter-spacing: .05em;
  position: sticky; top: 0; }
figure { margin: 1em 0; } figcaption { color: #555; font-size: .9em; } svg { max-width: 100%%; height: auto; }
table.signatures td { border: none; padding: 2.2em 1em .2em 0; width: 50%%; }
.line { border-bottom: 1px solid #333; height: 1.8em; }
.label { color: #555; font-size: .85em; }
"""

_PRINT = """
@page { size: %(paper)s; margin: 20mm 14mm 18mm; %(marks)s
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font-size: 8pt; color: #555; } }
@media print {
  body { font-size: 9.5pt; max-width: none; margin: 0; padding: 0; }
  .band { display: none; }
  h2, h3 { page-break-after: avoid; break-after: avoid; }
  thead { display: table-header-group; } tr, figure, .headline, table.signatures { page-break-inside: avoid; }
  .page-break { page-break-before: always; break-before: page; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  pre { white-space: pre-wrap; word-break: break-all; }
}
"""

# xhtml2pdf: @page frames carry the marking on every page; no grid, no sticky, no margin boxes.
_PDF = """
@page { size: %(paper)s; margin: 20mm 14mm 18mm;
  @frame band { -pdf-frame-content: band; top: 7mm; height: 9mm; left: 14mm; right: 14mm; }
  @frame footer { -pdf-frame-content: footer; bottom: 6mm; height: 8mm; left: 14mm; right: 14mm; } }
body { font-family: Helvetica; font-size: 9pt; color: #222; }
h1 { font-size: 16pt; } h2 { font-size: 12.5pt; border-bottom: 1px solid #ccc; margin-top: 12pt; }
h3 { font-size: 10.5pt; }
table { width: 100%%; }
th, td { border: 0.5px solid #ccc; padding: 2pt 3pt; text-align: left; vertical-align: top; }
th { background-color: #eeeeee; }
table.facts td.key { font-weight: bold; width: 30%%; background-color: #f5f5f5; }
pre { background-color: #f6f6f6; padding: 4pt; font-size: 7.5pt; }
.none { color: #777777; font-style: italic; }
.headline { font-size: 12pt; font-weight: bold; padding: 5pt; }
.tone-good { color: %(good)s; } .tone-bad { color: %(bad)s; } .tone-open { color: %(open)s; }
.tone-waived { color: %(waived)s; } .tone-muted { color: %(muted)s; }
#band { color: #b26a00; font-weight: bold; text-align: center; font-size: 10pt; }
#footer { color: #555555; font-size: 7.5pt; text-align: right; }
table.signatures td { border: none; padding-top: 22pt; }
.line { border-bottom: 0.8px solid #333333; }
.label { color: #555555; font-size: 8pt; }
.page-break { page-break-before: always; }
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _cell(value: Any) -> str:
    """Escaped, with each timestamp kept on one line and a Tone in its colour."""
    text = _TIMESTAMP.sub(lambda m: f'<span class="ts">{m[0]}</span>', _e(value))
    return f'<span class="tone-{value.tone}">{text}</span>' if isinstance(value, Tone) else text


class _Plain:
    """xhtml2pdf's built-in fonts have no status glyphs or arrows (WinAnsi only): write them in plain letters."""
    TABLE = str.maketrans({"✓": "", "≈": "~", "■": "", "○": "", "▲": "", "→": "->"})

    def __init__(self, out: TextIO):
        self.inner = out

    def write(self, text: str) -> int:
        return self.inner.write(text.translate(self.TABLE))

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)


class HtmlRenderer(Renderer):
    def __init__(self, out: TextIO, *, title: str, paper: str = "a4", marking: str | None = None,
                 for_pdf: bool = False):
        super().__init__(out)
        self.title, self.marking, self.for_pdf = title, marking, for_pdf
        self.paper = PAPERS[paper]

    def _style(self) -> str:
        colours = dict(TONE_COLOURS)
        if self.for_pdf:
            return _PDF % {"paper": self.paper, **colours}
        marks = "" if not self.marking else (
            f'@top-center {{ content: "{_e(self.marking).upper()}: not a sign-off of a client\'s tenant"; '
            "font-weight: 700; color: #b26a00; }")
        return _SCREEN % colours + _PRINT % {"paper": self.paper, "marks": marks}

    def write(self, items: Iterable[Block]) -> None:
        if self.for_pdf:
            self.out = _Plain(self.out)
        self.out.write(f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
                       f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
                       f"<title>{_e(self.title)}</title>\n<style>{self._style()}</style>\n</head>\n<body>\n")
        if self.marking:
            self.out.write(f'<div class="band" id="band">{_e(self.marking).upper()}: not a sign-off of a client\'s '
                           f"tenant</div>\n")
        if self.for_pdf:
            self.out.write(f'<div id="footer">{_e(self.title)} · page <pdf:pagenumber> of <pdf:pagecount></div>\n')
        super().write(items)
        self.out.write("</body>\n</html>\n")

    def heading(self, block: Heading) -> None:
        self.out.write(f"<h{block.level}>{_e(block.text)}</h{block.level}>\n")

    def para(self, block: Para) -> None:
        self.out.write(f"<p>{_cell(block.text)}</p>\n")

    def headline(self, block: Headline) -> None:
        self.out.write(f'<p class="headline tone-{block.text.tone}">{_e(block.text)}</p>\n')

    def facts(self, block: Facts) -> None:
        self.out.write('<table class="facts">\n' + "".join(
            f'<tr><td class="key">{_e(k)}</td><td>{_cell(v)}</td></tr>\n' for k, v in block.pairs) + "</table>\n")

    def code(self, block: Code) -> None:
        self.out.write(f"<pre><code>{_e(block.text)}</code></pre>\n")

    def table(self, block: Table) -> None:
        rows = nonempty(block.rows)
        if rows is None:
            self.out.write('<p class="none">None.</p>\n')
            return
        self.out.write("<table>\n<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in block.headers)
                       + "</tr></thead>\n<tbody>\n")
        self.out.writelines("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in row) + "</tr>\n" for row in rows)
        self.out.write("</tbody>\n</table>\n")

    def chart(self, block: Chart) -> None:
        if self.for_pdf:  # xhtml2pdf draws SVG given as an image (svglib), not inline
            data = base64.b64encode(block.svg.encode()).decode()
            drawing = f'<img src="data:image/svg+xml;base64,{data}" width="500" alt="{_e(block.alt)}">'
        else:
            drawing = block.svg
        self.out.write(f"<figure>\n{drawing}\n<figcaption>{_e(block.title)}: {_e(block.alt)}</figcaption>\n"
                       "</figure>\n")

    def signatures(self, block: Signatures) -> None:
        cells = "".join(
            f'<td><div class="line">{_e(name)}</div><div class="label">{_e(role)}: name</div>'
            f'<div class="line"></div><div class="label">Signature</div>'
            f'<div class="line"></div><div class="label">Date</div></td>' for role, name in block.parties)
        self.out.write(f'<table class="signatures"><tr>{cells}</tr></table>\n')

    def pagebreak(self, block: PageBreak) -> None:
        self.out.write('<div class="page-break"></div>\n')
