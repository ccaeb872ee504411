"""The unattended rehearsal: the whole runbook against a fresh simulated tenant, nobody at the keyboard.

A DemoTenant serves Zuora, NetSuite and the connector on loopback; the run has its own temporary journal. Every
check goes through the real clients and the real engine. The rehearsal walks RUNBOOK in order and plays each
step's own stand-in (core.runbook.stand_ins): what a person or Zuora Support does, through the simulator's /_sim/
stand-ins, and the person's own records (confirmations, times, ticket numbers) in the rehearsal's name.

`skip` leaves out a step's act (its fix, apply, or Support's part) while the person still ticks the box; the
tool's checks must then find the harm, or a gate must refuse to go on. When a gate refuses what the rest depends
on (D1: Support migrates only on a ticket), the rehearsal stops there.

The verdict is the tool's own: passed only when every step is pass, waived or not-needed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, get_args

from core.profile import Operator
from core.demo import DemoTenant
from core.errors import ConfigError, CutoverError, first_cause
from core.playing import Event, StandInPlayer
from core.run import Run
from core.runbook.engine import StepBlocked
from core.runbook.failures import failure_lines
from core.runbook.model import Status, StepState
from core.runbook.phases import RUNBOOK, find_step
from core.runbook.stand_ins import Mistake
from core.runbook.steps.h_go_live import DUPLICATES
from core.runbook.variables import E1Decision, E2Decision
from core.sim.config import Faults
from core.sim.control import SimControl
from core.sim.records import sim_today
from core.words import plural

PATHS = ("new-instance", "edit-instance")
E1_DECISIONS, E2_DECISIONS = get_args(E1Decision), get_args(E2Decision)
REHEARSAL_OPERATOR = Operator(name="cutover rehearsal", email="rehearsal@cutover.invalid")
# What the rest of the run cannot do without: IS on after D1.
NEEDED_FOR_THE_REST = {"D1": "Invoice Settlement is not on, so nothing after D1 can be rehearsed"}


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
    stopped: str | None = None  # why the rehearsal could not go on, if it stopped early
    faults_injected: dict[str, int] = field(default_factory=dict)  # by kind (--faults): what the run healed from
    mistakes: tuple[str, ...] = ()  # --mistake: what was done wrong on purpose

    @property
    def open_steps(self) -> list[StepState]:
        """Steps that are not done: failing, blocked, needing action or never reached."""
        return [s for s in self.states if not s.step.children and not s.status.done]

    @property
    def passed(self) -> bool:
        return self.stopped is None and not self.open_steps

    @property
    def waived(self) -> list[str]:
        return [s.step.id for s in self.states if s.status is Status.WAIVED]

    def to_dict(self) -> dict[str, Any]:
        keys = ("id", "phase", "kind", "status", "count", "summary", "checked_at")
        steps = [s.to_dict() for s in self.states]
        return {
            "passed": self.passed, "seed": self.seed, "scale": self.scale,
            "provisioning_path": self.provisioning_path, "skipped": list(self.skipped),
            "mistakes": list(self.mistakes), "stopped": self.stopped,
            "steps": [{k: s[k] for k in keys} for s in steps],
            "failing": [{"id": s.step.id, "status": str(s.status), "summary": s.summary,
                         "blocked_by": list(s.blocked_by)} for s in self.open_steps],
            "waived": self.waived,
            "duplicates_in_netsuite": self.duplicates_in_netsuite, "elapsed_s": round(self.elapsed_s, 2),
            "faults_injected": self.faults_injected,
            "done_for_people": [{"step": e.step_id, "what": e.what, "text": e.text} for e in self.events
                                if e.what in ("act", "confirm", "ticket")],
            "left_open": [{"step": s.step.id, "status": str(s.status), "text": s.summary} for s in self.open_steps],
        }


def known_mistakes() -> dict[str, tuple[str, Mistake]]:
    """Every mistake a step's stand-in can make, by name: (step id, mistake)."""
    return {m.name: (s.id, m) for s in RUNBOOK if s.stand_in is not None for m in s.stand_in.mistakes}


def _mistakes(names: Iterable[str]) -> tuple[tuple[str, Mistake], ...]:
    known = known_mistakes()
    out = []
    for name in dict.fromkeys(names):
        if name not in known:
            listed = "; ".join(f"{n} ({step}: {m.what})" for n, (step, m) in known.items())
            raise ConfigError(f"no mistake named {name!r}", hint=f"the rehearsal can make: {listed}")
        out.append(known[name])
    return tuple(out)


def _skippable(step_ids: Iterable[str]) -> tuple[str, ...]:
    out = []
    for text in step_ids:
        step = find_step(text)
        if step.stand_in is None or step.stand_in.act is None:
            acted = ", ".join(s.id for s in RUNBOOK if s.stand_in is not None and s.stand_in.act is not None)
            raise ConfigError(f"the rehearsal does nothing for {step.id} that could be skipped: it only checks or "
                              f"records it", hint=f"steps with an act to skip: {acted}")
        out.append(step.id)
    return tuple(dict.fromkeys(out))


