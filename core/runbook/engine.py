"""The runbook engine: run checks, record them, fold step states, take confirmations and tickets.

`Runbook(profile, journal, clients)` is what the CLI and the TUI drive. `clients` is anything with `.zuora` and
`.netsuite` (a core.session.Session builds them on first use, so a Zuora-only check never needs NetSuite
secrets); None is fine for commands that only read and write the journal. Errors are values here: a check that
fails to run comes back as an `error` result with a message, never as an exception.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr

from core.errors import ConfigError, CutoverError
from core.journal import Journal
from core.runbook import actions
from core.runbook.checks import active_parts, run_parts
from core.runbook.model import (
    ApplyOutcome,
    ApplyProgress,
    CheckResult,
    Confirmation,
    MissingInput,
    PlanSummary,
    QueryContext,
    Status,
    Step,
    StepState,
    TicketRecord,
    Waiver,
    utc_now,
)
from core.runbook.phases import RUNBOOK, find_step, select_steps
from core.runbook.probes import settlement_state
from core.runbook.state import fold_all
from core.runbook.tickets import DraftTicket, draft_ticket
from core.runbook.variables import RunVariables

log = logging.getLogger(__name__)


class StepBlocked(CutoverError):
    """A gate step is not done: the write, confirmation or ticket must wait."""


class RecordStands(ConfigError):
    """The step has a person's record already (a ticket number, a confirmation): replacing it must be on purpose;
    the first stays in the journal either way. `standing` is the record there now."""

    def __init__(self, message: str, *, hint: str, standing: TicketRecord | Confirmation):
        super().__init__(message, hint=hint)
        self.standing = standing


class TicketExists(RecordStands):
    """The step has a ticket number already."""


class ConfirmationExists(RecordStands):
    """The step is confirmed already, with another note."""


def _depends_on_is(step: Step) -> bool:
    return step.check is not None and any(p.invoice_settlement is not None for p in step.check.parts)
SIGN_OFF = "I2"
CHECK_CONCURRENCY = 3  # steps checked at once: Data Query allows 5 jobs per tenant, leave room for others
_BY_ID = {s.id: s for s in RUNBOOK}


def unrecorded_states(steps: Iterable[Step] = RUNBOOK) -> dict[str, StepState]:
    """The checklist as it reads with nothing recorded: what a screen draws before any journal is open."""
    return fold_all(list(steps), RunVariables(), {}, {}, {}, {}, _BY_ID)


# Rows Zuora's migration itself checks and refuses to start on (C-VALID's "must count 0", B3's charge; the simulator
# does the same): a waiver lets the D1 ticket go, it cannot make the migration run.
MIGRATION_REFUSES = (*(f"B2/V{n}" for n in range(1, 7)), "B3")


def waiver_caution(step_id: str) -> str | None:
    """What a person must read before waiving this step, or None. Waivers stay possible on these rows: Support may
    clear them on its side (R9/R11 leave how unsaid), and the waiver is the record of that decision."""
    step = find_step(step_id)
    if step.id not in MIGRATION_REFUSES:
        return None
    return (f"Zuora's migration refuses while {step.id}'s records remain: a waiver lets the D1 ticket go, but "
            "Support's migration will fail on them unless they are fixed (or Support clears them) first")


# A Zuora Support case number as Support gives it: digits, maybe after a prefix ("#", "CS-"); no spaces or
# punctuation that would mark a typo or a pasted sentence.
_TICKET_NUMBER = re.compile(r"^#?[A-Za-z0-9][A-Za-z0-9-]{0,39}$")


def _refuse_a_past_target(text: str | None) -> None:
    """A migration date agreed with Support lies ahead: a past one is a typo, and the B1 and D1 tickets would ask
    Support for a day gone by. Checked where a person sets it, not when the journal is read back (it passes)."""
    value = RunVariables().set("target_migration_date", text).target_migration_date
    today = datetime.now(UTC).date()
    if value is not None and value < today:
        raise ConfigError(f"target_migration_date: {value} is in the past (today is {today}, UTC)",
                          hint="record the date agreed with Support, today or later (Support asks for at least "
                               "7 days' notice)")


class Runbook:
    def __init__(self, profile, journal: Journal, clients: Any = None, *,
                 secrets: Mapping[str, SecretStr] | None = None, register: Any = None):
        self.profile = profile
        self.journal = journal
        self.clients = clients
        self.secrets = dict(secrets or {})
        self.register = register  # core.instances.InstanceRegister: where connector ids live
        self._invoice_settlement: bool | None = None
        self.invoice_settlement_at = 0.0  # time.monotonic() of the last answer from Zuora: the newest one wins

    # ---- context ----------------------------------------------------------------------------------------------
    def context(self, results: Mapping[str, CheckResult] | None = None) -> QueryContext:
        fields = self.profile.netsuite_fields
        return QueryContext(
            variables=self.journal.variables(), fields=fields.script_ids(), sync_updates_yes=fields.sync_updates_yes,
            profile_name=self.profile.name,
            results=self.journal.latest_results() if results is None else results,
            invoice_settlement=self._invoice_settlement, zuora_base_url=self.profile.zuora_url(),
            secrets=self.secrets, step_states=lambda: list(self.states().values()),
            recorded_baseline=self.journal.baseline)

    async def invoice_settlement(self, *, fresh: bool = False) -> bool:
        """Whether IS is on (the CreditMemo tables exist only then). Cached; `fresh` asks Zuora again, since IS
        flips once during the cutover (D1)."""
        if fresh or self._invoice_settlement is None:
            # Invoice Settlement Harmonization has the memos but is not IS yet: the pre-IS checks still apply.
            self._invoice_settlement = await settlement_state(self.clients) == "on"
            self.invoice_settlement_at = time.monotonic()
        return self._invoice_settlement

    # ---- checks -----------------------------------------------------------------------------------------------
    async def check(self, selectors: Iterable[str] = (), *,
                    on_result: Callable[[CheckResult], None] | None = None) -> list[StepState]:
        """Run the checks of the selected phases/steps (all when none), record them; the steps' new states.
        IS is probed once for them all. `on_result` hears each result as it lands (a screen's row)."""
        steps = select_steps(selectors)
        checked = [s for s in steps if s.check is not None]
        if any(_depends_on_is(s) for s in checked):
            await self._probe_quietly()
        results = self.journal.latest_results()
        gate = asyncio.Semaphore(CHECK_CONCURRENCY)

        async def one(step: Step) -> None:
            async with gate:
                result = await self.check_step(step, results)
            if on_result is not None:
                on_result(result)

        await asyncio.gather(*(one(s) for s in checked))
        states = self.states()
        return [states[s.id] for s in steps]

    async def _probe_quietly(self) -> None:
        try:
            await self.invoice_settlement(fresh=True)
        except CutoverError as exc:
            self._invoice_settlement = None
            log.debug("IS probe failed: %s", exc)  # each IS-dependent check reports the error itself

    async def check_step(self, step: Step | str, results: Mapping[str, CheckResult] | None = None) -> CheckResult:
        """Run one step's check and record it (unless it does not apply now and an earlier result stands).
        Called alone (no `results`), it asks Zuora afresh whether IS is on."""
        step = find_step(step) if isinstance(step, str) else step
        if step.check is None:
            raise ConfigError(f"{step.id} has no check: it is {step.kinds}",
                              hint=f"confirm it with `cutover confirm {step.id} --note ...`" if step.confirm else "")
        if results is None and _depends_on_is(step):
            await self._probe_quietly()
        if step.check.refreshes:  # as a phase check runs them: together, IS probed once
            await self.check(step.check.refreshes)
            results = None  # what they found now, not what was read before
        ctx = self.context(results)
        result = await self._evaluate(step, ctx)
        if ctx.invoice_settlement is not None:  # A1 and D1 probe it themselves
            if ctx.invoice_settlement != self._invoice_settlement:
                self.invoice_settlement_at = time.monotonic()
            self._invoice_settlement = ctx.invoice_settlement
        if result is None:  # not applicable in this IS state: the earlier result stands
            return ctx.results[step.id]
        self.journal.record_result(result)
        for name, values in result.baselines.items():
            self.journal.record_baseline(name, values, step.id)
        if result.status is Status.PASS and step.check.records and ctx.variables.get(step.check.records) is None:
            self.journal.set_variable(step.check.records, utc_now())
        return result

    async def _evaluate(self, step: Step, ctx: QueryContext) -> CheckResult | None:
        check = step.check
        assert check is not None
        try:
            parts = active_parts(check, ctx.invoice_settlement)
            if check.parts and not parts:
                if ctx.invoice_settlement is None:
                    await self.invoice_settlement()
                    return await self._evaluate(step, self.context(ctx.results))
                if step.id in ctx.results:
                    return None
                when = "once Invoice Settlement is on (after D1)" if not ctx.invoice_settlement else \
                    "only before the IS migration"
                return CheckResult(step.id, Status.NOT_RUN, None, f"This check runs {when}")
            counted = await run_parts(step, parts, ctx, self.clients) if parts else None
            if check.probe:
                return await check.probe(step, ctx, self.clients, counted)
            assert counted is not None
            return counted
        except MissingInput as exc:
            return CheckResult(step.id, Status.NEEDS_ACTION, None, str(exc))
        except CutoverError as exc:
            return CheckResult(step.id, Status.ERROR, None, f"The check could not run: {exc}", error=str(exc))
        except Exception as exc:  # an unexpected failure is still a value: the screen shows it, no traceback
            log.debug("check %s failed", step.id, exc_info=True)
            text = f"{type(exc).__name__}: {exc}"
            return CheckResult(step.id, Status.ERROR, None, f"The check could not run: {text}", error=text)

    # ---- states -----------------------------------------------------------------------------------------------
    def states(self, steps: Iterable[Step] = RUNBOOK) -> dict[str, StepState]:
        return fold_all(list(steps), self.journal.variables(), self.journal.latest_results(),
                        self.journal.confirmations(), self.journal.tickets(), self.journal.waivers(), _BY_ID)

    def state(self, step_id: str) -> StepState:
        step = find_step(step_id)
        return self.states([step])[step.id]

    # ---- people's part ----------------------------------------------------------------------------------------
    def confirm(self, step_id: str, note: str, *, replace: bool = False) -> Confirmation:
        """Record that a person did the HUMAN part. Refused while gates fail or needed variables are missing. A step
        confirmed already with another note keeps it unless `replace` (both stay in the journal)."""
        state = self.state(step_id)
        step = state.step
        if not step.confirm:
            how = f"cutover check {step.id}" if step.check else f"cutover ticket {step.id} --number N"
            raise ConfigError(f"{step.id} is not confirmed by hand: it passes by its {step.kinds.lower()} part",
                              hint=how)
        if not state.applicable:
            raise ConfigError(f"{step.id} does not apply: {state.summary}")
        if state.missing:
            raise ConfigError(f"{step.id} needs {', '.join(state.missing)} recorded first",
                              hint=f"cutover set {state.missing[0]} VALUE")
        self._require_gates(state)
        standing = state.confirmation
        if standing is not None and not replace and standing.note != note:
            raise ConfirmationExists(f"{step.id} is confirmed already by {standing.who} at {standing.at}: "
                                     f"{standing.note}", hint="replace it on purpose (--replace); the first note "
                                                              "stays in the journal", standing=standing)
        return self.journal.confirm(step.id, note)

    def _require_gates(self, state: StepState) -> None:
        """The one gate check every write, confirmation and ticket goes through."""
        if state.blocked_by:
            blockers = self.states([_BY_ID[g] for g in state.blocked_by])
            why = "; ".join(f"{g} is {blockers[g].status}: {blockers[g].summary}" for g in state.blocked_by)
            raise StepBlocked(f"{state.step.id} is blocked: {why}",
                              hint=f"make {', '.join(state.blocked_by)} pass, or waive them with a reason "
                                   f"(cutover waive STEP --reason ...)")

    def require_gates(self, step_id: str) -> None:
        self._require_gates(self.state(step_id))

    def ticket(self, step_id: str) -> DraftTicket:
        """The drafted Support ticket; refused while the step is blocked (nothing to ask Support for yet)."""
        step = find_step(step_id)
        if step.ticket is None:
            raise ConfigError(f"{step.id} has no Support ticket",
                              hint="tickets: " + ", ".join(s.id for s in RUNBOOK if s.ticket))
        self.require_gates(step.id)
        from core.instances import instances_for_ticket  # late: the register builds on the session layer

        register = instances_for_ticket(self.journal, getattr(self.profile, "environment", None))
        return draft_ticket(step, self.journal.variables(), self.journal.latest_results(), self.profile.name,
                            extra=register, waivers=self.journal.waivers())

    def record_ticket(self, step_id: str, number: str, *, replace: bool = False) -> TicketRecord:
        """Record the ticket number Support gave. A step that has one already keeps it unless `replace`: the old
        number stays in the journal's history either way."""
        step = find_step(step_id)
        if step.ticket is None or not number.strip():
            raise ConfigError(f"nothing to record: {step.id} has no ticket" if step.ticket is None
                              else "give the ticket number, e.g. --number 00123456")
        if not _TICKET_NUMBER.match(number.strip()) or not any(c.isdigit() for c in number):
            raise ConfigError(f"{number.strip()!r} is not a Support case number: expected digits, maybe after a "
                              "prefix (e.g. 00123456, #00123456 or CS-00123456)")
        self.require_gates(step.id)
        standing = self.journal.tickets().get(step.id)
        if standing is not None and standing.number == number.strip():
            return standing
        if standing is not None and not replace:
            raise TicketExists(f"{step.id} already has ticket {standing.number} (recorded by {standing.who} at "
                               f"{standing.at})", hint="replace it on purpose (--replace); the old number stays "
                                                       "in the journal", standing=standing)
        record = self.journal.record_ticket(step.id, number)
        if step.ticket.variable:
            self.journal.set_variable(step.ticket.variable, record.number, who=record.who)
        return record

    def waive(self, step_id: str, reason: str) -> Waiver:
        """Accept what a step's check found, on purpose. The step then shows `waived`, which satisfies its gates."""
        step = find_step(step_id)
        if step.children:
            raise ConfigError(f"{step.id} is a group: waive its rows one by one",
                              hint="rows: " + ", ".join(step.children))
        if step.id == SIGN_OFF:
            raise ConfigError("the sign-off (I2) cannot be waived: it is the record of everything else")
        if len(reason.strip()) < 5:
            raise ConfigError("say why this is accepted (at least a few words): it goes in the sign-off report",
                              hint=f'cutover waive {step.id} --reason "…"')
        state = self.state(step.id)
        if not state.applicable:
            raise ConfigError(f"{step.id} does not apply: {state.summary}")
        if state.status is Status.PASS:
            raise ConfigError(f"{step.id} passes: there is nothing to waive")
        if step.check is not None and state.result is None:
            raise ConfigError(f"{step.id} has not been checked: a waiver accepts what its check found",
                              hint=f"cutover check {step.id} first")
        self._require_gates(state)
        return self.journal.waive(step.id, reason)

    def withdraw_confirmation(self, step_id: str) -> Confirmation:
        """Take back a person's confirmation: the step needs confirming again; the history keeps both."""
        step = find_step(step_id)
        gone = self.journal.withdraw_confirmation(step.id)
        if gone is None:
            raise ConfigError(f"{step.id} has no confirmation to withdraw")
        return gone

    def withdraw_waiver(self, step_id: str, reason: str = "") -> Waiver:
        step = find_step(step_id)
        gone = self.journal.withdraw_waiver(step.id, reason or "withdrawn")
        if gone is None:
            raise ConfigError(f"{step.id} has no waiver to withdraw")
        return gone

    def set_variable(self, name: str, text: str | None) -> RunVariables:
        """Record a run variable. Connector ids are written to the instances register, which the variable mirrors:
        one source of truth for them."""
        from core.instances import MIRRORED  # late: the register builds on the session layer

        canonical = RunVariables.canonical(name)
        if canonical == "target_migration_date":
            _refuse_a_past_target(text)
        if self.register is not None and canonical in MIRRORED:
            RunVariables().set(canonical, text)  # the same validation and message as any variable
            self.register.record_id(canonical, text)
            return self.journal.variables()
        return self.journal.set_variable(name, text)

    # ---- fixes (core.runbook.actions) ---------------------------------------------------------------------------
    @property
    def invoice_settlement_known(self) -> bool | None:
        """The last IS probe's answer (None before the first probe)."""
        return self._invoice_settlement

    async def plan(self, step_id: str) -> PlanSummary:
        """A fresh plan for the step's fix: the exact records with current and new values, in the journal."""
        return await actions.make_plan(self, step_id)

    async def apply(self, step_id: str, *, plan_id: int | None = None, seal: str | None = None,
                    progress: Callable[[ApplyProgress], None] | None = None, cancel: Any = None) -> ApplyOutcome:
        """Apply the plan (see core.runbook.actions.apply): sealed, re-checked record by record before it is
        written, journaled per item, resumable, then the step re-checked."""
        return await actions.apply(self, step_id, plan_id=plan_id, seal=seal, on_progress=progress, cancel=cancel)
