"""Core's texts name the command line (`cutover confirm C7 --note ...`), which is true in a terminal. In the app the
same act is a key on a screen, so every text a screen shows passes through `app_words` first: the command becomes
the place and key that do it here. (A step screen first says "above" for what its own fields and keys do, see
tui.widgets.step_panels.set_above; what is left here is what another screen does.)"""

from __future__ import annotations

import re

VALUE = r"(?:'[^']*'|\"[^\"]*\"|[^\s,;)]*[^\s,;).])"  # a typed value; a sentence's full stop is not the value's
PLACEHOLDER = re.compile(r"^'?[A-Z][A-Z_:\- ]*'?$")  # VALUE, ID, YYYY-MM-DD, 'YYYY-MM-DD HH:MM': not a value
_NAME = r"(?P<name>VAR|NAME|[a-z0-9]+(?:[_.]\w+)+)"  # run variables have an underscore: "cutover set to …" is prose
_FORMS = (
    # cutover set NAME a|b|c: a choice
    (re.compile(rf"cutover set {_NAME} (?:[\w-]+(?:\|[\w-]+)+)"),
     lambda m: f"choose {m['name']} in its field or with v"),
    # cutover set NAME VALUE / ID / 'YYYY-MM-DD HH:MM' / anything typed
    (re.compile(rf"cutover set {_NAME} (?P<value>{VALUE})"),
     lambda m: "set on the step's screen, or with v" if m["name"] in ("VAR", "NAME")
     else f"set {m['name']} in its field or with v" + ("" if PLACEHOLDER.match(m["value"]) else f", to {m['value']}")),
    (re.compile(r"cutover confirm (?P<step>[\w/]+) --note (?:\.\.\.|…|N)"),
     lambda m: f"confirm {m['step']} with n on its screen"),
    (re.compile(r"cutover ticket (?P<step>[\w/]+) --number N"),
     lambda m: f"in the ticket number field of {m['step']}'s screen"),
    (re.compile(r"cutover apply (?P<step>[A-Z][\w/]*)"),
     lambda m: f"plan and apply {m['step']} with p and a on its screen"),
    (re.compile(r"cutover plan (?P<step>[A-Z][\w/]*)"),
     lambda m: f"plan {m['step']} with p on its screen"),
    (re.compile(r"cutover waive (?:STEP|(?P<step>[A-Z][\w/]*)) --reason (?:\.\.\.|…)"),
     lambda m: f"waive {m['step']} with w on its screen" if m["step"] else "waive it with w on its step's screen"),
    (re.compile(r"cutover undo (?P<step>[A-Z][\w/]*)"),
     lambda m: f"undo {m['step']} with u on its screen"),
)


def app_words(text: str) -> str:
    for pattern, words in _FORMS:
        text = pattern.sub(words, text)
    return text
