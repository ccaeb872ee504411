"""Pilot tests: the operator is asked once in the app. On a profile that names nobody (and no CUTOVER_OPERATOR), the
first confirmation asks for a name and an email, refuses a bad one inline, saves a good one in the profile and
records the confirmation under it; the Profiles screen edits the same two fields with the same validation."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from core.config import get_profile, save_profile
from core.profile import OPERATOR_ENV, Operator, Profile
from core.demo import DemoTenant
from core.secrets import CredentialStore
from tests.test_tui_waivers import notes
from tests.tui_helpers import wait_ready, wait_until
from tui.app import CutoverApp
from tui.backend import Backend
from tui.screens.operator import OperatorScreen
from tui.profiles_app import ProfilesApp
from tui.screens.profiles import ProfilesScreen
from tui.screens.reason import ReasonScreen
from tui.screens.step import StepScreen

ADA = Operator(name="Ada Lovelace", email="ada@example.com")


@pytest.fixture
def nobody(monkeypatch):
    """No operator anywhere: the profile names none and CUTOVER_OPERATOR is unset."""
    monkeypatch.delenv(OPERATOR_ENV, raising=False)


async def _type(pilot, selector: str, text: str) -> None:
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = ""
    await pilot.press(*text)


async def _confirm(pilot, step_id: str, note: str) -> StepScreen:
    app = pilot.app
    app.open_step(step_id)
    await wait_until(pilot, lambda: isinstance(app.screen, StepScreen) and app.screen.step_id == step_id)
    screen = app.screen
    await pilot.press("n")
    await pilot.press(*note)
    await pilot.press("enter")
    return screen


async def test_the_first_confirmation_asks_who_once_and_records_under_it(nobody):
    async with DemoTenant(scale=1) as demo:
        save_profile(Profile(name="sim", zuora_base_url=demo.base_url, netsuite_base_url=demo.base_url,
                             netsuite_account_id=demo.profile.netsuite_account_id))
        CredentialStore().save("sim", demo.credentials)
        app = CutoverApp(Backend(profile_name="sim"))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            assert app.backend.needs_operator
            journal = app.backend.journal

            step = await _confirm(pilot, "B5", "reviewed integrations with the client team")
            await wait_until(pilot, lambda: isinstance(app.screen, OperatorScreen))
            await pilot.press("escape")  # not now: nothing recorded, the note stays
            await wait_until(pilot, lambda: app.screen is step)
            assert "B5" not in journal.confirmations()
            assert any("Nothing recorded" in n for n in notes(app))
            assert step.query_one("#note", Input).value == "reviewed integrations with the client team"

            step.query_one("#note", Input).focus()
            await pilot.press("enter")  # the same note again: asked again
            await wait_until(pilot, lambda: isinstance(app.screen, OperatorScreen))
            dialog = app.screen
            assert dialog.focused is dialog.query_one("#operator-name", Input)
            assert dialog.query_one("#save").region.bottom <= 24  # fits at 80x24
            await pilot.press(*"Ada Lovelace")
            await pilot.press("enter")  # Enter moves on to the email
            assert dialog.focused is dialog.query_one("#operator-email", Input)
            await pilot.press(*"ada@")
            await pilot.press("enter")
            problem = dialog.query_one("#operator-problem", Static)
            await wait_until(pilot, lambda: "not an email address" in str(problem.render()))
            assert app.screen is dialog and dialog.focused is dialog.query_one("#operator-email", Input)
            assert get_profile("sim").operator is None and "B5" not in journal.confirmations()

            await pilot.press(*"example.com")
            await pilot.press("enter")
            await wait_until(pilot, lambda: "B5" in journal.confirmations())
            assert app.screen is step
            confirmation = journal.confirmations()["B5"]
            assert confirmation.who == ADA.label
            assert confirmation.note == "reviewed integrations with the client team"
            assert get_profile("sim").operator == ADA  # saved in the profile: asked once
            assert app.backend.profile.operator == ADA and journal.operator == ADA.label
            assert not app.backend.needs_operator
            await pilot.press("escape")

            await _confirm(pilot, "B6", "open items reviewed")  # asked once: the next record just goes
            await wait_until(pilot, lambda: "B6" in journal.confirmations())
            assert journal.confirmations()["B6"].who == ADA.label
            assert not isinstance(app.screen, OperatorScreen)


async def test_waiving_on_a_profile_with_no_operator_asks_first(nobody):
    async with DemoTenant(scale=1) as demo:
        save_profile(Profile(name="sim", zuora_base_url=demo.base_url, netsuite_base_url=demo.base_url,
                             netsuite_account_id=demo.profile.netsuite_account_id))
        CredentialStore().save("sim", demo.credentials)
        app = CutoverApp(Backend(profile_name="sim"))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_ready(pilot)
            app.open_step("B6")  # a HUMAN step not confirmed yet: it can be waived
            await wait_until(pilot, lambda: isinstance(app.screen, StepScreen))
            await pilot.press("w")
            await wait_until(pilot, lambda: isinstance(app.screen, OperatorScreen))
            await _type(pilot, "#operator-name", "Ada Lovelace")
            await _type(pilot, "#operator-email", "ada@example.com")
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, ReasonScreen))  # then the waiver goes on
            await pilot.press(*"rehearsal only: no cut-off on the sandbox")
            await pilot.press("enter")
            await wait_until(pilot, lambda: "B6" in app.backend.journal.waivers())
            assert app.backend.journal.waivers()["B6"].who == ADA.label
            assert app.backend.state("B6").status == "waived"


async def test_profiles_screen_edits_the_operator_with_the_same_validation():
    save_profile(Profile(name="acme-sb", zuora_env="us-cloud1-api-sandbox", netsuite_account_id="1234567_SB1"))
    app = ProfilesApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ProfilesScreen) and app.screen.editing == "acme-sb")
        screen = app.screen
        assert screen.query_one("#operator-name", Input).value == ""
        await _type(pilot, "#operator-name", "Ada Lovelace")
        await _type(pilot, "#operator-email", "ada-at-example")
        await pilot.press("ctrl+s")
        problem = screen.query_one("#profile-problem", Static)
        await wait_until(pilot, lambda: "not an email address" in str(problem.render()))
        assert "operator.email" in str(problem.render())
        assert get_profile("acme-sb").operator is None  # nothing saved from a bad form

        await _type(pilot, "#operator-email", "ada@example.com")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: get_profile("acme-sb").operator == ADA)
        assert get_profile("acme-sb").netsuite_account_id == "1234567_SB1"  # the rest as it was

        await _type(pilot, "#operator-email", "")  # one field alone is refused, naming the other
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "operator.email" in str(problem.render()))
        assert get_profile("acme-sb").operator == ADA

        await _type(pilot, "#operator-name", "")  # both empty: the profile names nobody
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: get_profile("acme-sb").operator is None)
