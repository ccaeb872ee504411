"""The unattended rehearsal: the whole runbook against a fresh simulated tenant, nobody at the keyboard.

A DemoTenant serves Zuora, NetSuite and the connector on loopback; the run has its own temporary journal. Every
check goes through the real clients and the real engine. Where the runbook has a person or Zuora Support act, the
simulator's /_sim/ stand-ins act instead (core.sim.control), and the journal records what was done in the
rehearsal's name: confirmations carry a note saying so, ticket numbers are marked as the rehearsal's own.

What nobody can fix through an API (B2 rows that need accounts deleted or activated, a missing one-time charge,
connector errors in C5) is left as the checks found it and reported, not confirmed away. The verdict is the
closing H2 and H3 checks, run for real against both systems.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

from core.demo import DemoTenant
from core.errors import ConfigError, CutoverError
from core.instances import InstanceRegister
from core.journal import Journal
from core.runbook.engine import Runbook
from core.runbook.model import Status, StepState, utc_now
from core.runbook.phases import find_step, select_steps
from core.runbook.variables import E2Decision
from core.runbook.steps.h_go_live import DUPLICATES
from core.report import step_states
from core.session import Session
from core.sim.control import SimControl

PATHS = ("new-instance", "edit-instance")
E2_DECISIONS = get_args(E2Decision)
MAX_SYNC_RUNS = 4  # Run Now before the freeze until C1-C3 pass or a run changes nothing
READY_BEFORE_FREEZE = ("C1", "C2", "C3")
VERDICT = ("H2", "H3")
WINDOW_PAYMENTS = 3  # typed into NetSuite after the freeze, before the G1 default


@dataclass(frozen=True)
class Event:
    """One line of the rehearsal's log: a step's check result, or something done in a person's place."""

    step_id: str
    what: str  # check | act | confirm | ticket | open | skip
    text: str
    status: str | None = None


@dataclass
class RehearsalOutcome:
    seed: int
    scale: int
    provisioning_path: str
    skipped: tuple[str, ...]
    states: list[StepState]
    duplicates_in_netsuite: int | None
    elapsed_s: float
    events: list[Event] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        by_id = {s.step.id: s for s in self.states}
        return all(by_id[s].status is Status.PASS for s in VERDICT)

    def to_dict(self) -> dict[str, Any]:
        keys = ("id", "phase", "kind", "status", "count", "summary", "checked_at")
        steps = [s.to_dict() for s in self.states]
        return {
            "passed": self.passed, "seed": self.seed, "scale": self.scale,
            "provisioning_path": self.provisioning_path, "skipped": list(self.skipped),
            "steps": [{k: s[k] for k in keys} for s in steps],
            "duplicates_in_netsuite": self.duplicates_in_netsuite, "elapsed_s": round(self.elapsed_s, 2),
            "done_for_people": [{"step": e.step_id, "what": e.what, "text": e.text} for e in self.events
                                if e.what in ("act", "confirm", "ticket")],
            "left_open": [{"step": e.step_id, "text": e.text} for e in self.events if e.what == "open"],
        }


async def _next_second() -> str:
    """Wait for the next whole UTC second and return it: the store stamps writes to the second, so every write
    made before the call is strictly earlier than the returned time."""
    now = datetime.now(UTC)
    await asyncio.sleep(1 - now.microsecond / 1_000_000)
    return utc_now()


