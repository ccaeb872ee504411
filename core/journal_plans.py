"""The journal's plans: each planned item with its current and new value, sealed with the hash of what the plan
showed; the apply runs that claim items, record each outcome with its audit row in one transaction, and resume
where a killed run stopped; the audit log read back. A part of core.journal.Journal, which provides `_tx`, `_rows`
and `who`."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from typing import Any

from core.errors import CutoverError
from core.runbook.model import PlanSummary, utc_now

ITEM_STATES = ("pending", "sent", "done", "failed", "skipped")


class PlanBook:
    """Plans, their items, apply runs and the audit log (mixed into Journal, whose `_tx`, `_rows` and `who` it
    uses)."""

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
