"""Fold a step's latest check result, confirmation, ticket and run variables into the one status to draw.

A step passes when each of its parts is done: its check passes (if it has one), a person confirmed it (if it asks
for that), the ticket number is recorded (TICKET steps) and the run variables it needs are set. A parent (B2)
takes the worst status of its rows. Steps the A3 path makes irrelevant (F3a/F3b/F3c) pass as "not needed".
"""

from __future__ import annotations

from collections.abc import Mapping

from core.runbook.model import CheckResult, Confirmation, Status, Step, StepState, TicketRecord
from core.runbook.variables import RunVariables

WORST_FIRST = (Status.ERROR, Status.FAIL, Status.NEEDS_ACTION, Status.NOT_RUN, Status.PASS)


def missing_variables(step: Step, variables: RunVariables) -> tuple[str, ...]:
    """`needs` entries still unset; "name@path" entries count only on that provisioning path."""
    out = []
    for need in step.needs:
        name, _, path = need.partition("@")
        if path and variables.provisioning_path != path:
            continue
        if variables.get(name) is None:
            out.append(name)
    return tuple(out)


def fold(step: Step, variables: RunVariables, result: CheckResult | None, confirmation: Confirmation | None,
         ticket: TicketRecord | None, blocked_by: tuple[str, ...] = ()) -> StepState:
    if not step.applies_to(variables.provisioning_path):
        return StepState(step, Status.PASS, f"Not needed: the provisioning path is {variables.provisioning_path}",
                         applicable=False)
    missing = missing_variables(step, variables)
    state = dict(step=step, result=result, confirmation=confirmation, ticket=ticket, missing=missing,
                 blocked_by=blocked_by)
    checked = result.status if result else Status.NOT_RUN
    if step.check and checked in (Status.ERROR, Status.FAIL, Status.NEEDS_ACTION):
        return StepState(status=checked, summary=result.summary if result else "", **state)
    pending = []
    if step.check and checked is Status.NOT_RUN:
        pending.append(result.summary if result else "not checked yet")
    if step.ticket and ticket is None:
        pending.append(f"record the ticket number (cutover ticket {step.id} --number N)")
    if step.confirm and confirmation is None:
        pending.append(f"confirm when done (cutover confirm {step.id} --note ...)")
    if missing:
        pending.append("record " + ", ".join(missing))
    if not pending:
        return StepState(status=Status.PASS, summary=_done_summary(result, confirmation, ticket), **state)
    started = (result is not None and checked is Status.PASS) or confirmation or ticket
    return StepState(status=Status.NEEDS_ACTION if started else Status.NOT_RUN, summary="; ".join(pending),
                     **state)


def _done_summary(result: CheckResult | None, confirmation: Confirmation | None,
                  ticket: TicketRecord | None) -> str:
    parts = []
    if result is not None:
        parts.append(result.summary)
    if ticket is not None:
        parts.append(f"ticket {ticket.number}")
    if confirmation is not None:
        parts.append(f"confirmed by {confirmation.who} {confirmation.at}"
                     + (f": {confirmation.note}" if confirmation.note else ""))
    return "; ".join(parts) or "done"


def fold_parent(step: Step, children: list[StepState]) -> StepState:
    worst = min(children, key=lambda s: WORST_FIRST.index(s.status))
    passed = sum(s.status is Status.PASS for s in children)
    summary = (f"{passed}/{len(children)} rows pass" + ("" if worst.status is Status.PASS
                                                         else f"; {worst.step.id}: {worst.summary}"))
    return StepState(step, worst.status, summary)


def fold_all(steps: list[Step], variables: RunVariables, results: Mapping[str, CheckResult],
             confirmations: Mapping[str, Confirmation], tickets: Mapping[str, TicketRecord],
             by_id: Mapping[str, Step]) -> dict[str, StepState]:
    """States of `steps` (and of whatever their gates and children need), keyed by step id."""
    done: dict[str, StepState] = {}

    def state(step: Step) -> StepState:
        if step.id in done:
            return done[step.id]
        if step.children:
            done[step.id] = fold_parent(step, [state(by_id[c]) for c in step.children])
            return done[step.id]
        blocked = tuple(g for g in step.gates if state(by_id[g]).status is not Status.PASS)
        done[step.id] = fold(step, variables, results.get(step.id), confirmations.get(step.id),
                             tickets.get(step.id), blocked)
        return done[step.id]

    for step in steps:
        state(step)
    return done
