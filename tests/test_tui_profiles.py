"""Pilot tests at 80x24: a profile made on the Profiles screen, its credentials saved to the (in-memory) keyring and
tested against a simulator over loopback, and the Instances screen recording instances and testing a new OAuth
client."""

from __future__ import annotations

import keyring
from keyring.backends.fail import Keyring as FailKeyring
from textual.widgets import Checkbox, DataTable, Input, Select, Static

from core.config import config_path, get_profile, save_profile
from core.profile import Profile
from core.demo import DemoTenant
from core.instances import InstanceRegister
from core.secrets import SECRET_NAMES, CredentialStore
from core.sim.support import create_oauth_client
from tests.tui_helpers import demo_app, wait_ready, wait_until
from tui.screens.confirm import ConfirmWrite
from tui.screens.credentials import CredentialsScreen
from tui.screens.instances import InstanceForm, InstancesScreen, OAuthTest
from tui.profiles_app import ProfilesApp
from tui.screens.profiles import ProfilesScreen

SIZE = (80, 24)


async def _type(pilot, selector: str, text: str) -> None:
    """Focus a field and type into it, key by key, as a person would."""
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = ""
    await pilot.press(*text)


async def credentials_screen(pilot, name: str) -> CredentialsScreen:
    """From the Profiles screen, the profile's credentials (Ctrl+K), once the keyring has been asked."""
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, ProfilesScreen) and app.screen.editing == name)
    await pilot.press("ctrl+k")
    await wait_until(pilot, lambda: isinstance(app.screen, CredentialsScreen) and app.screen.status)
    return app.screen


async def test_create_and_edit_a_profile_on_the_profiles_screen():
    app = ProfilesApp()
    async with app.run_test(size=SIZE) as pilot:
        # No profiles yet: the empty form is ready, the cursor in its first field.
        await wait_until(pilot, lambda: isinstance(app.screen, ProfilesScreen)
                         and app.screen.focused is app.screen.query_one("#name"))
        screen = app.screen
        await pilot.press(*"acme-sb")
        screen.query_one("#zuora-env", Select).value = "us-cloud1-api-sandbox"
        await _type(pilot, "#netsuite-account-id", "acme")
        await pilot.press("ctrl+s")
        problem = screen.query_one("#profile-problem", Static)
        await wait_until(pilot, lambda: "not a NetSuite account id" in str(problem.render()))
        assert not config_path().exists()  # nothing saved from a bad form

        await _type(pilot, "#netsuite-account-id", "1234567_sb1")
        screen.query_one("#field-zuora_sync_updates", Input).value = "custbody_zuora_sync_updates"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: screen.query_one("#profile-list", DataTable).row_count == 1)
        saved = get_profile("acme-sb")
        assert (saved.zuora_env, saved.netsuite_account_id, saved.environment) == (
            "us-cloud1-api-sandbox", "1234567_SB1", "sandbox")
        assert saved.netsuite_fields.zuora_sync_updates == "custbody_zuora_sync_updates"

        screen.query_one("#read-only", Checkbox).value = True  # edit: the name stays, the flag changes
        assert screen.query_one("#name", Input).disabled
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: get_profile("acme-sb").read_only)
        assert get_profile("acme-sb").netsuite_fields == saved.netsuite_fields
        await pilot.press("ctrl+o")  # `cutover profiles` then opens the checklist on it
    assert app.return_value == "acme-sb"


async def test_save_credentials_and_test_both_systems_over_loopback():
    async with DemoTenant(scale=1) as demo:
        save_profile(Profile(name="sim", zuora_base_url=demo.base_url, netsuite_base_url=demo.base_url,
                             netsuite_account_id=demo.profile.netsuite_account_id))
        app = ProfilesApp()
        async with app.run_test(size=SIZE) as pilot:
            screen = await credentials_screen(pilot, "sim")
            assert screen.status.usable and not screen.query_one("#save").disabled
            field = screen.query_one("#secret-zuora_client_id", Input)
            assert field.password and "missing" in field.placeholder
            await _type(pilot, "#secret-zuora_client_id", "abc")
            assert field.value == "abc" and "abc" not in str(field.render())  # masked
            for n in SECRET_NAMES:  # long random values: set, not typed key by key
                screen.query_one(f"#secret-{n}", Input).value = demo.credentials.value(n)
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: not CredentialStore().load_stored("sim").missing())
            await wait_until(pilot, lambda: "stored in the keyring" in field.placeholder and not field.value)

            await pilot.press("ctrl+t")
            await wait_until(pilot, lambda: len(screen.checks) == 2)
            assert [(c.system, c.ok) for c in screen.checks] == [("Zuora", True), ("NetSuite", True)]
            shown = str(screen.query_one("#test-result", Static).render())
            assert "✓ Zuora" in shown and "✓ NetSuite" in shown and demo.base_url in shown
        text = config_path().read_text()
        assert all(demo.credentials.value(n) not in text for n in SECRET_NAMES)


