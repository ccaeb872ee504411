"""One profile's API secrets: typed into masked fields, stored in the OS keyring, tested against both systems.

Every keyring call blocks (D-Bus, unlock prompts), so each runs in a thread worker. The secrets typed here live in
the inputs until they are saved or the screen closes; they are never written anywhere but the keyring.
"""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static

from core.profile import Profile
from core.errors import CutoverError
from core.secret_sources import credential_sources
from core.secrets import (
    SECRET_LABELS,
    SECRET_NAMES,
    SYSTEM_SECRETS,
    BackendStatus,
    Credentials,
    CredentialStore,
    credentials_from_env,
)
from core.session import SystemCheck, test_connection
from tui.widgets.form import FormRow, checks_text, notify_failure, text_input

PLACEHOLDERS = {"in the keyring": "stored in the keyring: leave empty to keep it", "missing": "missing: type it"}


class CredentialsScreen(Screen):
    TITLE = "Credentials"
    AUTO_FOCUS = "#secret-zuora_client_id"
    HELP = (
        "The profile's API secrets: the Zuora OAuth client (id and secret) and the NetSuite token-based "
        "authentication (consumer key and secret, token id and secret).\n\n"
        "- Fields are masked. A field left empty keeps what is stored.\n"
        "- `Ctrl+S` stores what was typed in the OS keyring (never in a file). When no secure keyring is usable "
        "the screen says why and how to fix it, and saving is refused.\n"
        "- `Ctrl+T` tests both systems with what was typed over what is stored: a Zuora OAuth token, and one "
        "signed NetSuite SuiteQL query. Each system's result shows on its own line.\n"
        "- CUTOVER_* environment variables win over the keyring, one secret at a time."
    )
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="credentials.save"),
        Binding("ctrl+t", "test", "Test connection", id="credentials.test"),
        Binding("escape", "back", "Back", id="credentials.back"),
    ]
    DEFAULT_CSS = """
    #credentials-header { height: 1; padding: 0 1; background: $primary-background; }
    #credentials-body { height: 1fr; padding: 0 1; }
    #keyring-status { margin-bottom: 1; }
    #keyring-status.unusable { color: $warning; }
    #credentials-buttons { height: auto; margin-bottom: 1; }
    #credentials-buttons Button { margin-right: 1; }
    .form-section { text-style: bold; }
    """

    def __init__(self, profile: Profile):
        super().__init__()
        self.profile = profile
        self.status: BackendStatus | None = None
        self.checks: list[SystemCheck] = []

    def compose(self) -> ComposeResult:
        yield Static(f"Credentials ─ {self.profile.title}", id="credentials-header", markup=False)
        with VerticalScroll(id="credentials-body"):
            yield Static("Checking the keyring…", id="keyring-status", markup=False)
            for system, names in SYSTEM_SECRETS.items():
                yield Label(system, classes="form-section")
                for n in names:
                    yield FormRow(SECRET_LABELS[n].removeprefix(f"{system} "),
                                  text_input(f"secret-{n}", password=True, placeholder="…"))
            with Horizontal(id="credentials-buttons"):
                yield Button("Save", id="save", variant="primary", disabled=True)
                yield Button("Test connection", id="test")
            yield Static(id="test-result")
        yield Footer()

    def on_mount(self) -> None:
        self.load_sources()

    # ---- where each secret comes from (thread worker: the keyring blocks) ---------------------------------------
    @work(thread=True, group="credentials-load", exit_on_error=False)
    def load_sources(self) -> None:
        status = CredentialStore().backend_status()
        sources, _ = credential_sources(self.profile.name)
        self.app.call_from_thread(self.show_sources, status, sources)

    def show_sources(self, status: BackendStatus, sources: dict[str, str]) -> None:
        self.status = status
        line = self.query_one("#keyring-status", Static)
        if status.usable:
            line.update(f"Keyring: {status.backend}. Typed secrets are stored there; empty fields keep what is "
                        f"stored.")
        else:
            line.update(f"The keyring cannot store secrets: {status.message}")
        line.set_class(not status.usable, "unusable")
        self.query_one("#save", Button).disabled = not status.usable
        for n, where in sources.items():
            self.query_one(f"#secret-{n}", Input).placeholder = PLACEHOLDERS.get(
                where, f"{where} (wins over the keyring)" if where.startswith("from ") else where)

    def typed(self) -> Credentials:
        return Credentials.from_values({n: self.query_one(f"#secret-{n}", Input).value.strip() for n in SECRET_NAMES})

    # ---- save ---------------------------------------------------------------------------------------------------
    def action_save(self) -> None:
        if self.status is not None and not self.status.usable:
            self.notify(f"Not saved: {self.status.message}", severity="error", timeout=12)
            return
        typed = self.typed()
        if not typed.present():
            self.notify("Type the secrets to store first; empty fields keep what is stored", severity="warning")
            return
        self.save(typed)

    @work(thread=True, group="credentials-save", exit_on_error=False)
    def save(self, typed: Credentials) -> None:
        try:
            saved = CredentialStore().save(self.profile.name, typed)
        except Exception as exc:  # locked or missing keyring: the message names the fix
            notify_failure(self.app, exc, "Not saved")
            return
        self.app.call_from_thread(self.saved, saved)

    def saved(self, names: list[str]) -> None:
        for n in names:
            self.query_one(f"#secret-{n}", Input).value = ""
        self.notify(f"Stored {len(names)} secret(s) of {self.profile.name} in the keyring. Next: Test connection "
                    f"(Ctrl+T)", timeout=6)
        self.load_sources()

    # ---- test ---------------------------------------------------------------------------------------------------
    def action_test(self) -> None:
        self.query_one("#test-result", Static).update("Testing Zuora and NetSuite…")
        self.test(self.typed())

    @work(exclusive=True, group="credentials-test", exit_on_error=False)
    async def test(self, typed: Credentials) -> None:
        try:
            try:
                stored = await asyncio.to_thread(CredentialStore().load, self.profile.name)
            except CutoverError as exc:  # no usable keyring: test what was typed and the CUTOVER_* variables
                self.notify(self.app.describe_error(exc), title="Keyring not read", severity="warning", timeout=8)
                stored = credentials_from_env()
            self.checks = await test_connection(self.profile, typed.merged_over(stored))
        except Exception as exc:
            self.query_one("#test-result", Static).update(Text(self.app.describe_error(exc), style="red"))
            return
        result = self.query_one("#test-result", Static)
        result.update(checks_text(self.checks))
        result.scroll_visible()
        if not all(c.ok for c in self.checks):
            self.notify("; ".join(f"{c.system}: {c.detail}" for c in self.checks if not c.ok),
                        title="Connection test failed", severity="error", timeout=10)

    def action_back(self) -> None:
        self.app.pop_screen()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        {"save": self.action_save, "test": self.action_test}[event.button.id]()
