"""The TUI's single hold on core: one profile's Run (session, journal, runbook engine, register) and sampler.

Screens call these methods from workers and render what comes back; nothing here imports textual widgets,
and the TUI never touches httpx. Blocking work (keyring, seeding the demo tenant, SQLite writes of a report)
runs in threads so the event loop stays free.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import CutoverError
from tui.app_words import app_words
from tui.person_records import PersonRecords

if TYPE_CHECKING:  # the app's first frame draws before pydantic, httpx, keyring and the runbook load (`load`)
    from core.profile import Profile
    from core.demo import DemoTenant
    from core.monitor import Sampler
    from core.monitor.model import SyncError
    from core.monitor.records import RecordView
    from core.run import Run
    from core.runbook.engine import Runbook
    from core.runbook.model import ApplyOutcome, ApplyProgress, CheckResult, PlanSummary, StepState
    from core.secrets import Credentials
    from core.session import Session


# Blocking, each in a thread: the modules they need are imported there too, so no import stalls the event loop.
def _unrecorded_states() -> dict[str, StepState]:
    from core.runbook.engine import unrecorded_states

    return unrecorded_states()


def _stored_profile(name: str) -> Profile:
    from core.config import get_profile

    return get_profile(name)


def _recorded_states(profile: Profile) -> dict[str, StepState]:
    from core.run import Run

    with Run(profile) as run:
        return run.runbook.states()


def _stored_credentials(name: str) -> Credentials:
    from core.secrets import CredentialStore

    return CredentialStore().load(name)


def _open_run(profile: Profile, credentials: Credentials, timeout: float | None) -> Run:
    from core.run import Run

    return Run(profile, credentials, timeout=timeout)


class Backend(PersonRecords):
    """One profile's run, or the demo's, as the screens see it; what a person records is PersonRecords' part."""

    def __init__(self, *, profile_name: str | None = None, demo: DemoTenant | None = None,
                 make_demo: Callable[[], DemoTenant] | None = None, monitor_interval: float = 5.0,
                 timeout: float | None = None):
        """A profile by name, or a demo tenant: made already (`demo`), or by `make_demo` in a thread once the first
        frame is drawn (`cutover demo`: the simulator's modules load then, not before the screen).
        `timeout`: seconds each call to Zuora or NetSuite waits for an answer (`--timeout`); None: the clients'."""
        if [profile_name, demo, make_demo].count(None) != 2:
            raise ValueError("give a profile name or a demo tenant")
        self.profile_name_arg = profile_name
        self.demo = demo
        self.make_demo = make_demo
        self.monitor_interval = monitor_interval
        self.timeout = timeout
        self.profile: Profile | None = None
        self.credentials: Credentials | None = None
        self.run: Run | None = None
        self.current_sampler: Sampler | None = None
        self.preview: dict[str, StepState] | None = None
        self.status_text = "Connecting…"
        self._topbars: list[Any] = []
        # the Simulated tenant panel's outcomes and log, kept for the session: reopening it shows what was played
        self.sim_outcomes: dict[str, Any] = {}
        self.sim_log: list[Any] = []

    # ---- lifecycle ------------------------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        return self.run is not None

    @property
    def runbook(self) -> Runbook | None:
        return self.run.runbook if self.run else None

    @property
    def journal(self):
        return self.run.journal if self.run else None

    @property
    def session(self) -> Session | None:
        return self.run.session if self.run else None

    async def open(self) -> None:
        """Load, read the profile, connect, probe: what the app does in stages, drawing between them."""
        await self.load()
        await self.read_profile()
        await self.connect()
        await self.probe()

    async def load(self) -> None:
        """The runbook's definitions (and pydantic with them), in a thread: the first frame is drawn without them.
        The demo's checklist reads as unrecorded from here (a fresh tenant's journal holds nothing)."""
        self.status_text = "Loading the runbook…"
        states = await asyncio.to_thread(_unrecorded_states)
        if self.is_demo and self.preview is None:
            self.preview = states

    async def read_profile(self) -> None:
        """The profile and what its journal has recorded, so the checklist shows before any keyring or network."""
        if self.is_demo:
            return  # the checklist reads as unrecorded (`load`)
        self.status_text = f"Reading profile {self.profile_name_arg}…"
        self.profile = await asyncio.to_thread(_stored_profile, self.profile_name_arg)
        self.preview = await asyncio.to_thread(_recorded_states, self.profile)

    async def connect(self) -> None:
        if self.is_demo:
            self.status_text = "Seeding the demo tenant (about 2,000 invoices)…"
            if self.demo is None:  # the simulator (starlette, uvicorn) loads here, after the checklist is drawn
                self.demo = await asyncio.to_thread(self.make_demo)
            await self.demo.__aenter__()
            self.profile, self.credentials = self.demo.profile, self.demo.credentials
        else:
            self.status_text = f"Reading the keyring entries of profile {self.profile.name}…"
            self.credentials = await asyncio.to_thread(_stored_credentials, self.profile.name)
        self.run = await asyncio.to_thread(_open_run, self.profile, self.credentials, self.timeout)
        self.preview = None
        self.status_text = "Ready"

    async def probe(self) -> None:
        """One cheap call, so the header can say whether IS is on; a tenant that does not answer leaves it '?'."""
        try:
            await self.runbook.invoice_settlement()
        except CutoverError:
            pass
        self.update_topbars()

    async def close(self) -> None:
        if self.run is not None:
            await self.run.aclose()
        if self.demo is not None:
            await self.demo.__aexit__(None, None, None)

    # ---- header ---------------------------------------------------------------------------------------------
    @property
    def is_demo(self) -> bool:
        return self.demo is not None or self.make_demo is not None

    @property
    def profile_name(self) -> str:
        return self.profile.name if self.profile else (self.profile_name_arg or "demo")

    @property
    def profile_label(self) -> str:
        if self.profile is None:
            return self.profile_name
        if self.is_demo:  # the simulator's port changes every run: name it, not its URL
            return f"demo (simulated Zuora · NetSuite {self.profile.netsuite_account_id})"
        return self.profile.title

    @property
    def is_production(self) -> bool:
        return bool(self.profile and self.profile.is_production)

    @property
    def read_only(self) -> bool:
        return bool(self.profile and self.profile.read_only)

    def bind_topbar(self, bar: Any) -> None:
        self._topbars.append(bar)
        self.update_topbars()

    def update_topbars(self) -> None:
        is_on = self.invoice_settlement
        for bar in self._topbars:
            bar.profile_label = self.profile_label
            bar.production = self.is_production
            bar.read_only = self.read_only
            bar.invoice_settlement = is_on
            bar.connector = self.connector_label

    @property
    def invoice_settlement(self) -> bool | None:
        """The newest answer Zuora gave, to the monitor's sampler or to the runbook (D1's check turns IS on while
        a sampler opened earlier still holds "off")."""
        answers = []
        if self.current_sampler is not None:
            answers.append((self.current_sampler.invoice_settlement_at, self.current_sampler.invoice_settlement))
        if self.runbook is not None:
            answers.append((self.runbook.invoice_settlement_at, self.runbook.invoice_settlement_known))
        known = [a for a in answers if a[1] is not None]
        return max(known, key=lambda a: a[0])[1] if known else None

    @property
    def connector_label(self) -> str:
        if self.demo is not None and self.demo._sim is not None:
            status = self.demo.sim.connector.status()
            return str(status.get("state", ""))
        return ""

    # ---- runbook --------------------------------------------------------------------------------------------
    def states(self) -> list[StepState]:
        return list(self.runbook.states().values())

    def preview_states(self) -> list[StepState]:
        """Before the run is open: the journal's states as read at start, or the demo's checklist with nothing
        recorded; none before the runbook's definitions are loaded (the first frame draws the frame alone)."""
        return list((self.preview or {}).values())

    def state(self, step_id: str) -> StepState:
        return self.runbook.state(step_id)

    async def check(self, step_id: str) -> CheckResult:
        result = await self.runbook.check_step(step_id)
        self.update_topbars()
        return result

    async def check_steps(self, step_ids: list[str], on_result: Callable[[CheckResult], None]
                          ) -> dict[str, StepState]:
        """Check these steps in one engine round (IS probed once); each result goes to `on_result` as it lands.
        A check that fails to run comes back as an error result, never an exception. The folded states of every
        step at the end."""
        await self.runbook.check(step_ids, on_result=on_result)
        self.update_topbars()
        return await asyncio.to_thread(self.runbook.states)

    async def plan(self, step_id: str) -> PlanSummary:
        from core.runbook import actions

        return await actions.make_plan(self.runbook, step_id)

    async def latest_plan(self, step_id: str) -> PlanSummary | None:
        return await asyncio.to_thread(self.journal.latest_plan, step_id)

    async def apply(self, plan: PlanSummary, progress: Callable[[ApplyProgress], None],
                    cancel: asyncio.Event) -> ApplyOutcome:
        from core.runbook import actions

        if plan.undoes is not None:  # an undo plan: applied as one (no gates; its own re-check of each record)
            from core.runbook.undo import apply_undo

            return await apply_undo(self.runbook, plan.step_id, plan_id=plan.plan_id, seal=plan.seal,
                                    on_progress=progress, cancel=cancel)
        return await actions.apply(self.runbook, plan.step_id, plan_id=plan.plan_id, seal=plan.seal,
                                   on_progress=progress, cancel=cancel)  # the plan the person saw, by its seal

    async def plan_undo(self, step_id: str, override_reason: str | None = None) -> PlanSummary:
        """The undo plan of the step's latest apply (core.runbook.undo): the standing one, or a new sealed one."""
        from core.runbook.undo import plan_undo

        return await plan_undo(self.runbook, step_id, override_reason=override_reason)

    async def has_applied(self, step_id: str) -> bool:
        return await asyncio.to_thread(lambda: any(p.undoes is None for p in self.journal.plans_applied(step_id)))

    async def failure_lines(self, plan_id: int) -> list[str]:
        """What stayed failed, a line a reason with its next step (e.g. a missing Zuora permission)."""
        from core.runbook.failures import failure_lines

        return await asyncio.to_thread(failure_lines, self.journal, plan_id)

    # ---- files the person takes away: a plan's records, the report ------------------------------------------
    def export_plan(self, plan: PlanSummary) -> Path:
        """Blocking: the plan's records as CSV in a working file (streamed: a plan can hold 100k records). The
        screen then delivers it to the person's downloads folder (App.deliver_text)."""
        from core.runbook import actions

        path = self.exports_dir() / plan_file_name(plan)
        actions.export_plan(self.journal, plan.plan_id, path)
        return path

    def exports_dir(self) -> Path:
        path = Path(self.profile.data_dir) / "exports"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def write_report(self) -> Path:
        from core.report import write_report

        return write_report(self.run, self.exports_dir() / "report.md", fmt="md")

    # ---- text for the screens (pure formatting lives in core.runbook.render, loaded with the run) -------------
    def detail_text(self, state: StepState, width: int = 100) -> str:
        from core.runbook import render

        return app_words(render.detail_text(state, self.runbook.context(), width))

    def check_text(self, state: StepState) -> str:
        from core.runbook import render

        return render.check_text(state, self.runbook.context())  # the step screen translates it (set_above)

    def instructions_text(self, step_id: str) -> str:
        from core.runbook import render

        return render.instructions_text(self.state(step_id).step, self.runbook.context())  # the screen translates

    def plan_text(self, plan: PlanSummary) -> str:
        from core.runbook import render

        items = list(self.journal.iter_plan_items(plan.plan_id, limit=8))
        return render.plan_text(plan, items)

    def confirm_text(self, plan: PlanSummary) -> str:
        from core.runbook import render

        return render.confirm_text(plan, self.profile_label)

    # ---- monitor --------------------------------------------------------------------------------------------
    async def sampler(self) -> Sampler:
        if self.current_sampler is None:
            from core.monitor import Sampler
            from core.monitor.keeping import keeper

            self.current_sampler = Sampler(self.session.zuora, self.session.netsuite, self.profile.netsuite_fields,
                                           keep=keeper(self.journal))  # the report's sync chart
        # The consultant may record cutover dates while the monitor runs: read them before every sample.
        self.current_sampler.cutovers = self.journal.variables().connector_cutovers()
        return self.current_sampler

    async def record_view(self, error: SyncError) -> RecordView:
        from core.monitor.records import record_in_both_systems

        return await record_in_both_systems(self.session.zuora, self.session.netsuite,
                                            self.profile.netsuite_fields, error)

    def demo_connector_facts(self) -> dict | None:
        """Blocking (a local SQLite read): the simulated connector's state, schedule and last run; None on a real
        tenant, whose connector's runs no API shows."""
        if self.demo is None or self.demo._sim is None:
            return None
        return self.demo.sim.connector.status()

    def run_demo_connector(self) -> tuple[str, bool]:
        """Blocking (call from a thread worker): the simulator connector's Run Now, as (what happened, whether the
        run completed); a refused run (connector stopped, a run in progress) says why."""
        summary = self.demo.sim.connector.run(trigger="monitor")
        if summary.get("status") != "completed":
            return f"{summary.get('status')}: {summary.get('message', '')}".strip(" :"), False
        return f"{summary.get('synced', 0):,} records synced, {summary.get('errors', 0):,} errors", True


def plan_file_name(plan: PlanSummary) -> str:
    return f"plan-{plan.step_id.replace('/', '-')}-{plan.plan_id}.csv"
