"""Fill `{…}` placeholders in ticket templates and instructions from run variables and the latest results.

`{freeze_ts}` / `{old_cutover_dates.invoice}` give a variable as text, `{r[C2].line}` / `.count` / `.summary` a
step's latest result, `{profile}` the profile name. Anything not recorded yet reads `<name not recorded>`, so a
draft is always complete text that shows what is still missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.runbook.model import CheckResult, Step
from core.runbook.variables import RunVariables, format_value


@dataclass(frozen=True)
class DraftTicket:
    step_id: str
    subject: str
    body: str

    @property
    def text(self) -> str:
        return f"Subject: {self.subject}\n\n{self.body}\n"


class _Missing:
    def __init__(self, step_id: str):
        self.line = self.summary = f"{step_id} not checked yet"
        self.count = "?"


class _Results:
    def __init__(self, results: Mapping[str, CheckResult]):
        self._results = results

    def __getitem__(self, step_id: str) -> Any:
        return self._results.get(step_id) or _Missing(step_id)


class _Dotted:
    """`{old_cutover_dates.invoice}`: attribute access into the flat variable names."""

    def __init__(self, values: Mapping[str, str | None], prefix: str):
        self._values, self._prefix = values, prefix

    def __getattr__(self, sub: str) -> str:
        name = f"{self._prefix}.{sub}"
        return self._values.get(name) or f"<{name} not recorded>"


class _Fill(dict):
    def __init__(self, variables: RunVariables, results: Mapping[str, CheckResult], profile: str,
                 extra: Mapping[str, str] | None = None):
        super().__init__()
        # The instances register's ids come first: they are what the person recorded about the instances.
        self._values = {n: format_value(v) for n, v in variables.items()} | dict(extra or {})
        self._results = _Results(results)
        self._profile = profile

    def __missing__(self, key: str) -> Any:
        if key == "r":
            return self._results
        if key == "profile":
            return self._profile
        if any(n.startswith(f"{key}.") for n in self._values):
            return _Dotted(self._values, key)
        return self._values.get(key) or f"<{key} not recorded>"


def fill(template: str, variables: RunVariables, results: Mapping[str, CheckResult], profile: str,
         extra: Mapping[str, str] | None = None) -> str:
    return template.format_map(_Fill(variables, results, profile, extra))


def draft_ticket(step: Step, variables: RunVariables, results: Mapping[str, CheckResult],
                 profile: str, extra: Mapping[str, str] | None = None) -> DraftTicket:
    """`extra`: values that win over the run variables (the connector instances register, for F4)."""
    assert step.ticket is not None
    return DraftTicket(step.id, fill(step.ticket.subject, variables, results, profile, extra),
                       fill(step.ticket.body, variables, results, profile, extra))


def instructions(step: Step, variables: RunVariables, profile: str) -> list[str]:
    """The step's numbered instructions with run variables filled in."""
    return [fill(line, variables, {}, profile) for line in step.instructions]
