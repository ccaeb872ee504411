"""What a report is made of, whatever it is written as: headings, paragraphs, facts, tables, charts, a signature
block. core.report yields these; core.report (Markdown) and core.report_html write them. Both import this module
and neither imports the other's renderer at module level, so there is no import cycle between them.

A table's rows may be a generator: the audit log of a big E1 is streamed a row at a time, never held in memory.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any, TextIO


@dataclass(frozen=True)
class Tone:
    """A value shown in a colour in HTML (a status, a verdict), plain text in Markdown. `tone` is one of
    TONES."""
    text: str
    tone: str

    def __str__(self) -> str:
        return self.text


TONES = ("good", "bad", "open", "waived", "muted")


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Headline:
    """The verdict in one plain sentence, at the top of the summary."""
    text: Tone


@dataclass(frozen=True)
class Facts:
    pairs: tuple[tuple[str, Any], ...]  # values are text or Tone


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: Iterable[tuple[Any, ...]]  # may be a generator: renderers write a row at a time


@dataclass(frozen=True)
class Chart:
    """A hand-drawn SVG with the sentence that says what it shows (Markdown writes the sentence alone)."""
    title: str
    svg: str
    alt: str


@dataclass(frozen=True)
class Signatures:
    """Who signs: (role, name) pairs; a blank name leaves a line to write it on."""
    parties: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class PageBreak:
    """The summary ends here on paper: the appendices start on a page of their own."""


Block = Heading | Para | Headline | Facts | Code | Table | Chart | Signatures | PageBreak


def text_of(value: Any) -> str:
    """A cell's text: None is empty."""
    return "" if value is None else str(value)


def one_line(text: str) -> str:
    return " ".join(text.split())


def nonempty(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]] | None:
    """The rows again, or None when there are none (a renderer writes "None" instead of an empty table)."""
    it = iter(rows)
    first = next(it, None)
    return None if first is None else itertools.chain((first,), it)


def scrubbed(items: Iterable[Block], scrub: Callable[[str], str]) -> Iterator[Block]:
    """The blocks with `scrub` applied to every text a person reads (a loopback URL or a local path out), lazily:
    a streamed table stays streamed. SVG and code are left as drawn."""
    def cell(value: Any) -> Any:
        if isinstance(value, Tone):
            return replace(value, text=scrub(value.text))
        return scrub(value) if isinstance(value, str) else value

    for block in items:
        if isinstance(block, Heading | Para):
            yield replace(block, text=scrub(block.text))
        elif isinstance(block, Headline):
            yield replace(block, text=cell(block.text))
        elif isinstance(block, Facts):
            yield Facts(tuple((k, cell(v)) for k, v in block.pairs))
        elif isinstance(block, Table):
            yield Table(block.headers, (tuple(map(cell, row)) for row in block.rows))
        elif isinstance(block, Signatures):
            yield Signatures(tuple((role, scrub(name)) for role, name in block.parties))
        else:
            yield block


class Renderer:
    """Writes blocks to a text stream one at a time; a subclass has one method per kind of block."""

    def __init__(self, out: TextIO):
        self.out = out

    def write(self, items: Iterable[Block]) -> None:
        for block in items:
            getattr(self, type(block).__name__.lower())(block)