async def test_an_unusable_keyring_is_named_with_its_fix_and_nothing_is_saved():
    keyring.set_keyring(FailKeyring())  # what a headless box without a Secret Service has (conftest restores)
    save_profile(Profile(name="acme-sb", zuora_env="us-cloud1-api-sandbox", netsuite_account_id="1234567_SB1"))
    app = ProfilesApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = await credentials_screen(pilot, "acme-sb")
        status = str(screen.query_one("#keyring-status", Static).render())
        assert not screen.status.usable and "cannot store secrets" in status and "gnome-keyring" in status
        assert screen.query_one("#save").disabled
        screen.query_one("#secret-zuora_client_secret", Input).value = "typed-secret"
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert app.screen is screen  # refused with a notification, no traceback, nothing written
    assert "typed-secret" not in config_path().read_text()


async def test_instances_screen_records_instances_and_tests_the_new_oauth_client():
    """Then the palette's Profiles entry; the demo's Credentials entry explains instead of opening."""
    app = demo_app(scale=1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, InstancesScreen))
        screen = app.screen
        table = screen.query_one("#instances", DataTable)

        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, InstanceForm))
        form = app.screen
        assert (form.query_one("#form-environment", Select).value, form.query_one("#form-role", Select).value) == (
            "sandbox", "old")
        await _type(pilot, "#form-instance_id", "48213")
        form.query_one("#form-account_id", Input).value = "zuora-1a2b"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is screen and table.row_count == 1)
        assert "Within the licence" in str(screen.query_one("#licence", Static).render())

        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, InstanceForm))
        assert app.screen.query_one("#form-role", Select).value == "new"  # the old one is recorded
        await _type(pilot, "#form-instance_id", "50001")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is screen and table.row_count == 2)
        licence = str(screen.query_one("#licence", Static).render())
        assert "2 permanent sandbox instances are live (48213, 50001)" in licence
        assert screen.current().instance_id == "50001"
        detail = str(screen.query_one("#instance-detail", Static).render())
        assert "NetSuite credentials unchanged: same account" in detail

        new_client = create_oauth_client(app.backend.demo.sim.store, "IS connector")
        app.backend.runbook.set_variable("new_oauth_client_id", new_client["client_id"])  # F1 recorded it
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, OAuthTest))
        modal = app.screen
        assert modal.query_one("#oauth-client-id", Input).value == new_client["client_id"]  # offered, not retyped
        secret = modal.query_one("#oauth-secret", Input)
        assert secret.password
        secret.value = new_client["client_secret"]
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: len(modal.checks) == 2)
        assert [(c.system, c.ok) for c in modal.checks] == [("Zuora", True), ("NetSuite", True)]
        assert secret.value == ""  # the field forgets the secret once the test has it
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        register = InstanceRegister(app.backend.journal, app.backend.profile)
        await wait_until(pilot, lambda: screen.current().oauth_client_id == new_client["client_id"])
        assert "gets a token" in register.get("50001").oauth_check

        table.move_cursor(row=0)
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmWrite))
        await pilot.click("#apply")
        await wait_until(pilot, lambda: register.get("48213").status == "retired")
        await wait_until(pilot, lambda: "Within the licence" in str(screen.query_one("#licence", Static).render()))


        await pilot.press("escape")  # the palette reaches the other screens too
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"Profiles")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ProfilesScreen))
        assert not app.screen.query("#open")  # a profile is open already: no chooser here
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ProfilesScreen))
        app.action_credentials()
        await pilot.pause(0.1)
        assert not isinstance(app.screen, CredentialsScreen)  # demo secrets are in memory, not in a keyring
