"""The connector instances register (key `i` from anywhere): old and new instances with their ids, the OAuth client
they use and their state; the licence warning; add, edit, retire; and the new OAuth client's token test.

The register is SQLite in the profile's journal: reads and writes run in thread workers, the token test in an
async worker. The new client's secret lives in a masked input only, and is cleared once the test has run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import SecretStr
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, Select, Static

from core.connector_instance import ConnectorInstance, describe
from core.instance_terms import ENVIRONMENTS, KINDS, ROLES, STATUSES
from core.instances import InstanceRegister
from core.session import SystemCheck
from tui.screens.confirm import ConfirmWrite
from tui.widgets.form import FormRow, checks_text, choice, notify_failure, selected, text_input
from tui.widgets.topbar import TopBar

COLUMNS = (("key", "#"), ("environment", "Env"), ("role", "Role"), ("status", "Status"), ("instance_id", "Instance"),
           ("account_id", "Account ID"), ("oauth_client_id", "OAuth client"))
CHOICES = {"environment": ENVIRONMENTS, "role": ROLES, "kind": KINDS, "status": STATUSES}
TEXTS = {"instance_id": "Instance ID", "account_id": "Account ID", "environment_id": "Environment ID",
         "oauth_client_id": "OAuth client id", "netsuite_account_id": "NetSuite account",
         "provisioned_on": "Provisioned on", "notes": "Notes"}
MODAL_CSS = """
{cls} {{ align: center middle; }}
{cls} > Vertical {{ width: 76; max-width: 98%; height: auto; max-height: 95%; border: thick $accent;
                   background: $surface; padding: 0 1; }}
{cls} VerticalScroll {{ height: auto; max-height: 11; }}
{cls} .modal-buttons {{ height: auto; align-horizontal: right; }}
{cls} .modal-buttons Button {{ margin-left: 2; }}
"""


def _shown(value: Any) -> str:
    return "–" if value in (None, "") else str(value)


class InstancesScreen(Screen):
    TITLE = "Connector instances"
    AUTO_FOCUS = "#instances"
    HELP = (
        "The register of the Zuora Connector for NetSuite instances (runbook A2, A3, F1-F4): the old one and the "
        "new one, sandbox and production, with the Instance ID, Account ID and Environment ID, the Zuora OAuth "
        "client id each uses (never a secret), the NetSuite account and the state.\n\n"
        "- `a` adds an instance, `e` edits the highlighted one, `x` retires it (it stays in the record).\n"
        "- A licence includes two permanent instances, one sandbox and one production; the warning line says "
        "when more are live, or when a temporary test instance (120 days) is about to expire.\n"
        "- Path new-tenant (F3c): a new instance takes the old one's Account ID and Environment ID.\n"
        "- `t` tests the new OAuth client (F1): a Zuora token with its id and secret, typed into a masked field "
        "and never stored; the NetSuite login stays as it is when the account is unchanged.\n"
        "- The F4 ticket takes its ids from this register."
    )
    BINDINGS = [
        Binding("a", "add", "Add", id="instances.add"),
        Binding("e", "edit", "Edit", id="instances.edit"),
        Binding("x", "retire", "Retire", id="instances.retire"),
        Binding("t", "test_oauth", "Test new OAuth client", id="instances.test_oauth"),
        Binding("escape", "back", "Back", id="instances.back"),
    ]
    DEFAULT_CSS = """
    #licence { height: auto; padding: 0 1; }
    #instances { height: 1fr; border: round $primary-darken-1; }
    #instance-detail { height: 6; border: round $primary-darken-2; padding: 0 1; overflow-y: auto; }
    """

    def __init__(self):
        super().__init__()
        self.instances: dict[str, ConnectorInstance] = {}
        self.notes: dict[str, str] = {}
        self.warnings: list[str] = []
        self.roles: dict[str, str] = {}  # the role as read: "re-pointed" for the old instance F3a re-pointed

    def compose(self) -> ComposeResult:
        yield TopBar(id="topbar")
        yield Static(id="licence")
        table = DataTable(id="instances", cursor_type="row", zebra_stripes=True)
        table.border_title = "Connector instances"
        yield table
        detail = Static(id="instance-detail", markup=False)
        detail.border_title = "Instance"
        yield detail
        yield Footer()

    def on_mount(self) -> None:
        self.app.backend.bind_topbar(self.query_one(TopBar))
        table = self.query_one("#instances", DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        self.reload()

    def register(self) -> InstanceRegister:
        backend = self.app.backend
        return InstanceRegister(backend.journal, backend.profile)

    # ---- reading (thread worker) ------------------------------------------------------------------------------
    @work(thread=True, group="instances-load", exit_on_error=False)
    def reload(self, select: int | None = None) -> None:
        try:
            register = self.register()
            instances = register.list()
            notes = {i.key: register.netsuite_note(i) for i in instances if i.role == "new"}
            warnings = register.warnings()
            self.roles = {str(i.key): register.role_words(i) for i in instances}  # read here, off the event loop
        except Exception as exc:
            notify_failure(self.app, exc, "Register not read")
            return
        self.app.call_from_thread(self.show_register, instances, notes, warnings, select)

    def show_register(self, instances: list[ConnectorInstance], notes: dict[int, str], warnings: list[str],
                      select: int | None) -> None:
        self.instances = {str(i.key): i for i in instances}
        self.notes = {str(k): v for k, v in notes.items()}
        self.warnings = warnings
        licence = Text(no_wrap=False)
        if warnings:
            for n, w in enumerate(warnings):
                licence.append("\n" if n else "")
                licence.append("▲ ", style="bold yellow")
                licence.append(w)
        else:
            licence.append("✓ ", style="bold green")
            licence.append("Within the licence: at most one live permanent instance per environment")
        self.query_one("#licence", Static).update(licence)
        table = self.query_one("#instances", DataTable)
        row = table.cursor_row
        table.clear()  # a small register, redrawn after a person's change; the cursor is put back below
        for i in instances:
            table.add_row(f"#{i.key}", i.environment, self.roles.get(str(i.key), i.role), i.status, _shown(i.instance_id), _shown(i.account_id),
                          _shown(i.oauth_client_id), key=str(i.key))
        if select is not None and str(select) in self.instances:
            row = table.get_row_index(str(select))
        if instances:
            table.move_cursor(row=min(row, len(instances) - 1))
        self.show_detail()

    @on(DataTable.RowHighlighted, "#instances")
    def show_detail(self) -> None:
        current = self.current()
        detail = self.query_one("#instance-detail", Static)
        if current is None:
            detail.update("No instance recorded yet: `a` adds the old one first (its ids are on the connector's "
                          "Logs tab).")
            return
        lines = [describe(current)]
        if str(current.key) in self.notes:
            lines.append(self.notes[str(current.key)])
        if current.oauth_checked_at:
            lines.append(f"OAuth test {current.oauth_checked_at}: {current.oauth_check}")
        if current.kind == "temporary":
            lines.append(f"Temporary: expires on {current.expires_on()}")
        if current.notes:
            lines.append(f"Notes: {current.notes}")
        detail.update("\n".join(lines))

    def current(self) -> ConnectorInstance | None:
        table = self.query_one("#instances", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.instances.get(key)

    # ---- changes ------------------------------------------------------------------------------------------------
    def action_add(self) -> None:
        environment = self.app.backend.profile.environment
        has_old = any(i.role == "old" and i.environment == environment for i in self.instances.values())
        defaults = {"environment": environment, "role": "new" if has_old else "old"}
        self.app.push_screen(InstanceForm("Add a connector instance", None,
                                          lambda values: self.register().add(**values), defaults), self.changed)

    def action_edit(self) -> None:
        current = self.current()
        if current is None:
            self.notify("Nothing to edit yet: `a` adds an instance", severity="warning")
            return
        self.app.push_screen(InstanceForm(f"Edit {current.label}", current,
                                          lambda values: self.register().update(current.key, **values)),
                             self.changed)

    def changed(self, instance: ConnectorInstance | None) -> None:
        if instance is not None:
            self.notify(f"Recorded {instance.label}", timeout=4)
            self.reload(select=instance.key)

    def action_retire(self) -> None:
        current = self.current()
        if current is None or current.status == "retired":
            self.notify("Pick a live instance to retire", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.retire(current.key)

        self.app.push_screen(ConfirmWrite(f"Retire {current.label}?",
                                          "It stops counting against the licence. The record stays in the register "
                                          "and the report; edit its status to undo.", confirm_label="Retire"),
                             answered)

    @work(thread=True, group="instances-write", exit_on_error=False)
    def retire(self, key: int) -> None:
        try:
            instance = self.register().retire(key)
        except Exception as exc:
            notify_failure(self.app, exc, "Not retired")
            return
        self.app.call_from_thread(self.changed, instance)

    def action_test_oauth(self) -> None:
        current, environment = self.current(), self.app.backend.profile.environment
        news = [i for i in self.instances.values() if i.role == "new" and i.live and i.environment == environment]
        target = current if current is not None and current.role == "new" and current.live else (
            news[-1] if news else None)
        self.app.push_screen(OAuthTest(self.register, target), lambda _: self.reload())

    def action_back(self) -> None:
        self.app.pop_screen()


class InstanceForm(ModalScreen[ConnectorInstance | None]):
    """Add or edit one instance. The register checks the values; its message keeps the form open."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Save")]
    DEFAULT_CSS = MODAL_CSS.format(cls="InstanceForm")

    def __init__(self, title: str, instance: ConnectorInstance | None,
                 submit: Callable[[dict[str, Any]], ConnectorInstance], defaults: dict[str, str] | None = None):
        super().__init__()
        self.title_text = title
        self.instance = instance
        self.submit = submit
        self.defaults = {"kind": "permanent", "status": "active", **(defaults or {})}

    def compose(self) -> ComposeResult:
        i = self.instance
        with Vertical():
            yield Label(f"[b]{self.title_text}[/b]")
            with VerticalScroll():
                for name, options in CHOICES.items():
                    yield FormRow(name.capitalize(), choice(f"form-{name}", options,
                                                            getattr(i, name) if i else self.defaults.get(name)))
                for name, label in TEXTS.items():
                    yield FormRow(label, text_input(f"form-{name}", _value(i, name)))
            yield Static("Path new-tenant: leave Account ID and Environment ID empty to carry the old ones over. "
                         "NetSuite account: the profile's unless given.", markup=False)
            with Horizontal(classes="modal-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: selected(self.query_one(f"#form-{name}", Select)) for name in CHOICES}
        out |= {name: self.query_one(f"#form-{name}", Input).value.strip() for name in TEXTS}
        if self.instance is not None:  # only what changed, so the record's history stays honest
            out = {k: v for k, v in out.items() if v != _value(self.instance, k)}
        return out

    def action_save(self) -> None:
        values = self.values()
        if self.instance is not None and not values:
            self.dismiss(None)
            return
        self.save(values)

    @work(thread=True, group="instance-form", exit_on_error=False)
    def save(self, values: dict[str, Any]) -> None:
        try:
            instance = self.submit(values)
        except Exception as exc:  # the register's message says which field and what to do
            notify_failure(self.app, exc, "Not recorded")
            return
        self.app.call_from_thread(self.dismiss, instance)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        (self.action_save if event.button.id == "save" else self.action_cancel)()


def _value(instance: ConnectorInstance | None, name: str) -> str:
    value = getattr(instance, name, None) if instance is not None else None
    return "" if value is None else str(value)


class OAuthTest(ModalScreen[None]):
    """F1: the new client's id and secret (masked) -> a Zuora token; the NetSuite login checked as it is."""

    BINDINGS = [Binding("escape", "close", "Close"), Binding("ctrl+t", "test", "Test")]
    DEFAULT_CSS = MODAL_CSS.format(cls="OAuthTest") + "OAuthTest #oauth-result { margin: 1 0; }"

    def __init__(self, register: Callable[[], InstanceRegister], instance: ConnectorInstance | None):
        super().__init__()
        self.register = register
        self.instance = instance
        self.checks: list[SystemCheck] = []

    def compose(self) -> ComposeResult:
        target = self.instance.label if self.instance else "the profile's new instance"
        with Vertical():
            yield Label("[b]Test the new OAuth client (F1)[/b]")
            yield Static(f"For {target}. The secret is used for this test only and never stored.", markup=False)
            recorded = self.app.backend.journal.variables().new_oauth_client_id  # F1's, when no instance names one
            yield FormRow("Client id", text_input("oauth-client-id",
                                                  _value(self.instance, "oauth_client_id") or recorded or "",
                                                  "from Manage Users > the API user"))
            yield FormRow("Client secret", text_input("oauth-secret", placeholder="shown once when it was created",
                                                      password=True))
            yield Static(id="oauth-result")
            with Horizontal(classes="modal-buttons"):
                yield Button("Close", id="close")
                yield Button("Test", id="test", variant="primary")

    def on_mount(self) -> None:
        field = "#oauth-secret" if self.query_one("#oauth-client-id", Input).value else "#oauth-client-id"
        self.query_one(field, Input).focus()

    def action_test(self) -> None:
        secret = self.query_one("#oauth-secret", Input)
        client_id = self.query_one("#oauth-client-id", Input).value
        self.query_one("#oauth-result", Static).update("Asking Zuora for a token…")
        self.test(client_id, SecretStr(secret.value))
        secret.value = ""  # the worker holds it as a SecretStr; the field forgets it

    @work(exclusive=True, group="oauth-test", exit_on_error=False)
    async def test(self, client_id: str, secret: SecretStr) -> None:
        backend = self.app.backend
        try:
            self.checks = await self.register().test_oauth_client(
                client_id, secret, backend.credentials, ref=self.instance.key if self.instance else None)
        except Exception as exc:
            self.query_one("#oauth-result", Static).update(Text(self.app.describe_error(exc), style="red"))
            return
        self.query_one("#oauth-result", Static).update(checks_text(self.checks))

    def action_close(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        (self.action_test if event.button.id == "test" else self.action_close)()
