"""What Zuora Support and the Zuora/Connect UIs do in the runbook, as plain functions the /_sim/ routes call:
OAuth clients (F1), connector instances and their Account/Environment IDs (F3, F4), cutover dates (F6)."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from core.errors import NotFound
from core.sim.records import parse_date
from core.sim.store import Store, now_ts
from core.sim.sync_rules import BOOMI_CLIENT, CUTOVER_KEYS, first_customer_sync_key, netsuite_payment_sync_key

ENVIRONMENTS = ("production", "sandbox")
INSTANCE_STATUSES = ("active", "retired")
INSTANCE_STATES = ("running", "stopped")


# ---- OAuth clients (Administration > Manage Users > OAuth clients) -----------------------------------------------
def create_oauth_client(store: Store, name: str | None) -> dict[str, Any]:
    """A new client; its secret is returned here once, as the Zuora UI shows it once."""
    client = {"client_id": str(uuid.uuid4()), "client_secret": secrets.token_urlsafe(30)[:40],
              "name": (name or "API client").strip()[:100], "created": now_ts()}
    store.execute("INSERT INTO sim_oauth_client(client_id, client_secret, name, active, created) VALUES (?,?,?,1,?)",
                  (client["client_id"], client["client_secret"], client["name"], client["created"]))
    return client


def delete_oauth_client(store: Store, client_id: str) -> None:
    """Tokens of a deleted client stop working at once; an instance that used it can no longer run."""
    if not store.execute("DELETE FROM sim_oauth_client WHERE client_id = ?", (client_id,)):
        raise NotFound(None, f"no OAuth client has the id {client_id!r}",
                       hint="list the clients you created, or create one with POST /_sim/zuora/oauth-clients")


def _client_exists(store: Store, client_id: str | None) -> None:
    if client_id is not None and not store.scalar(
            "SELECT active FROM sim_oauth_client WHERE client_id = ?", (client_id,)):
        raise ValueError(f"no active OAuth client has the id {client_id!r}: create one first "
                         f"(POST /_sim/zuora/oauth-clients)")


# ---- connector instances -----------------------------------------------------------------------------------------
def list_instances(store: Store) -> list[dict[str, Any]]:
    current = store.setting("connector.instance_id")
    return [{**row, "current": row["id"] == current}
            for row in store.query("SELECT * FROM sim_instance ORDER BY created, id")]


def create_instance(store: Store, *, environment: str = "production", oauth_client_id: str | None = None,
                    make_current: bool = True) -> dict[str, Any]:
    """A new connector instance with the new Account ID and Environment ID Support would hand back (F3b/F4)."""
    if environment not in ENVIRONMENTS:
        raise ValueError(f"environment must be one of {', '.join(ENVIRONMENTS)}, not {environment!r}")
    _client_exists(store, oauth_client_id)
    while True:
        instance_id = str(10_000 + secrets.randbelow(90_000))
        if not store.scalar("SELECT 1 FROM sim_instance WHERE id = ?", (instance_id,)):
            break
    # A new instance is stopped until someone runs it (H1), and follows the rules of the tenant it is made on.
    row = {"id": instance_id, "account_id": f"zuora-{secrets.token_hex(4)}", "environment_id": str(uuid.uuid4()),
           "environment": environment, "oauth_client_id": oauth_client_id, "status": "active", "created": now_ts(),
           "state": "stopped", "mode": _mode(store)}
    store.execute(f"INSERT INTO sim_instance({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                  list(row.values()))
    store.set_setting(first_customer_sync_key(instance_id), True)  # its first run syncs customers since 1970
    store.set_setting(netsuite_payment_sync_key(instance_id), False)  # off by default on a new instance (R8.7)
    if make_current:
        store.set_setting("connector.instance_id", instance_id)
    return {**row, "current": make_current}


def update_instance(store: Store, instance_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Edit an instance: new Zuora OAuth credentials (F3a), `status` retired (I1), `state` running or stopped
    (C7 stops the old one), or `current`: true."""
    row = store.query_one("SELECT * FROM sim_instance WHERE id = ?", (instance_id,))
    if row is None:
        raise NotFound(None, f"no connector instance has the id {instance_id!r}",
                       hint="GET /_sim/connector/instances lists them")
    unknown = set(changes) - {"oauth_client_id", "status", "state", "current", "netsuite_payment_sync"}
    if unknown:
        raise ValueError(f"cannot change {', '.join(sorted(unknown))} on an instance: send oauth_client_id, "
                         f"status ({' or '.join(INSTANCE_STATUSES)}), state ({' or '.join(INSTANCE_STATES)}), "
                         f"netsuite_payment_sync (true or false) or current (true)")
    if "netsuite_payment_sync" in changes:
        if not isinstance(changes["netsuite_payment_sync"], bool):
            raise ValueError("netsuite_payment_sync must be true or false")
        store.set_setting(netsuite_payment_sync_key(instance_id), changes["netsuite_payment_sync"])
    if "state" in changes:
        if changes["state"] not in INSTANCE_STATES:
            raise ValueError(f"state must be one of {', '.join(INSTANCE_STATES)}")
        row["state"] = changes["state"]
    if "oauth_client_id" in changes:
        _client_exists(store, changes["oauth_client_id"])
        row["oauth_client_id"] = changes["oauth_client_id"]
        row["mode"] = _mode(store)  # new Zuora credentials on an IS tenant: the IS settings show (P-PREP step 7)
    if "status" in changes:
        if changes["status"] not in INSTANCE_STATUSES:
            raise ValueError(f"status must be one of {', '.join(INSTANCE_STATUSES)}")
        row["status"] = changes["status"]
        if row["status"] == "retired":
            row["state"] = "stopped"
    store.execute("UPDATE sim_instance SET oauth_client_id = ?, status = ?, mode = ?, state = ? WHERE id = ?",
                  (row["oauth_client_id"], row["status"], row["mode"], row["state"], instance_id))
    if changes.get("current") is True:
        store.set_setting("connector.instance_id", instance_id)
    return {**row, "current": store.setting("connector.instance_id") == instance_id}