class Rehearsal:
    def __init__(self, *, seed: int = 1, scale: str | int = "small", skip: Iterable[str] = (),
                 provisioning_path: str = "new-instance", e2_decision: str = "mark-yes",
                 on_event: Callable[[Event], None] | None = None,
                 before_close: Callable[[Rehearsal], None] | None = None):
        if provisioning_path not in PATHS:
            raise ConfigError(f"the rehearsal takes provisioning path {' or '.join(PATHS)}, not "
                              f"{provisioning_path!r}")
        if e2_decision not in E2_DECISIONS:
            raise ConfigError(f"the E2 decision is one of {', '.join(E2_DECISIONS)}, not {e2_decision!r}")
        self.skip = tuple(dict.fromkeys(find_step(s).id for s in skip))
        self.seed, self.scale, self.path, self.e2_decision = seed, scale, provisioning_path, e2_decision
        self.on_event, self.before_close = on_event, before_close
        self.events: list[Event] = []
        try:
            self.tenant = DemoTenant(seed=seed, scale=scale, connector_pace_s=0)
        except ValueError as exc:  # a bad scale
            raise ConfigError(str(exc), hint="e.g. --scale small, or --scale 300") from None

    # ---- the log ------------------------------------------------------------------------------------------------
    def _emit(self, step_id: str, what: str, text: str, status: str | None = None) -> None:
        event = Event(step_id, what, text, status)
        self.events.append(event)
        if self.on_event is not None:
            self.on_event(event)

    def _skipped(self, step_id: str) -> bool:
        if step_id in self.skip:
            self._emit(step_id, "skip", "skipped (--skip): nothing checked or done for it")
            return True
        return False

    async def _check(self, *selectors: str) -> dict[str, StepState]:
        # Parents (B2) are left out: checking one would bring back a skipped row.
        ids = [s.id for s in select_steps(selectors) if not s.children and not self._skipped(s.id)]
        states = await self.rb.check(ids) if ids else []
        for state in states:
            if state.step.check is not None:
                self._emit(state.step.id, "check", state.summary, str(state.status))
        return {s.step.id: s for s in states}

    def _confirm(self, step_id: str, note: str) -> None:
        if self._skipped(step_id):
            return
        try:
            self.rb.confirm(step_id, f"rehearsal: {note}")
        except CutoverError as exc:  # a gate or a missing variable: the honest answer is to leave it open
            self._emit(step_id, "open", f"not confirmed: {exc}")
            return
        self._emit(step_id, "confirm", note)

    def _ticket(self, step_id: str) -> None:
        if self._skipped(step_id):
            return
        self.rb.ticket(step_id)  # drafted from the journal, as a person would send it
        number = f"REHEARSAL-{step_id}-{self.seed}"
        self.rb.record_ticket(step_id, number)
        self._emit(step_id, "ticket", f"ticket drafted; number {number} recorded (Support's part is simulated)")

    def _set(self, **values: Any) -> None:
        for name, value in values.items():
            self.rb.set_variable(name.replace("__", "."), None if value is None else str(value))

    # ---- the run ------------------------------------------------------------------------------------------------
    async def run(self) -> RehearsalOutcome:
        started = time.monotonic()
        async with self.tenant as demo:
            profile = demo.profile
            async with Session(profile, demo.credentials) as session:
                with Journal.for_profile(profile) as journal:
                    async with SimControl(demo.base_url, session.zuora.token) as control:
                        self.rb, self.control, self.profile = Runbook(profile, journal, session), control, profile
                        self.register = InstanceRegister(journal, profile)
                        for phase in (self._discovery, self._readiness, self._freeze, self._migration,
                                      self._data_fixes, self._connector, self._payments, self._go_live):
                            await phase()
                    states = step_states(journal, profile)
                    h2 = journal.latest_result("H2")
                    if self.before_close is not None:  # the journal and the tenant go away with the block
                        self.before_close(self)
        return RehearsalOutcome(
            seed=self.seed, scale=self.tenant.config.scale, provisioning_path=self.path, skipped=self.skip,
            states=states, duplicates_in_netsuite=h2.details.get(DUPLICATES) if h2 else None,
            elapsed_s=time.monotonic() - started, events=self.events)

    # ---- A: discovery --------------------------------------------------------------------------------------------
    async def _discovery(self) -> None:
        await self._check("A1")
        old = await self.control.current_instance()
        dates = await self.control.cutover_dates()
        self._set(old_instance_id=old["id"], old_account_id=old["account_id"], tenant_env="simulator",
                  zuora_base_url=self.profile.zuora_url(), netsuite_account_id=self.profile.netsuite_account_id,
                  **{f"old_cutover_dates__{k}": dates.get(k) for k in ("invoice", "payment", "refund", "iia",
                                                                       "ns_payment")})
        self.register.add(environment=old["environment"], role="old", instance_id=old["id"],
                          account_id=old["account_id"], environment_id=old["environment_id"],
                          oauth_client_id=old["oauth_client_id"], notes="read from the Logs tab stand-in")
        self._emit("A2", "act", f"read the old instance {old['id']} (account {old['account_id']}) and its cutover "
                                f"dates from the connector stand-in; recorded in the instances register")
        self._confirm("A2", "old instance ids and cutover dates read from the connector stand-in")
        self._set(provisioning_path=self.path)
        self._confirm("A3", f"provisioning path {self.path} (chosen by the rehearsal's options)")

    # ---- B: readiness ----------------------------------------------------------------------------------------------
    async def _readiness(self) -> None:
        self._set(target_migration_date=datetime.now(UTC).date().isoformat())
        states = await self._check("B")
        for step_id in ("B2/V1", "B2/V2", "B2/V3", "B2/V4", "B2/V5", "B2/V6", "B3"):
            state = states.get(step_id)
            if state is not None and state.status is not Status.PASS:
                self._emit(step_id, "open", "left for a person: no stand-in fixes it; the simulated migration runs "
                                            "regardless and names it as unresolved")
        self._confirm("B2/V8", "the simulated tenant has no scheduled payment runs")
        self._confirm("B2/V9", "On-Account accounting code for the migration memos: Customer Credit (simulated)")
        self._confirm("B4", "the period containing the migration date is Open; no close scheduled during it")
        self._confirm("B5", "no integrations create IIAs or negative invoices in the simulated tenant")
        self._confirm("B6", "billing configuration reviewed: simulator defaults")
        self._ticket("B1")

    # ---- C: freeze -------------------------------------------------------------------------------------------------
    async def _freeze(self) -> None:
        for n in range(1, MAX_SYNC_RUNS + 1):
            run = await self.control.run_connector()
            self._emit("C", "act", f"Run Now #{n}: {run.get('status')}, {run.get('synced', 0):,} synced, "
                                   f"{run.get('errors', 0):,} errors")
            states = await self._check("C1", "C2", "C3", "C4", "C5")
            ready = all(states[s].status is Status.PASS for s in READY_BEFORE_FREEZE if s in states)
            if ready or not run.get("synced"):
                break
        for step_id, state in states.items():
            if state.status is not Status.PASS:
                self._emit(step_id, "open", "reviewed and left: Run Now changes nothing more; a person fixes "
                                            "these records at the source (no stand-in does)")
        await self.control.stop_connector()
        freeze = await _next_second()
        self._set(freeze_ts=freeze)
        self._emit("C7", "act", f"final sync done; connector stopped; freeze_ts {freeze}")
        await self._check("C6", "C7")
        self._confirm("C7", f"final sync run, old connector stopped and its scheduler off at {freeze}")

    # ---- D: the migration -------------------------------------------------------------------------------------------
    async def _migration(self) -> None:
        self._ticket("D1")
        summary = await self.control.migrate_invoice_settlement()
        self._set(migration_date=summary["migration_date"])
        unresolved = ", ".join(f"{k} {n}" for k, n in summary.get("unresolved_validations", {}).items())
        self._emit("D1", "act", f"Support's migration stand-in: {summary['negative_invoice_memos']:,} AR Mig memos, "
                                f"{summary['credit_balance_memos']:,} credit-balance memos; IS on at "
                                f"{summary['is_enabled_ts']}" + (f"; unresolved B2 rows: {unresolved}"
                                                                 if unresolved else ""))
        await self._check("D1", "D2")

    # ---- E: data fixes -----------------------------------------------------------------------------------------------
    async def _apply(self, step_id: str) -> None:
        if self._skipped(step_id):
            return
        outcome = await self.rb.apply(step_id)
        self._emit(step_id, "act", f"plan {outcome.plan.plan_id} of {outcome.plan.total:,} records applied: "
                                   f"{outcome.written:,} written, {outcome.failed:,} failed, "
                                   f"{outcome.write_calls:,} write calls")
        if outcome.recheck is not None:
            self._emit(step_id, "check", outcome.recheck.summary, str(outcome.recheck.status))

    async def _data_fixes(self) -> None:
        await self._apply("E1")
        self._set(e2_decision=self.e2_decision)
        self._emit("E2", "act", f"decision recorded: {self.e2_decision}")
        if self.e2_decision == "sync":
            await self._check("E2")
        else:
            await self._apply("E2")
        self._confirm("E3", "the old connector stayed stopped through the migration (C7)")

    # ---- F: re-provisioning -----------------------------------------------------------------------------------------
    async def _connector(self) -> None:
        client = await self.control.create_oauth_client("cutover rehearsal: NetSuite connector")
        self._set(new_oauth_client_id=client.client_id)
        self.rb.secrets["new_oauth_client_secret"] = client.client_secret  # memory only, as a person types it
        self._emit("F1", "act", f"OAuth client {client.client_id} created in the Zuora UI stand-in")
        await self._check("F1")
        self._set(connect_login_name="cutover-rehearsal-oauth")
        self._confirm("F2", "Connect tenant login cutover-rehearsal-oauth holds the new client")
        old_id = self.rb.journal.variables().old_instance_id
        if self.path == "new-instance":
            new = await self.control.create_instance(client.client_id)
            self._set(new_instance_id=new["id"])
            self.register.add(environment=new["environment"], role="new", instance_id=new["id"],
                              oauth_client_id=client.client_id, notes="created in the Connect stand-in")
            self._emit("F3b", "act", f"instance {new['id']} created on the new OAuth client")
            self._confirm("F3b", f"new instance {new['id']} created and launched")
        else:
            await self.control.update_instance(old_id, oauth_client_id=client.client_id)
            self.register.update(old_id, oauth_client_id=client.client_id)
            self._emit("F3a", "act", f"instance {old_id} now signs in with the new OAuth client")
            self._confirm("F3a", f"instance {old_id} edited: Target = the new OAuth login")
        self._ticket("F4")
        if self.path == "new-instance":
            self._set(new_account_id=new["account_id"], new_environment_id=new["environment_id"])
            self.register.update(new["id"], account_id=new["account_id"], environment_id=new["environment_id"])
            self._emit("F4", "act", f"Support's ids recorded: account {new['account_id']}")
        self._confirm("F5", "sync preferences copied from A2 (simulator defaults)")
        memo_cutover = self.rb.journal.variables().migration_date.isoformat()
        await self.control.set_cutover_dates(memo=memo_cutover)
        self._set(new_memo_cutover=memo_cutover)
        self._confirm("F6", f"Debit/Credit Memos cutover {memo_cutover}; the other cutovers kept from A2")
        self._confirm("F7", "schedule set and left off until H4")

    # ---- G: NetSuite payments ------------------------------------------------------------------------------------------
    async def _payments(self) -> None:
        made = await self.control.enter_netsuite_payments(WINDOW_PAYMENTS)
        self._emit("G2", "act", f"{len(made)} customer payments typed into NetSuite after the freeze, before the "
                                f"G1 default (Zuora Sync Updates empty)")
        field = self.profile.netsuite_fields.zuora_sync_updates
        if not self._skipped("G1"):
            await self.control.set_field_default(field, self.profile.netsuite_fields.sync_updates_yes)
            self._emit("G1", "act", f"default of {field} set to {self.profile.netsuite_fields.sync_updates_yes} "
                                    f"in the NetSuite UI stand-in")
            await self._check("G1")
        await self._apply("G2")
        await self._check("G3")

    # ---- H and I: go-live -----------------------------------------------------------------------------------------------
    async def _go_live(self) -> None:
        await self.control.start_connector()
        run = await self.control.run_connector()
        self._emit("H1", "act", f"new connector Run Now: {run.get('status')}, {run.get('synced', 0):,} synced, "
                                f"{run.get('errors', 0):,} errors")
        self._confirm("H1", "first run of the new connector finished; logs kept")
        states = await self._check(*VERDICT)
        if all(s in states and states[s].status is Status.PASS for s in VERDICT):
            self._set(go_live_ts=utc_now())
            self._confirm("H4", "schedule enabled after H2 and H3 passed")
            old_id = self.rb.journal.variables().old_instance_id
            if self.path == "new-instance":
                await self.control.update_instance(old_id, status="retired")
                self.register.retire(old_id, "the new instance is live (H2/H3 pass)")
                self._confirm("I1", f"old instance {old_id} retired in the connector stand-in; its logs kept")
            else:
                self._confirm("I1", f"nothing to retire: instance {old_id} was re-pointed (edit-instance) and is "
                                    "the live one")
        else:
            self._emit("H4", "open", "the schedule stays off: H2/H3 do not pass")
        await self._check("I2")


def report_writer(paths: Iterable[Path | str]) -> Callable[[Rehearsal], None]:
    """A `before_close=` hook: write the run's sign-off report to each path, in the format its suffix names."""
    from core.report import format_for, write_report

    def write(rehearsal: Rehearsal) -> None:
        for path in paths:
            write_report(rehearsal.rb.journal, rehearsal.profile, path, format_for(path))

    return write
