"""Helpers for pilot tests: an app on a small demo tenant, and waiting for its background work."""

from __future__ import annotations

import time

from core.demo import DemoTenant
from tui.app import CutoverApp
from tui.backend import Backend


def demo_app(scale: int = 300, interval: float = 0.5, **sim) -> CutoverApp:
    sim.setdefault("connector_pace_s", 0.0)
    return CutoverApp(Backend(demo=DemoTenant(scale=scale, **sim), monitor_interval=interval))


async def wait_until(pilot, predicate, timeout: float = 20.0, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await pilot.pause(step)


async def wait_ready(pilot, timeout: float = 30.0) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: app.backend.ready, timeout)
    await pilot.pause(0.1)


async def open_monitor(pilot, samples: int = 0, timeout: float = 60.0):
    """Wait for the demo, press `m`, and wait for `samples` samples: the monitor screen."""
    await wait_ready(pilot, timeout)
    await pilot.press("m")
    screen = pilot.app.screen
    await wait_until(pilot, lambda: screen.samples_taken >= samples, timeout)
    return screen
