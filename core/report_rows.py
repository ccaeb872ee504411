"""What the sign-off report says, independent of its format: the header, each step's entry with its check history,
the decisions, waivers, run variables, confirmations, tickets, plans, the connector instances, and every change the
tool made (streamed from the audit log, never held in memory). core.report turns these into Markdown, HTML or JSON."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from core.errors import CutoverError
from core.journal import Journal
from core.loopback import is_loopback_url
from core.report_summary import marking
from core.runbook.model import CheckResult, Status, StepState, utc_now
from core.runbook.phases import RUNBOOK
from core.runbook.variables import RunVariables, format_value

if TYPE_CHECKING:
    from core.instances import InstanceRegister
    from core.run import Run

HISTORY_LIMIT = 1000  # check results per step; a run takes a few dozen
PLANNED_STEPS = tuple(s.id for s in RUNBOOK if s.action)
CHANGE_COLUMNS = ("at", "who", "step_id", "plan_id", "system", "object", "number", "record_id", "field", "old",
                  "new", "request_id")


def header(journal: Journal, profile) -> dict[str, Any]:
    """Who and what the report is about, without internals: no journal path, no simulator URL, no field script ids
    (a loopback Zuora or NetSuite URL reads as the simulated tenant)."""
    def url(fn) -> str | None:
        try:
            found = fn()
        except CutoverError:
            return None
        return "simulated tenant" if found and is_loopback_url(found) else found

    return {
        "report": "cutover sign-off report", "generated_at": utc_now(),
        "generated_by": journal.operator or "(no operator recorded in the profile)",
        "profile": profile.name, "environment": profile.environment, "read_only": profile.read_only,
        "marking": marking(profile),
        "zuora": {"base_url": url(profile.zuora_url), "environment": profile.zuora_env},
        "netsuite": {"account_id": profile.netsuite_account_id, "base_url": url(profile.netsuite_url)},
    }


def step_states(run: Run) -> list[StepState]:
    """Every step's folded state, in runbook order (B2 before its rows)."""
    states = run.runbook.states()
    return [states[s.id] for s in RUNBOOK]


def step_entry(journal: Journal, state: StepState) -> dict[str, Any]:
    """One step: its folded state, confirmation, ticket, latest result and history (newest first)."""
    step, c, t = state.step, state.confirmation, state.ticket
    return {
        "id": step.id, "phase": step.phase.letter, "kind": step.kinds, "title": step.title,
        "status": str(state.status), "summary": state.summary, "applicable": state.applicable,
        "missing": list(state.missing), "blocked_by": list(state.blocked_by),
        "waiver": {"who": state.waiver.who, "at": state.waiver.at, "reason": state.waiver.reason}
        if state.waiver else None,
        "confirmation": {"who": c.who, "at": c.at, "note": c.note} if c else None,
        "ticket": {"number": t.number, "who": t.who, "at": t.at} if t else None,
        "latest": state.result.to_dict() if state.result else None,
        "history": [_result(r) for r in journal.result_history(step.id, limit=HISTORY_LIMIT)],
    }


def _result(r: CheckResult) -> dict[str, Any]:
    return {"checked_at": r.checked_at, "status": str(r.status), "count": r.count, "summary": r.summary,
            "query": r.query, "error": r.error}


def decisions(journal: Journal) -> list[dict[str, Any]]:
    """The choices the run turns on. C2 case 2 has no run variable: the report shows where C2 stands."""
    v = journal.variables()
    c2 = journal.latest_result("C2")
    if c2 is None:
        case2 = "C2 not checked yet"
    elif c2.status is Status.PASS:
        case2 = "not used: every negative invoice reached NetSuite before the migration"
    else:
        case2 = f"open: {c2.summary} (checked {c2.checked_at}); confirm the branch with Support"
    return [
        {"step": "A3", "decision": "provisioning path", "value": v.provisioning_path or "not recorded"},
        {"step": "C2", "decision": "case 2 (negative invoices left unsynced on purpose)", "value": case2},
        {"step": "E1", "decision": "AR Mig memos of negative invoices NetSuite never had (case 2)",
         "value": v.e1_decision or "not recorded"},
        {"step": "E2", "decision": "credit-balance migration memos", "value": v.e2_decision or "not recorded"},
    ]


