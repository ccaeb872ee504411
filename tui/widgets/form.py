"""Pieces the profile, credentials and instance screens share: a form row (a fixed-width label and its field on one
line, so a whole form fits at 80x24) and the per-system lines of a connection test."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.app import App
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Input, Label, Select

from core.session import SystemCheck


class FormRow(Horizontal):
    DEFAULT_CSS = """
    FormRow { height: auto; }
    FormRow > Label { width: 22; color: $text-muted; }
    FormRow > Input, FormRow > Select { width: 1fr; }
    FormRow > Input { background: $boost; }
    """

    def __init__(self, label: str, field: Widget, **kwargs):
        super().__init__(Label(label), field, **kwargs)


def text_input(id: str, value: str | None = "", placeholder: str = "", *, password: bool = False) -> Input:
    return Input(value or "", placeholder=placeholder, id=id, password=password, compact=True)


def choice(id: str, options: Iterable[str], value: str | None, *, allow_blank: bool = False) -> Select:
    return Select([(o, o) for o in options], value=value if value is not None else Select.NULL, id=id,
                  allow_blank=allow_blank, compact=True)


def selected(select: Select) -> str | None:
    return None if select.value is Select.NULL else str(select.value)


def checks_text(checks: Iterable[SystemCheck]) -> Text:
    """`✓ Zuora    connected to https://… (0.21 s)`, one line per system, in colour and glyph."""
    out = Text()
    for c in checks:
        out.append("✓ " if c.ok else "× ", style="bold green" if c.ok else "bold red")
        out.append(f"{c.system:<9}", style="bold")
        out.append(f"{c.detail} ({c.elapsed_s:.2f} s)\n")
    return out


def notify_failure(app: App, exc: BaseException, title: str) -> None:
    """From a thread worker: the error as a notification a person can act on, never a traceback."""
    app.call_from_thread(app.notify, app.describe_error(exc), title=title, severity="error", timeout=10)
