"""The journal's tables: the schema as the first release wrote it, and each migration since, by version
(`PRAGMA user_version`). core.journal opens a file and migrates it in place, a step at a time."""

from __future__ import annotations

import sqlite3
from functools import cache

from core.journal_faults import tables

SCHEMA = """
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
# add the next. Version 0 is SCHEMA as the first release wrote it (no user_version).
MIGRATIONS: dict[int, str] = {
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
SCHEMA_VERSION = max(MIGRATIONS)


@cache
def expected_tables(version: int) -> dict[str, set[str]]:
    """The tables and columns a journal of schema `version` has: the migrations replayed on an empty database."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    try:
        db.executescript(SCHEMA)
        for target in range(1, version + 1):
            db.executescript(MIGRATIONS[target])
        return tables(db)
    finally:
        db.close()
