"""The whole cutover in the app, A1 to I2, as a consultant drives `cutover demo`: only the app's keys, screens and
palette. Steps are reached through the command palette; checks, notes, ticket numbers, plans and applies through
the step screen's keys and fields (focused with Tab, as a person would); run variables through the step's own
editors; what Zuora Support or a person does outside the app through the Simulated tenant panel (`S`). No CLI
module, no subprocess, no backend call to move the run on: the backend is only read, to wait and to assert.

The same journey runs at 120x36 and at 80x24, where every action must still be reachable on screen.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from textual.command import CommandPalette
from textual.widgets import Button, Input, Select

from core.runbook.model import Status
from core.runbook.phases import RUNBOOK
from tests.tui_helpers import demo_app, wait_ready, wait_until
from tui.screens.confirm import ConfirmWrite
from tui.screens.runbook import RunbookScreen
from tui.screens.simulated import SimulatedScreen
from tui.screens.step import StepScreen
from tui.widgets.variable_editor import VariableEditor

pytestmark = [pytest.mark.journey, pytest.mark.slow, pytest.mark.timeout(600)]


class Journey:
    def __init__(self, pilot):
        self.pilot, self.app = pilot, pilot.app

    # ---- reading (to wait and to assert; never to act) ---------------------------------------------------------
    def state(self, step_id: str):
        return self.app.backend.state(step_id)

    async def until(self, predicate, timeout: float = 60.0) -> None:
        await wait_until(self.pilot, predicate, timeout)

    @property
    def screen(self):
        return self.app.screen

    # ---- keys ------------------------------------------------------------------------------------------------
    async def type(self, text: str) -> None:
        for ch in text:
            await self.pilot.press({" ": "space", "/": "slash", ":": "colon", "-": "minus", "@": "at",
                                    ".": "full_stop"}.get(ch, ch))

    async def focus(self, widget, presses: int = 60) -> None:
        """Tab to a widget, as a person would (Textual scrolls the focused widget into view)."""
        for _ in range(presses):
            if self.app.focused is widget:
                return
            await self.pilot.press("tab")
        raise AssertionError(f"{widget!r} cannot be reached with Tab on {self.screen!r}")

    async def keys_to_screen(self) -> None:
        """Single-key bindings go to a field that has focus: Tab to the step's body first, as a person would."""
        if isinstance(self.app.focused, (Input, Select)) and isinstance(self.screen, StepScreen):
            await self.focus(self.screen.query_one("#step-body"))

    # ---- screens ---------------------------------------------------------------------------------------------
    async def step(self, step_id: str) -> StepScreen:
        """Ctrl+P, "step <id>:", Enter: the palette's "Go to step" command."""
        await self.pilot.press("ctrl+p")
        await self.until(lambda: isinstance(self.screen, CommandPalette), 10)
        await self.type(f"step {step_id}:")
        await self.pilot.pause(0.3)
        await self.pilot.press("enter")
        await self.until(lambda: isinstance(self.screen, StepScreen) and self.screen.step_id == step_id, 20)
        await self.pilot.pause(0.1)
        return self.screen

    async def back_home(self) -> RunbookScreen:
        while not isinstance(self.screen, RunbookScreen):
            await self.pilot.press("escape")
            await self.pilot.pause(0.1)
        return self.screen

    async def simulate(self, step_id: str) -> None:
        """On the step's screen: S opens the Simulated tenant panel on that step's act; Enter plays it."""
        screen = self.screen
        assert isinstance(screen, StepScreen) and screen.step_id == step_id
        await self.keys_to_screen()
        await self.pilot.press("S")
        await self.until(lambda: isinstance(self.screen, SimulatedScreen), 10)
        panel = self.screen
        await self.until(lambda: panel.player is not None, 10)
        await self.pilot.press("enter")
        await self.until(lambda: panel.playing is None and step_id in panel.outcomes, 120)
        assert "✓" in str(panel.outcomes[step_id]), str(panel.outcomes[step_id])
        await self.pilot.press("escape")
        await self.until(lambda: self.screen is screen, 10)

    # ---- the step screen's actions ----------------------------------------------------------------------------
    def busy(self, screen, group: str) -> bool:
        return any(w.group == group and not w.is_finished for w in screen.workers)

    async def check(self, step_id: str, expect: Status | None = Status.PASS) -> None:
        screen = self.screen
        await self.keys_to_screen()
        await self.pilot.press("r")
        await self.pilot.pause(0.1)
        await self.until(lambda: not self.busy(screen, "step-check") and not self.busy(screen, "step-state")
                         and self.state(step_id).result is not None, 90)
        if expect is not None:
            result = self.state(step_id).result
            assert result.status is expect, f"{step_id}: {result.status}: {result.summary}"

    async def confirm(self, step_id: str, note: str) -> None:
        field = self.screen.query_one("#note", Input)
        if isinstance(self.app.focused, (Input, Select)):
            await self.focus(field)  # typing in another field: Tab to the note, as `n` would type an n there
        else:
            await self.pilot.press("n")
            await self.until(lambda: self.app.focused is field, 5)
        await self.type(note)
        await self.pilot.press("enter")
        await self.until(lambda: self.state(step_id).confirmation is not None, 20)

    async def set_variable(self, name: str, value: str, *, choice: int | None = None) -> None:
        """Type into the step's editor for `name` (a choice: pick the `choice`-th option) and Enter."""
        editor = next(e for e in self.screen.query(VariableEditor) if e.variable == name)
        field = editor.field
        await self.focus(field)
        if isinstance(field, Select):
            await self.pilot.press("enter")
            await self.pilot.press(*(["down"] * choice), "enter")
        else:
            assert not field.value, f"{name} already holds {field.value!r}"
            await self.type(value)
            await self.pilot.press("enter")
        await self.until(lambda: self.app.backend.journal.variables().get(name) is not None, 20)

    async def press_button(self, selector: str) -> None:
        button = self.screen.query_one(selector, Button)
        await self.focus(button)
        await self.pilot.press("enter")

    async def ticket(self, step_id: str, number: str) -> None:
        screen = self.screen
        if not screen.query_one("#ticket-checks", Button).has_class("hidden"):
            await self.press_button("#ticket-checks")  # run what the ticket quotes, then it drafts
        await self.until(lambda: screen.ticket_drafted, 90)
        draft = screen.query_one("#ticket-text").text
        assert "<" not in draft and "not recorded" not in draft and "needs-action" not in draft, draft
        number_field = screen.query_one("#ticket-number", Input)
        await self.focus(number_field)
        await self.type(number)
        await self.pilot.press("enter")
        await self.until(lambda: self.state(step_id).ticket is not None, 20)

    async def plan_and_apply(self, step_id: str) -> None:
        screen = self.screen
        await self.keys_to_screen()
        await self.pilot.press("p")
        await self.until(lambda: screen.plan is not None, 60)
        if screen.plan.total == 0:
            return
        await self.pilot.press("a")
        await self.until(lambda: isinstance(self.screen, ConfirmWrite), 10)
        await self.pilot.press("enter")  # the dialog's focused button applies
        await self.until(lambda: self.screen is screen and not screen.applying
                         and self.state(step_id).result is not None
                         and self.state(step_id).status is Status.PASS, 120)


