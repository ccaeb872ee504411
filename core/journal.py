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

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from functools import cache
from pathlib import Path
from typing import Any

from core.errors import ConfigError, CutoverError, JournalError
from core.journal_faults import check_schema, explain, refuse_foreign, tables
from core.locking import ApplyBusy, Presence, apply_lock  # noqa: F401  (apply_lock and ApplyBusy are used from here)
from core.runbook.model import CheckResult, Confirmation, PlanSummary, Status, TicketRecord, Waiver, utc_now
from core.runbook.variables import RunVariables

_SCHEMA = """
CREATE TABLE IF NOT EXISTS variable (name TEXT PRIMARY KEY, value TEXT, set_at TEXT, set_by TEXT);
CREATE TABLE IF NOT EXISTS variable_history (id INTEGER PRIMARY KEY, name TEXT, value TEXT, set_at TEXT,
    set_by TEXT);
CREATE TABLE IF NOT EXISTS check_result (id INTEGER PRIMARY KEY, step_id TEXT, status TEXT, count INTEGER,
    summary TEXT, details TEXT, sample TEXT, query TEXT, checked_at TEXT, error TEXT);
CREATE INDEX IF NOT EXISTS check_result_step ON check_result(step_id, id);
CREATE TABLE IF NOT EXISTS confirmation (id INTEGER PRIMARY KEY, step_id TEXT, who TEXT, at TEXT, note TEXT);
CREATE TABLE IF NOT EXISTS ticket (id INTEGER PRIMARY KEY, step_id TEXT, number TEXT, who TEXT, at TEXT);
CREATE TABLE IF NOT EXISTS plan (id INTEGER PRIMARY KEY, step_id TEXT, system TEXT, object TEXT, field TEXT,
    new_value TEXT, total INTEGER DEFAULT 0, calls INTEGER DEFAULT 0, estimate_s REAL DEFAULT 0,
    concurrency INTEGER DEFAULT 1, created_at TEXT, created_by TEXT, status TEXT);
CREATE TABLE IF NOT EXISTS plan_item (plan_id INTEGER, seq INTEGER, record_id TEXT, number TEXT, current TEXT,
    new TEXT, status TEXT DEFAULT 'pending', outcome TEXT, error TEXT, request_id TEXT, at TEXT,
    PRIMARY KEY (plan_id, seq));
CREATE INDEX IF NOT EXISTS plan_item_status ON plan_item(plan_id, status, seq);
CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY, at TEXT, who TEXT, step_id TEXT, plan_id INTEGER,
    system TEXT, object TEXT, record_id TEXT, field TEXT, old TEXT, new TEXT, request_id TEXT);
CREATE TABLE IF NOT EXISTS apply_run (id INTEGER PRIMARY KEY, plan_id INTEGER, pid INTEGER, started_at TEXT,
    ended_at TEXT, outcome TEXT, written INTEGER DEFAULT 0, failed INTEGER DEFAULT 0, write_calls INTEGER DEFAULT 0);
"""
# Each entry takes the schema from the version before it to its own number. Never edit one that has shipped:
# add the next. Version 0 is _SCHEMA as the first release wrote it (no user_version).
_MIGRATIONS: dict[int, str] = {
    1: """
CREATE TABLE waiver (id INTEGER PRIMARY KEY, step_id TEXT, who TEXT, at TEXT, reason TEXT, withdrawn_by TEXT,
    withdrawn_at TEXT, withdraw_reason TEXT);
CREATE INDEX waiver_step ON waiver(step_id, id);
ALTER TABLE confirmation ADD COLUMN withdrawn_by TEXT;
ALTER TABLE confirmation ADD COLUMN withdrawn_at TEXT;
CREATE TABLE baseline (name TEXT, key TEXT, value INTEGER, PRIMARY KEY (name, key));
CREATE TABLE baseline_set (name TEXT PRIMARY KEY, step_id TEXT, recorded_at TEXT, rows INTEGER);
""",
    # Sealed plans (the hash of what the plan showed), and the records an apply skipped because they no longer
    # matched the plan, in the audit log next to the writes.
    2: """
ALTER TABLE plan ADD COLUMN seal TEXT;
ALTER TABLE audit ADD COLUMN outcome TEXT;
ALTER TABLE apply_run ADD COLUMN skipped INTEGER DEFAULT 0;
""",
    # Undo (core.runbook.undo): a plan that takes back another plan's writes names it, and keeps the reason a
    # person typed to undo E1/E2 after the new connector's first run (H1).
    3: """
ALTER TABLE plan ADD COLUMN undoes INTEGER;
ALTER TABLE plan ADD COLUMN override_reason TEXT;
""",
    # The monitor's samples, for the report's sync chart (bounded: see keep_monitor_sample), and the index the
    # report's audit log uses to show each record by its number.
    4: """
CREATE TABLE monitor_sample (id INTEGER PRIMARY KEY, taken_at TEXT, invoice_settlement INTEGER, rows TEXT);
CREATE INDEX plan_item_record ON plan_item(plan_id, record_id);
""",
}
SCHEMA_VERSION = max(_MIGRATIONS)
# How long a write waits for another process's write to end before JournalBusy names it: a write transaction of
# ours lasts milliseconds, so seconds of waiting mean something else holds the lock.
BUSY_TIMEOUT_S = 5.0
# Monitor samples kept: past this, every other one of the older half goes, so the whole watch stays covered at a
# coarser step (a day at 5 s is 17,280 samples; the chart needs a few hundred points).
MONITOR_SAMPLES_KEPT = 600
ITEM_STATES = ("pending", "sent", "done", "failed", "skipped")


