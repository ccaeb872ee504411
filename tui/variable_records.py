"""A run variable as the journal records it and as a person types it, for the run variables screen and the editor
widget both: its record (the stored text, who set it last and when, or unreadable), how it is typed (choices, or a
placeholder and a rule), the short forms the table shows, and the blocking read and store a thread worker calls.

No Textual here: these are the words and the journal calls, the widget (tui.widgets.variable_editor) and the screen
(tui.screens.variables) draw them.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from core.errors import CutoverError
from core.instances import MIRRORED
from core.runbook.variables import CutoverDates, RunVariables, expected_form

NOT_RECORDED = "not recorded"


@dataclass(frozen=True)
class VariableRecord:
    """A variable as the journal holds it: the stored text form (None: not recorded, or cleared) and who set it
    last, when (None: never set)."""

    name: str
    value: str | None = None
    set_by: str | None = None
    set_at: str | None = None
    unreadable: bool = False  # `value` is the journal's raw text, which no longer parses

    @property
    def ever_set(self) -> bool:
        return self.set_at is not None


@dataclass(frozen=True)
class VariableForm:
    """How a variable is typed: its choices (a Literal type), or the placeholder and the rule for its text."""

    choices: tuple[str, ...]
    placeholder: str
    rule: str


def variable_form(name: str) -> VariableForm:
    head, _, sub = RunVariables.canonical(name).partition(".")
    annotation = (CutoverDates.model_fields[sub] if sub else RunVariables.model_fields[head]).annotation
    args = typing.get_args(annotation) or (annotation,)
    for arg in args:
        if typing.get_origin(arg) is typing.Literal:
            choices = tuple(str(c) for c in typing.get_args(arg))
            return VariableForm(choices, "", "one of " + ", ".join(choices))
    # placeholders start "e.g." and are dimmed in italics: an empty field must not look filled in
    if datetime in args:
        return VariableForm((), "e.g. 2026-10-28T18:00Z (UTC)", "a UTC date and time like 2026-10-28T18:00Z or "
                                                                "'2026-10-28 18:00'")
    if date in args:
        return VariableForm((), "e.g. 2026-10-28 (YYYY-MM-DD)", "a date like 2026-10-28")
    if head == "zuora_base_url":
        return VariableForm((), "e.g. https://rest.zuora.com", "an https URL like https://rest.zuora.com")
    if head in MIRRORED:
        return VariableForm((), ID_HINTS.get(head, "the id, e.g. 46408"), "an id copied from the connector (no spaces)")
    return VariableForm((), TEXT_HINTS.get(head, "type the value (hover for what it is)"), "a non-empty text")


# What each connector id looks like where it is read off (the Logs tab, the Connect tenant), so an empty field does
# not suggest a number where a name or a UUID goes.
ID_HINTS = {  # short: the field is about 30 columns at 80x24
    "old_instance_id": "e.g. 46408 (in its URL)",
    "new_instance_id": "e.g. 46408 (in its URL)",
    "old_account_id": "e.g. zuora-1a2b3c4d",
    "new_account_id": "e.g. zuora-1a2b3c4d",
    "new_environment_id": "e.g. 3f2b9c1e-… (a UUID)",
}

TEXT_HINTS = {  # what a text variable looks like where it is read off
    "connect_login_name": "e.g. ops@acme.com (the login you sign in to Zuora Connect with)",
    "tenant_env": "e.g. us-cloud1-production",
    "netsuite_account_id": "e.g. 1234567 or 1234567_SB1 (Setup > Company Information)",
    "b1_ticket": "e.g. 00412345", "d1_ticket": "e.g. 00412345", "f4_ticket": "e.g. 00412345",
}


def person(set_by: str | None) -> str:
    """'Ada Lovelace <ada@example.com>' -> 'Ada Lovelace' (the table's short form)."""
    return (set_by or "").split(" <")[0]


def when(set_at: str | None, *, short: bool = False) -> str:
    """'2026-10-28T12:02:11Z' -> '2026-10-28 12:02' (short: '10-28 12:02'). UTC, as the journal stores it."""
    if not set_at:
        return ""
    text = set_at.replace("T", " ").rstrip("Z")[:16]
    return text[5:] if short else text


def read_variables(backend: Any, names: list[str] | None = None) -> dict[str, VariableRecord]:
    """Blocking (thread worker): the stored value, who and when of each variable (all of them by default)."""
    journal = backend.journal
    variables = journal.variables()
    values, unreadable = variables.dump(), variables.unreadable
    out: dict[str, VariableRecord] = {}
    for name in names or RunVariables.names():
        history = journal.variable_history(name)
        last = history[-1] if history else {}
        out[name] = VariableRecord(name, values.get(name), last.get("set_by"), last.get("set_at"),
                                   unreadable=name in unreadable)
    return out


def unreadable_note(record: VariableRecord) -> str:
    """'unreadable: the journal holds 'garbage', not a date like 2026-10-28; store a new value to repair it'."""
    return (f"unreadable: the journal holds {record.value!r}, not {expected_form(record.name)}; store a new value to "
            f"repair it")


def store_variable(backend: Any, name: str, text: str) -> VariableRecord:
    """Blocking (thread worker): validate and store (ConfigError with the expected form), then read back who and
    when. Connector ids go to the instances register, which the variable mirrors (Runbook.set_variable)."""
    backend.runbook.set_variable(name, text)
    return read_variables(backend, [name])[name]


def one_line(exc: BaseException) -> str:
    if isinstance(exc, CutoverError):
        return " ".join(str(exc).split())
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
