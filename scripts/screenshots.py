"""Regenerate screenshots/ (SVG, and PNG when cairosvg is installed) from pilot runs on the demo tenant.

    .venv/bin/pip install -e '.[screenshots]'   # cairosvg; `apt-get install fonts-firacode` for aligned PNGs
    .venv/bin/python scripts/screenshots.py              # every shot
    .venv/bin/python scripts/screenshots.py plan apply   # only these (each at its sizes)

Deterministic: seed 1, fixed sizes, a frozen header clock. The README shows these files. Each shot drives the app
with its own keys where a person would (p plans, a applies and Enter confirms, m and Enter drill down); what a
person or Zuora Support does outside the app (the IS migration, the old instance's ids, waivers' reasons) is set up
on the demo's simulator and journal first. A shot that cannot be taken says why and the others go on.
"""

from __future__ import annotations

import asyncio
import sys
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.demo import DemoTenant  # noqa: E402
from tui.app import CutoverApp  # noqa: E402
from tui.backend import Backend  # noqa: E402
from tui.widgets.topbar import TopBar  # noqa: E402

OUT = ROOT / "screenshots"
WIDE, SMALL = (120, 36), (80, 24)


class Skip(Exception):
    """The shot cannot be taken in this build (a screen not there yet): a note, not a failure."""


async def wait_for(pilot, predicate, timeout: float = 60.0, what: str = "the expected state") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError(f"the demo did not reach {what} within {timeout:.0f} s")
        await pilot.pause(0.1)


@dataclass
class Shot:
    """One picture: `script` drives the app; it may `take()` the picture itself (an apply caught mid-way), else the
    picture is taken once the app settles after it."""

    name: str
    size: tuple[int, int]
    script: Callable[[Any, Shot], Awaitable[None]]
    demo: dict[str, Any] = field(default_factory=dict)
    app: CutoverApp | None = None
    path: Path | None = None

    def take(self) -> Path:
        self.path = OUT / f"{self.name}.svg"
        self.path.write_text(self.app.export_screenshot(title=f"cutover · {self.name}"), encoding="utf-8")
        return self.path

    async def run(self) -> Path:
        options = {"seed": 1, "scale": "small", "connector_pace_s": 0.05, **self.demo}
        self.app = app = CutoverApp(Backend(demo=DemoTenant(**options), monitor_interval=1))
        async with app.run_test(size=self.size) as pilot:
            await wait_for(pilot, lambda: app.backend.ready, what="a connected demo")
            await self.script(pilot, self)
            if self.path is None:
                await pilot.pause(0.5)
                self.take()
            await settle_workers(pilot)
        return self.path


async def settle_workers(pilot, timeout: float = 30.0) -> None:
    """Let writes in flight end before the app closes (an apply is cancelled safely first), so the demo closes
    clean."""
    app = pilot.app
    writing = [w for w in app.workers if not w.is_finished and w.group == "step-apply"]
    if writing:
        await pilot.press("escape")  # the step screen's safe cancel: the batch in flight ends and is recorded
        try:
            await wait_for(pilot, lambda: all(w.is_finished for w in writing), timeout, "the apply's end")
        except TimeoutError:
            pass


# ---- the shots ------------------------------------------------------------------------------------------------------
async def runbook(pilot, shot: Shot) -> None:
    for sid in ("A1", "C1", "C2", "C3", "C4", "C5"):
        await pilot.app.backend.check(sid)
    pilot.app.refresh_screens()  # the runbook draws from what it folded; checks run behind its back fold again
    await pilot.pause(0.2)
    pilot.app.screen.go_to("C2")


async def step(pilot, shot: Shot) -> None:
    await pilot.app.backend.check("C2")
    pilot.app.open_step("C2")


async def monitor(pilot, shot: Shot) -> None:
    await pilot.press("m")
    screen = pilot.app.screen
    await wait_for(pilot, lambda: screen.samples_taken >= 1)
    await pilot.press("R")  # the simulated connector's Run Now, so rates show
    await wait_for(pilot, lambda: screen.samples_taken >= 4)


def migrated(app: CutoverApp) -> None:
    """Zuora Support's IS migration on the demo tenant (D1 done outside the app), as the tests do it."""
    from tests.sim_tenant import migrate

    migrate(app.backend.demo.sim)


