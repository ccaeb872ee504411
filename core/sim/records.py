"""Logged writes to the simulated tenant's records, shared by the connector, the migration and the /_sim/ stand-ins.

Every changed field goes to the write log inside the transaction that changes it, so the log is a true record of
who wrote what. A change to the value a field already has writes nothing.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from core.objects import ZuoraObject
from core.sim.catalog import NS_TABLES
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

    def _insert(self, system: str, target: str, obj_name: str, row: dict[str, Any], cols: list[str],
                field_name: Callable[[str], str]) -> None:
        self.conn.execute(f"INSERT INTO {target} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                          [row[c] for c in cols])
        for c in cols:
            if c != "id":
                self._log(system, obj_name, row["id"], field_name(c), None, row[c])

    def _update(self, system: str, target: str, obj_name: str, key: str, current: dict[str, Any],
                changes: dict[str, Any], stamp: str | None, field_name: Callable[[str], str]) -> list[str]:
        changed = {c: v for c, v in changes.items() if current.get(c) != v}
        if not changed:
            return []
        sets = {**changed, stamp: now_ts()} if stamp else changed
        self.conn.execute(f"UPDATE {target} SET {', '.join(f'{c} = ?' for c in sets)} WHERE {key} = ?",
                          [*sets.values(), current[key]])
        for c, v in changed.items():
            self._log(system, obj_name, current[key], field_name(c), current.get(c), v)
        current.update(sets)
        return [field_name(c) for c in changed]

    # ---- Zuora ----------------------------------------------------------------------------------------------
    def next_number(self, obj: ZuoraObject) -> str:
        """The next free record number; the maximum is read once per writer, then counted on."""
        n = self._next_number.get(obj.name)
        if n is None:
            prefix, col = NUMBER_PREFIX[obj.name], obj.number_field.lower()
            top = self.conn.execute(f"SELECT max({col}) FROM main.{obj.table} WHERE {col} LIKE ?",
                                    (prefix + "%",)).fetchone()[0]
            n = int(top[len(prefix):]) if top else 0
        n += 1
        self._next_number[obj.name] = n
        return zuora_number(obj.name, n)

    @staticmethod
    def _zuora_field(obj: ZuoraObject) -> Callable[[str], str]:
        return lambda column: obj.field_by_name(column).name

    def insert_zuora(self, obj: ZuoraObject, values: dict[str, Any]) -> dict[str, Any]:
        """Insert a record (keys are Data Query column names); fills Id, number and audit dates if missing."""
        row = dict(values)
        row.setdefault("id", new_zuora_id())
        if obj.number_field and not row.get(obj.number_field.lower()):
            row[obj.number_field.lower()] = self.next_number(obj)
        row.setdefault("createddate", now_ts())
        row.setdefault("updateddate", row["createddate"])
        cols = [c for c in obj.columns() if row.get(c) is not None]
        self._insert("zuora", f"main.{obj.table}", obj.name, row, cols, self._zuora_field(obj))
        return row

    def update_zuora(self, obj: ZuoraObject, current: dict[str, Any], changes: dict[str, Any]) -> list[str]:
        """Set the changed fields (column names) of `current`; returns the fields that really changed."""
        return self._update("zuora", f"main.{obj.table}", obj.name, "id", current, changes, "updateddate",
                            self._zuora_field(obj))

    # ---- NetSuite -------------------------------------------------------------------------------------------
    def insert_ns(self, table: str, values: dict[str, Any]) -> int:
        """Insert a NetSuite row; assigns the internal id (and a tranid for transactions) when not given."""
        row = {k: v for k, v in values.items() if v is not None}
        if "id" not in row:
            row["id"] = self.conn.execute(f'SELECT coalesce(max(id), 0) + 1 FROM ns."{table}"').fetchone()[0]
        if table == "transaction":
            row.setdefault("tranid", ns_tranid(row.get("type", ""), row["id"]))
            row.setdefault("createddate", now_ts())
            row.setdefault("lastmodifieddate", row["createddate"])
        known = {c for c, _ in NS_TABLES[table]}
        self._insert("netsuite", f'ns."{table}"', table, row, [c for c in row if c in known], str)
        return row["id"]

    def update_ns(self, table: str, current: dict[str, Any], changes: dict[str, Any]) -> list[str]:
        key = "scriptid" if table == "customfield" else "id"
        stamp = "lastmodifieddate" if table == "transaction" else None
        return self._update("netsuite", f'ns."{table}"', table, key, current, changes, stamp, str)


def parse_date(value: Any, what: str) -> str | None:
    """'YYYY-MM-DD' or None; raises ValueError naming the setting and the expected form."""
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ValueError(f"{what} must be a date like 2026-10-01 (or null to clear it), not {value!r}") from None
