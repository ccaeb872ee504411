"""The simulated Zuora Connector for NetSuite: runs the documented syncs in order, in paced batches.

Each connector instance runs on its own (the old one and the new one are separate, runbook A3/F3): it is
`running` or `stopped` (C7 stops the old one), and it follows the rules it was provisioned for. An instance made
before IS keeps the IS-off rules (IIAs, negative invoices) even once the tenant is on IS, so an old instance left
running pushes the migration's write-off IIAs to NetSuite (runbook C7). One made, or re-pointed at a new OAuth
client, after IS follows the IS rules. `tick()` is the schedulers' turn: every running instance runs once.

A run walks the syncs of runbook R4.3 for its rules. Each batch is marked `Creating …` first, then the connector
pauses `connector_pace_s` (so an operator watching the monitor sees records in flight), then writes each record in
its own transaction. A stop request ends the run between batches; a record caught half-way keeps its
`Creating …` status, and the next run finds its NetSuite copy by Zuora ID. A new instance's first run syncs every
account since 1 Jan 1970 (runbook R12), not only those not yet Sync Complete; stopped before its customer sync
ended, the next run does it again.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from core.sim.records import RecordWriter
from core.sim.store import now_ts
from core.sim.sync_netsuite import netsuite_to_zuora_steps
from core.sim.sync_rules import (
    SyncContext,
    SyncError,
    first_customer_sync_key,
    netsuite_payment_sync_key,
    interrupted,
    zuora_to_netsuite_steps,
)

log = logging.getLogger(__name__)

RUNNING, STOPPED = "running", "stopped"
INVOICE_SETTLEMENT_MODE, LEGACY_MODE = "invoice-settlement", "legacy"
ERRORS_KEPT = 50  # per run summary: enough to read, bounded on a big tenant
ERROR_LOG_KEPT = 5000  # records whose latest error message the connector's log keeps (the oldest drop out)


def _status_of(row: dict, ctx: SyncContext) -> str | None:
    return row.get("integrationstatus__ns") or row.get(ctx.fields["zuora_integration_status"])


class Connector:
    def __init__(self, sim):
        self.sim = sim
        self.store = sim.store
        self._run_lock = threading.Lock()
        self._wake = threading.Event()  # cuts a pace pause short on stop
        self._progress: dict[str, Any] | None = None  # a snapshot, replaced (never changed) as a run goes
        self._trigger: str | None = None
        self._running: str | None = None  # the instance whose run is in progress
        self._schedule: threading.Thread | None = None
        self._interval_s: float | None = None
        self._schedule_stop = threading.Event()

    # ---- state ----------------------------------------------------------------------------------------------
    @property
    def state(self) -> str:
        """The current instance's state (a tenant without instances keeps one setting)."""
        return self._state_of(self.instance())

    def _state_of(self, instance: dict | None) -> str:
        if instance is None:
            return self.store.setting("connector.state", RUNNING)
        return instance.get("state") or STOPPED

    def _set_state(self, instance_id: str | None, state: str) -> dict:
        instance = self.instance(instance_id)
        if instance is None:
            self.store.set_setting("connector.state", state)
        else:
            self.store.execute("UPDATE sim_instance SET state = ? WHERE id = ?", (state, instance["id"]))
        return self.status()

    def start(self, instance_id: str | None = None) -> dict:
        return self._set_state(instance_id, RUNNING)

    def stop(self, instance_id: str | None = None) -> dict:
        """Stop an instance (the current one by default); a run of it in progress ends after its current batch."""
        status = self._set_state(instance_id, STOPPED)
        self._wake.set()
        return status

    def instance(self, instance_id: str | None = None) -> dict | None:
        """The given instance, or the current one (the one Connect opens)."""
        instance_id = instance_id or self.store.setting("connector.instance_id")
        if instance_id is None:
            return None
        return self.store.query_one("SELECT * FROM sim_instance WHERE id = ?", (instance_id,))

    def invoice_settlement_rules(self, instance: dict | None) -> bool:
        if instance is None:
            return self.store.invoice_settlement
        return instance.get("mode") == INVOICE_SETTLEMENT_MODE

    def status(self) -> dict:
        last = self.store.scalar("SELECT summary FROM sim_connector_run WHERE summary IS NOT NULL "
                                 "ORDER BY id DESC LIMIT 1")
        instance = self.instance()
        progress = self._progress
        return {
            "state": self.state,
            "installed": self.store.connector_installed,
            "instance_id": instance["id"] if instance else None,
            "invoice_settlement": self.store.invoice_settlement,
            "running_now": progress is not None,
            "progress": progress,
            "last_run": json.loads(last) if last else None,
            "schedule_interval_s": self._interval_s,
        }

    # ---- a run ----------------------------------------------------------------------------------------------
    def run(self, trigger: str = "run-now", instance_id: str | None = None) -> dict:
        """One sync run of an instance (the current one by default); blocking, safe from any thread."""
        instance = self.instance(instance_id)
        refusal = self._refusal(instance)
        if refusal:
            return {"status": "skipped", "trigger": trigger, "message": refusal}
        if not self._run_lock.acquire(blocking=False):
            return {"status": "skipped", "trigger": trigger,
                    "message": "a run is already in progress; wait for it to end (GET /_sim/connector/status)"}
        self._trigger, self._running = trigger, instance["id"] if instance else None
        try:
            return self._run(trigger, instance)
        finally:
            self._progress = self._trigger = self._running = None
            self._run_lock.release()

    def tick(self) -> list[dict]:
        """Time passes: every running, active instance has its scheduled run, one after the other."""
        return [self.run(trigger="schedule", instance_id=i["id"]) for i in self.store.query(
            "SELECT id FROM sim_instance WHERE state = ? AND status = 'active' ORDER BY created, id", (RUNNING,))]

    def _refusal(self, instance: dict | None) -> str | None:
        if not self.store.connector_installed:
            return "the connector is not installed on this tenant"
        if self._state_of(instance) != RUNNING:
            which = f"instance {instance['id']}" if instance else "the connector"
            return f"{which} is stopped: start it (POST /_sim/connector/start) before a run"
        if instance and instance["status"] != "active":
            return f"instance {instance['id']} is {instance['status']}: make an active instance current first"
        if instance and not instance["oauth_client_id"]:  # Connect signs in to Zuora with the instance's client
            return (f"instance {instance['id']} has no Zuora OAuth client to sign in with: point it at one "
                    f"(PUT /_sim/connector/instances/{instance['id']})")
        if instance and instance["oauth_client_id"]:
            active = self.store.scalar("SELECT active FROM sim_oauth_client WHERE client_id = ?",
                                       (instance["oauth_client_id"],))
            if not active:
                return (f"instance {instance['id']} signs in with a Zuora OAuth client that no longer exists: "
                        f"point it at a new client (PUT /_sim/connector/instances/{instance['id']})")
        return None

    def _run(self, trigger: str, instance: dict | None) -> dict:
        ctx = SyncContext.load(self.store, invoice_settlement=self.invoice_settlement_rules(instance),
                               oauth_client_id=instance["oauth_client_id"] if instance else None)
        started = now_ts()
        with self.store.transaction() as conn:
            run_id = conn.execute("INSERT INTO sim_connector_run(instance_id, trigger, started) VALUES (?,?,?)",
                                  (instance["id"] if instance else None, trigger, started)).lastrowid
        summary: dict[str, Any] = {
            "run_id": run_id, "trigger": trigger, "instance_id": instance["id"] if instance else None,
            "invoice_settlement": ctx.invoice_settlement, "started": started, "ended": None,
            "status": "running", "step": None, "steps": {}, "synced": 0, "errors": 0, "error_samples": [],
        }
        first_sync = first_customer_sync_key(instance["id"]) if instance else None
        since_1970 = bool(first_sync and self.store.setting(first_sync))
        if since_1970:
            summary["customers_since_1970"] = True
        self._wake.clear()
        self._publish(summary)
        try:
            ns_payments = instance is None or self.store.setting(netsuite_payment_sync_key(instance["id"])) is not False
            for step in [*zuora_to_netsuite_steps(ctx.invoice_settlement, customers_since_1970=since_1970),
                         *(netsuite_to_zuora_steps(ctx.invoice_settlement) if ns_payments else ())]:
                if self._halted():
                    break
                summary["step"] = step.name
                self._run_step(step, ctx, summary)
                if since_1970 and step.name == "customers" and not self._halted():
                    self.store.set_setting(first_sync, False)  # done: later runs pick what changed
                self._publish(summary)
            summary["status"] = "stopped" if self._halted() else "completed"
        except Exception as exc:  # a simulator bug must still close the run record
            log.exception("connector run %s failed", run_id)
            summary["status"], summary["message"] = "failed", f"the run failed: {exc}"
        summary["step"], summary["ended"] = None, now_ts()
        with self.store.transaction() as conn:
            conn.execute("UPDATE sim_connector_run SET ended = ?, summary = ? WHERE id = ?",
                         (summary["ended"], json.dumps(summary), run_id))
        return summary

    def _publish(self, summary: dict) -> None:
        """Readers (status, the monitor) get a copy: the run keeps changing its own summary."""
        self._progress = json.loads(json.dumps(summary))

    def _halted(self) -> bool:
        scheduled = self._trigger == "schedule"
        return (self._state_of(self.instance(self._running)) != RUNNING
                or (scheduled and self._schedule_stop.is_set()))

    def _run_step(self, step, ctx: SyncContext, summary: dict) -> None:
        counts = summary["steps"].setdefault(step.name, {"direction": step.direction, "synced": 0, "errors": 0})
        batch, pace = max(1, self.sim.config.connector_batch), self.sim.config.connector_pace_s
        after = None
        while not self._halted():
            rows = step.candidates(ctx, after, batch)
            if not rows:
                return
            after = rows[-1]["id"]
            picked = []
            with self.store.transaction() as conn:
                w = RecordWriter(self.store, conn, source="connector")
                for row in rows:
                    if step.pick(conn, ctx, row):
                        was = interrupted(_status_of(row, ctx))
                        step.mark(w, ctx, row)
                        picked.append((row, was))
            if picked and pace > 0:
                self._wake.wait(pace)
            for row, was in picked:
                self._sync_one(step, ctx, row, was, counts, summary)
            self._publish(summary)

    def _sync_one(self, step, ctx, row, was, counts, summary) -> None:
        try:
            with self.store.transaction() as conn:
                step.push(RecordWriter(self.store, conn, source="connector"), ctx, row, was)
        except SyncError as exc:
            with self.store.transaction() as conn:
                step.fail(RecordWriter(self.store, conn, source="connector"), ctx, row, str(exc))
                self._log_error(conn, step, row, str(exc), summary["run_id"])
            counts["errors"] += 1
            summary["errors"] += 1
            if len(summary["error_samples"]) < ERRORS_KEPT:
                summary["error_samples"].append({"step": step.name, "id": row["id"], "message": str(exc)})
            return
        counts["synced"] += 1
        summary["synced"] += 1

    # ---- the error log (what the real connector writes to its Warning log) ------------------------------------
    @staticmethod
    def _log_error(conn, step, row: dict, message: str, run_id: int) -> None:
        """The record's latest error, replacing any before it; the oldest records drop out past ERROR_LOG_KEPT."""
        conn.execute("INSERT OR REPLACE INTO sim_connector_error(record_id, direction, step, run_id, ts, message) "
                     "VALUES (?,?,?,?,?,?)", (str(row["id"]), step.direction, step.name, run_id, now_ts(), message))
        # A replaced row takes the next rowid, so rowid order is the order of the latest failures.
        conn.execute("DELETE FROM sim_connector_error WHERE rowid <= (SELECT rowid FROM sim_connector_error "
                     "ORDER BY rowid DESC LIMIT 1 OFFSET ?)", (ERROR_LOG_KEPT,))

    def errors(self, record_id: str | None = None, limit: int = ERRORS_KEPT) -> list[dict]:
        """The latest error message per failed record, newest first; one record's with `record_id`."""
        if record_id is not None:
            return self.store.query("SELECT * FROM sim_connector_error WHERE record_id = ?", (str(record_id),))
        return self.store.query("SELECT * FROM sim_connector_error ORDER BY rowid DESC LIMIT ?", (limit,))

    # ---- schedule -------------------------------------------------------------------------------------------
    def start_schedule(self, interval_s: float) -> None:
        """Run every `interval_s` seconds while the connector is running (a run still going skips a tick)."""
        if interval_s <= 0:
            raise ValueError("the schedule interval must be more than 0 seconds")
        self.stop_schedule()
        self._schedule_stop.clear()
        thread = threading.Thread(target=self._tick, args=(interval_s,), name="sim-connector-schedule",
                                  daemon=True)
        self._schedule, self._interval_s = thread, interval_s
        thread.start()

    def _tick(self, interval_s: float) -> None:
        while not self._schedule_stop.wait(interval_s):
            if self.instance() is None:
                if self.state == RUNNING:
                    self.run(trigger="schedule")
            else:
                self.tick()

    def stop_schedule(self) -> None:
        thread, self._schedule, self._interval_s = self._schedule, None, None
        if thread is None:
            return
        self._schedule_stop.set()
        self._wake.set()
        if thread is not threading.current_thread():
            thread.join(timeout=5)
