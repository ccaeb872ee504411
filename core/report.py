"""The sign-off report (runbook I2): everything the journal knows about a run, in Markdown, HTML or JSON.

It covers the profile and both systems, every step's state with its latest check and the check history (status,
count, summary, query text, time), the decisions (A3, C2 case 2, E2) and every run variable, the people's
confirmations, the ticket numbers, the plans, and every record the tool changed with its old and new value.

It reads one Run (core.run): its journal, profile, runbook states and instances register. The changes come from
the journal's audit log, which a big E1 fills with 100k rows: they are streamed from SQLite
to the file a row at a time, never held in memory. The report reads the journal and the profile only, never the
credentials, so no secret can reach it. Markdown and HTML share one stream of blocks (`blocks`); JSON is one
object written as it goes.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from core.errors import ConfigError, CutoverError
from core.journal import Journal
from core.loopback import is_loopback_url
from core.report_blocks import (
    Block, Chart, Code, Facts, Heading, Headline, PageBreak, Para, Renderer, Signatures, Table, Tone, nonempty,
    scrubbed,
)
from core.report_summary import Summary, marking, scrubber, summarize
from core.runbook.model import CheckResult, Status, StepState, utc_now
from core.runbook.phases import RUNBOOK
from core.runbook.state import status_words
from core.runbook.variables import RunVariables, format_value

if TYPE_CHECKING:
    from core.instances import InstanceRegister
    from core.run import Run

FORMATS = ("md", "html", "json", "pdf")
TEXT_FORMATS = ("md", "html", "json")
PAPERS = ("a4", "letter")
HISTORY_LIMIT = 1000  # check results per step; a run takes a few dozen
PLANNED_STEPS = tuple(s.id for s in RUNBOOK if s.action)
CHANGE_COLUMNS = ("at", "who", "step_id", "plan_id", "system", "object", "number", "record_id", "field", "old",
                  "new", "request_id")
STATUS_TONES = {Status.PASS: "good", Status.NOT_NEEDED: "muted", Status.WAIVED: "waived", Status.FAIL: "bad",
                Status.ERROR: "bad", Status.NEEDS_ACTION: "open", Status.BLOCKED: "open", Status.NOT_RUN: "muted"}


# ---- what the report says, independent of its format ----------------------------------------------------------
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


# ---- Markdown and HTML: one stream of blocks (core.report_blocks) -------------------------------------------------
def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def timeline_events(journal: Journal) -> list[Any]:
    """What the timeline chart draws, from the journal: each check (coloured by its status), confirmation, ticket
    and waiver as a dot, each apply run as a bar."""
    from core.report_charts import Event, parse_at

    phase = {s.id: s.phase.letter for s in RUNBOOK}
    rows = [(r["step_id"], r["checked_at"], STATUS_TONES.get(Status(r["status"]), "muted"), None) for r in
            journal.query("SELECT step_id, status, checked_at FROM check_result ORDER BY id")]
    rows += [(r["step_id"], r["at"], "good", None) for r in journal.query("SELECT step_id, at FROM confirmation")]
    rows += [(r["step_id"], r["at"], "good", None) for r in journal.query("SELECT step_id, at FROM ticket")]
    rows += [(r["step_id"], r["at"], "waived", None) for r in journal.query("SELECT step_id, at FROM waiver")]
    rows += [(r["step"], r["started_at"], "good" if r["outcome"] == "done" else "open", r["ended_at"] or
              r["started_at"]) for r in apply_history(journal)]
    events = []
    for step_id, at, tone, until in rows:
        when = parse_at(at)
        if when is not None and step_id in phase:
            events.append(Event(when, phase[step_id], step_id, tone, parse_at(until) if until else None))
    return events


def _signatories(summary: Summary) -> tuple[tuple[str, str], ...]:
    return (("Consultant", summary.consultant), ("Client", ""))


def summary_blocks(run: Run, states: list[StepState], summary: Summary) -> Iterator[Block]:
    """The first page: the verdict, what and when, the counts, each phase, and the signatures."""
    profile = run.profile
    yield Heading(1, f"Sign-off report: {profile.name}")
    yield Headline(summary.headline)
    yield Facts((("Tenant", summary.tenant), ("Profile", summary.profile), ("Path (A3)", summary.path),
                 ("Case 2 (C2)", summary.case2),
                 ("Decisions (E1, E2)", summary.decisions),
                 *summary.dates.items(),
                 ("Prepared", f"{utc_now()} by {summary.consultant or 'no operator recorded in the profile'}")))
    yield Heading(2, "What the cutover changed and found")
    yield Facts(tuple(summary.counts.items()))
    yield Heading(2, "Phases")
    yield Table(("Phase", "Status", "Steps", "Waivers (who accepted them)"),
                ((f"{p.letter} {p.title}", p.status, p.steps,
                  "; ".join(f"{w['step']}: {w['reason']} (accepted by {w['who']}, {w['at']})" for w in p.waivers))
                 for p in summary.phases))
    yield Heading(2, "Sign-off")
    yield Para("By signing, the client accepts the cutover to Invoice Settlement as recorded in this report and its "
               "appendices, with the waivers listed above.")
    yield Signatures(_signatories(summary))


def blocks(run: Run) -> Iterator[Block]:
    journal, profile = run.journal, run.profile
    states = step_states(run)
    summary = summarize(profile, journal, states)
    yield from summary_blocks(run, states, summary)
    yield PageBreak()
    yield Heading(2, "Charts")
    from core.report_charts import sync_svg, timeline_svg

    timeline = timeline_svg(timeline_events(journal))
    if timeline is None:
        yield Para("Timeline: nothing recorded in the journal yet.")
    else:
        yield Chart("Timeline", timeline, "each phase's checks, confirmations, tickets and waivers (dots, coloured "
                                          "by outcome) and applies (bars) over time")
    sync = sync_svg(journal.monitor_samples())
    if sync is None:
        yield Para("Sync progress: the monitor kept fewer than two samples for this profile (cutover monitor keeps "
                   "them while it watches).")
    else:
        yield Chart("Sync progress", sync[0], "records waiting for the connector over time: " + ", ".join(sync[1]))
    yield Heading(2, "Appendix A: every step")
    yield Table(("Step", "Phase", "Kind", "Status", "Count", "Checked", "Summary"),
                ((st.step.id, st.step.phase.letter, st.step.kinds,
                  Tone(status_words(st), STATUS_TONES[st.status]),
                  _text(st.result.count if st.result else None), _text(st.result.checked_at if st.result else None),
                  st.summary) for st in states))
    blocked = [st for st in states if st.status is Status.BLOCKED]
    if blocked:
        yield Para("Blocked: " + "; ".join(f"{st.step.id} waits for {', '.join(st.blocked_by)}" for st in blocked)
                   + ".")
    yield Heading(2, "Appendix B: waivers")
    yield Para("Rows a person accepted on purpose. A waived step counts as done for its gates and the sign-off.")
    yield Table(("Step", "Who", "When", "Reason", "Withdrawn"),
                ((w["step"], w["who"], w["at"], w["reason"], _text(w["withdrawn"])) for w in waiver_rows(journal)))
    yield Heading(2, "Appendix C: decisions and run variables")
    yield Table(("Step", "Decision", "Value"), ((d["step"], d["decision"], d["value"]) for d in decisions(journal)))
    yield Table(("Variable", "Value", "Set at", "Set by"),
                ((r["name"], _text(r["value"]), _text(r["set_at"]), _text(r["set_by"])) for r in variable_rows(journal)))
    yield Heading(2, "Appendix D: confirmations and tickets")
    yield Table(("Step", "Who", "When", "Note"), ((r["step"], r["who"], r["at"], r["note"])
                                                 for r in confirmation_rows(journal)))
    yield Table(("Step", "Ticket", "Recorded by", "When"),
                ((r["step"], r["number"], r["who"], r["at"]) for r in ticket_rows(journal)))
    yield Heading(2, "Appendix E: connector instances")
    instances, warnings = instance_rows(run.register)
    yield from (Para(f"Warning: {w}") for w in warnings)
    yield Table(("Environment", "Role", "Kind", "Instance ID", "Account ID", "Environment ID", "OAuth client",
                 "NetSuite", "Status", "Notes"),
                tuple((i["environment"], i["role"], i["kind"], _text(i["instance_id"]), _text(i["account_id"]),
                       _text(i["environment_id"]), _text(i["oauth_client_id"]), _text(i["netsuite_account_id"]),
                       i["status"], i["notes"]) for i in instances))
    yield Heading(2, "Appendix F: writes: applies and undos")
    yield Para("Each step's latest plan: what it set, its seal, and how its records ended.")
    yield Table(("Step", "Plan", "Seal", "Status", "Object", "Field", "New value", "Records", "Done", "Failed",
                 "Skipped", "Written"),
                ((r["step"], r["plan_id"], _text(r["seal"])[:8], r["status"], f"{r['system']} {r['object']}",
                  r["field"], r["new_value"], r["records"], r["done"], r["failed"], r["skipped"], r["written"])
                 for r in plan_rows(journal)))
    from core.runbook.undo import history  # one history: each apply and each undo of it, with any H1 override

    yield Para("Applies and undos as one history: an undo sets each record its apply wrote back to the value before; "
               "an undo of E1/E2 after the new connector's first run (H1) carries the reason a person typed.")
    yield Table(("Step", "Plan", "What", "By", "Started", "Ended", "Status", "Written", "Skipped", "Failed",
                 "Override reason"),
                ((h.step_id, h.plan_id, "apply" if h.undoes is None else f"undo of plan {h.undoes}", _text(h.by),
                  _text(h.started_at), _text(h.ended_at), h.status, h.written, h.skipped, h.failed,
                  _text(h.override_reason)) for h in history(journal)))
    yield Heading(2, "Appendix G: records changed")
    yield Para("Every write the tool made, with the value before and after (from the journal's audit log).")
    yield Table(("Number", "Record id", "When", "Step", "Object", "Field", "Old → new", "Request id"),
                ((_text(r["number"]), r["record_id"], r["at"], r["step_id"], r["object"], r["field"],
                  f"{_text(r['old']) or '(empty)'} → {_text(r['new'])}", _text(r["request_id"]))
                 for r in changes(journal)))
    yield Heading(2, "Appendix H: records skipped")
    yield Para("Planned records an apply did not write because, just before the write, the step no longer selected "
               "them or their value was no longer the plan's.")
    yield Table(("Number", "Record id", "When", "Step", "Plan", "Object", "Field", "Planned"),
                ((_text(r["number"]), r["record_id"], r["at"], r["step_id"], r["plan_id"], r["object"], r["field"],
                  f"{_text(r['old']) or '(empty)'} → {_text(r['new'])}") for r in changes(journal, skipped=True)))
    yield Heading(2, "Appendix I: steps in detail")
    yield Para("Each step's check history, newest first. The query each check ran is in the JSON report "
               "(cutover report --format json).")
    for state in states:
        yield from _step_blocks(step_entry(journal, state))
    from core.twin.forecast_record import FORECAST_BASELINE, forecast_rows

    forecast = journal.baseline(FORECAST_BASELINE)  # recorded by a rehearsal on a twin (core.twin)
    if forecast is not None:
        yield Heading(2, "Appendix J: forecast on the twin")
        yield Para("What `cutover twin forecast` read off the twin before the run, beside what the run then did. "
                   "Numbers the capture alone decides; what grows with business after the capture is said so.")
        yield Table(("What", "Forecast", "This run"),
                    tuple(forecast_rows(forecast, {r["step"]: r["records"] for r in plan_rows(journal)})))


def _step_blocks(entry: dict[str, Any]) -> Iterator[Block]:
    yield Heading(3, f"{entry['id']} {entry['title']}")
    word = "confirmed" if entry["status"] == "pass" and entry["latest"] is None and (
        entry["confirmation"] or entry["ticket"]) else entry["status"]  # as the app says it (status_words)
    pairs = [("Status", f"{word}: {entry['summary']}"), ("Kind", entry["kind"])]
    if entry["confirmation"]:
        c = entry["confirmation"]
        pairs.append(("Confirmed", f"{c['who']} at {c['at']}" + (f": {c['note']}" if c["note"] else "")))
    if entry["ticket"]:
        pairs.append(("Ticket", f"{entry['ticket']['number']} (recorded {entry['ticket']['at']})"))
    if entry["missing"]:
        pairs.append(("Missing", ", ".join(entry["missing"])))
    if entry["blocked_by"]:
        pairs.append(("Waits for", ", ".join(entry["blocked_by"])))
    if entry["waiver"]:
        w = entry["waiver"]
        if entry["status"] == "waived":
            pairs.append(("Waived", f"{w['who']} at {w['at']}: {w['reason']}"))
        else:  # the step passes on its own now: the waiver stands in the journal but decides nothing
            pairs.append(("Earlier waiver", f"{w['who']} at {w['at']}: {w['reason']} (moot: the step is "
                                            f"{entry['status']} on its own)"))
    yield Facts(tuple(pairs))
    latest = entry["latest"]
    if latest is None:
        return
    # The queries themselves name NetSuite's field script ids: they stay in the JSON report, not on paper.
    yield Table(("Checked", "Status", "Count", "Summary"),
                ((h["checked_at"], h["status"], _text(h["count"]), h["summary"] + (f" [{h['error']}]"
                  if h["error"] and h["error"] not in h["summary"] else "")) for h in entry["history"]))


def _md_cell(value: Any) -> str:
    return _text(value).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", "<br>")


class MarkdownRenderer(Renderer):
    def __init__(self, out: TextIO, *, marking: str | None = None):
        super().__init__(out)
        self.marking = marking

    def write(self, items: Iterable[Block]) -> None:
        band = f"> **{self.marking.upper()}: not a sign-off of a client's tenant.**\n\n" if self.marking else ""
        self.out.write(band)
        super().write(items)
        self.out.write(band.replace("> ", "\n> ", 1) if band else "")

    def heading(self, block: Heading) -> None:
        self.out.write(f"\n{'#' * block.level} {_one_line(block.text)}\n\n")

    def para(self, block: Para) -> None:
        self.out.write(f"{block.text}\n\n")

    def facts(self, block: Facts) -> None:
        self.out.writelines(f"- **{k}:** {_md_cell(v)}\n" for k, v in block.pairs)
        self.out.write("\n")

    def headline(self, block: Headline) -> None:
        self.out.write(f"**{_one_line(block.text.text)}**\n\n")

    def chart(self, block: Chart) -> None:
        self.out.write(f"_{block.title} (a chart in the HTML and PDF report): {block.alt}._\n\n")

    def signatures(self, block: Signatures) -> None:
        for role, name in block.parties:
            self.out.write(f"{role}: {name or '_' * 30}\n\nSignature: {'_' * 30}    Date: {'_' * 14}\n\n")

    def pagebreak(self, block: PageBreak) -> None:
        self.out.write("\n---\n")

    def code(self, block: Code) -> None:
        fence = "````" if "```" in block.text else "```"
        self.out.write(f"{fence}\n{block.text}\n{fence}\n\n")

    def table(self, block: Table) -> None:
        rows = nonempty(block.rows)
        if rows is None:
            self.out.write("_None._\n\n")
            return
        self.out.write("| " + " | ".join(block.headers) + " |\n|" + "---|" * len(block.headers) + "\n")
        self.out.writelines("| " + " | ".join(map(_md_cell, row)) + " |\n" for row in rows)
        self.out.write("\n")


# ---- JSON: one object, written as it goes -------------------------------------------------------------------------
def write_json(out: TextIO, run: Run) -> None:
    journal, profile = run.journal, run.profile
    scrub = _scrub(run, script_ids=False)  # the check queries name them; a machine reads these

    def dump(value: Any) -> str:
        return scrub(json.dumps(value, ensure_ascii=False, default=str))

    def stream(key: str, items: Iterable[Any]) -> None:
        out.write(f",\n{dump(key)}: [")
        out.writelines(("," if i else "") + "\n  " + dump(item) for i, item in enumerate(items))
        out.write("\n]")

    states = step_states(run)
    summary = summarize(profile, journal, states)
    out.write("{\n" + dump("header") + ": " + dump(header(journal, profile)))
    out.write(",\n" + dump("summary") + ": " + dump({
        "headline": summary.headline.text, "ready": summary.headline.tone == "good", "open_steps": summary.open_steps,
        "tenant": summary.tenant, "path": summary.path, "case2": summary.case2, "dates": summary.dates,
        "counts": summary.counts, "signatories": dict(_signatories(summary)),
        "phases": [{"phase": p.letter, "title": p.title, "status": p.status.text, "steps": p.steps,
                    "waivers": p.waivers} for p in summary.phases]}))
    stream("steps", (step_entry(journal, s) for s in states))
    instances, warnings = instance_rows(run.register)
    for key, value in (("waivers", waiver_rows(journal)), ("decisions", decisions(journal)),
                       ("variables", variable_rows(journal)),
                       ("confirmations", list(confirmation_rows(journal))), ("tickets", ticket_rows(journal)),
                       ("instances", {"register": instances, "warnings": warnings}), ("plans", plan_rows(journal)),
                       ("applies", apply_history(journal)), ("monitor_samples", len(journal.monitor_samples()))):
        out.write(f",\n{dump(key)}: {dump(value)}")  # a few dozen rows each
    stream("changes", changes(journal))
    stream("skipped", changes(journal, skipped=True))
    out.write("\n}\n")


# ---- entry points ---------------------------------------------------------------------------------------------------
def _scrub(run: Run, *, script_ids: bool = True):
    return scrubber(run.profile, run.journal, rehearsal=marking(run.profile) == "Rehearsal", script_ids=script_ids)


def check_format(fmt: str) -> str:
    fmt = fmt.lower().lstrip(".")
    fmt = "md" if fmt == "markdown" else "html" if fmt == "htm" else fmt
    if fmt not in FORMATS:
        raise ConfigError(f"unknown report format {fmt!r}", hint="use md, html, json or pdf")
    return fmt


def check_paper(paper: str) -> str:
    if paper.lower() not in PAPERS:
        raise ConfigError(f"unknown paper size {paper!r}", hint="use --paper a4 or --paper letter")
    return paper.lower()


def format_for(path: Path | str | None, default: str = "md") -> str:
    """The format a file name asks for (report.html -> html); `default` for other names and stdout."""
    suffix = Path(path).suffix.lower().lstrip(".") if path else ""
    return check_format(suffix) if suffix in ("md", "markdown", "html", "htm", "json", "pdf") else default


def render_html(run: Run, out: TextIO, *, paper: str = "a4", for_pdf: bool = False) -> None:
    from core.report_html import HtmlRenderer

    HtmlRenderer(out, title=f"Sign-off report: {run.profile.name}", paper=check_paper(paper),
                 marking=marking(run.profile), for_pdf=for_pdf).write(scrubbed(blocks(run), _scrub(run)))


def stream_report(run: Run, out: TextIO, fmt: str = "md", *, paper: str = "a4") -> None:
    """A text format (md, html, json) written to `out` as it is built."""
    fmt = check_format(fmt)
    if fmt == "json":
        write_json(out, run)
    elif fmt == "html":
        render_html(run, out, paper=paper)
    elif fmt == "md":
        MarkdownRenderer(out, marking=marking(run.profile)).write(scrubbed(blocks(run), _scrub(run)))
    else:
        raise ConfigError("a PDF report is a file, not text", hint="write it with -o report.pdf")


def report_bytes(run: Run, fmt: str = "md", *, paper: str = "a4") -> bytes:
    """The whole report in memory (the app delivers it as one file): UTF-8 text, or the PDF's bytes."""
    fmt = check_format(fmt)
    if fmt == "pdf":
        from core.report_pdf import pdf_bytes

        return pdf_bytes(lambda out, for_pdf: render_html(run, out, paper=paper, for_pdf=for_pdf))
    out = io.StringIO()
    stream_report(run, out, fmt, paper=paper)
    return out.getvalue().encode("utf-8")


def write_report(run: Run, path: Path | str | None = None, fmt: str = "md", *, paper: str = "a4") -> Path | None:
    """Write the report to `path` (through a temporary file, so a half-written report never stands) and return
    the path; to stdout when `path` is None or "-"."""
    fmt, paper = check_format(fmt), check_paper(paper)
    if path is None or str(path) == "-":
        if fmt == "pdf":
            sys.stdout.buffer.write(report_bytes(run, fmt, paper=paper))
            sys.stdout.flush()
        else:
            stream_report(run, sys.stdout, fmt, paper=paper)
        return None
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "pdf":
            data = report_bytes(run, fmt, paper=paper)  # the PDF extra or Chromium first: nothing written without
            tmp.write_bytes(data)
        else:
            with tmp.open("w", encoding="utf-8", newline="\n") as out:
                stream_report(run, out, fmt, paper=paper)
        os.replace(tmp, path)
    except OSError as exc:
        with suppress(OSError):  # the same folder problem can refuse the clean-up too: report the first
            tmp.unlink(missing_ok=True)
        raise ConfigError(f"cannot write the report to {path}: {exc.strerror or exc}",
                          hint="choose a folder you can write to with -o FILE") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
