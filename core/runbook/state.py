"""Fold a step's latest check result, confirmation, ticket, waiver, gates and run variables into one status.

A step passes when each of its parts is done: its check passes (if it has one), a person confirmed it (if it asks
for that), the ticket number is recorded (TICKET steps) and the run variables it needs are set. Then, in order:
- a step the A3 path makes irrelevant (F3a/F3b/F3c) is `not-needed`;
- a step that passes stays `pass`, whatever happens to its gates later (done is done);
- a step whose gates are not all done is `blocked`, naming each blocker and why;
- a step a person waived is `waived`, with who, when and why, and what the check found;
- otherwise its own status: fail, needs-action, error or not-run.
A parent (B2) takes the worst status of its rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from core.runbook.model import CheckResult, Confirmation, Status, Step, StepState, TicketRecord, Waiver
from core.runbook.variables import RunVariables

WORST_FIRST = (Status.ERROR, Status.FAIL, Status.BLOCKED, Status.NEEDS_ACTION, Status.NOT_RUN, Status.WAIVED,
               Status.NOT_NEEDED, Status.PASS)


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


def status_words(state: StepState) -> str:
    """The status as the app shows it: "◉ confirmed" for a step that passes on a person's word (a confirmation or a
    ticket number, no query), else the status's glyph and word ("✓ pass", "× fail")."""
    if state.status is Status.PASS and (state.confirmation or state.ticket) and state.result is None:
        return "◉ confirmed"
    return f"{state.status.glyph} {state.status}"


def worst(statuses) -> Status:
    return min(statuses, key=WORST_FIRST.index, default=Status.NOT_RUN)


def _own(step: Step, result: CheckResult | None, confirmation: Confirmation | None, ticket: TicketRecord | None,
         missing: tuple[str, ...]) -> tuple[Status, str]:
    """The step's status from its own parts alone."""
    checked = result.status if result else Status.NOT_RUN
    if step.check and checked in (Status.ERROR, Status.FAIL, Status.NEEDS_ACTION):
        return checked, result.summary if result else ""
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
        return Status.PASS, _done_summary(result, confirmation, ticket)
    started = (result is not None and checked is Status.PASS) or confirmation or ticket
    return (Status.NEEDS_ACTION if started else Status.NOT_RUN), "; ".join(pending)


def fold(step: Step, variables: RunVariables, result: CheckResult | None, confirmation: Confirmation | None,
         ticket: TicketRecord | None, waiver: Waiver | None = None, blockers: Mapping[str, StepState] | None = None
         ) -> StepState:
    """`blockers`: the states of the step's gates that are not done (empty when it is free to go)."""
    if not step.applies_to(variables.provisioning_path):
        return StepState(step, Status.NOT_NEEDED, f"Not needed: the provisioning path is "
                                                  f"{variables.provisioning_path}", applicable=False)
    blockers = dict(blockers or {})
    missing = missing_variables(step, variables)
    state = dict(step=step, result=result, confirmation=confirmation, ticket=ticket, missing=missing,
                 blocked_by=tuple(blockers), waiver=waiver)
    status, summary = _own(step, result, confirmation, ticket, missing)
    if status is Status.PASS:
        return StepState(status=status, summary=summary, **state)
    if blockers:
        return StepState(status=Status.BLOCKED, summary=blocked_summary(blockers), **state)
    if waiver is not None:
        return StepState(status=Status.WAIVED, summary=f"waived by {waiver.who} {waiver.at}: {waiver.reason} "
                                                       f"(found: {summary})", **state)
    return StepState(status=status, summary=summary, **state)


def with_result(state: StepState, result: CheckResult) -> StepState:
    """The state again with a fresh check result, folded from what the state already knows (its confirmation,
    ticket, waiver, missing variables and gates): a screen redraws a row as a result lands, with no journal read."""
    if not state.applicable:
        return state
    status, summary = _own(state.step, result, state.confirmation, state.ticket, state.missing)
    if status is Status.PASS or not (state.blocked_by or state.waiver):
        return replace(state, result=result, status=status, summary=summary)
    if state.blocked_by:
        return replace(state, result=result)  # still waiting: its summary names the gates
    return replace(state, result=result, status=Status.WAIVED,
                   summary=f"waived by {state.waiver.who} {state.waiver.at}: {state.waiver.reason} (found: {summary})")


def blocked_summary(blockers: Mapping[str, StepState]) -> str:
    """'blocked until C2, B3 are done: C2 fail: 2 negative invoices …; B3 fail: …'. A blocker that is blocked
    itself is named with its own blockers, not its whole story again."""
    why = "; ".join(f"{g} blocked by {', '.join(s.blocked_by)}" if s.status is Status.BLOCKED
                    else f"{g} {s.status}: {s.summary}" for g, s in blockers.items())
    return f"blocked until {', '.join(blockers)} {'is' if len(blockers) == 1 else 'are'} done: {why}"


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
    bad = worst(s.status for s in children)
    done = sum(s.status.done for s in children)
    summary = f"{done}/{len(children)} rows done"
    if not bad.done:
        first = next(s for s in children if s.status is bad)
        summary += f"; {first.step.id}: {first.summary}"
    return StepState(step, bad, summary, result=_rows_found(step, bad, children))


def _rows_found(step: Step, status: Status, children: list[StepState]) -> CheckResult | None:
    """What the rows' checks found, as the parent's own result: a group (B2) has no query of its own, so "found"
    is its rows' findings (the rows not passing), counted together. None while no row has been checked."""
    checked = [s.result for s in children if s.result is not None]
    if not checked:
        return None
    found = [(s.step.id, s.result) for s in children if s.result is not None and s.result.status is not Status.PASS]
    summary = "; ".join(f"{sid}: {r.summary}" for sid, r in found) or "every row checked finds nothing to fix"
    return CheckResult(step.id, status, sum(r.count or 0 for _, r in found), summary,
                       checked_at=max(r.checked_at for r in checked))


def fold_all(steps: list[Step], variables: RunVariables, results: Mapping[str, CheckResult],
             confirmations: Mapping[str, Confirmation], tickets: Mapping[str, TicketRecord],
             waivers: Mapping[str, Waiver], by_id: Mapping[str, Step]) -> dict[str, StepState]:
    """States of `steps` (and of whatever their gates and children need), keyed by step id."""
    done: dict[str, StepState] = {}

    def state(step: Step) -> StepState:
        if step.id in done:
            return done[step.id]
        if step.children:
            done[step.id] = fold_parent(step, [state(by_id[c]) for c in step.children])
            return done[step.id]
        gates = {g: state(by_id[g]) for g in step.gates}
        blockers = {g: s for g, s in gates.items() if not s.status.done}
        done[step.id] = fold(step, variables, results.get(step.id), confirmations.get(step.id),
                             tickets.get(step.id), waivers.get(step.id), blockers)
        return done[step.id]

    for step in steps:
        state(step)
    return done
