"""The run's memory: one SQLite database per profile (`<data_dir>/journal.db`).

It keeps the run variables (with their history), every check result ever taken, the people's confirmations,
ticket numbers, every plan with each planned item and its outcome, and an audit row for every write the tool
made (request id, record, old value, new value). WAL with synchronous=NORMAL: a committed row survives the
process being killed, which is what resuming an apply relies on.

`apply_lock(...)` (core.locking) is the OS file lock that keeps two applies off the same profile; the OS drops it
when the holder dies, however it dies.

A file that cannot be used ends in one JournalError that names it and what to do (core.journal_faults): damaged, not
a database, a folder, another program's database, a schema that does not match its version, read-only, a full disk.
Another process holding the write lock is waited for `busy_timeout` seconds (a few, never forever), then JournalBusy
names who has the journal open: each process that opens it is recorded beside it while it does (core.locking).

Every row a person causes (a variable, a confirmation, a waiver, a ticket, a plan, a write) names the operator
recorded in the profile ("Name <email>"), never the OS account: `Journal(path, operator=...)`. A journal opened
without one can be read, and refuses to record.

The schema carries a version (`PRAGMA user_version`); opening an older journal migrates it in place, step by step,
each step in its own transaction, so a journal begun by an older cutover opens in the middle of a cutover.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import Any

from core.errors import ConfigError, JournalError
from core.journal_faults import check_schema, explain, refuse_foreign, tables
from core.journal_plans import PlanBook
from core.journal_schema import MIGRATIONS, SCHEMA, SCHEMA_VERSION, expected_tables
from core.locking import ApplyBusy, Presence, apply_lock  # noqa: F401  (apply_lock and ApplyBusy are used from here)
from core.runbook.model import CheckResult, Confirmation, Status, TicketRecord, Waiver, utc_now
from core.runbook.variables import RunVariables

# How long a write waits for another process's write to end before JournalBusy names it: a write transaction of
# ours lasts milliseconds, so seconds of waiting mean something else holds the lock.
BUSY_TIMEOUT_S = 5.0
# Monitor samples kept: past this, every other one of the older half goes, so the whole watch stays covered at a
# coarser step (a day at 5 s is 17,280 samples; the chart needs a few hundred points).
MONITOR_SAMPLES_KEPT = 600


class OperatorMissing(ConfigError):
    """Nobody is named to record this under."""


class Journal(PlanBook):
    def __init__(self, path: Path | str, *, operator: str | None = None, busy_timeout: float = BUSY_TIMEOUT_S):
        self.path = Path(path)
        self.operator = operator
        self.busy_timeout = busy_timeout
        self._lock = threading.RLock()
        if self.path.is_dir():
            raise JournalError(f"the journal {self.path} is a folder, not a file",
                               hint=f"move it aside (rename it to {self.path.name}.folder) and the next command starts "
                                    f"a new journal, or restore {self.path.name} from a backup")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(f"cannot create the folder {self.path.parent} for the journal: {exc.strerror}",
                               hint="make its parent writable for you, or set the profile's data_dir to a writable "
                                    "folder in the config file (`cutover locate config`)") from None
        self._presence = Presence(self.path)
        try:
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None,
                                       timeout=busy_timeout)
        except sqlite3.Error as exc:
            self._presence.leave()
            raise self._fault(exc) from None
        self._db.row_factory = sqlite3.Row
        try:
            self._migrate()
        except sqlite3.Error as exc:
            self._close()
            raise self._fault(exc) from None
        except BaseException:
            self._close()
            raise

    def _fault(self, exc: sqlite3.Error) -> Exception:
        """The one-line JournalError for a fault of the file or the disk; any other error as it is."""
        return explain(self.path, exc, waited=self.busy_timeout, me=self._presence) or exc

    def _close(self) -> None:
        with suppress(sqlite3.Error):
            self._db.close()
        self._presence.leave()

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise JournalError(f"the journal {self.path} was written by a newer cutover (schema {version}; this one "
                               f"reads up to {SCHEMA_VERSION})", hint="upgrade cutover to open it")
        if version == 0:  # read before anything is written: another program's database is left as it was
            refuse_foreign(self.path, tables(self._db), expected_tables(0))
        else:
            check_schema(self.path, tables(self._db), expected_tables(version), version)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        if version == 0:
            self._db.executescript(SCHEMA)
            check_schema(self.path, tables(self._db), expected_tables(0), 0)
        for target in range(version + 1, SCHEMA_VERSION + 1):
            # executescript commits first; the BEGIN in the script makes each step all-or-nothing.
            self._db.executescript(f"BEGIN IMMEDIATE; {MIGRATIONS[target]}\nPRAGMA user_version = {target}; COMMIT;")

    @property
    def schema_version(self) -> int:
        return int(self._rows("PRAGMA user_version")[0][0])

    @classmethod
    def for_profile(cls, profile) -> Journal:
        return cls(Path(profile.data_dir) / "journal.db", operator=getattr(profile, "operator_label", None))

    def who(self, who: str | None = None) -> str:
        """The name a row is recorded under: the given one, else the profile's operator."""
        name = who or self.operator
        if not name:
            raise OperatorMissing("who is doing this? The journal records a name and an email with every "
                                  "confirmation, waiver, ticket and write",
                                  hint="record yours once: cutover profile operator PROFILE --name NAME --email "
                                       "EMAIL (or set CUTOVER_OPERATOR='Name <email>')")
        return name

    def close(self) -> None:
        with self._lock:
            self._close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")  # waits up to busy_timeout for another writer
            except sqlite3.Error as exc:
                raise self._fault(exc) from None
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException as exc:
                if self._db.in_transaction:
                    with suppress(sqlite3.Error):  # a full disk can refuse the rollback too; SQLite undoes it later
                        self._db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._fault(exc) from None
                raise

    def _rows(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise self._fault(exc) from None

    # ---- tables other modules keep in this file (core.instances: the connector register) ----------------------
    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT on the journal's connection (rolled back on any error)."""
        return self._tx()

    def query(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in self._rows(sql, params)]

    # ---- run variables ----------------------------------------------------------------------------------------
    def variables(self) -> RunVariables:
        return RunVariables.load({r["name"]: r["value"] for r in self._rows("SELECT name, value FROM variable")})

    def set_variable(self, name: str, text: str | None, who: str | None = None) -> RunVariables:
        """Parse and store one variable (ConfigError naming the expected form when it does not parse)."""
        updated = self.variables().set(name, text)
        name = RunVariables.canonical(name)
        value, at, who = updated.dump()[name], utc_now(), self.who(who)
        with self._tx() as db:
            db.execute("INSERT INTO variable(name, value, set_at, set_by) VALUES (?,?,?,?) ON CONFLICT(name) DO "
                       "UPDATE SET value = excluded.value, set_at = excluded.set_at, set_by = excluded.set_by",
                       (name, value, at, who))
            db.execute("INSERT INTO variable_history(name, value, set_at, set_by) VALUES (?,?,?,?)",
                       (name, value, at, who))
        return updated

    def variable_history(self, name: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self._rows(
            "SELECT name, value, set_at, set_by FROM variable_history WHERE name = ? ORDER BY id", (name,))]

    # ---- check results ----------------------------------------------------------------------------------------
    def variables_set_since(self, when: str) -> bool:
        """Whether a run variable was set after `when` (a check's time): a check reads them (C6 freeze_ts, B3 the
        target date), so a result from before may have been counted against an old value."""
        row = self._rows("SELECT max(set_at) AS t FROM variable_history")
        latest = row[0]["t"] if row else None
        return bool(latest) and latest > when

    def recorded_since(self, when: str) -> bool:
        """Whether a person recorded anything after `when` (a check's time): a variable, a confirmation, a ticket,
        a waiver, their withdrawal, or the end of an apply. A result taken before that may read a world the
        run has moved past (C6 checked before freeze_ts was set; I2 before I1 was confirmed)."""
        row = self._rows(
            "SELECT max(t) AS t FROM (SELECT max(set_at) AS t FROM variable_history UNION ALL "
            "SELECT max(max(at), coalesce(max(withdrawn_at), '')) FROM confirmation UNION ALL SELECT max(at) FROM ticket "
            "UNION ALL SELECT max(max(at), coalesce(max(withdrawn_at), '')) FROM waiver UNION ALL "
            "SELECT max(ended_at) FROM apply_run)")
        latest = row[0]["t"] if row else None
        return bool(latest) and latest > when

    def record_result(self, result: CheckResult) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO check_result(step_id, status, count, summary, details, sample, query, "
                       "checked_at, error) VALUES (?,?,?,?,?,?,?,?,?)",
                       (result.step_id, str(result.status), result.count, result.summary,
                        json.dumps(result.details), json.dumps(list(result.sample), default=str), result.query,
                        result.checked_at, result.error))

    @staticmethod
    def _result(row: sqlite3.Row) -> CheckResult:
        return CheckResult(step_id=row["step_id"], status=Status(row["status"]), count=row["count"],
                           summary=row["summary"], sample=tuple(json.loads(row["sample"] or "[]")),
                           query=row["query"] or "", checked_at=row["checked_at"], error=row["error"],
                           details=json.loads(row["details"] or "{}"))

    def latest_results(self) -> dict[str, CheckResult]:
        rows = self._rows("SELECT * FROM check_result WHERE id IN (SELECT max(id) FROM check_result GROUP BY "
                          "step_id)")
        return {r["step_id"]: self._result(r) for r in rows}

    def latest_result(self, step_id: str) -> CheckResult | None:
        rows = self._rows("SELECT * FROM check_result WHERE step_id = ? ORDER BY id DESC LIMIT 1", (step_id,))
        return self._result(rows[0]) if rows else None

    def result_history(self, step_id: str, limit: int = 100) -> list[CheckResult]:
        """Newest first."""
        rows = self._rows("SELECT * FROM check_result WHERE step_id = ? ORDER BY id DESC LIMIT ?", (step_id, limit))
        return [self._result(r) for r in rows]

    # ---- confirmations and tickets ------------------------------------------------------------------------------
    def confirm(self, step_id: str, note: str, who: str | None = None) -> Confirmation:
        done = Confirmation(step_id, self.who(who), utc_now(), note)
        with self._tx() as db:
            db.execute("INSERT INTO confirmation(step_id, who, at, note) VALUES (?,?,?,?)",
                       (done.step_id, done.who, done.at, done.note))
        return done

    def withdraw_confirmation(self, step_id: str, who: str | None = None) -> Confirmation | None:
        """Take back the step's standing confirmation (kept in the history, marked withdrawn); None if none."""
        with self._tx() as db:
            row = db.execute("SELECT * FROM confirmation WHERE step_id = ? AND withdrawn_at IS NULL ORDER BY id "
                             "DESC LIMIT 1", (step_id,)).fetchone()
            if row is None:
                return None
            db.execute("UPDATE confirmation SET withdrawn_by = ?, withdrawn_at = ? WHERE step_id = ? AND "
                       "withdrawn_at IS NULL", (self.who(who), utc_now(), step_id))
        return Confirmation(row["step_id"], row["who"], row["at"], row["note"])

    def confirmations(self) -> dict[str, Confirmation]:
        """The standing (latest, not withdrawn) confirmation of each step."""
        rows = self._rows("SELECT * FROM confirmation WHERE id IN (SELECT max(id) FROM confirmation GROUP BY "
                          "step_id) AND withdrawn_at IS NULL")
        return {r["step_id"]: Confirmation(r["step_id"], r["who"], r["at"], r["note"]) for r in rows}

    def confirmation_history(self, step_id: str) -> list[Confirmation]:
        rows = self._rows("SELECT * FROM confirmation WHERE step_id = ? ORDER BY id", (step_id,))
        return [Confirmation(r["step_id"], r["who"], r["at"], r["note"]) for r in rows]

    # ---- waivers ------------------------------------------------------------------------------------------------
    def waive(self, step_id: str, reason: str, who: str | None = None) -> Waiver:
        waiver = Waiver(step_id, self.who(who), utc_now(), reason.strip())
        with self._tx() as db:
            db.execute("UPDATE waiver SET withdrawn_by = ?, withdrawn_at = ?, withdraw_reason = ? WHERE step_id = ? "
                       "AND withdrawn_at IS NULL", (waiver.who, waiver.at, "replaced by a new waiver", step_id))
            db.execute("INSERT INTO waiver(step_id, who, at, reason) VALUES (?,?,?,?)",
                       (waiver.step_id, waiver.who, waiver.at, waiver.reason))
        return waiver

    def withdraw_waiver(self, step_id: str, reason: str, who: str | None = None) -> Waiver | None:
        """End the step's standing waiver; None if it had none."""
        with self._tx() as db:
            row = db.execute("SELECT * FROM waiver WHERE step_id = ? AND withdrawn_at IS NULL ORDER BY id DESC "
                             "LIMIT 1", (step_id,)).fetchone()
            if row is None:
                return None
            db.execute("UPDATE waiver SET withdrawn_by = ?, withdrawn_at = ?, withdraw_reason = ? WHERE id = ?",
                       (self.who(who), utc_now(), reason.strip(), row["id"]))
        return _waiver(row)

    def waivers(self) -> dict[str, Waiver]:
        """The standing waiver of each step."""
        rows = self._rows("SELECT * FROM waiver WHERE withdrawn_at IS NULL ORDER BY id")
        return {r["step_id"]: _waiver(r) for r in rows}

    def waiver_history(self) -> list[dict[str, Any]]:
        """Every waiver ever given, withdrawn ones included, oldest first (for the report)."""
        return [dict(r) for r in self._rows("SELECT * FROM waiver ORDER BY id")]

    # ---- baselines (per-key counts a later check compares against: H2's per-customer credits) ------------------
    def record_baseline(self, name: str, values: dict[str, int], step_id: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM baseline WHERE name = ?", (name,))
            db.executemany("INSERT INTO baseline(name, key, value) VALUES (?,?,?)",
                           [(name, str(k), int(v)) for k, v in values.items()])
            db.execute("INSERT INTO baseline_set(name, step_id, recorded_at, rows) VALUES (?,?,?,?) ON CONFLICT(name) "
                       "DO UPDATE SET step_id = excluded.step_id, recorded_at = excluded.recorded_at, "
                       "rows = excluded.rows", (name, step_id, utc_now(), len(values)))

    def baseline(self, name: str) -> dict[str, int] | None:
        """The recorded counts by key, or None when the baseline was never recorded."""
        if not self._rows("SELECT 1 FROM baseline_set WHERE name = ?", (name,)):
            return None
        return {r["key"]: r["value"] for r in self._rows("SELECT key, value FROM baseline WHERE name = ?", (name,))}

    def record_ticket(self, step_id: str, number: str, who: str | None = None) -> TicketRecord:
        record = TicketRecord(step_id, number.strip(), self.who(who), utc_now())
        with self._tx() as db:
            db.execute("INSERT INTO ticket(step_id, number, who, at) VALUES (?,?,?,?)",
                       (record.step_id, record.number, record.who, record.at))
        return record

    def ticket_history(self) -> list[TicketRecord]:
        rows = self._rows("SELECT * FROM ticket ORDER BY id")
        return [TicketRecord(r["step_id"], r["number"], r["who"], r["at"]) for r in rows]

    def tickets(self) -> dict[str, TicketRecord]:
        rows = self._rows("SELECT * FROM ticket WHERE id IN (SELECT max(id) FROM ticket GROUP BY step_id)")
        return {r["step_id"]: TicketRecord(r["step_id"], r["number"], r["who"], r["at"]) for r in rows}

    # ---- monitor samples (the report's sync chart) -----------------------------------------------------------
    def keep_monitor_sample(self, taken_at: str, invoice_settlement: bool, rows: list[dict[str, Any]]) -> None:
        """One sample's counts per object and direction; at most MONITOR_SAMPLES_KEPT are kept (the first stays)."""
        with self._tx() as db:
            db.execute("INSERT INTO monitor_sample(taken_at, invoice_settlement, rows) VALUES (?,?,?)",
                       (taken_at, int(invoice_settlement), json.dumps(rows)))
            if db.execute("SELECT count(*) FROM monitor_sample").fetchone()[0] > MONITOR_SAMPLES_KEPT:
                db.execute("DELETE FROM monitor_sample WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER "
                           "(ORDER BY id) AS n FROM monitor_sample) WHERE n % 2 = 0 AND n <= ?)",
                           (MONITOR_SAMPLES_KEPT // 2,))

    def monitor_samples(self) -> list[dict[str, Any]]:
        """The kept samples, oldest first: taken_at, invoice_settlement, rows (one dict per object and side)."""
        return [{"taken_at": r["taken_at"], "invoice_settlement": bool(r["invoice_settlement"]),
                 "rows": json.loads(r["rows"])} for r in self._rows("SELECT * FROM monitor_sample ORDER BY id")]


def _waiver(row: sqlite3.Row) -> Waiver:
    return Waiver(row["step_id"], row["who"], row["at"], row["reason"])
