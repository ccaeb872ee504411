"""Fill `{…}` placeholders in ticket templates and instructions from run variables and the latest results.

`{freeze_ts}` / `{old_cutover_dates.invoice}` give a variable as text, `{r[C2].line}` / `.count` / `.summary` a
step's latest result, `{profile}` the profile name.

A Support ticket is sent to a person outside the team, so a draft never carries a placeholder or the tool's own
status text. Before drafting, `ticket_needs` says what is missing: the run variables the template names (asked
for first) and the steps whose results it quotes but which were never checked, or only checked while an input was
missing (checked first). A line that names a fact nobody has to record (an id the register may not have) is left
out of the draft rather than shown as "not recorded". Instructions, read by the consultant, still say what is not
recorded yet.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from core.errors import ConfigError
from core.runbook.model import CheckResult, Status, Step, Waiver
from core.runbook.phases import find_step
from core.runbook.variables import RunVariables, format_value
from core.words import plural

_RESULT = re.compile(r"r\[([^\]]+)\]")


@dataclass(frozen=True)
class DraftTicket:
    step_id: str
    subject: str
    body: str

    @property
    def text(self) -> str:
        return f"Subject: {self.subject}\n\n{self.body}\n"


@dataclass(frozen=True)
class TicketNeeds:
    """What must happen before a step's ticket can be drafted."""

    variables: tuple[str, ...] = ()  # run variables to record
    checks: tuple[str, ...] = ()  # steps to (re)check
    extra: tuple[str, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.variables or self.checks)

    def message(self, step_id: str) -> str:
        parts = []
        if self.variables:
            parts.append("record " + ", ".join(self.variables))
        if self.checks:
            parts.append("check " + ", ".join(self.checks))
        return f"before drafting the {step_id} ticket, " + " and ".join(parts)


class TicketIncomplete(ConfigError):
    def __init__(self, step_id: str, needs: TicketNeeds):
        hint = "; ".join([*(f"cutover set {v} VALUE" for v in needs.variables[:1]),
                          *([f"cutover check {' '.join(needs.checks)}"] if needs.checks else [])])
        super().__init__(needs.message(step_id), hint=hint)
        self.needs = needs


def quoted(result: CheckResult, waiver: Waiver | None = None) -> str:
    """A step's latest result as a sentence for a person outside the team: no status code, a plain date. What the
    team waived says so, with who and why: a ticket quotes what was found, it never vouches for it."""
    when = result.checked_at.replace("T", " ").removesuffix("Z")[:16]
    accepted = f"; accepted on purpose by {waiver.who}: {waiver.reason}" \
        if waiver is not None and result.status is not Status.PASS else ""
    return f"{result.summary} (checked {when} UTC{accepted})"


class _Missing(Exception):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


class _Quoted:
    """`{r[C2].line}`: the result as a sentence, `.count`, `.summary`."""

    def __init__(self, result: CheckResult, waiver: Waiver | None = None):
        self.line, self.summary = quoted(result, waiver), result.summary
        self.count = "?" if result.count is None else f"{result.count:,}"


class _Results:
    def __init__(self, results: Mapping[str, CheckResult], strict: bool,
                 waivers: Mapping[str, Waiver] | None = None):
        self._results, self._strict, self._waivers = results, strict, waivers or {}

    def __getitem__(self, step_id: str) -> Any:
        result = self._results.get(step_id)
        if result is None:
            if self._strict:
                raise _Missing(f"r[{step_id}]")
            return _NotChecked(step_id)
        return _Quoted(result, self._waivers.get(step_id))


class _NotChecked:
    def __init__(self, step_id: str):
        self.line = self.summary = f"{step_id} not checked yet"
        self.count = "?"


class _Dotted:
    """`{old_cutover_dates.invoice}`: attribute access into the flat variable names."""

    def __init__(self, values: Mapping[str, str | None], prefix: str, strict: bool):
        self._values, self._prefix, self._strict = values, prefix, strict

    def __getattr__(self, sub: str) -> str:
        name = f"{self._prefix}.{sub}"
        value = self._values.get(name)
        if value is None and self._strict:
            raise _Missing(name)
        return value or f"<{name} not recorded>"


def notice_words(target: date, today: date) -> str:
    """How far off the migration date is, said truly: Support asks for at least 7 days' notice (C-ENABLE)."""
    days = (target - today).days
    if days >= 7:
        return f"{days} days from today; Support asks for at least 7 days' notice"
    if days >= 0:
        when = "today" if days == 0 else f"{plural(days, 'day')} from today"
        return f"{when}, less than the 7 days' notice Support asks for"
    return f"{plural(-days, 'day')} ago"


