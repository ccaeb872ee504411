"""What a rehearsal does for a step where a person or Zuora Support would act: the step's stand-in.

Each step that needs one carries a `StandIn` (see the step modules): `before` and `after` are what the rehearsal
always does around the step (checks, the person's own records such as a confirmation or a time), `act` is the
step's effect in the world (a fix at the source, an apply, Support's part of a ticket, a setting in the
connector's UI). `cutover rehearse --skip STEP` leaves out exactly `act`, as a hurried consultant would who still
ticks the box, so the tool's checks, not the rehearsal's honesty, must find what is missing. A stand-in's
`mistakes` are the ways its step is commonly done wrong (`cutover rehearse --mistake NAME`), for the same purpose.

A stand-in talks to the world only through `Rehearsing.world` (the simulator's /_sim/ stand-ins, see
core.sim.control.SimControl), and to the tool only through `Rehearsing`: this module knows neither.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from core.runbook.model import StepState
from core.runbook.variables import RunVariables
from core.words import plural


class World(Protocol):
    """The simulated tenant's stand-ins for people, Support and the vendors' UIs (SimControl is one)."""

    async def current_instance(self) -> dict[str, Any] | None: ...
    async def cutover_dates(self) -> dict[str, str | None]: ...
    async def set_cutover_dates(self, **dates: str | None) -> dict[str, str | None]: ...
    async def run_connector(self) -> dict[str, Any]: ...
    async def start_connector(self, instance_id: str | None = None) -> dict[str, Any]: ...
    async def stop_connector(self, instance_id: str | None = None) -> dict[str, Any]: ...
    async def tick(self) -> list[dict[str, Any]]: ...
    async def create_instance(self, oauth_client_id: str, environment: str = "production") -> dict[str, Any]: ...
    async def update_instance(self, instance_id: str, **changes: Any) -> dict[str, Any]: ...
    async def create_oauth_client(self, name: str) -> Any: ...
    async def update_boomi_credentials(self, oauth_client_id: str) -> dict[str, Any]: ...
    async def migrate_invoice_settlement(self) -> dict[str, Any]: ...
    async def fix_at_source(self, step: str) -> dict[str, Any]: ...
    async def clear_integration_status(self, count: int = 2) -> dict[str, Any]: ...
    async def set_field_default(self, field: str, value: str | None) -> dict[str, Any]: ...
    async def enter_netsuite_payments(self, count: int, payment_method: str = "Check",
                                      backdate_days: int = 0) -> list[dict[str, Any]]: ...
    async def tenant_traffic(self, count: int = 3) -> dict[str, Any]: ...


class Rehearsing(Protocol):
    """The rehearsal as a stand-in sees it: the world, the run's choices, and the tool's own operations."""

    world: World
    provisioning_path: str  # new-instance | edit-instance
    e2_decision: str
    e1_decision: str

    def say(self, step_id: str, text: str) -> None:
        """Log what was done in a person's or Support's place."""

    def set(self, **values: Any) -> None:
        """Record run variables (`old_cutover_dates__invoice=` for dotted names)."""

    def variables(self) -> RunVariables: ...

    def today(self) -> str:
        """The tenant's business day, as a date text."""

    async def next_second(self) -> str:
        """Wait for the next whole second and return it: every write made before is strictly earlier."""

    async def check(self, *selectors: str) -> dict[str, StepState]: ...

    def confirm(self, step_id: str, note: str) -> None: ...

    def ticket(self, step_id: str) -> None:
        """Draft the ticket and record a number, as a person who sent it would; StepBlocked when gated."""

    async def apply(self, step_id: str) -> None: ...

    def keep_secret(self, name: str, value: Any) -> None:
        """Hold a secret in memory for the checks (F1's new client secret), as a person types it."""

    def register(self, action: str, *args: Any, **values: Any) -> None:
        """The instances register: add, update or retire an instance."""


Act = Callable[[Rehearsing], Awaitable[None]]


async def nothing(_: Rehearsing) -> None:
    return None


@dataclass(frozen=True)
class Mistake:
    """A consultant's error, made on purpose after the step (`cutover rehearse --mistake NAME`): where `--skip`
    leaves an act out, a mistake does it wrong, as people do (runbook R8). The tool's checks must then catch it."""

    name: str
    what: str  # what goes wrong, in a line
    act: Act


@dataclass(frozen=True)
class StandIn:
    """`what` says in a line what the act stands for ("Support runs the IS migration")."""

    what: str
    act: Act | None = None
    before: Act = nothing
    after: Act = nothing
    mistakes: tuple[Mistake, ...] = ()


def checked(*selectors: str) -> Act:
    """An `after` that runs these checks."""
    async def run(r: Rehearsing) -> None:
        await r.check(*selectors)
    return run


def confirmed(step_id: str, note: str) -> Act:
    async def run(r: Rehearsing) -> None:
        r.confirm(step_id, note)
    return run


def fixed_at_source(step_id: str) -> Act:
    """A person fixes the step's records in the vendors' UIs (the simulator's own stand-in does the edits)."""
    async def run(r: Rehearsing) -> None:
        done = await r.world.fix_at_source(step_id)
        r.say("", f"fixed at the source ({done['what']}): {plural(done['count'], 'change')}"
              + (f", e.g. {done['changed'][0]}" if done["changed"] else ""))
    return run


def applied(step_id: str) -> Act:
    async def run(r: Rehearsing) -> None:
        await r.apply(step_id)
    return run


def in_order(*acts: Act) -> Act:
    async def run(r: Rehearsing) -> None:
        for act in acts:
            await act(r)
    return run


async def run_now(r: Rehearsing) -> None:
    """Logs > Run Now on the connector instance Connect opens."""
    run = await r.world.run_connector()
    r.say("", f"Run Now: {run.get('status')}, {run.get('synced', 0):,} synced, "
              f"{plural(run.get('errors', 0), 'error')}" + (f" ({run['message']})" if run.get("message") else ""))