async def planned_e1(pilot) -> Any:
    """E1 after the migration: checked, opened, and `p` pressed; the step screen with its dry run."""
    app = pilot.app
    migrated(app)
    await app.backend.check("E1")
    app.open_step("E1")
    await wait_for(pilot, lambda: getattr(app.screen, "step_id", None) == "E1", what="the E1 screen")
    screen = app.screen
    await pilot.pause(0.3)
    await pilot.press("p")
    await wait_for(pilot, lambda: getattr(screen, "plan", None) is not None and screen.plan.status == "planned"
                   and not screen.query_one("#plan-text").has_class("hidden"), what="E1's plan on screen")
    return screen


def show_plan(screen) -> None:
    """The dry run at the top of the step's body (E1's check text above it is long)."""
    screen.query_one("#step-body").scroll_to_widget(screen.query_one("#plan-text"), animate=False, top=True)


async def plan(pilot, shot: Shot) -> None:
    show_plan(await planned_e1(pilot))


async def apply(pilot, shot: Shot) -> None:
    """`a`, Enter on the confirmation, and the picture while the bar is between a third and the end. The demo's
    simulator answers each call a second late, two at a time, so the apply takes a few seconds."""
    from textual.widgets import ProgressBar

    screen = await planned_e1(pilot)
    pilot.app.backend.demo.sim.config.latency_ms = 1000
    await pilot.press("a")
    await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "ConfirmWrite", what="the confirmation")
    await pilot.pause(0.3)
    await pilot.press("enter")  # the step screen scrolls its progress into view
    bar = screen.query_one("#apply-progress", ProgressBar)
    await wait_for(pilot, lambda: bar.total and bar.total / 3 <= (bar.progress or 0) < bar.total,
                   what="the apply part-way")
    await pilot.pause(0.15)
    shot.take()


