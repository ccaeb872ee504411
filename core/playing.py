"""Playing the runbook's stand-ins one at a time: what a person or Zuora Support does outside the tool, on request.

`StandInPlayer(run, world)` is the `Rehearsing` a step's stand-in (core.runbook.stand_ins) talks to, over one open
`Run` and a `World` (the simulator's /_sim/ stand-ins, core.sim.control.SimControl). `await player.play("D1")` plays
that step's `act` only (Support's migration, a fix at the source, the new OAuth client, Run Now, ...) and returns
the lines it said. The demo's "Simulated tenant" panel plays acts this way; the unattended rehearsal
(core.rehearsal) builds on the same player and walks the whole runbook.

What an act records for the person (run variables such as migration_date, the instances register, the new client's
secret in memory) goes through the run's own runbook and register, under the profile's operator, as the rehearsal
does. The person's word is theirs: the player never confirms a step, drafts or records a ticket, or applies the
tool's own writes (E1, E2, G2); those are done on the step screens. The rehearsal, which plays the person too,
overrides exactly those three.

This module knows neither Textual nor the simulator: the world comes in as a `World`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from core.errors import ConfigError
from core.runbook.model import Kind, Step, StepState, utc_now
from core.runbook.phases import RUNBOOK, find_step
from core.runbook.stand_ins import Act, Rehearsing, World, run_now
from core.runbook.variables import RunVariables
from core.words import plural

if TYPE_CHECKING:
    from core.run import Run


@dataclass(frozen=True)
class Event:
    """One line of a player's log: a step's check result, or something done in a person's place."""

    step_id: str
    what: str  # check | act | confirm | ticket | open | skip | blocked | stop
    text: str
    status: str | None = None


async def next_second() -> str:
    """Wait for the next whole UTC second and return it: the store stamps writes to the second, so every write
    made before the call is strictly earlier than the returned time."""
    now = datetime.now(UTC)
    await asyncio.sleep(1 - now.microsecond / 1_000_000)
    return utc_now()


def utc_today() -> str:
    return datetime.now(UTC).date().isoformat()


# ---- what can be played --------------------------------------------------------------------------------------
# The run variables an act reads, and the step that records each: without them the act would act on nothing.
ACT_NEEDS: dict[str, tuple[str, ...]] = {
    "C7": ("old_instance_id",),
    "F3a": ("old_instance_id", "new_oauth_client_id"),
    "F3b": ("new_oauth_client_id",),
    "F4": ("new_oauth_client_id", "provisioning_path"),
    "F6": ("migration_date",),
    "I1": ("old_instance_id", "provisioning_path"),
    "start-old": ("old_instance_id",),
}
RECORDED_BY = {"old_instance_id": "A2", "new_oauth_client_id": "F1", "migration_date": "D1",
               "provisioning_path": "A3"}


async def _time_passes(r: Rehearsing) -> None:
    """The schedulers' turn: every running instance has its scheduled run (what the hours between steps do)."""
    runs = await r.world.tick()
    if not runs:
        r.say("", "time passed: no instance is running, so no scheduled run happened")
    for run in runs:
        r.say("", f"scheduled run of instance {run.get('instance_id')}: {run.get('status')}, "
                  f"{run.get('synced', 0):,} synced, {plural(run.get('errors', 0), 'error')}"
                  + (f" ({run['message']})" if run.get("message") else ""))


async def _start_old(r: Rehearsing) -> None:
    """The old connector's scheduler switched back on (what C7 stopped)."""
    old = r.variables().old_instance_id
    await r.world.start_connector(old)
    r.say("", f"old instance {old} started again (scheduler on)")


@dataclass(frozen=True)
class Playable:
    """One simulated action: a step's act (`step` set), or something the world does by itself."""

    key: str  # the step id, or a name (run-now, time-passes, start-old)
    stands_in_for: str  # the step(s) it stands in for, as a person reads it
    what: str
    act: Act
    step: Step | None = None

    @property
    def label(self) -> str:
        return f"{self.stands_in_for} · {self.what}"

    @property
    def needs(self) -> tuple[str, ...]:
        return ACT_NEEDS.get(self.key, ())

    @property
    def afterwards(self) -> str:
        """What is still the person's to do on the step screen once the world has changed."""
        step = self.step
        if step is None:
            return "Re-check the steps it affects on their step screens."
        if step.kind is Kind.TICKET:
            return f"Draft the {step.id} ticket and record its number on its step screen, then re-check it (r)."
        if step.confirm:  # only a step that takes a confirmation offers `n` and a note field on its screen
            return f"Confirm {step.id} on its step screen (n), with a note."
        return f"Re-check {step.id} on its step screen (r)."


EXTRAS = (
    Playable("run-now", "C1–C5, H1", "Run Now (the connector instance Connect opens)", run_now),
    Playable("time-passes", "D1, H1", "Time passes: scheduled runs of every running instance", _time_passes),
    Playable("start-old", "C7 (undo)", "Start the old connector again (its scheduler back on)", _start_old),
)


def _step_playable(step: Step) -> Playable | None:
    if step.stand_in is None or step.stand_in.act is None or step.action is not None:
        return None
    return Playable(step.id, step.id, step.stand_in.what, step.stand_in.act, step)


