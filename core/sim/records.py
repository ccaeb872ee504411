"""Logged writes to the simulated tenant's records, shared by the connector, the migration and the /_sim/ stand-ins.

Every changed field goes to the write log inside the transaction that changes it, so the log is a true record of
who wrote what. A change to the value a field already has writes nothing.
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, date, datetime
from typing import Any

from core.sim.catalog import NS_TABLES, ZuoraObject
from core.sim.store import Store, now_ts

# Zuora record numbers: prefix + 8 digits, e.g. INV00000042, CM00000007.
NUMBER_PREFIX = {"Account": "A", "Invoice": "INV", "InvoiceItemAdjustment": "IA", "Payment": "P-",
                 "Refund": "R-", "CreditMemo": "CM", "DebitMemo": "DM"}
# NetSuite document numbers per transaction type.
TRANID_PREFIX = {"CustInvc": "INV", "CustCred": "CM", "CustPymt": "PYMT", "CustRfnd": "RFND", "Journal": "JE"}

SETTING_AS_OF = "scenario.as_of"


def new_zuora_id() -> str:
    """32 lower-case hex characters, as Zuora ids are."""
    return uuid.uuid4().hex


def zuora_number(obj_name: str, n: int) -> str:
    return f"{NUMBER_PREFIX[obj_name]}{n:08d}"


def ns_tranid(ns_type: str, ns_id: int) -> str:
    return f"{TRANID_PREFIX.get(ns_type, 'TX')}{ns_id:06d}"


def sim_today(store: Store) -> str:
    """The tenant's business date: today, but never before the seeded scenario's as-of date."""
    today = datetime.now(UTC).date().isoformat()
    as_of = store.setting(SETTING_AS_OF)
    return max(today, as_of) if as_of else today


class RecordWriter:
    """Logged inserts and updates inside one open transaction (`with store.transaction() as conn`)."""

    def __init__(self, store: Store, conn: sqlite3.Connection, *, source: str, request_id: str | None = None):
        self.store = store
        self.conn = conn
        self.source = source
        self.request_id = request_id
        self._next_number: dict[str, int] = {}

    def _log(self, system: str, obj: str, record_id: Any, field: str, old: Any, new: Any) -> None:
        self.store.log_write(self.conn, source=self.source, system=system, object=obj, record_id=record_id,
                             field=field, old=old, new=new, request_id=self.request_id)

    # ---- Zuora ----------------------------------------------------------------------------------------------
    def next_number(self, obj: ZuoraObject) -> str:
        """The next free record number; the maximum is read once per writer, then counted on."""
        n = self._next_number.get(obj.name)
        if n is None:
            prefix = NUMBER_PREFIX[obj.name]
            top = self.conn.execute(
                f"SELECT max({obj.number_field.lower()}) FROM main.{obj.table} WHERE {obj.number_field.lower()} "
                f"LIKE ?", (prefix + "%",)).fetchone()[0]
            n = int(top[len(prefix):]) if top else 0
        n += 1
        self._next_number[obj.name] = n
        return zuora_number(obj.name, n)

    def insert_zuora(self, obj: ZuoraObject, values: dict[str, Any]) -> dict[str, Any]:
        """Insert a record (keys are Data Query column names); fills Id, number and audit dates if missing."""
        row = dict(values)
        row.setdefault("id", new_zuora_id())
        if obj.number_field and not row.get(obj.number_field.lower()):
            row[obj.number_field.lower()] = self.next_number(obj)
        stamp = now_ts()
        row.setdefault("createddate", stamp)
        row.setdefault("updateddate", stamp)
        cols = [c for c in obj.columns() if row.get(c) is not None]
        self.conn.execute(f"INSERT INTO main.{obj.table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                          [row[c] for c in cols])
        for c in cols:
            self._log("zuora", obj.name, row["id"], obj.field_by_name(c).name, None, row[c])
        return row

    def update_zuora(self, obj: ZuoraObject, current: dict[str, Any], changes: dict[str, Any]) -> list[str]:
        """Set the changed fields (column names) of `current`; returns the fields that really changed."""
        changed = {c: v for c, v in changes.items() if current.get(c) != v}
        if not changed:
            return []
        changed["updateddate"] = now_ts()
        sets = ", ".join(f"{c} = ?" for c in changed)
        self.conn.execute(f"UPDATE main.{obj.table} SET {sets} WHERE id = ?", [*changed.values(), current["id"]])
        for c, v in changed.items():
            if c != "updateddate":
                self._log("zuora", obj.name, current["id"], obj.field_by_name(c).name, current.get(c), v)
            current[c] = v
        return [obj.field_by_name(c).name for c in changed if c != "updateddate"]

    # ---- NetSuite -------------------------------------------------------------------------------------------
    def insert_ns(self, table: str, values: dict[str, Any]) -> int:
        """Insert a NetSuite row; assigns the internal id (and a tranid for transactions) when not given."""
        row = {k: v for k, v in values.items() if v is not None}
        if "id" not in row:
            row["id"] = self.conn.execute(f'SELECT coalesce(max(id), 0) + 1 FROM ns."{table}"').fetchone()[0]
        if table == "transaction":
            row.setdefault("tranid", ns_tranid(row.get("type", ""), row["id"]))
            stamp = now_ts()
            row.setdefault("createddate", stamp)
            row.setdefault("lastmodifieddate", stamp)
        known = {c for c, _ in NS_TABLES[table]}
        cols = [c for c in row if c in known]
        self.conn.execute(f'INSERT INTO ns."{table}" ({", ".join(cols)}) VALUES ({", ".join("?" * len(cols))})',
                          [row[c] for c in cols])
        for c in cols:
            if c != "id":
                self._log("netsuite", table, row["id"], c, None, row[c])
        return row["id"]

    def update_ns(self, table: str, current: dict[str, Any], changes: dict[str, Any]) -> list[str]:
        changed = {c: v for c, v in changes.items() if current.get(c) != v}
        if not changed:
            return []
        if table == "transaction":
            changed["lastmodifieddate"] = now_ts()
        key = "scriptid" if table == "customfield" else "id"
        sets = ", ".join(f"{c} = ?" for c in changed)
        self.conn.execute(f'UPDATE ns."{table}" SET {sets} WHERE {key} = ?', [*changed.values(), current[key]])
        for c, v in changed.items():
            self._log("netsuite", table, current[key], c, current.get(c), v)
            current[c] = v
        return [c for c in changed if c != "lastmodifieddate"]


def parse_date(value: Any, what: str) -> str | None:
    """'YYYY-MM-DD' or None; raises ValueError naming the setting and the expected form."""
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ValueError(f"{what} must be a date like 2026-10-01 (or null to clear it), not {value!r}") from None
