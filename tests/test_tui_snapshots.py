"""SVG snapshots of the main screens on the demo tenant (seed 1), at 80x24 and at a roomy size.

Deterministic by construction: the tenant is seeded, the header clock is frozen, and the check timestamps are
pinned after the real checks ran. Update baselines on purpose with `pytest --snapshot-update` and review the
diff (snapshot_report.html) like code.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.tui_helpers import demo_app
from tui.widgets.topbar import TopBar

PINNED = "2026-11-01T12:00:00Z"


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    monkeypatch.setattr(TopBar, "clock", staticmethod(lambda: "12:00:00"))


async def _checked(pilot, step_ids: list[str]) -> None:
    app = pilot.app
    while not app.backend.ready:
        await asyncio.sleep(0.05)
    for sid in step_ids:
        await app.backend.check(sid)
    with app.backend.journal._tx() as conn:
        conn.execute("UPDATE check_result SET checked_at = ?", (PINNED,))
    app.refresh_screens()
    await pilot.pause(0.3)


def test_phase_screen_80x24(snap_compare):
    async def run_before(pilot):
        await _checked(pilot, ["C1", "C2", "C3", "C5"])
        pilot.app.screen.show_phase(pilot.app.backend.state("C2").step.phase)
        pilot.app.screen.refresh_sidebar()
        await pilot.pause(0.2)

    assert snap_compare(demo_app(scale=300), terminal_size=(80, 24), run_before=run_before)


def test_phase_screen_wide(snap_compare):
    async def run_before(pilot):
        await _checked(pilot, ["A1", "C1", "C2", "C3", "C5"])
        pilot.app.screen.go_to("C2")
        await pilot.pause(0.2)

    assert snap_compare(demo_app(scale=300), terminal_size=(120, 34), run_before=run_before)


def test_step_screen(snap_compare):
    async def run_before(pilot):
        await _checked(pilot, ["C2"])
        pilot.app.open_step("C2")
        await pilot.pause(0.5)

    assert snap_compare(demo_app(scale=300), terminal_size=(100, 34), run_before=run_before)