def playables(provisioning_path: str | None = None) -> list[Playable]:
    """Every simulated action, in runbook order (the steps on `provisioning_path`, all when None), then the
    world's own. The tool's own writes (steps with an action: E1, E2, G2) are never among them."""
    steps = [p for s in RUNBOOK if s.applies_to(provisioning_path) and (p := _step_playable(s)) is not None]
    return [*steps, *EXTRAS]


def find_playable(key: str) -> Playable:
    """A step id ("D1", "V1", "b2/v1") or an extra's key; ConfigError saying why when there is nothing to play."""
    extra = next((p for p in EXTRAS if p.key == key.strip().lower()), None)
    if extra is not None:
        return extra
    step = find_step(key)
    if step.action is not None:
        raise ConfigError(f"{step.id} is the tool's own write, not a simulated action",
                          hint=f"plan and apply it on {step.id}'s step screen")
    playable = _step_playable(step)
    if playable is None:
        raise ConfigError(f"nothing to simulate for {step.id}: the tool checks it, or a person records it",
                          hint=f"see {step.id}'s step screen")
    return playable


# ---- the player ------------------------------------------------------------------------------------------------
class StandInPlayer:
    """`Rehearsing` over a Run (`opened`) and a World. See the module's docstring."""

    world: World
    opened: Run

    def __init__(self, run: Run | None = None, world: World | None = None, *,
                 provisioning_path: str | None = None, e1_decision: str = "sync", e2_decision: str = "mark-yes",
                 today: Callable[[], str] = utc_today, on_event: Callable[[Event], None] | None = None):
        if run is not None:
            self.opened = run
        if world is not None:
            self.world = world
        self.provisioning_path, self.e1_decision, self.e2_decision = provisioning_path, e1_decision, e2_decision
        self._today = today
        self.on_event = on_event
        self.events: list[Event] = []
        self._current = ""  # the step (or extra) whose stand-in is playing

    # ---- the log --------------------------------------------------------------------------------------------
    def _emit(self, step_id: str, what: str, text: str, status: str | None = None) -> None:
        event = Event(step_id, what, text, status)
        self.events.append(event)
        if self.on_event is not None:
            self.on_event(event)

    # ---- playing one act ------------------------------------------------------------------------------------
    async def play(self, key: str) -> list[str]:
        """Play one step's act (or an extra); the lines it said. ConfigError when it cannot be played here (the
        tool's own write, another path, a run variable it reads not recorded); whatever the world refuses
        (core.errors.ApiError with the simulator's reason) propagates as it is."""
        playable = find_playable(key)
        step = playable.step
        recorded = self.variables()
        if step is not None and not step.applies_to(recorded.provisioning_path):
            raise ConfigError(f"{step.id} is not on the chosen provisioning path ({recorded.provisioning_path})",
                              hint=f"it is for {', '.join(step.paths)}; A3 records the path")
        missing = [name for name in playable.needs if getattr(recorded, name) is None]
        if missing:
            steps = ", ".join(dict.fromkeys(RECORDED_BY.get(n, "its step") for n in missing))
            raise ConfigError(f"{playable.key if step is None else step.id}'s stand-in reads "
                              f"{' and '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not recorded",
                              hint=f"record {'it' if len(missing) == 1 else 'them'} first ({steps})")
        start = len(self.events)
        self._current = step.id if step is not None else playable.key
        await playable.act(self)
        return [e.text for e in self.events[start:]]

    # ---- Rehearsing: what the stand-ins call ----------------------------------------------------------------
    def say(self, step_id: str, text: str) -> None:
        self._emit(step_id or self._current, "act", text)

    def set(self, **values: Any) -> None:
        for name, value in values.items():
            self.opened.runbook.set_variable(name.replace("__", "."), None if value is None else str(value))

    def variables(self) -> RunVariables:
        return self.opened.journal.variables()

    def today(self) -> str:
        return self._today()

    async def next_second(self) -> str:
        return await next_second()

    async def check(self, *selectors: str) -> dict[str, StepState]:
        states = await self.opened.runbook.check(selectors)
        for state in states:
            if state.step.check is not None and not state.step.children:
                self._emit(state.step.id, "check", state.summary, str(state.status))
        return {s.step.id: s for s in states}

    def confirm(self, step_id: str, note: str) -> None:
        """The person's word is theirs: left open, said so."""
        self._emit(step_id, "open", f"not confirmed for you: confirm {step_id} on its step screen")

    def ticket(self, step_id: str) -> None:
        self._emit(step_id, "open", f"no ticket recorded for you: draft {step_id}'s and record its number on its "
                                    "step screen")

    async def apply(self, step_id: str) -> None:
        raise ConfigError(f"{step_id} is the tool's own write, not a simulated action",
                          hint=f"plan and apply it on {step_id}'s step screen")

    def keep_secret(self, name: str, value: Any) -> None:
        self.opened.runbook.secrets[name] = value

    def register(self, action: str, *args: Any, **values: Any) -> None:
        getattr(self.opened.register, action)(*args, **values)
