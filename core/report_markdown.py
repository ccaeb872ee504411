"""The sign-off report as Markdown: the report's blocks (core.report_blocks) written as they come, tables as pipe
tables, a rehearsal's or a twin's marking as a band at the top."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TextIO

from core.report_blocks import (
    Block, Chart, Code, Facts, Heading, Headline, PageBreak, Para, Renderer, Signatures, Table, nonempty, one_line,
    text_of,
)


def _md_cell(value: Any) -> str:
    return text_of(value).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", "<br>")


class MarkdownRenderer(Renderer):
    def __init__(self, out: TextIO, *, marking: str | None = None):
        super().__init__(out)
        self.marking = marking

    def write(self, items: Iterable[Block]) -> None:
        band = f"> **{self.marking.upper()}: not a sign-off of a client's tenant.**\n\n" if self.marking else ""
        self.out.write(band)
        super().write(items)
        self.out.write(band.replace("> ", "\n> ", 1) if band else "")

    def heading(self, block: Heading) -> None:
        self.out.write(f"\n{'#' * block.level} {one_line(block.text)}\n\n")

    def para(self, block: Para) -> None:
        self.out.write(f"{block.text}\n\n")

    def facts(self, block: Facts) -> None:
        self.out.writelines(f"- **{k}:** {_md_cell(v)}\n" for k, v in block.pairs)
        self.out.write("\n")

    def headline(self, block: Headline) -> None:
        self.out.write(f"**{one_line(block.text.text)}**\n\n")

    def chart(self, block: Chart) -> None:
        self.out.write(f"_{block.title} (a chart in the HTML and PDF report): {block.alt}._\n\n")

    def signatures(self, block: Signatures) -> None:
        for role, name in block.parties:
            self.out.write(f"{role}: {name or '_' * 30}\n\nSignature: {'_' * 30}    Date: {'_' * 14}\n\n")

    def pagebreak(self, block: PageBreak) -> None:
        self.out.write("\n---\n")

    def code(self, block: Code) -> None:
        fence = "````" if "```" in block.text else "```"
        self.out.write(f"{fence}\n{block.text}\n{fence}\n\n")

    def table(self, block: Table) -> None:
        rows = nonempty(block.rows)
        if rows is None:
            self.out.write("_None._\n\n")
            return
        self.out.write("| " + " | ".join(block.headers) + " |\n|" + "---|" * len(block.headers) + "\n")
        self.out.writelines("| " + " | ".join(map(_md_cell, row)) + " |\n" for row in rows)
        self.out.write("\n")
