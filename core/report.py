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

import itertools
import json
import os
from contextlib import suppress
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from core.errors import ConfigError, CutoverError
from core.journal import Journal
from core.runbook.model import CheckResult, Status, StepState, utc_now
from core.runbook.phases import RUNBOOK
from core.runbook.variables import RunVariables, format_value

if TYPE_CHECKING:
    from core.instances import InstanceRegister
    from core.run import Run

FORMATS = ("md", "html", "json")
HISTORY_LIMIT = 1000  # check results per step; a run takes a few dozen
PLANNED_STEPS = tuple(s.id for s in RUNBOOK if s.action)
CHANGE_COLUMNS = ("at", "who", "step_id", "plan_id", "system", "object", "record_id", "field", "old", "new",
                  "request_id")


# ---- what the report says, independent of its format ----------------------------------------------------------
def header(journal: Journal, profile) -> dict[str, Any]:
    def url(fn) -> str | None:
        try:
            return fn()
        except CutoverError:
            return None

    return {
        "report": "cutover sign-off report", "generated_at": utc_now(),
        "generated_by": journal.operator or "(no operator recorded in the profile)",
        "profile": profile.name, "environment": profile.environment, "read_only": profile.read_only,
        "zuora": {"base_url": url(profile.zuora_url), "environment": profile.zuora_env},
        "netsuite": {"account_id": profile.netsuite_account_id, "base_url": url(profile.netsuite_url),
                     "field_script_ids": profile.netsuite_fields.script_ids()},
        "journal": str(journal.path),
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
    """Every write the tool made, oldest first, streamed from the audit log (skipped=True: the planned records an
    apply left alone because they no longer matched the plan)."""
    for row in journal.audit_log(skipped=skipped):
        yield {k: row.get(k) for k in CHANGE_COLUMNS}


# ---- Markdown and HTML: one stream of blocks ---------------------------------------------------------------------
@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Facts:
    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: Iterable[tuple[Any, ...]]  # may be a generator: renderers write a row at a time


Block = Heading | Para | Facts | Code | Table


def nonempty(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]] | None:
    """The rows again, or None when there are none (a renderer writes "None" instead of an empty table)."""
    it = iter(rows)
    first = next(it, None)
    return None if first is None else itertools.chain((first,), it)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def blocks(run: Run) -> Iterator[Block]:
    journal, profile = run.journal, run.profile
    head = header(journal, profile)
    states = step_states(run)
    yield Heading(1, f"Sign-off report: {profile.name}")
    yield Facts((("Generated", f"{head['generated_at']} by {head['generated_by']}"),
                 ("Profile", f"{profile.name} ({profile.environment}{', read-only' if profile.read_only else ''})"),
                 ("Zuora", _text(head["zuora"]["base_url"])),
                 ("NetSuite", f"account {profile.netsuite_account_id} at {_text(head['netsuite']['base_url'])}"),
                 ("NetSuite field ids", ", ".join(f"{k}={v}" for k, v in head["netsuite"]["field_script_ids"].items())),
                 ("Journal", head["journal"])))
    sign_off = next(st for st in states if st.step.id == "I2")
    yield Para(f"Sign-off (I2): {sign_off.status}: {sign_off.summary}")
    counts = {s: sum(st.status is s for st in states) for s in Status}
    yield Para("Steps: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n) + ".")
    yield Table(("Step", "Phase", "Kind", "Status", "Count", "Checked", "Summary"),
                ((st.step.id, st.step.phase.letter, st.step.kinds, f"{st.status.glyph} {st.status}",
                  _text(st.result.count if st.result else None), _text(st.result.checked_at if st.result else None),
                  st.summary) for st in states))
    blocked = [st for st in states if st.status is Status.BLOCKED]
    if blocked:
        yield Para("Blocked: " + "; ".join(f"{st.step.id} waits for {', '.join(st.blocked_by)}" for st in blocked)
                   + ".")
    yield Heading(2, "Waivers")
    yield Para("Rows a person accepted on purpose. A waived step counts as done for its gates and the sign-off.")
    yield Table(("Step", "Who", "When", "Reason", "Withdrawn"),
                ((w["step"], w["who"], w["at"], w["reason"], _text(w["withdrawn"])) for w in waiver_rows(journal)))
    yield Heading(2, "Decisions")
    yield Table(("Step", "Decision", "Value"), ((d["step"], d["decision"], d["value"]) for d in decisions(journal)))
    yield Heading(2, "Run variables")
    yield Table(("Variable", "Value", "Set at", "Set by"),
                ((r["name"], _text(r["value"]), _text(r["set_at"]), _text(r["set_by"])) for r in variable_rows(journal)))
    yield Heading(2, "Confirmations")
    yield Table(("Step", "Who", "When", "Note"), ((r["step"], r["who"], r["at"], r["note"])
                                                 for r in confirmation_rows(journal)))
    yield Heading(2, "Tickets")
    yield Table(("Step", "Number", "Recorded by", "When"),
                ((r["step"], r["number"], r["who"], r["at"]) for r in ticket_rows(journal)))
    yield Heading(2, "Connector instances")
    instances, warnings = instance_rows(run.register)
    yield from (Para(f"Warning: {w}") for w in warnings)
    yield Table(("Environment", "Role", "Kind", "Instance ID", "Account ID", "Environment ID", "OAuth client",
                 "NetSuite", "Status", "Notes"),
                tuple((i["environment"], i["role"], i["kind"], _text(i["instance_id"]), _text(i["account_id"]),
                       _text(i["environment_id"]), _text(i["oauth_client_id"]), _text(i["netsuite_account_id"]),
                       i["status"], i["notes"]) for i in instances))
    yield Heading(2, "Plans")
    yield Table(("Step", "Plan", "Seal", "Status", "Object", "Field", "New value", "Records", "Done", "Failed",
                 "Skipped", "Written"),
                ((r["step"], r["plan_id"], _text(r["seal"])[:8], r["status"], f"{r['system']} {r['object']}",
                  r["field"], r["new_value"], r["records"], r["done"], r["failed"], r["skipped"], r["written"])
                 for r in plan_rows(journal)))
    yield Heading(2, "Records changed")
    yield Para("Every write the tool made, with the value before and after (from the journal's audit log).")
    yield Table(("When", "Step", "System", "Object", "Record", "Field", "Old → new", "Request id"),
                ((r["at"], r["step_id"], r["system"], r["object"], r["record_id"], r["field"],
                  f"{_text(r['old']) or '(empty)'} → {_text(r['new'])}", _text(r["request_id"]))
                 for r in changes(journal)))
    yield Heading(2, "Records skipped")
    yield Para("Planned records an apply did not write because, just before the write, the step no longer selected "
               "them or their value was no longer the plan's.")
    yield Table(("When", "Step", "Plan", "Object", "Record", "Field", "Planned"),
                ((r["at"], r["step_id"], r["plan_id"], r["object"], r["record_id"], r["field"],
                  f"{_text(r['old']) or '(empty)'} → {_text(r['new'])}") for r in changes(journal, skipped=True)))
    yield Heading(2, "Steps in detail")
    for state in states:
        yield from _step_blocks(step_entry(journal, state))


def _step_blocks(entry: dict[str, Any]) -> Iterator[Block]:
    yield Heading(3, f"{entry['id']} {entry['title']}")
    pairs = [("Status", f"{entry['status']}: {entry['summary']}"), ("Kind", entry["kind"])]
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
        pairs.append(("Waived", f"{w['who']} at {w['at']}: {w['reason']}"))
    yield Facts(tuple(pairs))
    latest = entry["latest"]
    if latest is None:
        return
    if latest["query"]:
        yield Code(latest["query"])
    yield Table(("Checked", "Status", "Count", "Summary", "Query"),
                ((h["checked_at"], h["status"], _text(h["count"]), h["summary"] + (f" [{h['error']}]"
                  if h["error"] and h["error"] not in h["summary"] else ""),
                  "as above" if h["query"] == latest["query"] else _one_line(h["query"]))
                 for h in entry["history"]))


def _md_cell(value: Any) -> str:
    return _text(value).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", "<br>")


class Renderer:
    """Writes blocks to a text stream one at a time; a subclass has one method per kind of block."""

    def __init__(self, out: TextIO):
        self.out = out

    def write(self, items: Iterable[Block]) -> None:
        for block in items:
            getattr(self, type(block).__name__.lower())(block)


class MarkdownRenderer(Renderer):
    def heading(self, block: Heading) -> None:
        self.out.write(f"\n{'#' * block.level} {_one_line(block.text)}\n\n")

    def para(self, block: Para) -> None:
        self.out.write(f"{block.text}\n\n")

    def facts(self, block: Facts) -> None:
        self.out.writelines(f"- **{k}:** {_md_cell(v)}\n" for k, v in block.pairs)
        self.out.write("\n")

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

    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, default=str)

    def stream(key: str, items: Iterable[Any]) -> None:
        out.write(f",\n{dump(key)}: [")
        out.writelines(("," if i else "") + "\n  " + dump(item) for i, item in enumerate(items))
        out.write("\n]")

    out.write("{\n" + dump("header") + ": " + dump(header(journal, profile)))
    stream("steps", (step_entry(journal, s) for s in step_states(run)))
    instances, warnings = instance_rows(run.register)
    for key, value in (("waivers", waiver_rows(journal)), ("decisions", decisions(journal)),
                       ("variables", variable_rows(journal)),
                       ("confirmations", list(confirmation_rows(journal))), ("tickets", ticket_rows(journal)),
                       ("instances", {"register": instances, "warnings": warnings}), ("plans", plan_rows(journal))):
        out.write(f",\n{dump(key)}: {dump(value)}")  # a few dozen rows each
    stream("changes", changes(journal))
    stream("skipped", changes(journal, skipped=True))
    out.write("\n}\n")


