"""Regenerate screenshots/ (SVG, and PNG when cairosvg is installed) from pilot runs on the demo tenant.

    .venv/bin/pip install -e '.[screenshots]'   # cairosvg; `apt-get install fonts-firacode` for aligned PNGs
    .venv/bin/python scripts/screenshots.py

Deterministic: seed 1, fixed sizes, a frozen header clock. The README shows these files.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.demo import DemoTenant  # noqa: E402
from tui.app import CutoverApp  # noqa: E402
from tui.backend import Backend  # noqa: E402
from tui.widgets.topbar import TopBar  # noqa: E402

OUT = ROOT / "screenshots"


async def wait_for(pilot, predicate, timeout: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("the demo did not reach the expected state")
        await pilot.pause(0.1)


async def shoot(name: str, size: tuple[int, int], script) -> Path:
    app = CutoverApp(Backend(demo=DemoTenant(seed=1, scale="small", connector_pace_s=0.05), monitor_interval=1))
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.backend.ready)
        await script(pilot)
        await pilot.pause(0.5)
        path = OUT / f"{name}.svg"
        path.write_text(app.export_screenshot(title=f"cutover · {name}"), encoding="utf-8")
    return path


async def runbook(pilot) -> None:
    for sid in ("A1", "C1", "C2", "C3", "C4", "C5"):
        await pilot.app.backend.check(sid)
    pilot.app.screen.go_to("C2")


async def step(pilot) -> None:
    await pilot.app.backend.check("C2")
    pilot.app.open_step("C2")


async def monitor(pilot) -> None:
    await pilot.press("m")
    screen = pilot.app.screen
    await wait_for(pilot, lambda: screen.samples_taken >= 1)
    await pilot.press("R")  # the simulated connector's Run Now, so rates show
    await wait_for(pilot, lambda: screen.samples_taken >= 4)


async def main() -> None:
    TopBar.clock = staticmethod(lambda: "12:00:00")
    OUT.mkdir(exist_ok=True)
    shots = [await shoot("runbook", (120, 34), runbook), await shoot("step", (110, 40), step),
             await shoot("monitor", (120, 30), monitor), await shoot("runbook-80x24", (80, 24), runbook),
             await shoot("step-80x24", (80, 24), step), await shoot("monitor-80x24", (80, 24), monitor)]
    try:
        import cairosvg
    except ImportError:
        print("cairosvg not installed: SVG only (pip install -e '.[screenshots]')")
        cairosvg = None
    for svg in shots:
        if cairosvg is not None:
            cairosvg.svg2png(url=str(svg), write_to=str(svg.with_suffix(".png")), output_width=1400)
        print(svg.relative_to(ROOT))


if __name__ == "__main__":
    asyncio.run(main())
