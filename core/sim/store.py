"""The simulated tenant's state: one SQLite file, Zuora tables in `main`, NetSuite tables attached as `ns`.

One connection behind a lock: the simulator serialises its own writes, which also makes the write log a true
order of events. Route handlers call the store from a worker thread so that a slow query never stalls the
event loop that holds other requests' latency timers.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.objects import ZUORA_OBJECTS
from core.sim.catalog import NS_TABLES

SIM_TABLES = {
    "sim_setting": "key TEXT PRIMARY KEY, value TEXT",
    # Every write any party makes to a record, in order: the kill test and the journal check read it.
    "sim_write_log": "seq INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT, source TEXT, system TEXT, object TEXT, "
    "record_id TEXT, field TEXT, old_value TEXT, new_value TEXT, request_id TEXT",
    # Each connector instance runs on its own: `state` running (scheduled, Run Now allowed) or stopped; `mode`
    # the rules it was provisioned for: "legacy" (IS off: IIAs, negative invoices) or "invoice-settlement".
    "sim_instance": "id TEXT PRIMARY KEY, account_id TEXT, environment_id TEXT, environment TEXT, "
    "oauth_client_id TEXT, status TEXT, created TEXT, state TEXT DEFAULT 'stopped', mode TEXT DEFAULT 'legacy'",
    "sim_oauth_client": "client_id TEXT PRIMARY KEY, client_secret TEXT, name TEXT, active INTEGER, created TEXT",
    "sim_connector_run": "id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT, trigger TEXT, started TEXT, "
    "ended TEXT, summary TEXT",
    "sim_query_job": "id TEXT PRIMARY KEY, query TEXT, status TEXT, created TEXT, updated TEXT, "
    "output_rows INTEGER, file_path TEXT, error TEXT",
    # The connector's Warning log, as far as a drill-down needs it: the latest error message per failed record
    # (overwritten on each failure, bounded by the connector), read-only under GET /_sim/connector/errors.
    "sim_connector_error": "record_id TEXT PRIMARY KEY, direction TEXT, step TEXT, run_id INTEGER, ts TEXT, "
    "message TEXT",
}


def now_ts() -> str:
    """UTC timestamp in the store's format: sorts as text, and is SQLite's own datetime format."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def write_log_row(*, source: str, system: str, object: str, record_id: str, field: str, old: Any, new: Any,
                  request_id: str | None = None, ts: str | None = None) -> tuple:
    return (ts or now_ts(), source, system, object, str(record_id), field,
            None if old is None else str(old), None if new is None else str(new), request_id)


def plain_rows(conn: sqlite3.Connection, sql: str, params: Sequence[Any] | dict = ()) -> Iterator[dict[str, Any]]:
    """Rows as plain dicts built in C: several times cheaper than dict(sqlite3.Row) on a hot path."""
    cursor = conn.cursor()
    cursor.row_factory = None
    cursor.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return (dict(zip(names, row)) for row in cursor)


