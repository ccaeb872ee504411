"""The step screen's text panels, as pure functions of a StepState: the status line, what blocks the step, and the
standing waiver. No I/O: the screen passes in the gates' states it already has."""

from __future__ import annotations

import re
import textwrap

from rich.text import Text

from core.runbook.model import Status, StepState
from tui.app_words import PLACEHOLDER, VALUE, app_words
from tui.widgets.status import GLYPHS, STYLES


# A placeholder value (VALUE, YYYY-MM-DD) is said as "set X above"; a concrete one is kept: "set X above to sync".
_SET_HINT = re.compile(rf"(?P<repair>repair it: )?cutover set (?P<name>[a-z0-9]+(?:[_.]\w+)+) (?P<value>{VALUE})")


# The command-line forms core's texts use for what a step screen does itself, with the screen's own words.
_CHOICE_HINT = re.compile(r"cutover set (?P<name>[\w.]+) (?P<choices>[\w-]+(?:\|[\w-]+)+)")
_SCREEN_WORDS = (
    (re.compile(r"cutover confirm (?P<step>[\w/]+) --note \.\.\."), "n, then a note, confirms it"),
    (re.compile(r"cutover ticket (?P<step>[\w/]+) --number N"), "type it in the ticket number field below"),
    (re.compile(r"cutover apply (?P<step>[\w/]+)"), "p plans it, a applies it"),
)


def set_above(text: str, editable: list[str], step_id: str | None = None) -> str:
    """Core's words say `cutover set NAME VALUE` (true on the command line); on a step screen whose editor for NAME
    is right there, they say so instead of sending the person to a terminal. With `step_id`, the same for what the
    screen of that step does itself: confirm, record the ticket number, plan and apply."""
    def local(m: re.Match) -> str:
        if m["name"] not in editable:
            return m[0]
        if m["repair"]:
            return "repair it in its field above"
        return f"set {m['name']} above" + ("" if PLACEHOLDER.match(m["value"]) else f" to {m['value']}")

    def choice(m: re.Match) -> str:
        return f"choose {m['name']} above" if m["name"] in editable else m[0]

    text = _SET_HINT.sub(local, _CHOICE_HINT.sub(choice, text))  # a choice first: its value looks like any other
    for pattern, words in _SCREEN_WORDS if step_id else ():
        text = pattern.sub(lambda m, w=words: w if m["step"] == step_id else m[0], text)
    return app_words(text)  # what is left is done on another screen


def head_summary(state: StepState) -> str:
    """The status line's words: a blocked step names its gates (the panel below says why), a waived one what its
    check found (the waiver panel says who and why)."""
    if state.status is Status.BLOCKED:
        n = len(state.blocked_by)
        if n > 4:  # the panel below lists them
            return f"blocked until {n} steps are done"
        return f"blocked until {', '.join(state.blocked_by)} {'is' if n == 1 else 'are'} done"
    if state.status is Status.WAIVED:
        return "waived · found: " + (state.result.summary if state.result else "not checked")
    return state.summary


def gate_text(blockers: list[StepState]) -> Text:
    """Each gate not done with its glyph and what it found; gates not run yet on one wrapped line, so every id stays
    on screen at 80 columns. One line per gate, cut at the width (the gate's own screen has the rest)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("Blocked", style=STYLES["blocked"])
    text.append(" until these are done (pass, or waived with a reason):")
    not_run = []
    for gate in blockers:
        status = str(gate.status)
        if gate.status is Status.NOT_RUN:
            not_run.append(gate.step.id)
            continue
        why = f"blocked by {', '.join(gate.blocked_by)}" if gate.blocked_by else app_words(gate.summary)
        text.append("\n")
        text.append(f"{GLYPHS[status]} ", style=STYLES[status])
        text.append(f"{gate.step.id:<6}", style="bold")
        text.append(f"{status}: {why}")
    if not_run:
        text.append("\n")
        text.append(f"{GLYPHS['not-run']} ", style=STYLES["not-run"])
        lines = textwrap.wrap(", ".join(not_run), width=54)
        text.append("not done yet: " + "\n                ".join(lines))
    text.append("\nNothing can be confirmed, ticketed or applied here until then; to go on anyway, waive a gate "
                "on its own screen (w).", style="dim")
    return text


def waiver_text(state: StepState) -> Text:
    waiver = state.waiver
    assert waiver is not None
    text = Text()
    text.append(f"{GLYPHS['waived']} Waived", style=STYLES["waived"])
    text.append(f"  by {waiver.who} at {waiver.at}\n")
    text.append("Why", style="bold")
    text.append(f"  {waiver.reason}\n")
    if state.status is Status.PASS:
        text.append("The step now passes on its own; the waiver stands until withdrawn (w).", style="dim")
    else:
        text.append("It counts as done for the steps it gates. w withdraws it.", style="dim")
    return text


def why_text(state: StepState) -> str:
    step = state.step
    text = f"Why  {step.why}\nDoc  {step.doc_url}"
    if state.confirmation:
        c = state.confirmation
        text += f"\nConfirmed  by {c.who} at {c.at}: {c.note} (x withdraws it)"
    if state.ticket:
        text += f"\nTicket  {state.ticket.number} (recorded {state.ticket.at} by {state.ticket.who})"
    return text
