"""Pilot tests: waive and un-waive a row on its step screen, a refused reason keeps the dialog, Waive is offered only
where it makes sense, and a blocked step says what blocks it and refuses every record."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Static, TextArea

from core.demo import DEMO_OPERATOR
from tests.test_tui_help import _help_text
from tests.test_tui_runbook import go_to_step
from tests.tui_helpers import demo_app, wait_ready, wait_until
from tui.screens.reason import ReasonScreen
from tui.screens.runbook import RunbookScreen
from tui.screens.step import StepScreen


def notes(app) -> list[str]:
    """The notifications on screen, "title: message"."""
    return [f"{n.title}: {n.message}" for n in app._notifications]


def offered(app) -> set[str]:
    """The actions the footer offers right now."""
    return {b.binding.action for b in app.active_bindings.values() if b.enabled}


def shown(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def checked_step(pilot, step_id: str) -> StepScreen:
    """The step's screen, its check run (r) and recorded."""
    screen = await go_to_step(pilot, step_id)
    before = pilot.app.backend.state(step_id).result
    await pilot.press("r")
    await wait_until(pilot, lambda: pilot.app.backend.state(step_id).result not in (None, before), timeout=30)
    await wait_until(pilot, lambda: screen.shown is not None and screen.shown.result is not None)
    return screen


async def reason_dialog(pilot, title: str) -> ReasonScreen:
    await pilot.press("w")
    # in front as soon as it is pushed, mounted and focused later (focus() is a call_later): wait for the focus
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ReasonScreen) and pilot.app.screen.is_mounted
                     and pilot.app.screen.focused is not None)
    dialog = pilot.app.screen
    assert dialog.title_text.startswith(title)
    assert dialog.focused is dialog.query_one("#reason", Input)  # type at once
    return dialog


async def back_home(pilot) -> RunbookScreen:
    """Esc, twice from a field: the first leaves the field for the step's keys, the next leaves the step."""
    if isinstance(pilot.app.focused, Input | TextArea):
        await pilot.press("escape")
        assert not isinstance(pilot.app.focused, Input | TextArea) and not isinstance(pilot.app.screen, RunbookScreen)
    await pilot.press("escape")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, RunbookScreen))
    await pilot.pause(0.2)
    return pilot.app.screen


async def test_waive_a_failing_row_then_withdraw_the_waiver():
    app = demo_app(scale=300)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        screen = await checked_step(pilot, "C2")
        assert app.backend.state("C2").status == "fail"
        assert "waive" in offered(app) and "withdraw_waiver" not in offered(app)

        await reason_dialog(pilot, "Waive C2")
        reason = "Finance books these 10 credits in NetSuite by hand"
        await pilot.press(*reason)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen and app.backend.state("C2").status == "waived")
        waiver = app.backend.journal.waivers()["C2"]
        assert (waiver.who, waiver.reason) == (DEMO_OPERATOR.label, reason)
        await wait_until(pilot, lambda: screen.shown.status == "waived")
        panel = shown(screen, "#step-waiver")
        assert "≈ Waived" in panel and DEMO_OPERATOR.label in panel and waiver.at in panel and reason in panel
        assert shown(screen, "#step-head").startswith("≈ C2")
        assert "withdraw_waiver" in offered(app) and "waive" not in offered(app)  # same key, other action
        await wait_until(pilot, lambda: "C2 waived" in " ".join(notes(app)))

        home = await back_home(pilot)
        assert str(home.query_one("#steps", DataTable).get_cell("C2", "st")) == "≈"

        screen = await go_to_step(pilot, "C2")
        await reason_dialog(pilot, "Withdraw the waiver on C2")
        await pilot.press(*"the credits go through the connector after all")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen and app.backend.state("C2").status == "fail")
        assert "C2" not in app.backend.journal.waivers()
        history = app.backend.journal.waiver_history()
        assert history[-1]["withdraw_reason"] == "the credits go through the connector after all"
        assert history[-1]["withdrawn_by"] == DEMO_OPERATOR.label
        assert screen.query_one("#step-waiver").has_class("hidden")
        assert "waive" in offered(app)

        home = await back_home(pilot)
        assert str(home.query_one("#steps", DataTable).get_cell("C2", "st")) == "×"


async def test_a_refused_reason_keeps_the_dialog_and_its_text_and_esc_saves_nothing():
    app = demo_app(scale=300)
    async with app.run_test(size=(80, 24)) as pilot:  # the whole flow fits at 80x24
        await wait_ready(pilot)
        screen = await checked_step(pilot, "C2")
        dialog = await reason_dialog(pilot, "Waive C2")
        region = dialog.query_one("#reason", Input).region
        assert region.bottom <= 24 and dialog.query_one("#save").region.bottom <= 24  # on screen, not below

        await pilot.press("o", "k")
        await pilot.press("enter")
        await wait_until(pilot, lambda: any("at least a few words" in n for n in notes(app)))
        note = next(n for n in notes(app) if "at least a few words" in n)
        assert note.startswith("Not waived") and "cutover waive" not in note  # no command-line spelling here
        assert app.screen is dialog and not dialog.saving
        assert dialog.query_one("#reason", Input).value == "ok"  # nothing typed is lost
        assert "C2" not in app.backend.journal.waivers()

        await pilot.press("escape")  # cancel: nothing saved, whatever was typed
        await wait_until(pilot, lambda: app.screen is screen)
        assert "C2" not in app.backend.journal.waivers() and app.backend.journal.waiver_history() == []
        assert app.backend.state("C2").status == "fail"