def waiver_rows(journal: Journal) -> list[dict[str, Any]]:
    """Every waiver ever given, withdrawn ones too: who accepted what, when and why."""
    return [{"step": w["step_id"], "who": w["who"], "at": w["at"], "reason": w["reason"],
             "withdrawn": f"{w['withdrawn_at']} by {w['withdrawn_by']}: {w['withdraw_reason']}"
             if w["withdrawn_at"] else None} for w in journal.waiver_history()]


def variable_rows(journal: Journal) -> list[dict[str, Any]]:
    rows = []
    for name, value in journal.variables().items():
        history = journal.variable_history(name)
        last = history[-1] if history else {}
        rows.append({"name": name, "value": format_value(value), "set_at": last.get("set_at"),
                     "set_by": last.get("set_by"), "description": RunVariables.describe(name)})
    return rows


def confirmation_rows(journal: Journal) -> Iterator[dict[str, Any]]:
    for step in RUNBOOK:
        for c in journal.confirmation_history(step.id):
            yield {"step": c.step_id, "who": c.who, "at": c.at, "note": c.note}


def ticket_rows(journal: Journal) -> list[dict[str, Any]]:
    """Every ticket number recorded, replaced ones included, oldest first."""
    return [{"step": t.step_id, "number": t.number, "who": t.who, "at": t.at} for t in journal.ticket_history()]


def plan_rows(journal: Journal) -> list[dict[str, Any]]:
    rows = []
    for step_id in PLANNED_STEPS:
        plan = journal.latest_plan(step_id)
        if plan is None:
            continue
        runs = journal.apply_runs(plan.plan_id)
        rows.append({"step": plan.step_id, "plan_id": plan.plan_id, "status": plan.status, "system": plan.system,
                     "object": plan.object, "field": plan.field, "new_value": plan.new_value, "records": plan.total,
                     "done": plan.counts.get("done", 0), "failed": plan.counts.get("failed", 0),
                     "skipped": plan.counts.get("skipped", 0), "seal": plan.seal,
                     "created_at": plan.created_at, "apply_runs": len(runs),
                     "written": sum(r["written"] or 0 for r in runs)})
    return rows


def instance_rows(register: InstanceRegister) -> tuple[list[dict[str, Any]], list[str]]:
    """The connector instances register (old and new, with ids and state) and its licence warnings."""
    rows = [i.model_dump(mode="json", exclude={"key", "created_by", "updated_by"}) for i in register.list()]
    return rows, register.warnings()


def changes(journal: Journal, *, skipped: bool = False) -> Iterator[dict[str, Any]]:
    """Every write the tool made, oldest first, each with its record's number from the plan (CM…, a payment's
    number), streamed from the audit log 500 rows at a time (skipped=True: the planned records an apply left alone
    because they no longer matched the plan)."""
    last = 0
    while True:
        rows = journal.query(
            "SELECT a.*, (SELECT p.number FROM plan_item p WHERE p.plan_id = a.plan_id AND p.record_id = a.record_id "
            "LIMIT 1) AS number FROM audit a WHERE a.id > ? AND (coalesce(a.outcome, 'written') = 'skipped') = ? "
            "ORDER BY a.id LIMIT 500", (last, skipped))
        if not rows:
            return
        yield from ({k: row.get(k) for k in CHANGE_COLUMNS} for row in rows)
        last = rows[-1]["id"]


def apply_history(journal: Journal) -> list[dict[str, Any]]:
    """Every apply run, oldest first: which plan, when, who planned it, what it wrote (the appendix "Writes:
    applies and undos")."""
    return journal.query(
        "SELECT p.step_id AS step, r.plan_id AS plan_id, p.created_by AS who, r.started_at, r.ended_at, r.outcome, "
        "r.written, r.failed, r.skipped FROM apply_run r JOIN plan p ON p.id = r.plan_id ORDER BY r.id")