def utc_now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def drive_the_whole_cutover(pilot) -> None:
    j = Journey(pilot)
    app = pilot.app
    await wait_ready(pilot)

    # ---- A: discovery ---------------------------------------------------------------------------------------
    await j.step("A1")
    await j.check("A1")
    await j.step("A2")
    await j.simulate("A2")  # the consultant reads the Logs tab and Advanced Settings (the ids go to the register)
    await j.confirm("A2", "ids and cutover dates captured from the connector")
    await j.step("A3")
    await j.set_variable("provisioning_path", "new-instance", choice=2)
    await j.confirm("A3", "Support named the new-instance path")

    # ---- B: readiness -----------------------------------------------------------------------------------------
    await j.step("B1")
    await j.set_variable("target_migration_date", datetime.now(UTC).date().isoformat())
    await j.ticket("B1", "00410001")
    for row in ("B2/V1", "B2/V2", "B2/V3", "B2/V4", "B2/V5", "B2/V6"):
        await j.step(row)
        await j.simulate(row)  # a person activates the accounts, cancels the drafts
        await j.check(row)
    await j.step("B2/V7")
    await j.check("B2/V7")
    await j.step("B2/V8")
    await j.confirm("B2/V8", "no payment run applies credit balance")
    await j.step("B2/V9")
    await j.check("B2/V9")
    await j.confirm("B2/V9", "On-Account code: Customer Credit")
    await j.step("B3")
    await j.simulate("B3")
    await j.check("B3")
    await j.step("B4")
    await j.check("B4")
    await j.confirm("B4", "the period is Open")
    for step_id in ("B5", "B6"):
        await j.step(step_id)
        await j.confirm(step_id, "reviewed")

    # ---- C: the freeze ----------------------------------------------------------------------------------------
    await j.step("C1")
    await j.simulate("C1")  # Run Now
    await j.check("C1")
    for step_id in ("C2", "C3", "C4", "C5"):
        await j.step(step_id)
        await j.simulate(step_id)  # fixed at the source, then Run Now
        await j.check(step_id)
    home = await j.back_home()
    assert home.phase.letter == "C"
    await pilot.press("c")  # the final re-check of the whole phase, from the runbook screen
    await j.until(lambda: all(j.state(s).result is not None and j.state(s).result.status is Status.PASS
                              for s in ("C1", "C2", "C3", "C4", "C5")), 90)
    await j.step("C7")
    await j.simulate("C7")  # the old connector stopped
    await pilot.pause(1.1)  # the store stamps writes to the second: the freeze comes after every one of them
    await j.set_variable("freeze_ts", utc_now_text())
    await j.confirm("C7", "final sync run; old connector stopped, scheduler off")
    await j.check("C7")
    await j.step("C6")
    await j.check("C6")

    # ---- D: the migration -------------------------------------------------------------------------------------
    await j.step("D1")
    await j.ticket("D1", "00410002")
    await j.simulate("D1")  # Support migrates and says the date
    await j.check("D1")
    await j.step("D2")
    await j.check("D2")

    # ---- E: data fixes ----------------------------------------------------------------------------------------
    await j.step("E1")
    await j.plan_and_apply("E1")
    await j.step("E2")
    await j.set_variable("e2_decision", "mark-yes", choice=2)
    await j.plan_and_apply("E2")
    await j.step("E3")
    await j.check("E3")
    await j.confirm("E3", "old connector stayed off")

    # ---- F: re-provisioning -----------------------------------------------------------------------------------
    await j.step("F1")
    await j.simulate("F1")  # the OAuth client, its secret typed in memory
    await j.check("F1")
    await j.step("F2")
    await j.set_variable("connect_login_name", "acme-is-oauth")
    await j.confirm("F2", "Connect login holds the new client")
    await j.step("F3b")
    await j.simulate("F3b")
    await j.confirm("F3b", "new instance launched")
    await j.step("F4")
    await j.ticket("F4", "00410003")
    await j.simulate("F4")  # Support: the payment sync's credentials and the new ids
    await j.step("F5")
    await j.confirm("F5", "sync preferences copied")
    await j.step("F6")
    await j.simulate("F6")  # the act records the memo cutover it set, as A2, F3b and F4 record theirs
    await j.until(lambda: app.backend.journal.variables().new_memo_cutover
                  == app.backend.journal.variables().migration_date, 20)
    await j.confirm("F6", "memo cutover set; the rest kept")
    await j.step("F7")
    await j.confirm("F7", "schedule saved, off")

    # ---- G: NetSuite payments ---------------------------------------------------------------------------------
    await j.step("G1")
    await j.simulate("G1")
    await j.check("G1")
    await j.step("G2")
    await j.plan_and_apply("G2")
    await j.check("G2")
    await j.step("G3")
    await j.check("G3")

    # ---- H and I: go-live -------------------------------------------------------------------------------------
    await j.step("H1")
    await j.simulate("H1")  # a day of business, then the new connector's first run
    await j.confirm("H1", "first run done; logs kept")
    for step_id in ("H2", "H3"):
        await j.step(step_id)
        await j.check(step_id)
    await j.step("H4")
    await j.set_variable("go_live_ts", utc_now_text())
    await j.confirm("H4", "schedule on")
    await j.step("I1")
    await j.simulate("I1")
    await j.confirm("I1", "old instance retired; logs kept")
    await j.step("I2")
    await j.check("I2")

    states = app.backend.runbook.states()
    open_steps = {s.id: (str(states[s.id].status), states[s.id].summary) for s in RUNBOOK
                  if not states[s.id].status.done}
    assert open_steps == {}
    assert {str(states[s.id].status) for s in RUNBOOK} == {"pass", "not-needed"}  # nothing waived
    assert states["I2"].status is Status.PASS


async def test_the_whole_cutover_in_the_app_at_120x36():
    """The same journey at 80×24 is tests/test_tui_journey_80x24.py: a file each, so the suite's two workers
    (pytest-xdist, --dist loadfile) drive them side by side."""
    app = demo_app(scale=300)
    async with app.run_test(size=(120, 36)) as pilot:
        await drive_the_whole_cutover(pilot)