# ---- entry points ---------------------------------------------------------------------------------------------------
def check_format(fmt: str) -> str:
    fmt = fmt.lower().lstrip(".")
    fmt = "md" if fmt == "markdown" else "html" if fmt == "htm" else fmt
    if fmt not in FORMATS:
        raise ConfigError(f"unknown report format {fmt!r}", hint="use md, html or json")
    return fmt


def format_for(path: Path | str | None, default: str = "md") -> str:
    """The format a file name asks for (report.html -> html); `default` for other names and stdout."""
    suffix = Path(path).suffix.lower().lstrip(".") if path else ""
    return check_format(suffix) if suffix in ("md", "markdown", "html", "htm", "json") else default


def stream_report(run: Run, out: TextIO, fmt: str = "md") -> None:
    fmt = check_format(fmt)
    if fmt == "json":
        write_json(out, run)
    elif fmt == "html":
        from core.report_html import HtmlRenderer

        HtmlRenderer(out, title=f"Sign-off report: {run.profile.name}").write(blocks(run))
    else:
        MarkdownRenderer(out).write(blocks(run))


def write_report(run: Run, path: Path | str | None = None, fmt: str = "md") -> Path | None:
    """Write the report to `path` (through a temporary file, so a half-written report never stands) and return
    the path; to stdout when `path` is None or "-"."""
    fmt = check_format(fmt)
    if path is None or str(path) == "-":
        stream_report(run, sys.stdout, fmt)
        return None
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("w", encoding="utf-8", newline="\n") as out:
            stream_report(run, out, fmt)
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
