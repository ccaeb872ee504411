"""Profiles: pick, create and edit the Zuora tenant + NetSuite account pairs in config.toml. No secrets here: they go
in on the Credentials screen (OS keyring). Reading and writing the file run in thread workers.

`tui.profiles_app.ProfilesApp` is `cutover profiles`: this screen with no profile open; Open ends it with the
chosen profile's name.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Checkbox, DataTable, Footer, Input, Label, Select, Static

from core.config import config_path, save_profile, scan_profiles, validate_profile
from core.profile import NetSuiteFields, Profile
from core.errors import ConfigError
from core.zuora.environments import ENVIRONMENT_NAMES
from tui.widgets.form import FormRow, choice, notify_failure, selected, text_input

TEXT_FIELDS = ("zuora-base-url", "netsuite-account-id", "netsuite-base-url")


def field_label(key: str) -> str:
    """`zuora_customer_id_payment` -> `customer id payment`: fits the form's label column."""
    return key.removeprefix("zuora_").replace("_", " ")


class ProfilesScreen(Screen):
    TITLE = "Profiles"
    AUTO_FOCUS = "#profile-list"
    HELP = (
        "The profiles in the config file: each names one Zuora tenant and one NetSuite account.\n\n"
        "- Pick a profile in the list to edit it; `Ctrl+N` starts a new one. Tab moves through the form.\n"
        "- Zuora: choose a named environment, or give a base URL (the simulator, a private host), not both.\n"
        "- NetSuite: the account id from Setup > Company > Company Information (1234567, 1234567_SB1, …); a base "
        "URL only for the simulator or a non-standard host.\n"
        "- Production profiles ask for a typed confirmation before any write; read-only profiles plan but never "
        "apply.\n"
        "- The NetSuite script ids are the account's ids of the connector's Zuora fields "
        "(`cutover profile fields NAME` finds them).\n"
        "- Operator: the name and email recorded with every confirmation, waiver, ticket and write on this profile "
        "(asked once in the checklist if left empty; CUTOVER_OPERATOR stands in for CI).\n"
        "- `Ctrl+S` saves; `Ctrl+K` opens the profile's credentials (kept in the OS keyring, never in the file).\n"
        "- `Ctrl+T` opens the profile's twin: capture a read-only copy of the tenant, and rehearse on it."
    )
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="profiles.save"),
        Binding("ctrl+n", "new", "New", id="profiles.new"),
        Binding("ctrl+k", "credentials", "Credentials", id="profiles.credentials"),
        Binding("ctrl+o", "open", "Open", id="profiles.open"),
        Binding("ctrl+t", "twin", "Twin", id="profiles.twin"),
        Binding("escape", "back", "Back", id="profiles.back"),
    ]
    DEFAULT_CSS = """
    #profiles-header { height: 1; padding: 0 1; background: $primary-background; }
    #profile-list { width: 24; height: 1fr; border: round $primary-darken-1; }
    #profile-form { width: 1fr; height: 1fr; padding: 0 1; border: round $primary-darken-2; }
    #profile-flags, #profile-buttons { height: auto; margin-bottom: 1; }
    #profile-flags Checkbox { margin-right: 2; }
    #profile-buttons Button { margin-right: 1; }
    #profile-problem { color: $error; }
    .form-section { text-style: bold; margin-bottom: 1; }
    """

    def __init__(self, opener: Callable[[str], None] | None = None):
        super().__init__()
        self.opener = opener  # set when the app was started without a profile (`cutover profiles`)
        self.profiles: dict[str, Profile | ConfigError] = {}
        self.editing: str | None = None  # the profile in the form; None while a new one is typed

    # ---- layout ---------------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(id="profiles-header", markup=False)
        with Horizontal():
            yield DataTable(id="profile-list", cursor_type="row")
            with VerticalScroll(id="profile-form"):
                yield FormRow("Name", text_input("name", placeholder="e.g. acme-sandbox"))
                yield FormRow("Zuora environment", choice("zuora-env", ENVIRONMENT_NAMES, None, allow_blank=True))
                yield FormRow("or Zuora base URL", text_input("zuora-base-url", placeholder="https://… (or the simulator)"))
                yield FormRow("NetSuite account id", text_input("netsuite-account-id", placeholder="1234567_SB1"))
                yield FormRow("NetSuite base URL", text_input("netsuite-base-url", placeholder="(standard host)"))
                with Horizontal(id="profile-flags"):
                    yield Checkbox("Production", id="production", compact=True)
                    yield Checkbox("Read-only", id="read-only", compact=True)
                yield Label("NetSuite script ids of the Zuora fields", classes="form-section")
                for key in NetSuiteFields.keys():
                    yield FormRow(field_label(key), text_input(f"field-{key}", placeholder="(not mapped)"))
                yield FormRow("sync updates 'Yes'", text_input("field-sync_updates_yes", "Yes"))
                yield Label("Operator (named with every record)", classes="form-section")
                yield FormRow("Operator name", text_input("operator-name", placeholder="e.g. Ada Lovelace"))
                yield FormRow("Operator email", text_input("operator-email", placeholder="e.g. ada@example.com"))
                yield Static(id="profile-problem", markup=False)
                with Horizontal(id="profile-buttons"):
                    yield Button("Save", id="save", variant="primary")
                    yield Button("New", id="new")
                    yield Button("Credentials…", id="credentials")
                    if self.opener is not None:
                        yield Button("Open", id="open", variant="success")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#profile-list", DataTable)
        table.border_title = "Profiles"
        table.add_column("Name", key="name")
        table.add_column("Env", key="env")
        self.load()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        return self.opener is not None if action == "open" else True

    # ---- loading (thread worker: pydantic-settings reads the file) ------------------------------------------------
    @work(thread=True, group="profiles-load", exit_on_error=False)
    def load(self, select: str | None = None) -> None:
        try:
            profiles, path = scan_profiles(), config_path()
        except Exception as exc:
            notify_failure(self.app, exc, "Profiles not read")
            return
        self.app.call_from_thread(self.show_profiles, profiles, str(path), select)

    def show_profiles(self, profiles: dict[str, Profile | ConfigError], path: str, select: str | None) -> None:
        self.profiles = profiles
        self.query_one("#profiles-header", Static).update(f"Profiles ─ {path}")
        table = self.query_one("#profile-list", DataTable)
        table.clear()
        for name, p in profiles.items():
            env = "BROKEN" if isinstance(p, ConfigError) else ("prod" if p.is_production else "sandbox") + (
                " ro" if p.read_only else "")
            table.add_row(name, env, key=name)
        if select in profiles:
            table.move_cursor(row=table.get_row_index(select))
        if not profiles:
            self.notify("No profiles yet: fill in the form and save (Ctrl+S)", timeout=6)
            self.action_new()

    @on(DataTable.RowHighlighted, "#profile-list")
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value in self.profiles:
            self.fill(event.row_key.value)

    # ---- the form ---------------------------------------------------------------------------------------------
    def _input(self, id: str) -> Input:
        return self.query_one(f"#{id}", Input)

    def fill(self, name: str | None) -> None:
        """Show a profile in the form (None: an empty form for a new one)."""
        p = self.profiles.get(name) if name else None
        self.editing = name
        self._input("name").value = name or ""
        self._input("name").disabled = name is not None  # renaming would orphan the journal and the keyring
        valid = p if isinstance(p, Profile) else None
        env = self.query_one("#zuora-env", Select)
        env.value = valid.zuora_env if valid and valid.zuora_env else Select.NULL
        values = {"zuora-base-url": valid and valid.zuora_base_url, "netsuite-account-id": valid and
                  valid.netsuite_account_id, "netsuite-base-url": valid and valid.netsuite_base_url}
        for id in TEXT_FIELDS:
            self._input(id).value = values[id] or ""
        fields = valid.netsuite_fields if valid else NetSuiteFields()
        for key in NetSuiteFields.keys():
            self._input(f"field-{key}").value = getattr(fields, key) or ""
        self._input("field-sync_updates_yes").value = fields.sync_updates_yes
        operator = valid.operator if valid else None
        self._input("operator-name").value = operator.name if operator else ""
        self._input("operator-email").value = operator.email if operator else ""
        self.query_one("#production", Checkbox).value = bool(valid and valid.is_production)
        self.query_one("#read-only", Checkbox).value = bool(valid and valid.read_only)
        self.query_one("#profile-problem", Static).update(str(p) if isinstance(p, ConfigError) else "")

    def form_data(self) -> tuple[str, dict]:
        def text(id: str) -> str | None:
            return self._input(id).value.strip() or None

        fields = {k: text(f"field-{k}") for k in NetSuiteFields.keys()}
        fields["sync_updates_yes"] = text("field-sync_updates_yes") or "Yes"
        data = {"zuora_env": selected(self.query_one("#zuora-env", Select)),
                "zuora_base_url": text("zuora-base-url"), "netsuite_account_id": text("netsuite-account-id"),
                "netsuite_base_url": text("netsuite-base-url"),
                "environment": "production" if self.query_one("#production", Checkbox).value else "sandbox",
                "read_only": self.query_one("#read-only", Checkbox).value, "netsuite_fields": fields}
        operator = {"name": text("operator-name"), "email": text("operator-email")}
        if any(operator.values()):  # both empty: no operator; one of them: Operator's own message names the other
            data["operator"] = {k: v or "" for k, v in operator.items()}
        existing = self.profiles.get(self.editing) if self.editing else None
        if isinstance(existing, Profile):
            data["data_dir"] = str(existing.data_dir)  # saved only when it is not the default
        return self._input("name").value.strip(), {k: v for k, v in data.items() if v is not None}

    # ---- actions ----------------------------------------------------------------------------------------------
    def action_new(self) -> None:
        self.fill(None)
        self._input("name").focus()

    def action_save(self) -> None:
        name, data = self.form_data()
        if not name:
            self.notify("Give the profile a name first (e.g. acme-sandbox)", severity="warning")
            self._input("name").focus()
            return
        if self.editing is None and name in self.profiles:
            self.notify(f"A profile named {name} already exists: pick it in the list to edit it, or choose "
                        f"another name", severity="warning")
            return
        self.save(name, data)

    @work(thread=True, group="profiles-save", exit_on_error=False)
    def save(self, name: str, data: dict) -> None:
        try:
            profile = validate_profile(name, data, hint="correct that field and save again")
            path = save_profile(profile)
        except Exception as exc:  # a bad field or an unwritable file: a message, never a traceback
            self.app.call_from_thread(self.query_one("#profile-problem", Static).update, self.app.describe_error(exc))
            notify_failure(self.app, exc, "Not saved")
            return
        self.app.call_from_thread(self.saved, profile, str(path))

    def saved(self, profile: Profile, path: str) -> None:
        self.editing = profile.name
        self.query_one("#profile-problem", Static).update("")
        backend = getattr(self.app, "backend", None)
        is_open = (backend is not None and not backend.is_demo and backend.profile is not None
                   and backend.profile.name == profile.name)
        reopen = " The open session keeps the old settings until the profile is reopened." if is_open else ""
        if is_open and backend.profile.operator != profile.operator:
            backend.use_operator(profile.operator)  # who records is not a connection setting: it applies now
            reopen = " The open session records under the new operator from now on;" + reopen.replace(
                " The open session keeps", " it keeps")
        self.notify(f"Saved profile {profile.name} in {path}. Next: its credentials (Ctrl+K).{reopen}", timeout=8)
        self.load(select=profile.name)

    def _chosen(self) -> Profile | None:
        p = self.profiles.get(self.editing) if self.editing else None
        if not isinstance(p, Profile):
            self.notify("Pick a saved profile first (a new or broken one needs saving)", severity="warning")
            return None
        return p

    def action_credentials(self) -> None:
        from tui.screens.credentials import CredentialsScreen

        if (p := self._chosen()) is not None:
            self.app.push_screen(CredentialsScreen(p))

    def action_twin(self) -> None:
        from tui.screens.twin import TwinScreen  # a twin of the tenant: capture it, rehearse on it

        if (p := self._chosen()) is not None:
            self.app.push_screen(TwinScreen(p))

    def action_open(self) -> None:
        if self.opener is not None and (p := self._chosen()) is not None:
            self.opener(p.name)

    def action_back(self) -> None:
        if self.opener is not None:
            self.app.exit()
        else:
            self.app.pop_screen()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        {"save": self.action_save, "new": self.action_new, "credentials": self.action_credentials,
         "open": self.action_open}[event.button.id]()
