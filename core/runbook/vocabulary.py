"""The runbook's words every screen draws with: the nine phases, the kinds of step, the statuses and their glyphs.

Standard library only, so the app's first frame (the phase list, the checklist's frame) draws before pydantic and
the step definitions load. core.runbook.model re-exports all of it: import from there everywhere else.
"""

from __future__ import annotations

from enum import Enum, StrEnum


class Phase(Enum):
    """The nine phases, in order. `label` is the short sidebar name, `title` the phase screen's heading."""

    A = ("Discovery", "Discovery")
    B = ("Readiness", "IS readiness checklist")
    C = ("Freeze", "Connector readiness and freeze")
    D = ("Migration", "IS data migration")
    E = ("Data fixes", "Post-migration data fixes")
    F = ("Connector", "Connector re-provisioning")
    G = ("Payments", "NetSuite payments post-upgrade")
    H = ("Go-live", "Go-live and verification")
    I = ("Clean-up", "Clean-up")  # noqa: E741  (the runbook's own letter)

    def __init__(self, label: str, title: str):
        self.label = label
        self.title = title

    @property
    def letter(self) -> str:
        return self.name


class Kind(StrEnum):
    AUTO = "AUTO"  # the tool runs the query or call and shows the result
    VERIFY = "VERIFY"  # a person acts in a UI; the tool checks the result by API
    HUMAN = "HUMAN"  # instructions plus a recorded confirmation
    TICKET = "TICKET"  # a drafted Support ticket plus the recorded ticket number


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NEEDS_ACTION = "needs-action"
    ERROR = "error"
    NOT_RUN = "not-run"
    BLOCKED = "blocked"
    WAIVED = "waived"
    NOT_NEEDED = "not-needed"

    @property
    def glyph(self) -> str:
        return _GLYPHS[self]

    @property
    def done(self) -> bool:
        """Satisfies a gate and the sign-off: passed, accepted on purpose, or off the chosen path."""
        return self in (Status.PASS, Status.WAIVED, Status.NOT_NEEDED)


# Glyphs every common terminal font has (Fira Code, DejaVu, Menlo, Consolas; all in WGL4 but the check mark): no
# tofu boxes in a status column.
_GLYPHS = {Status.PASS: "✓", Status.FAIL: "×", Status.NEEDS_ACTION: "!", Status.ERROR: "▲", Status.NOT_RUN: "○",
           Status.BLOCKED: "■", Status.WAIVED: "≈", Status.NOT_NEEDED: "–"}
