"""What workers tell screens (Harlequin's pattern): a worker does the network or journal work and posts one of these;
the screen's handler renders from it. A result flows straight up: nobody reads the journal again to redraw it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # names only: the runbook model (pydantic) loads after the first frame
    from core.runbook.model import ApplyOutcome, ApplyProgress, CheckResult, PlanSummary, StepState


class StepChecked(Message):
    """One step's check result landed (a phase check posts one per step, as each arrives)."""

    def __init__(self, step_id: str, result: CheckResult):
        super().__init__()
        self.step_id, self.result = step_id, result


class StepsFolded(Message):
    """Every step's state after something was recorded (a check round, a confirmation, a ticket, a waiver)."""

    def __init__(self, states: dict[str, StepState]):
        super().__init__()
        self.states = states


class StepUpdated(Message):
    """One step's new state, after an action on its screen."""

    def __init__(self, state: StepState, note: str = ""):
        super().__init__()
        self.state, self.note = state, note


class PlanReady(Message):
    def __init__(self, plan: PlanSummary, text: str, asked: bool = False):
        """`asked`: the person asked for this plan (p): the screen brings it into view."""
        super().__init__()
        self.plan, self.text, self.asked = plan, text, asked


class ApplyProgressed(Message):
    def __init__(self, progress: ApplyProgress):
        super().__init__()
        self.progress = progress


class ApplyFinished(Message):
    """The apply ended: done, cancelled, or stopped by an error (`error` then says why)."""

    def __init__(self, outcome: ApplyOutcome | None, plan_text: str = "", error: str | None = None,
                 took_s: float = 0.0):
        super().__init__()
        self.outcome, self.plan_text, self.error, self.took_s = outcome, plan_text, error, took_s
