"""The connector instances register (runbook A3, F1-F4, R1.1, R7): each Zuora Connector for NetSuite instance of
the profile's tenant, old and new, sandbox and production, with its ids, the Zuora OAuth client it uses (the client
id only, never the secret), its NetSuite account and its state.

It lives in the profile's journal database (table `connector_instance`), so it travels with the run. It is the one
place connector ids are recorded: the run variables that name them (old_instance_id, old_account_id,
new_instance_id, new_account_id, new_environment_id) mirror the register for the profile's environment, and
setting one of those variables writes the register (Runbook.set_variable), never the variable alone. It warns when
more permanent instances are live than a licence includes (two: one sandbox, one production), carries the old
AccountId and EnvironmentId over to the new instance on the new-tenant path (F3c), says whether the NetSuite
credentials stay as they are, tests a new OAuth client when a person asks (the secret only in memory), and gives
the F4 ticket its ids (`instances_for_ticket`). What one instance is (its fields, checked) is core.connector_instance.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from pydantic import SecretStr

from core.connector_instance import ID_LABELS, TEMPORARY_DAYS, ConnectorInstance, InstanceFields, describe
from core.profile import Profile
from core.errors import ConfigError
from core.instance_terms import ENVIRONMENTS, KINDS, ROLES, STATUSES
from core.journal import Journal
from core.runbook.model import utc_now
from core.secrets import SYSTEM_SECRETS, Credentials
from core.session import SystemCheck, test_connection

REQUIRED = {"environment": ENVIRONMENTS, "role": ROLES, "kind": KINDS, "status": STATUSES}

PERMANENT_PER_ENVIRONMENT = 1  # a licence includes two permanent instances: one sandbox, one production (R1.1, R7)
EXPIRY_NOTICE_DAYS = 14

_SCHEMA = """
CREATE TABLE IF NOT EXISTS connector_instance (id INTEGER PRIMARY KEY, environment TEXT NOT NULL, role TEXT NOT NULL,
    kind TEXT NOT NULL, instance_id TEXT UNIQUE, account_id TEXT, environment_id TEXT, oauth_client_id TEXT,
    netsuite_account_id TEXT, status TEXT NOT NULL, notes TEXT NOT NULL DEFAULT '', provisioned_on TEXT,
    oauth_checked_at TEXT, oauth_check TEXT, created_at TEXT, created_by TEXT, updated_at TEXT, updated_by TEXT)