class OperatorMissing(ConfigError):
    """Nobody is named to record this under."""


class Journal:
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
            refuse_foreign(self.path, tables(self._db), _expected_tables(0))
        else:
            check_schema(self.path, tables(self._db), _expected_tables(version), version)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        if version == 0:
            self._db.executescript(_SCHEMA)
            check_schema(self.path, tables(self._db), _expected_tables(0), 0)
        for target in range(version + 1, SCHEMA_VERSION + 1):
            # executescript commits first; the BEGIN in the script makes each step all-or-nothing.
            self._db.executescript(f"BEGIN IMMEDIATE; {_MIGRATIONS[target]}\nPRAGMA user_version = {target}; COMMIT;")

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

    # ---- plans --------------------------------------------------------------------------------------------------
    def create_plan(self, step_id: str, *, system: str, object: str, field: str, new_value: str,
                    concurrency: int, undoes: int | None = None, override_reason: str | None = None) -> int:
        """A new plan in state `planning`; earlier unfinished plans of the step are superseded. An undo plan
        (`undoes`: the plan whose writes it takes back) supersedes only earlier undo plans of that same plan."""
        with self._tx() as db:
            db.execute("UPDATE plan SET status = 'superseded' WHERE step_id = ? AND undoes IS ? AND status IN "
                       "('planning', 'planned', 'cancelled', 'failed')", (step_id, undoes))
            cur = db.execute("INSERT INTO plan(step_id, system, object, field, new_value, concurrency, created_at, "
                             "created_by, status, undoes, override_reason) VALUES (?,?,?,?,?,?,?,?, 'planning',?,?)",
                             (step_id, system, object, field, new_value, concurrency, utc_now(), self.who(), undoes,
                              override_reason))
            return int(cur.lastrowid)

    def add_plan_items(self, plan_id: int, items: Iterable[tuple[str, str | None, str | None, str]]) -> int:
        """Append (record_id, number, current value, new value) rows; one transaction per call."""
        with self._tx() as db:
            start = db.execute("SELECT coalesce(max(seq), 0) FROM plan_item WHERE plan_id = ?",
                               (plan_id,)).fetchone()[0]
            rows = [(plan_id, start + i, rid, num, cur, new) for i, (rid, num, cur, new) in enumerate(items, 1)]
            db.executemany("INSERT INTO plan_item(plan_id, seq, record_id, number, current, new) "
                           "VALUES (?,?,?,?,?,?)", rows)
            return len(rows)

    def finish_plan(self, plan_id: int, *, calls: int, estimate_s: float) -> PlanSummary:
        """The plan complete: counted, and sealed with the hash of what it shows (see `seal_of`)."""
        seal = self.seal_of(plan_id)
        with self._tx() as db:
            db.execute("UPDATE plan SET status = 'planned', calls = ?, estimate_s = ?, seal = ?, total = (SELECT "
                       "count(*) FROM plan_item WHERE plan_id = ?) WHERE id = ?",
                       (calls, estimate_s, seal, plan_id, plan_id))
        return self.plan(plan_id)

    def seal_of(self, plan_id: int) -> str:
        """SHA-256 over what the plan shows a person: its step, system, object, field and new value, then each
        item's record id, number and old value in seq order. Recomputed from the journal before an apply, so an
        item changed, added or removed since the plan was made is caught. Streamed: flat memory at any size."""
        rows = self._rows("SELECT step_id, system, object, field, new_value, undoes, override_reason FROM plan "
                          "WHERE id = ?", (plan_id,))
        if not rows:
            raise CutoverError(f"no plan {plan_id} in the journal", hint="make one with `cutover plan STEP`")
        head = list(rows[0])
        # An undo plan's seal also covers what it undoes and why (a plan's seal from before undo is unchanged).
        digest = hashlib.sha256(json.dumps(head if head[5] is not None else head[:5]).encode())
        last = 0
        while True:  # its own keyset read: item statuses do not enter the seal, so a resumed plan keeps it
            items = self._rows("SELECT seq, record_id, number, current FROM plan_item WHERE plan_id = ? AND seq > ? "
                               "ORDER BY seq LIMIT 2000", (plan_id, last))
            if not items:
                return digest.hexdigest()
            for r in items:
                digest.update(b"\n" + json.dumps([r["seq"], r["record_id"], r["number"], r["current"]]).encode())
            last = items[-1]["seq"]

    def plan(self, plan_id: int) -> PlanSummary:
        rows = self._rows("SELECT * FROM plan WHERE id = ?", (plan_id,))
        if not rows:
            raise CutoverError(f"no plan {plan_id} in the journal", hint="make one with `cutover plan STEP`")
        r = rows[0]
        counts = {s["status"]: s["n"] for s in self._rows(
            "SELECT status, count(*) AS n FROM plan_item WHERE plan_id = ? GROUP BY status", (plan_id,))}
        return PlanSummary(plan_id=r["id"], step_id=r["step_id"], system=r["system"], object=r["object"],
                           field=r["field"], new_value=r["new_value"], total=r["total"], calls=r["calls"],
                           estimate_s=r["estimate_s"], limit=r["concurrency"], created_at=r["created_at"],
                           status=r["status"], counts={s: counts.get(s, 0) for s in ITEM_STATES}, seal=r["seal"],
                           undoes=r["undoes"], override_reason=r["override_reason"], created_by=r["created_by"])

    def latest_plan(self, step_id: str) -> PlanSummary | None:
        """The step's latest plan of its own fix (undo plans are found through `undo_plan`)."""
        rows = self._rows("SELECT id FROM plan WHERE step_id = ? AND status <> 'superseded' AND undoes IS NULL "
                          "ORDER BY id DESC LIMIT 1", (step_id,))
        return self.plan(rows[0]["id"]) if rows else None

    def undo_plan(self, plan_id: int) -> PlanSummary | None:
        """The standing (not superseded) plan that undoes plan `plan_id`, if any."""
        rows = self._rows("SELECT id FROM plan WHERE undoes = ? AND status <> 'superseded' ORDER BY id DESC "
                          "LIMIT 1", (plan_id,))
        return self.plan(rows[0]["id"]) if rows else None

    def plans_applied(self, step_id: str | None = None) -> list[PlanSummary]:
        """Every plan that an apply ran on (its own fix's or an undo), oldest first."""
        rows = self._rows("SELECT id FROM plan p WHERE (? IS NULL OR step_id = ?) AND EXISTS (SELECT 1 FROM "
                          "apply_run r WHERE r.plan_id = p.id) ORDER BY id", (step_id, step_id))
        return [self.plan(r["id"]) for r in rows]

    def apply_run(self, run_id: int) -> dict[str, Any] | None:
        rows = self._rows("SELECT * FROM apply_run WHERE id = ?", (run_id,))
        return dict(rows[0]) if rows else None

    def set_plan_status(self, plan_id: int, status: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE plan SET status = ? WHERE id = ?", (status, plan_id))

    def iter_plan_items(self, plan_id: int, statuses: tuple[str, ...] = ITEM_STATES, chunk: int = 500,
                        limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Stream items in seq order, a chunk at a time (keyset on seq: no cursor held between chunks)."""
        marks = ",".join("?" * len(statuses))
        last = 0
        if limit is not None:
            chunk = min(chunk, limit)
        while limit is None or limit > 0:
            rows = self._rows(f"SELECT * FROM plan_item WHERE plan_id = ? AND seq > ? AND status IN ({marks}) "
                              f"ORDER BY seq LIMIT ?", (plan_id, last, *statuses, chunk))
            if not rows:
                return
            for r in rows[:limit]:
                yield dict(r)
            last = rows[-1]["seq"]
            limit = None if limit is None else limit - len(rows)

    def claim_items(self, plan_id: int, after_seq: int, n: int, upto_seq: int | None = None) -> list[dict[str, Any]]:
        """The next n pending or failed items after `after_seq` (and up to `upto_seq`), marked `sent` before they
        leave."""
        with self._tx() as db:
            rows = [dict(r) for r in db.execute(
                "SELECT * FROM plan_item WHERE plan_id = ? AND seq > ? AND (? IS NULL OR seq <= ?) AND status IN "
                "('pending', 'failed') ORDER BY seq LIMIT ?", (plan_id, after_seq, upto_seq, upto_seq, n))]
            db.executemany("UPDATE plan_item SET status = 'sent', at = ? WHERE plan_id = ? AND seq = ?",
                           [(utc_now(), plan_id, r["seq"]) for r in rows])
        return rows

    def reset_items(self, plan_id: int, seqs: Iterable[int]) -> None:
        """`sent` items of a dead run whose write did not happen: pending again."""
        with self._tx() as db:
            db.executemany("UPDATE plan_item SET status = 'pending' WHERE plan_id = ? AND seq = ?",
                           [(plan_id, s) for s in seqs])

    def record_outcome(self, plan: PlanSummary, item: dict[str, Any], *, success: bool, outcome: str,
                       error: str | None = None, request_id: str | None = None) -> None:
        """One item's outcome, and for a write that happened its audit row, in one transaction."""
        at = utc_now()
        with self._tx() as db:
            db.execute("UPDATE plan_item SET status = ?, outcome = ?, error = ?, request_id = ?, at = ? "
                       "WHERE plan_id = ? AND seq = ?",
                       ("done" if success else "failed", outcome, error, request_id, at, plan.plan_id, item["seq"]))
            if success and outcome in ("written", "found-written"):  # ours, even if its answer was lost
                db.execute("INSERT INTO audit(at, who, step_id, plan_id, system, object, record_id, field, old, "
                           "new, request_id, outcome) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                           (at, self.who(), plan.step_id, plan.plan_id, plan.system, plan.object,
                            item["record_id"], plan.field, item["current"], item["new"], request_id, outcome))

    def record_skips(self, plan: PlanSummary, skipped: Iterable[tuple[dict[str, Any], str]]) -> int:
        """Items apply did not write because the record no longer matched the plan (item, why), with an audit row
        each (outcome `skipped`); the reason is kept as the item's error."""
        at, who = utc_now(), self.who()
        rows = list(skipped)
        with self._tx() as db:
            db.executemany("UPDATE plan_item SET status = 'skipped', outcome = 'skipped', error = ?, at = ? "
                           "WHERE plan_id = ? AND seq = ?", [(why, at, plan.plan_id, i["seq"]) for i, why in rows])
            db.executemany("INSERT INTO audit(at, who, step_id, plan_id, system, object, record_id, field, old, new, "
                           "outcome) VALUES (?,?,?,?,?,?,?,?,?,?, 'skipped')",
                           [(at, who, plan.step_id, plan.plan_id, plan.system, plan.object, i["record_id"],
                             plan.field, i["current"], i["new"]) for i, _ in rows])
        return len(rows)

    def audit_log(self, step_id: str | None = None, *, skipped: bool = False) -> Iterator[dict[str, Any]]:
        """Every write the tool made (outcome written or found-written), oldest first; with skipped=True, the
        planned records an apply left alone instead."""
        last = 0
        while True:
            rows = self._rows("SELECT * FROM audit WHERE id > ? AND (? IS NULL OR step_id = ?) AND (coalesce(outcome, "
                              "'written') = 'skipped') = ? ORDER BY id LIMIT 500", (last, step_id, step_id, skipped))
            if not rows:
                return
            yield from (dict(r) for r in rows)
            last = rows[-1]["id"]

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

    # ---- apply runs ---------------------------------------------------------------------------------------------
    def start_apply_run(self, plan_id: int) -> int:
        with self._tx() as db:
            db.execute("UPDATE plan SET status = 'applying' WHERE id = ?", (plan_id,))
            cur = db.execute("INSERT INTO apply_run(plan_id, pid, started_at) VALUES (?,?,?)",
                             (plan_id, os.getpid(), utc_now()))
            return int(cur.lastrowid)

    def end_apply_run(self, run_id: int, *, outcome: str, written: int, failed: int, write_calls: int,
                      skipped: int = 0) -> None:
        with self._tx() as db:
            db.execute("UPDATE apply_run SET ended_at = ?, outcome = ?, written = ?, failed = ?, write_calls = ?, "
                       "skipped = ? WHERE id = ?", (utc_now(), outcome, written, failed, write_calls, skipped, run_id))
            db.execute("UPDATE plan SET status = ? WHERE id = (SELECT plan_id FROM apply_run WHERE id = ?)",
                       (outcome, run_id))

    def apply_runs(self, plan_id: int) -> list[dict[str, Any]]:
        return [dict(r) for r in self._rows("SELECT * FROM apply_run WHERE plan_id = ? ORDER BY id", (plan_id,))]


def _waiver(row: sqlite3.Row) -> Waiver:
    return Waiver(row["step_id"], row["who"], row["at"], row["reason"])


@cache
def _expected_tables(version: int) -> dict[str, set[str]]:
    """The tables and columns a journal of schema `version` has: the migrations replayed on an empty database."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    try:
        db.executescript(_SCHEMA)
        for target in range(1, version + 1):
            db.executescript(_MIGRATIONS[target])
        return tables(db)
    finally:
        db.close()