def _mode(store: Store) -> str:
    return "invoice-settlement" if store.invoice_settlement else "legacy"


# ---- the NetSuite-to-Zuora payment sync's stored credentials (Boomi; Support updates them, F4) ------------------
def boomi_credentials(store: Store) -> dict[str, Any]:
    return {"oauth_client_id": store.setting(BOOMI_CLIENT)}


def update_boomi_credentials(store: Store, oauth_client_id: str) -> dict[str, Any]:
    """What Support does for the F4 ticket: the payment sync signs in with the connector's new OAuth client."""
    _client_exists(store, oauth_client_id)
    store.set_setting(BOOMI_CLIENT, oauth_client_id)
    return boomi_credentials(store)


# ---- cutover dates (Advanced Settings) ---------------------------------------------------------------------------
def cutover_dates(store: Store) -> dict[str, str | None]:
    return {k: store.setting(f"cutover.{k}") for k in CUTOVER_KEYS}


def set_cutover_dates(store: Store, changes: dict[str, Any]) -> dict[str, str | None]:
    """Set any of the cutover dates (`invoice`, `memo`, ... or `cutover.invoice`); null clears one."""
    if not isinstance(changes, dict) or not changes:
        raise ValueError('send the dates to set as a JSON object, e.g. {"memo": "2026-11-24", "iia": null}')
    parsed = {}
    for key, value in changes.items():
        short = key.removeprefix("cutover.")
        if short not in CUTOVER_KEYS:
            raise ValueError(f"unknown cutover {key!r}: use {', '.join(CUTOVER_KEYS)}")
        parsed[short] = parse_date(value, f"cutover {short}")
    for short, value in parsed.items():
        store.set_setting(f"cutover.{short}", value)
    return cutover_dates(store)
