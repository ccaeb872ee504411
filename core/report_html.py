"""The sign-off report as one self-contained HTML page: inline CSS, no scripts, no external links to load.

Every value is escaped: notes, summaries and record values come from people and from the tenants' data.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any, TextIO

from core.report import Block, Code, Facts, Heading, Para, Renderer, Table, nonempty

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; } h3 { margin-top: 1.6em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; width: 100%; }
th, td { border: 1px solid #ddd; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } tr:nth-child(even) td { background: #fafafa; }
pre { background: #f6f6f6; padding: .6em; overflow-x: auto; white-space: pre-wrap; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; } dt { font-weight: 600; }
.none { color: #777; font-style: italic; }
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


class HtmlRenderer(Renderer):
    def __init__(self, out: TextIO, *, title: str):
        super().__init__(out)
        self.title = title

    def write(self, items: Iterable[Block]) -> None:
        self.out.write(f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
                       f"<title>{_e(self.title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n")
        super().write(items)
        self.out.write("</body>\n</html>\n")

    def heading(self, block: Heading) -> None:
        self.out.write(f"<h{block.level}>{_e(block.text)}</h{block.level}>\n")

    def para(self, block: Para) -> None:
        self.out.write(f"<p>{_e(block.text)}</p>\n")

    def facts(self, block: Facts) -> None:
        self.out.write("<dl>" + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in block.pairs) + "</dl>\n")

    def code(self, block: Code) -> None:
        self.out.write(f"<pre><code>{_e(block.text)}</code></pre>\n")

    def table(self, block: Table) -> None:
        rows = nonempty(block.rows)
        if rows is None:
            self.out.write('<p class="none">None.</p>\n')
            return
        self.out.write("<table>\n<tr>" + "".join(f"<th>{_e(h)}</th>" for h in block.headers) + "</tr>\n")
        self.out.writelines("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>\n" for row in rows)
        self.out.write("</table>\n")