class Rehearsal(StandInPlayer):
    """The runbook's stand-ins see it as core.runbook.stand_ins.Rehearsing: a StandInPlayer (core.playing) that
    also plays the person, confirming, ticketing and applying in the rehearsal's name."""

    def __init__(self, *, seed: int = 1, scale: str | int = "small", skip: Iterable[str] = (),
                 mistakes: Iterable[str] = (),
                 provisioning_path: str = "new-instance", e2_decision: str = "mark-yes", e1_decision: str = "sync",
                 on_event: Callable[[Event], None] | None = None,
                 before_close: Callable[[Rehearsal], None] | None = None,
                 faults: Faults | None = None, timeout: float | None = None, twin: Path | str | None = None):
        """`twin`: a captured twin's folder (core.twin), played instead of the seeded tenant of seed/scale."""
        if provisioning_path not in PATHS:
            raise ConfigError(f"the rehearsal takes provisioning path {' or '.join(PATHS)}, not "
                              f"{provisioning_path!r}")
        if e2_decision not in E2_DECISIONS:
            raise ConfigError(f"the E2 decision is one of {', '.join(E2_DECISIONS)}, not {e2_decision!r}")
        if e1_decision not in E1_DECISIONS:
            raise ConfigError(f"the E1 decision is one of {', '.join(E1_DECISIONS)}, not {e1_decision!r}")
        super().__init__(provisioning_path=provisioning_path, e1_decision=e1_decision, e2_decision=e2_decision,
                         today=lambda: sim_today(self.tenant.sim.store), on_event=on_event)
        self.skip = _skippable(skip)
        self.mistakes = _mistakes(mistakes)
        self.seed, self.scale = seed, scale
        self.before_close = before_close
        self.stopped: str | None = None
        self.timeout = timeout
        self.twin = twin
        self.sampler = None  # on a twin: the monitor's Sampler, a sample as each phase starts and at the end
        # The simulator's faults are replayable: the same rehearsal seed rolls the same dice, unless the spec says.
        faults = faults or Faults()
        if faults.seed is None:
            faults = replace(faults, seed=seed)
        try:
            if twin is not None:  # a twin that is not there or did not finish: said before anything starts
                from core.twin.snapshot import Snapshot

                Snapshot.open(twin).require_complete()
            self.tenant = DemoTenant(seed=seed, scale=scale, connector_pace_s=0, faults=faults,
                                     twin=None if twin is None else str(twin))
        except ValueError as exc:  # a bad scale
            raise ConfigError(str(exc), hint="e.g. --scale small, or --scale 300") from None

    # ---- the person's own records, in the rehearsal's name --------------------------------------------------
    def confirm(self, step_id: str, note: str) -> None:
        try:
            self.opened.runbook.confirm(step_id, f"rehearsal: {note}")
        except CutoverError as exc:  # a gate or a missing variable: the honest answer is to leave it open
            self._emit(step_id, "open", f"not confirmed: {exc}")
            return
        self._emit(step_id, "confirm", note)

    def ticket(self, step_id: str) -> None:
        self.opened.runbook.ticket(step_id)  # drafted from the journal, as a person would send it (gated)
        number = f"REHEARSAL-{step_id}-{self.seed}"
        self.opened.runbook.record_ticket(step_id, number)
        self._emit(step_id, "ticket", f"ticket drafted; number {number} recorded (Support's part is simulated)")

    async def apply(self, step_id: str) -> None:
        outcome = await self.opened.runbook.apply(step_id)
        self._emit(step_id, "act", f"plan {outcome.plan.plan_id} of {outcome.plan.total:,} records applied: "
                                   f"{outcome.written:,} written, {outcome.failed:,} failed, "
                                   + plural(outcome.write_calls, "write call"))
        for line in failure_lines(self.opened.journal, outcome.plan.plan_id):  # what stayed failed, and why
            self._emit(step_id, "open", line)

    # ---- the run ------------------------------------------------------------------------------------------------
    async def run(self) -> RehearsalOutcome:
        try:
            return await self._run()
        except BaseExceptionGroup as group:  # a task group's failures are never the message: the one that matters
            raise first_cause(group) from None

    async def _run(self) -> RehearsalOutcome:
        started = time.monotonic()
        ahead = None
        if self.twin is not None:  # what the twin's forecast says, kept in the journal for the report
            from core.twin.forecast import forecast

            ahead = (await forecast(self.twin, timeout=self.timeout)).counts()
        async with self.tenant as demo:
            profile = demo.profile.model_copy(update={"operator": REHEARSAL_OPERATOR})
            async with Run(profile, demo.credentials, timeout=self.timeout) as run:
                self.opened = run
                async with SimControl(demo.base_url, run.session.zuora.token) as control:
                    self.world = control
                    self.set(zuora_base_url=profile.zuora_url(), netsuite_account_id=profile.netsuite_account_id)
                    if self.twin is not None:
                        from core.monitor import Sampler
                        from core.monitor.keeping import keeper

                        self.sampler = Sampler(run.session.zuora, run.session.netsuite, profile.netsuite_fields,
                                               keep=keeper(run.journal), recheck_every=1)  # IS goes on at D1
                    await self._walk()
                    await self._sample()
                if ahead is not None:
                    _record_forecast(run, demo, ahead)
                    from core.twin.replay import keep_for_replay

                    keep_for_replay(self.twin, run.journal.monitor_samples())  # `cutover monitor --replay DIR`
                folded = run.runbook.states()
                states = [folded[s.id] for s in RUNBOOK]
                h2 = run.journal.latest_result("H2")
                spec_key = {attr: key for key, attr in Faults.KEYS.items()}  # named as --faults names them
                injected = {spec_key.get(kind, kind): n for kind, n in sorted(demo.sim.dice.counts.items())}
                if self.before_close is not None:  # the journal and the tenant go away with the block
                    self.before_close(self)
        return RehearsalOutcome(
            seed=self.seed, scale=self.tenant.config.scale, provisioning_path=self.provisioning_path,
            skipped=self.skip, mistakes=tuple(m.name for _, m in self.mistakes), states=states,
            duplicates_in_netsuite=h2.details.get(DUPLICATES) if h2 else None,
            elapsed_s=time.monotonic() - started, events=self.events, stopped=self.stopped, faults_injected=injected)

    async def _sample(self) -> None:
        """One monitor sample into the journal, with the cutover dates recorded so far (A2 records them)."""
        if self.sampler is None:
            return
        self.sampler.cutovers = self.opened.journal.variables().connector_cutovers()
        try:
            await self.sampler.sample()
        except CutoverError as exc:  # a sample is a record for the replay, never a reason to stop the rehearsal
            self._emit(self._current or "", "open", f"monitor sample not taken: {exc}")

    async def _walk(self) -> None:
        phase = None
        for step in RUNBOOK:
            if step.phase != phase:
                await self._sample()
                phase = step.phase
            stand_in = step.stand_in
            if stand_in is None or not step.applies_to(self.provisioning_path):
                continue
            self._current = step.id
            try:
                await stand_in.before(self)
                if stand_in.act is not None:
                    if step.id in self.skip:
                        self._emit(step.id, "skip", f"skipped (--skip): {stand_in.what} did not happen")
                    else:
                        await stand_in.act(self)
                await stand_in.after(self)
                for step_id, mistake in self.mistakes:
                    if step_id == step.id:
                        self._emit(step.id, "mistake", f"mistake (--mistake {mistake.name}): {mistake.what}")
                        await mistake.act(self)
            except StepBlocked as exc:
                self._emit(step.id, "blocked", str(exc))
            except CutoverError as exc:  # a stand-in the world refused: say so, and go on where the run can
                self._emit(step.id, "open", f"{stand_in.what}: {exc}")
            except ExceptionGroup as group:  # the same, from a task group: its first failure that matters
                cause = first_cause(group)
                if not isinstance(cause, CutoverError):
                    raise cause from None
                self._emit(step.id, "open", f"{stand_in.what}: {cause}")
            if step.id in NEEDED_FOR_THE_REST and not await self.opened.runbook.invoice_settlement(fresh=True):
                self.stopped = f"{step.id}: {NEEDED_FOR_THE_REST[step.id]}"
                self._emit(step.id, "stop", self.stopped)
                return


def _record_forecast(run: Run, demo: DemoTenant, ahead: dict[str, int]) -> None:
    """The twin's forecast beside the accounts this rehearsal's first run of the new instance picked (R12)."""
    import json

    from core.twin.forecast_record import FORECAST_BASELINE, RUN_FIRST_RUN

    for row in demo.sim.store.query("SELECT summary FROM sim_connector_run WHERE summary IS NOT NULL ORDER BY id"):
        summary = json.loads(row["summary"])
        if summary.get("customers_since_1970"):
            customers = summary["steps"].get("customers", {})
            ahead = {**ahead, RUN_FIRST_RUN: customers.get("synced", 0) + customers.get("errors", 0)}
            break
    run.journal.record_baseline(FORECAST_BASELINE, ahead, step_id="H1")


def report_writer(paths: Iterable[Path | str]) -> Callable[[Rehearsal], None]:
    """A `before_close=` hook: write the run's sign-off report to each path, in the format its suffix names."""
    from core.report import format_for, write_report

    def write(rehearsal: Rehearsal) -> None:
        for path in paths:
            write_report(rehearsal.opened, path, format_for(path))

    return write