async def test_waive_is_offered_only_on_rows_that_can_be_waived():
    app = demo_app(scale=300)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        for step_id in ("B2", "I2", "D1", "C1"):  # a group, the sign-off, a blocked step, one not checked yet
            app.open_step(step_id)
            await wait_until(pilot, lambda: isinstance(app.screen, StepScreen) and app.screen.step_id == step_id
                             and app.screen.is_mounted)  # composed: its buttons are there to ask
            await pilot.pause(0.1)
            assert not {"waive", "withdraw_waiver"} & offered(app), step_id
            assert app.screen.query_one("#waive").has_class("hidden")
            await pilot.press("w")
            await pilot.pause(0.2)
            assert isinstance(app.screen, StepScreen), step_id  # no dialog
            await back_home(pilot)

        await checked_step(pilot, "A1")  # passes on a fresh demo: nothing to waive
        assert app.backend.state("A1").status == "pass"
        assert "waive" not in offered(app)
        assert app.screen.query_one("#waive").has_class("hidden")


async def test_a_blocked_step_shows_its_gates_and_refuses_confirmations_and_tickets():
    app = demo_app(scale=300)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        # C2 fails first, so the gate panel has a reason to show beside the gates not run yet.
        await checked_step(pilot, "C2")
        await back_home(pilot)

        screen = await go_to_step(pilot, "D1")
        state = app.backend.state("D1")
        assert state.status == "blocked" and "C2" in state.blocked_by and "C7" in state.blocked_by
        head = shown(screen, "#step-head")
        assert head.startswith("■ D1") and "blocked until" in head
        gate = shown(screen, "#step-gate")
        assert not screen.query_one("#step-gate").has_class("hidden")
        assert "Blocked until these are done" in gate
        assert "× C2" in gate and app.backend.state("C2").summary[:30] in gate  # what C2 found
        assert all(g in gate for g in state.blocked_by)  # every gate named
        ticket = screen.query_one("#ticket-text", TextArea)
        assert "drafted once D1 is no longer blocked" in shown(screen, "#ticket-needs") and ticket.read_only
        assert ticket.text == ""  # never a draft with a placeholder or a status code in it
        assert not screen.query("#note")  # D1 takes a ticket number, not a confirmation

        field = screen.query_one("#ticket-number", Input)
        field.focus()
        await pilot.press(*"00412345")
        await pilot.press("enter")
        await wait_until(pilot, lambda: any(n.startswith("Ticket not recorded") for n in notes(app)))
        note = next(n for n in notes(app) if n.startswith("Ticket not recorded"))
        assert "D1 is blocked until" in note and "nothing was recorded" in note
        assert "D1" not in app.backend.journal.tickets()
        assert app.screen is screen and field.value == "00412345"
        screen.action_save_ticket()  # nothing drafted, nothing saved
        await wait_until(pilot, lambda: any("Nothing to save yet" in n for n in notes(app)))
        saved = next(n for n in notes(app) if "Nothing to save yet" in n)
        assert "drafted once D1 is no longer blocked" in saved  # says what it waits for, as the draft's line does
        await back_home(pilot)

        screen = await go_to_step(pilot, "E3")  # a HUMAN step gated on C7
        assert app.backend.state("E3").blocked_by == ("C7",)
        assert "C7" in shown(screen, "#step-gate")
        await pilot.press("n")
        await pilot.press(*"write-offs reviewed")
        await pilot.press("enter")
        await wait_until(pilot, lambda: any(n.startswith("Not confirmed") for n in notes(app)))
        note = next(n for n in notes(app) if n.startswith("Not confirmed"))
        assert "E3 is blocked until C7 is done" in note and "waive it" in note
        assert "E3" not in app.backend.journal.confirmations()
        assert app.backend.state("E3").status == "blocked"


async def test_f1_lists_the_new_statuses_and_the_waive_key():
    app = demo_app(scale=200)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        app.open_step("C2")
        await wait_until(pilot, lambda: isinstance(app.screen, StepScreen))
        text = await _help_text(pilot)
        assert text.startswith("# Step C2 · ")
        assert "| `w` | Waive |" in text and "| `w` | Withdraw waiver |" in text
        for glyph, word in (("■", "blocked"), ("≈", "waived"), ("–", "not needed")):
            assert f"| `{glyph}` | {word}" in text
        assert "**Ctrl+R** writes the sign-off report" in text