class Store:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=OFF")  # a simulator: speed over durability
        self.conn.execute("ATTACH DATABASE ? AS ns", (str(self.path.with_suffix(".netsuite.db")),))
        # Pragmas are per schema: without these, every NetSuite write waits for an fsync.
        self.conn.execute("PRAGMA ns.journal_mode=WAL")
        self.conn.execute("PRAGMA ns.synchronous=OFF")
        self._create_schema()

    # ---- schema ---------------------------------------------------------------------------------------------
    def _create_schema(self) -> None:
        with self.lock:
            for obj in ZUORA_OBJECTS.values():
                cols = ", ".join(
                    f"{f.column} {'TEXT PRIMARY KEY' if f.column == 'id' else f.sql_type}" for f in obj.all_fields
                )
                self.conn.execute(f"CREATE TABLE IF NOT EXISTS main.{obj.table} ({cols})")
            for table, cols in NS_TABLES.items():
                spec = ", ".join(f"{c} {t}" for c, t in cols)
                self.conn.execute(f"CREATE TABLE IF NOT EXISTS ns.\"{table}\" ({spec})")  # transaction is a keyword
            for table, spec in SIM_TABLES.items():
                self.conn.execute(f"CREATE TABLE IF NOT EXISTS main.{table} ({spec})")
                self._add_missing_columns(f"main.{table}", spec)
            for table, cols in NS_TABLES.items():
                self._add_missing_columns(f'ns."{table}"', ", ".join(f"{c} {t}" for c, t in cols))

    def _add_missing_columns(self, table: str, spec: str) -> None:
        """A data dir kept from an older simulator gains the columns added since (`sim serve --data-dir`)."""
        schema, _, name = table.partition(".")
        have = {r[1] for r in self.conn.execute(f"PRAGMA {schema}.table_info({name})")}
        for column in spec.split(", "):
            col = column.split()[0]
            if col not in have and "PRIMARY KEY" not in column:
                self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column}")

    def create_indexes(self) -> None:
        """Indexes the connector and the checks lean on; built after a bulk seed (faster than during it)."""
        stmts = [
            "CREATE INDEX IF NOT EXISTS main.ix_invoice_acct ON invoice(accountid)",
            "CREATE INDEX IF NOT EXISTS main.ix_invoice_tta ON invoice(transferredtoaccounting, status)",
            "CREATE INDEX IF NOT EXISTS main.ix_invoice_number ON invoice(invoicenumber)",
            "CREATE INDEX IF NOT EXISTS main.ix_payment_tta ON payment(transferredtoaccounting, status)",
            "CREATE INDEX IF NOT EXISTS main.ix_cm_reason ON creditmemo(reasoncode)",
            "CREATE INDEX IF NOT EXISTS main.ix_cm_number ON creditmemo(memonumber)",
            "CREATE INDEX IF NOT EXISTS ns.ix_txn_type ON \"transaction\"(type)",
            "CREATE INDEX IF NOT EXISTS ns.ix_txn_zid ON \"transaction\"(custbodyzuoraid)",
        ]
        with self.lock:
            for s in stmts:
                self.conn.execute(s)
            self.conn.execute("ANALYZE")

    # ---- access ---------------------------------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] | dict = ()) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self.conn.execute(sql, params)]

    def query_one(self, sql: str, params: Sequence[Any] | dict = ()) -> dict[str, Any] | None:
        with self.lock:
            row = self.conn.execute(sql, params).fetchone()
            return dict(row) if row is not None else None

    def scalar(self, sql: str, params: Sequence[Any] | dict = ()) -> Any:
        with self.lock:
            row = self.conn.execute(sql, params).fetchone()
            return row[0] if row is not None else None

    def iter_query(self, sql: str, params: Sequence[Any] | dict = (), chunk: int = 1000) -> Iterator[dict]:
        """Stream a large result without holding it: the lock is taken per chunk, not for the whole scan. Rows are
        plain dicts built in C (a Data Query job's rows at a few times the speed of dict(sqlite3.Row))."""
        with self.lock:
            cur = self.conn.cursor()
            cur.row_factory = None
            cur.execute(sql, params)
        names = [d[0] for d in cur.description or ()]
        first = {}  # a name twice (SELECT a.id, b.id) keeps its first column, as dict(sqlite3.Row) did
        for i, name in enumerate(names):
            first.setdefault(name, i)
        while True:
            with self.lock:
                rows = cur.fetchmany(chunk)
            if not rows:
                return
            if len(first) == len(names):
                yield from (dict(zip(names, row)) for row in rows)
            else:
                yield from ({name: row[i] for name, i in first.items()} for row in rows)

    def execute(self, sql: str, params: Sequence[Any] | dict = ()) -> int:
        with self.lock:
            return self.conn.execute(sql, params).rowcount

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.lock:
            self.conn.executemany(sql, rows)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self.conn.execute("BEGIN")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    # ---- settings -------------------------------------------------------------------------------------------
    def setting(self, key: str, default: Any = None) -> Any:
        v = self.scalar("SELECT value FROM sim_setting WHERE key = ?", (key,))
        return default if v is None else json.loads(v)

    def set_setting(self, key: str, value: Any) -> None:
        self.execute(
            "INSERT INTO sim_setting(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )

    @property
    def invoice_settlement(self) -> bool:
        return bool(self.setting("invoice_settlement", False))

    @property
    def harmonization(self) -> bool:
        """Invoice Settlement Harmonization: credit and debit memos next to IIAs and credit balance, no payment
        parts yet (runbook R12); the migration to IS is still to come."""
        return bool(self.setting("harmonization", False))

    @property
    def memos_enabled(self) -> bool:
        """Credit and debit memos exist (IS, or ISH on the way to it)."""
        return self.invoice_settlement or self.harmonization

    @property
    def connector_installed(self) -> bool:
        """The __NS fields exist only where the NetSuite connector's custom fields were installed."""
        return bool(self.setting("connector.installed", True))

    # ---- the write log --------------------------------------------------------------------------------------
    def log_write(
        self, conn: sqlite3.Connection, *, source: str, system: str, object: str, record_id: str, field: str,
        old: Any, new: Any, request_id: str | None = None,
    ) -> None:
        """Record one field change. Call inside the transaction that makes the change."""
        self.log_writes(conn, [write_log_row(source=source, system=system, object=object, record_id=record_id,
                                             field=field, old=old, new=new, request_id=request_id)])

    def log_writes(self, conn: sqlite3.Connection, rows: Iterable[tuple]) -> None:
        """Record many field changes (rows from `write_log_row`) in one statement, inside the change's transaction."""
        conn.executemany(
            "INSERT INTO sim_write_log(ts, source, system, object, record_id, field, old_value, new_value, "
            "request_id) VALUES (?,?,?,?,?,?,?,?,?)", rows)

    def close(self) -> None:
        with self.lock:
            self.conn.close()