def migration_dates() -> tuple[tuple[str, str], tuple[str, str]]:
    """freeze_ts an hour ago and target_migration_date today: the runbook refuses a freeze in the future (it records
    what happened) and a target in the past, so fixed dates stop working; the shots show the day they were taken."""
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC).replace(microsecond=0)
    return (("freeze_ts", (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")),
            ("target_migration_date", now.date().isoformat()))


async def ticket(pilot, shot: Shot) -> None:
    """D1's ticket once its gates are done or waived: the variables it quotes recorded, its gates checked, and what
    they found accepted on purpose (the demo's seeded problems are left as they are)."""
    app = pilot.app
    backend, runbook = app.backend, app.backend.runbook
    for name, value in (*migration_dates(),
                        ("old_instance_id", str(backend.demo.sim.connector.instance()["id"]))):
        await asyncio.to_thread(runbook.set_variable, name, value)
    gates = list(backend.state("D1").step.gates)
    await runbook.check(gates)
    for gate in gates:
        state = backend.state(gate)
        if not state.status.done and backend.can_waive(state):
            await asyncio.to_thread(backend.waive, gate, "demo: accepted so the migration can be requested")
    app.refresh_screens()
    app.open_step("D1")
    await wait_for(pilot, lambda: getattr(app.screen, "step_id", None) == "D1", what="the D1 screen")
    screen = app.screen
    await wait_for(pilot, lambda: getattr(screen, "ticket_drafted", False), what="D1's drafted ticket")
    await pilot.pause(0.3)
    screen.query_one("#ticket-text").scroll_visible(animate=False)  # the draft, under the step's text at 80x24


async def variables(pilot, shot: Shot) -> None:
    try:
        import tui.screens.variables  # noqa: F401
    except ImportError as exc:
        raise Skip(f"no Variables screen in this build ({exc})") from None
    runbook = pilot.app.backend.runbook
    for name, value in (*migration_dates(),
                        ("provisioning_path", "new-instance")):
        await asyncio.to_thread(runbook.set_variable, name, value)
    await pilot.press("v")
    await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "VariablesScreen", what="the Variables screen")
    await pilot.pause(1.0)


async def instances(pilot, shot: Shot) -> None:
    """The register as A2 and F3b leave it: the old instance read from the Logs tab, the new one made in Connect on
    a new OAuth client (the simulator's Zuora UI and Connect stand-ins)."""
    from core.sim.control import SimControl

    app = pilot.app
    backend, runbook = app.backend, app.backend.runbook
    async with SimControl(backend.demo.base_url, backend.session.zuora.token, timeout=30) as control:
        old = await control.current_instance()
        client = await control.create_oauth_client("NetSuite Connector (Invoice Settlement)")
        new = await control.create_instance(client.client_id)

    def record() -> None:
        runbook.set_variable("old_instance_id", old["id"])
        runbook.set_variable("old_account_id", old["account_id"])
        backend.run.register.update(f"{old['id']}", environment_id=old["environment_id"],
                                    oauth_client_id=old["oauth_client_id"], notes="read from the Logs tab")
        runbook.set_variable("new_instance_id", new["id"])
        backend.run.register.update(f"{new['id']}", oauth_client_id=client.client_id, notes="created in Connect")

    await asyncio.to_thread(record)
    await pilot.press("i")
    await wait_for(pilot, lambda: type(app.screen).__name__ == "InstancesScreen" and app.screen.instances,
                   what="the instances register")


async def waiver(pilot, shot: Shot) -> None:
    """B2/V6 checked (3 draft payments), then waived with a reason, as README's `cutover waive` example."""
    app = pilot.app
    await app.backend.check("B2/V6")
    await asyncio.to_thread(app.backend.waive, "B2/V6", "the 3 drafts are Support's test data: they never sync")
    app.refresh_screens()
    app.open_step("B2/V6")
    await wait_for(pilot, lambda: getattr(app.screen, "step_id", None) == "B2/V6", what="the V6 screen")


async def drilldown(pilot, shot: Shot) -> None:
    """The monitor after a Run Now, Enter on the newest error: the record in both systems and the connector's
    reason."""
    from textual.widgets import DataTable

    app = pilot.app
    await pilot.press("m")
    screen = app.screen
    await wait_for(pilot, lambda: screen.samples_taken >= 1)
    await pilot.press("R")
    errors = screen.query_one("#error-table", DataTable)
    await wait_for(pilot, lambda: screen.samples_taken >= 3 and errors.row_count > 0, what="sync errors")
    errors.focus()
    errors.move_cursor(row=0)
    await pilot.pause(0.2)
    await pilot.press("enter")
    await wait_for(pilot, lambda: type(app.screen).__name__ == "RecordScreen", what="the drill-down")
    record = app.screen
    await wait_for(pilot, lambda: record.view is not None, what="the record in both systems")


SLOW_APPLY = {"scale": 10_000, "zuora_concurrency": 2}  # about 240 memos for E1: five bulk calls, two at a time
SHOTS = [
    Shot("runbook", (120, 34), runbook), Shot("step", (110, 40), step), Shot("monitor", (120, 30), monitor),
    Shot("runbook-80x24", SMALL, runbook), Shot("step-80x24", SMALL, step), Shot("monitor-80x24", SMALL, monitor),
    *(Shot(f"{name}{suffix}", size, script, dict(demo))
      for name, script, demo in (("plan", plan, {}), ("apply", apply, SLOW_APPLY), ("ticket", ticket, {}),
                                 ("variables", variables, {}), ("instances", instances, {}),
                                 ("waiver", waiver, {}), ("drilldown", drilldown, {}))
      for suffix, size in (("", WIDE), ("-80x24", SMALL))),
]


async def main(names: list[str]) -> int:
    import os
    import tempfile

    TopBar.clock = staticmethod(lambda: "12:00:00")
    # The default theme and keys, whatever this machine's config or shell chose (a saved theme, a keymap).
    os.environ.pop("TEXTUAL_THEME", None)
    os.environ["CUTOVER_CONFIG_FILE"] = str(Path(tempfile.mkdtemp(prefix="cutover-shots-")) / "config.toml")
    OUT.mkdir(exist_ok=True)
    wanted = [s for s in SHOTS if not names or s.name in names or s.name.removesuffix("-80x24") in names]
    if names and not wanted:
        print(f"no such shot: {' '.join(names)} (shots: {' '.join(s.name for s in SHOTS)})")
        return 2
    try:
        import cairosvg
    except ImportError:
        print("cairosvg not installed: SVG only (pip install -e '.[screenshots]')")
        cairosvg = None
    failed = 0
    for shot in wanted:
        try:
            svg = await shot.run()
        except Skip as note:
            print(f"{shot.name}: skipped: {note}")
            continue
        except Exception as exc:
            failed += 1
            print(f"{shot.name}: FAILED: {type(exc).__name__}: {exc}")
            traceback.print_exc()
            continue
        if cairosvg is not None:
            cairosvg.svg2png(url=str(svg), write_to=str(svg.with_suffix(".png")), output_width=1400)
        print(svg.relative_to(ROOT))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