def _derived(variables: RunVariables) -> dict[str, str]:
    """Facts a ticket states that follow from the run variables (a date's distance from today)."""
    target = variables.target_migration_date
    return {} if target is None else {"target_migration_notice": notice_words(target, datetime.now(UTC).date())}


class _Fill(dict):
    def __init__(self, variables: RunVariables, results: Mapping[str, CheckResult], profile: str,
                 extra: Mapping[str, str] | None = None, *, strict: bool = False,
                 waivers: Mapping[str, Waiver] | None = None):
        super().__init__()
        # The instances register's ids come first: they are what the person recorded about the instances.
        self._values = ({n: format_value(v) for n, v in variables.items()} | _derived(variables)
                        | dict(extra or {}))
        self._results = _Results(results, strict, waivers)
        self._profile = profile
        self._strict = strict

    def __missing__(self, key: str) -> Any:
        if key == "r":
            return self._results
        if key == "profile":
            return self._profile
        if any(n.startswith(f"{key}.") for n in self._values):
            return _Dotted(self._values, key, self._strict)
        value = self._values.get(key)
        if value is None and self._strict:
            raise _Missing(key)
        return value or f"<{key} not recorded>"


def fill(template: str, variables: RunVariables, results: Mapping[str, CheckResult], profile: str,
         extra: Mapping[str, str] | None = None) -> str:
    """Instructions and the like: what is not recorded yet says so."""
    return template.format_map(_Fill(variables, results, profile, extra))


def _fields(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def ticket_needs(step: Step, variables: RunVariables, results: Mapping[str, CheckResult]) -> TicketNeeds:
    """The run variables the template's required lines name, and the quoted steps to check first."""
    assert step.ticket is not None
    template = f"{step.ticket.subject}\n{step.ticket.body}"
    missing = []
    for name in _fields(template):
        base = name.split("[")[0].split(".")[0]
        if name.startswith("r["):
            continue
        if (base in RunVariables.model_fields or name in RunVariables.names()) and variables.get(name) is None \
                and name not in step.ticket.optional:
            missing.append(name)
    checks = []
    for step_id in dict.fromkeys(_RESULT.findall(template)):
        result = results.get(step_id)
        if result is None or result.status is Status.ERROR or (result.status is Status.NEEDS_ACTION
                                                                and result.count is None):
            checks.append(step_id)  # never checked, or checked while an input it needs was missing
    return TicketNeeds(tuple(dict.fromkeys(missing)), tuple(checks))


def draft_ticket(step: Step, variables: RunVariables, results: Mapping[str, CheckResult],
                 profile: str, extra: Mapping[str, str] | None = None,
                 waivers: Mapping[str, Waiver] | None = None) -> DraftTicket:
    """The ticket as a person would send it. TicketIncomplete when something must be recorded or checked first;
    a line naming an optional fact nobody recorded is left out. `extra`: values that win over the run variables
    (the connector instances register, for F4)."""
    assert step.ticket is not None
    needs = ticket_needs(step, variables, results)
    if needs:
        raise TicketIncomplete(step.id, needs)
    fill_ = _Fill(variables, results, profile, extra, strict=True, waivers=waivers)

    def lines(text: str) -> str:
        out = []
        for line in text.split("\n"):
            try:
                out.append(line.format_map(fill_))
            except _Missing:
                continue  # an optional fact nobody recorded: the sentence goes, not a placeholder
        return "\n".join(out)

    return DraftTicket(step.id, lines(step.ticket.subject), _with_waived_gates(lines(step.ticket.body), step,
                                                                               results, waivers or {}))


def _with_waived_gates(body: str, step: Step, results: Mapping[str, CheckResult], waivers: Mapping[str, Waiver]
                       ) -> str:
    """What the request goes ahead despite, said to Support before the closing line: every gate of the step that a
    person waived, what its check found, and who accepted it and why."""
    waived = [gate for gate in step.gates if gate in waivers]
    if not waived:
        return body
    said = ["We go ahead with these accepted on purpose:"]
    for gate in waived:
        found = quoted(results[gate], waivers[gate]) if gate in results else \
            f"not checked; accepted on purpose by {waivers[gate].who}: {waivers[gate].reason}"
        said.append(f"- {gate} ({find_step(gate).title}): {found}")
    text, closing, after = body.rpartition("\nThank you.")
    if not closing:
        return body + "\n\n" + "\n".join(said)
    return text + "\n" + "\n".join(said) + "\n" + closing + after


def instructions(step: Step, variables: RunVariables, profile: str) -> list[str]:
    """The step's numbered instructions with run variables filled in."""
    return [fill(line, variables, {}, profile) for line in step.instructions_on(variables.provisioning_path)]