"""
# Run variables that name connector ids: (role, field) of the profile's environment's instance they mirror.
MIRRORED: dict[str, tuple[str, str]] = {
    "old_instance_id": ("old", "instance_id"), "old_account_id": ("old", "account_id"),
    "new_instance_id": ("new", "instance_id"), "new_account_id": ("new", "account_id"),
    "new_environment_id": ("new", "environment_id"),
}
_WRITABLE = ("environment", "role", "kind", "instance_id", "account_id", "environment_id", "oauth_client_id",
             "netsuite_account_id", "status", "notes", "provisioned_on")


class InstanceRegister:
    """`InstanceRegister(journal, profile)`: list, add, update and retire a profile's connector instances.

    Blocking SQLite calls (fast, but the TUI still runs them in thread workers)."""

    def __init__(self, journal: Journal, profile: Profile | None = None):
        self.journal = journal
        self.profile = profile
        with journal.transaction() as db:
            db.execute(_SCHEMA)

    # ---- reading ----------------------------------------------------------------------------------------------
    def list(self, *, environment: str | None = None, live_only: bool = False) -> list[ConnectorInstance]:
        rows = self.journal.query(
            "SELECT * FROM connector_instance WHERE (? IS NULL OR environment = ?) ORDER BY environment, "
            "role DESC, id", (environment, environment))
        instances = [_instance(r) for r in rows]
        return [i for i in instances if i.live] if live_only else instances

    def get(self, ref: int | str) -> ConnectorInstance:
        """By Instance ID, or by `#N` / N, the register's own number shown by `list`."""
        text = str(ref).strip()
        rows = self.journal.query("SELECT * FROM connector_instance WHERE instance_id = ?", (text,))
        if not rows and text.removeprefix("#").isdigit():
            rows = self.journal.query("SELECT * FROM connector_instance WHERE id = ?", (int(text.removeprefix("#")),))
        if not rows:
            known = ", ".join(i.ref for i in self.list()) or "none yet"
            raise ConfigError(f"no connector instance {text!r} in the register (known: {known})",
                              hint="name it by its Instance ID or by its #number from `cutover instances list`")
        return _instance(rows[0])

    def old_instance(self, environment: str) -> ConnectorInstance | None:
        """The environment's old instance: the newest one recorded, live ones first."""
        olds = [i for i in self.list(environment=environment) if i.role == "old"]
        return max(olds, key=lambda i: (i.live, i.key), default=None)

    def new_instance(self, environment: str) -> ConnectorInstance | None:
        news = [i for i in self.list(environment=environment, live_only=True) if i.role == "new"]
        return news[-1] if news else None

    def provisioning_path(self) -> str | None:
        return self.journal.variables().provisioning_path

    def role_words(self, instance: ConnectorInstance) -> str:
        """Its role as a person reads it. On the edit-instance path, the old instance that F3a gave the new OAuth
        client is the live one: "re-pointed", though its role stays "old" (its id is how old_instance_id is
        found, and nothing is retired at I1)."""
        if instance.role == "old" and instance.live and instance.oauth_client_id \
                and self.provisioning_path() == "edit-instance" \
                and instance.oauth_client_id == self.journal.variables().new_oauth_client_id:
            return "re-pointed"
        return instance.role

    # ---- writing ----------------------------------------------------------------------------------------------
    def add(self, who: str | None = None, **values: Any) -> ConnectorInstance:
        """Record an instance: environment and role are required; kind permanent, status active and the profile's
        NetSuite account unless given. On the new-tenant path a new instance takes the old one's ids (F3c)."""
        data = InstanceFields.parse(values)
        if not data.get("environment") or not data.get("role"):
            raise ConfigError("a connector instance needs its environment (sandbox or production) and its role "
                              "(old: the running connector; new: the one for Invoice Settlement)")
        data = {"kind": "permanent", "status": "active", "notes": "", **data}
        if not data.get("netsuite_account_id") and self.profile is not None:
            data["netsuite_account_id"] = self.profile.netsuite_account_id
        self._check_carry_over(data)
        at, who = utc_now(), self.journal.who(who)
        row = {**{k: _stored(data.get(k)) for k in _WRITABLE}, "created_at": at, "created_by": who,
               "updated_at": at, "updated_by": who}
        with self._writing(data) as db:
            cur = db.execute(f"INSERT INTO connector_instance({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                             list(row.values()))
            key = int(cur.lastrowid)
            self._carry_over(db, data["environment"])
        self._mirror(who)
        return self.get(f"#{key}")

    def update(self, ref: int | str, who: str | None = None, **values: Any) -> ConnectorInstance:
        """Change the given fields of one instance (an empty text clears a field)."""
        current = self.get(ref)
        changes = InstanceFields.parse(values)
        if not changes:
            return current
        for name, choices in REQUIRED.items():
            if name in changes and changes[name] is None:
                raise ConfigError(f"an instance's {name} cannot be cleared: give one of {', '.join(choices)}")
        merged = {**current.model_dump(include=set(_WRITABLE)), **changes}
        self._check_carry_over(merged)
        sets = {k: _stored(v) for k, v in changes.items()} | {"updated_at": utc_now(),
                                                                "updated_by": self.journal.who(who)}
        with self._writing(merged) as db:
            db.execute(f"UPDATE connector_instance SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
                       (*sets.values(), current.key))
            self._carry_over(db, merged["environment"])
        self._mirror(who)
        return self.get(f"#{current.key}")

    # ---- the run variables that mirror it ---------------------------------------------------------------------
    def instance_for(self, role: str) -> ConnectorInstance | None:
        """The profile's environment's old or new instance."""
        if self.profile is None:
            return None
        env = self.profile.environment
        return self.old_instance(env) if role == "old" else self.new_instance(env)

    def record_id(self, variable: str, text: str | None, who: str | None = None) -> ConnectorInstance:
        """`cutover set old_instance_id ID` and the like: write the id where it lives, the register (adding the
        profile's environment's old or new instance when there is none yet)."""
        if self.profile is None:
            raise ConfigError("connector ids are recorded in a profile's instances register")
        role, field = MIRRORED[variable]
        instance = self.instance_for(role)
        if instance is None:
            return self.add(who=who, environment=self.profile.environment, role=role, **{field: text})
        return self.update(f"#{instance.key}", who=who, **{field: text})

    def _mirror(self, who: str | None) -> None:
        """Bring the mirrored run variables in line with the register (one direction only: register -> variables)."""
        if self.profile is None:
            return
        current = self.journal.variables()
        for name, (role, field) in MIRRORED.items():
            instance = self.instance_for(role)
            value = getattr(instance, field) if instance is not None else None
            if value != current.get(name) and (value is not None or instance is not None):
                self.journal.set_variable(name, value or "", who=who)

    def retire(self, ref: int | str, note: str = "", who: str | None = None) -> ConnectorInstance:
        """Mark an instance retired: it no longer takes a licensed place. The record stays for the report."""
        current = self.get(ref)
        if current.status == "retired":
            return current
        notes = "; ".join(n for n in (current.notes, f"retired {utc_now()[:10]}: {note.strip()}" if note.strip()
                                      else "") if n)
        return self.update(ref, who=who, status="retired", notes=notes)

    @contextmanager
    def _writing(self, data: dict[str, Any]) -> Iterator[sqlite3.Connection]:
        try:
            with self.journal.transaction() as db:
                yield db
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" not in str(exc):
                raise
            raise ConfigError(f"instance {data.get('instance_id')} is already in the register",
                              hint=f"change it with `cutover instances update {data.get('instance_id')} ...`") from None

    # ---- F3c: the new tenant re-uses the old AccountId and EnvironmentId --------------------------------------
    def _check_carry_over(self, data: dict[str, Any]) -> None:
        if data.get("role") != "new" or self.provisioning_path() != "new-tenant":
            return
        old = self.old_instance(data["environment"])
        for field in ("account_id", "environment_id"):
            theirs, given = getattr(old, field, None), data.get(field)
            if theirs and given and given != theirs:
                raise ConfigError(
                    f"path new-tenant re-uses the old {data['environment']} instance's {ID_LABELS[field]} {theirs}, "
                    f"but {given} was given",
                    hint="leave it empty to carry the old one over, or record another path with "
                         "`cutover set provisioning_path new-instance`")

    def _carry_over(self, db: sqlite3.Connection, environment: str) -> None:
        """Fill the live new instances' missing ids from the old instance of the same environment."""
        if self.provisioning_path() != "new-tenant":
            return
        db.execute(
            "UPDATE connector_instance AS n SET "
            "account_id = coalesce(n.account_id, o.account_id), environment_id = coalesce(n.environment_id, "
            "o.environment_id) FROM (SELECT account_id, environment_id FROM connector_instance WHERE role = 'old' "
            "AND environment = ? ORDER BY status <> 'retired' DESC, id DESC LIMIT 1) AS o "
            "WHERE n.role = 'new' AND n.environment = ? AND n.status <> 'retired'", (environment, environment))

    # ---- what the register tells a person ---------------------------------------------------------------------
    def warnings(self, today: date | None = None) -> list[str]:
        """Licence and expiry warnings, empty when all is well."""
        today = today or datetime.now(UTC).date()
        live = self.list(live_only=True)
        out = []
        for env in ENVIRONMENTS:
            permanent = [i for i in live if i.environment == env and i.kind == "permanent"]
            places = {i.account_id or f"#{i.key}" for i in permanent}  # carried-over ids: one licensed instance
            if len(places) > PERMANENT_PER_ENVIRONMENT:
                out.append(f"{len(places)} permanent {env} instances are live ({', '.join(i.ref for i in permanent)})"
                           f": a licence includes two permanent instances, one sandbox and one production. Retire "
                           f"the old one here once the new one is live (Phase I), or another licence is needed")
            elif self.provisioning_path() == "new-instance" and [i.role for i in permanent] == ["old"]:
                out.append(f"path new-instance adds a second permanent {env} instance next to "
                           f"{permanent[0].ref} until the old one is retired: a licence includes one per environment")
        for i in live:
            expires = i.expires_on()
            if expires is not None and expires <= today:
                out.append(f"temporary instance {i.ref} expired on {expires} ({TEMPORARY_DAYS} days): retire it here")
            elif expires is not None and (expires - today).days <= EXPIRY_NOTICE_DAYS:
                out.append(f"temporary instance {i.ref} expires on {expires} ({TEMPORARY_DAYS} days after it was "
                           f"provisioned)")
        return out

    def netsuite_note(self, instance: ConnectorInstance | None = None, environment: str | None = None) -> str:
        """Whether the NetSuite login can stay as it is (P-PARENT: it can when the NetSuite account is unchanged)."""
        env = instance.environment if instance else environment or self._profile_environment()
        old = self.old_instance(env)
        account = (instance.netsuite_account_id if instance and instance.role == "new" else None) or (
            self.profile.netsuite_account_id if self.profile else None)
        if old is None or not old.netsuite_account_id or not account:
            return f"NetSuite credentials: record the old {env} instance and its NetSuite account to compare"
        if old.netsuite_account_id == account:
            return f"NetSuite credentials unchanged: same account {account}"
        return (f"NetSuite account changes from {old.netsuite_account_id} to {account}: create a NetSuite login for "
                f"{account} in Connect and store its credentials (`cutover credentials set PROFILE --only netsuite`)")

    def _profile_environment(self) -> str:
        return self.profile.environment if self.profile else "production"

    # ---- F1: does the new OAuth client get a token? -------------------------------------------------------------
    async def test_oauth_client(self, client_id: str, secret: SecretStr, netsuite: Credentials | None = None, *,
                                ref: int | str | None = None, timeout: float = 20.0) -> list[SystemCheck]:
        """Zuora: a token for the NEW client (id and secret typed by the person, the secret held only here).
        NetSuite: the profile's unchanged credentials still connect. The outcome is recorded on the instance
        (`ref`, else the live new instance of the profile's environment), the secret never."""
        if self.profile is None:
            raise ConfigError("testing an OAuth client needs the profile's Zuora base URL")
        client_id = InstanceFields.parse({"oauth_client_id": client_id}).get("oauth_client_id")
        if not client_id or not secret.get_secret_value().strip():
            raise ConfigError("give the new OAuth client's id and secret",
                              hint="Zuora: Administration > Manage Users > the API user > OAuth clients")
        # SQLite off the event loop: an apply may hold the journal's write lock for a moment.
        instance, note = await asyncio.to_thread(self._oauth_target, ref)
        kept = {n: getattr(netsuite, n) for n in SYSTEM_SECRETS["NetSuite"]} if netsuite else {}
        credentials = Credentials(zuora_client_id=SecretStr(client_id), zuora_client_secret=secret, **kept)
        zuora, netsuite_check = await test_connection(self.profile, credentials, timeout=timeout)
        zuora = replace(zuora, detail=f"OAuth client {client_id}: "
                                      f"{'gets a token from ' + self.profile.zuora_url() if zuora.ok else zuora.detail}")
        netsuite_check = replace(netsuite_check, detail=f"{note}; {netsuite_check.detail}")
        if instance is not None:
            await asyncio.to_thread(self._record_oauth_test, instance, client_id, zuora)
        return [zuora, netsuite_check]

    def _oauth_target(self, ref: int | str | None) -> tuple[ConnectorInstance | None, str]:
        instance = self.get(ref) if ref is not None else self.new_instance(self._profile_environment())
        return instance, self.netsuite_note(instance)

    def _record_oauth_test(self, instance: ConnectorInstance, client_id: str, check: SystemCheck) -> None:
        at = utc_now()
        outcome = "gets a token" if check.ok else f"refused or unreachable: {check.reason}"
        with self.journal.transaction() as db:
            db.execute("UPDATE connector_instance SET oauth_checked_at = ?, oauth_check = ?, "
                       "oauth_client_id = CASE WHEN ? THEN ? ELSE oauth_client_id END WHERE id = ?",
                       (at, f"{client_id} {outcome}", check.ok, client_id, instance.key))


# ---- the F4 ticket ---------------------------------------------------------------------------------------------
def instances_for_ticket(journal: Journal, environment: str | None = None) -> dict[str, str]:
    """The register's ids for the F4 ticket, by the template's placeholder names: old_instance_id, old_account_id,
    old_environment_id, new_instance_id, new_account_id, new_environment_id, new_oauth_client_id,
    netsuite_credentials, instances (every live instance, one per line), licence_warnings. Only what is recorded is
    present, so the ticket falls back to the run variables for the rest. `environment` defaults to the one with the
    newest new instance."""
    register = InstanceRegister(journal)
    live = register.list(live_only=True)
    if environment is None:
        newest = max(live, key=lambda i: (i.role == "new", i.key), default=None)
        environment = newest.environment if newest else None
    out: dict[str, str] = {}
    if environment is not None:
        for role, instance in (("old", register.old_instance(environment)), ("new", register.new_instance(environment))):
            for field in ("instance_id", "account_id", "environment_id"):
                if instance is not None and getattr(instance, field):
                    out[f"{role}_{field}"] = getattr(instance, field)
        new = register.new_instance(environment)
        if new is not None and new.oauth_client_id:
            out["new_oauth_client_id"] = new.oauth_client_id
        if new is not None:
            out["netsuite_credentials"] = register.netsuite_note(new)
    if live:
        out["instances"] = "\n".join(describe(i) for i in live)
    if warnings := register.warnings():
        out["licence_warnings"] = "\n".join(warnings)
    return out


def _stored(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _instance(row: dict[str, Any]) -> ConnectorInstance:
    return ConnectorInstance(key=row.pop("id"), **row)
