"""What a person records on a step, and under whose name: confirmations (and their withdrawal), ticket drafts and
numbers, the run variables a step asks for, waivers (and their withdrawal), and the operator every record is made
under. The screens' side is tui.screens.step_records and tui.screens.operator.

A part of tui.backend.Backend (its base class), kept on its own page because it is one concern: each method reads
the open run through the Backend's `run`, `runbook`, `journal` and `profile`. Like the Backend, it imports core only
inside its methods, so the app's first frame draws before pydantic and the runbook load.
"""

from __future__ import annotations

import asyncio
import re
from functools import partial
from typing import TYPE_CHECKING

from core.errors import ConfigError

if TYPE_CHECKING:
    from core.profile import Operator
    from core.runbook.model import StepState, Waiver

_RECORDS = re.compile(r"cutover set ([a-z_][a-z0-9_.]*[a-z0-9_])")  # e1_decision, b1_ticket: digits too


class PersonRecords:
    """The Backend's methods for what a person records; every one goes through the step's gate in core."""

    # ---- confirmations, tickets and the run variables a step asks for ----------------------------------------
    async def confirm(self, step_id: str, note: str, *, replace: bool = False) -> None:
        """core.runbook.engine.ConfirmationExists when the step is confirmed with another note and not `replace`."""
        await asyncio.to_thread(partial(self.runbook.confirm, step_id, note, replace=replace))

    async def record_ticket(self, step_id: str, number: str, *, replace: bool = False) -> None:
        """core.runbook.engine.TicketExists when the step has another number and `replace` is not given."""
        await asyncio.to_thread(partial(self.runbook.record_ticket, step_id, number, replace=replace))

    async def withdraw_confirmation(self, step_id: str) -> None:
        await asyncio.to_thread(self.runbook.withdraw_confirmation, step_id)

    def needed_variables(self, state: StepState) -> list[str]:
        """The run variables a step asks for: its own `needs` on the chosen path, those its instructions tell the
        person to record (`cutover set NAME`), then what its ticket names and is not recorded yet."""
        from core.runbook.tickets import ticket_needs
        from core.runbook.variables import RunVariables

        path = self.runbook.journal.variables().provisioning_path
        names = [n.partition("@")[0] for n in state.step.needs
                 if not n.partition("@")[2] or n.partition("@")[2] == path]
        names += [m for line in state.step.instructions_on(path) for m in _RECORDS.findall(line)
                  if m in RunVariables.names()]
        if state.step.ticket is not None:
            names += list(ticket_needs(state.step, self.journal.variables(), self.journal.latest_results()).variables)
        return list(dict.fromkeys(names))

    def ticket_checks(self, step_id: str) -> tuple[str, ...]:
        """The steps a ticket quotes that must be checked (again) before it can be drafted."""
        from core.runbook.tickets import ticket_needs

        step = self.state(step_id).step
        return ticket_needs(step, self.journal.variables(), self.journal.latest_results()).checks

    def ticket_text(self, step_id: str) -> str:
        return self.runbook.ticket(step_id).text

    # ---- waivers: a person accepts a row on purpose (blocking: call from a thread worker) -----------------------
    @staticmethod
    def can_waive(state: StepState) -> bool:
        """Whether a waiver makes sense here: a single row (not a group like B2, not the sign-off), on the chosen
        path, free of gates, checked if it has a check (a waiver accepts what the check found), and not done
        already. The engine refuses the rest anyway; this keeps it off screen."""
        from core.runbook.engine import SIGN_OFF

        step = state.step
        return (not step.children and step.id != SIGN_OFF and state.applicable and state.waiver is None
                and not state.blocked_by and not state.status.done
                and (step.check is None or state.result is not None))

    def waive(self, step_id: str, reason: str) -> Waiver:
        return self.runbook.waive(step_id, reason)

    def withdraw_waiver(self, step_id: str, reason: str) -> Waiver:
        if not reason.strip():
            raise ConfigError("say why the waiver is withdrawn: it goes in the sign-off report")
        return self.runbook.withdraw_waiver(step_id, reason)

    @staticmethod
    def gated_steps(step_id: str) -> list[str]:
        """The steps that wait for this one (a waiver on it lets them go)."""
        from core.runbook.phases import RUNBOOK

        return [s.id for s in RUNBOOK if step_id in s.gates]

    def blockers(self, state: StepState) -> list[StepState]:
        """The states of the gates that keep a step blocked, in the step's own order."""
        if not state.blocked_by:
            return []
        states = self.runbook.states()
        return [states[g] for g in state.blocked_by if g in states]

    # ---- the operator: who every confirmation, waiver, ticket and write is recorded under ----------------------
    @property
    def operator_label(self) -> str | None:
        return self.journal.operator if self.journal is not None else None

    @property
    def needs_operator(self) -> bool:
        """The open profile names no operator and CUTOVER_OPERATOR is unset: ask before the first record."""
        return self.journal is not None and not self.journal.operator

    def save_operator(self, name: str, email: str) -> Operator:
        """Blocking (thread worker). Validate, save in the profile's config (the demo's profile lives in memory
        only), and record under it from now on. ConfigError names the bad field."""
        operator = make_operator(name, email)
        if not self.is_demo:
            from core.config import get_profile, save_profile

            stored = get_profile(self.profile.name)  # the file's current table: other edits since opening survive
            save_profile(stored.model_copy(update={"operator": operator}))
        self.use_operator(operator)
        return operator

    def use_operator(self, operator: Operator | None) -> None:
        """The open run records under `operator` from now on (None: the profile's fallback, CUTOVER_OPERATOR)."""
        if self.profile is None:
            return
        self.profile = self.profile.model_copy(update={"operator": operator})
        if self.run is not None:
            self.run.profile = self.run.runbook.profile = self.run.register.profile = self.profile
            self.run.journal.operator = self.profile.operator_label


def ticket_file_name(step_id: str) -> str:
    return f"ticket-{step_id.replace('/', '-')}.txt"


def make_operator(name: str, email: str) -> Operator:
    """core.profile.Operator, or a ConfigError with its validation message ('email: … is not an email address')."""
    from pydantic import ValidationError

    from core.profile import Operator, validation_message

    try:
        return Operator(name=name, email=email)
    except ValidationError as exc:
        raise ConfigError(validation_message(exc)) from None
