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

from core.errors import ConfigError
from core.journal import Journal
from core.report_blocks import (
    Block, Chart, Facts, Heading, Headline, PageBreak, Para, Signatures, Table, Tone, scrubbed, text_of,
)
from core.report_markdown import MarkdownRenderer
from core.report_rows import (
    apply_history, changes, confirmation_rows, decisions, header, instance_rows, plan_rows, step_entry, step_states,
    ticket_rows, variable_rows, waiver_rows,
)
from core.report_summary import Summary, marking, scrubber, summarize
from core.runbook.model import Status, StepState, utc_now
from core.runbook.phases import RUNBOOK
from core.runbook.state import status_words

if TYPE_CHECKING:
    from core.run import Run

FORMATS = ("md", "html", "json", "pdf")
TEXT_FORMATS = ("md", "html", "json")
PAPERS = ("a4", "letter")
STATUS_TONES = {Status.PASS: "good", Status.NOT_NEEDED: "muted", Status.WAIVED: "waived", Status.FAIL: "bad",
                Status.ERROR: "bad", Status.NEEDS_ACTION: "open", Status.BLOCKED: "open", Status.NOT_RUN: "muted"}


# ---- Markdown and HTML: one stream of blocks (core.report_blocks) -------------------------------------------------
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
                  text_of(st.result.count if st.result else None), text_of(st.result.checked_at if st.result else None),
                  st.summary) for st in states))
    blocked = [st for st in states if st.status is Status.BLOCKED]
    if blocked:
        yield Para("Blocked: " + "; ".join(f"{st.step.id} waits for {', '.join(st.blocked_by)}" for st in blocked)
                   + ".")
    yield Heading(2, "Appendix B: waivers")
    yield Para("Rows a person accepted on purpose. A waived step counts as done for its gates and the sign-off.")
    yield Table(("Step", "Who", "When", "Reason", "Withdrawn"),
                ((w["step"], w["who"], w["at"], w["reason"], text_of(w["withdrawn"])) for w in waiver_rows(journal)))
    yield Heading(2, "Appendix C: decisions and run variables")
    yield Table(("Step", "Decision", "Value"), ((d["step"], d["decision"], d["value"]) for d in decisions(journal)))
    yield Table(("Variable", "Value", "Set at", "Set by"),
                ((r["name"], text_of(r["value"]), text_of(r["set_at"]), text_of(r["set_by"]))
                 for r in variable_rows(journal)))
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
                tuple((i["environment"], i["role"], i["kind"], text_of(i["instance_id"]), text_of(i["account_id"]),
                       text_of(i["environment_id"]), text_of(i["oauth_client_id"]), text_of(i["netsuite_account_id"]),
                       i["status"], i["notes"]) for i in instances))
    yield Heading(2, "Appendix F: writes: applies and undos")
    yield Para("Each step's latest plan: what it set, its seal, and how its records ended.")
    yield Table(("Step", "Plan", "Seal", "Status", "Object", "Field", "New value", "Records", "Done", "Failed",
                 "Skipped", "Written"),
                ((r["step"], r["plan_id"], text_of(r["seal"])[:8], r["status"], f"{r['system']} {r['object']}",
                  r["field"], r["new_value"], r["records"], r["done"], r["failed"], r["skipped"], r["written"])
                 for r in plan_rows(journal)))
    from core.runbook.undo import history  # one history: each apply and each undo of it, with any H1 override

    yield Para("Applies and undos as one history: an undo sets each record its apply wrote back to the value before; "
               "an undo of E1/E2 after the new connector's first run (H1) carries the reason a person typed.")
    yield Table(("Step", "Plan", "What", "By", "Started", "Ended", "Status", "Written", "Skipped", "Failed",
                 "Override reason"),
                ((h.step_id, h.plan_id, "apply" if h.undoes is None else f"undo of plan {h.undoes}", text_of(h.by),
                  text_of(h.started_at), text_of(h.ended_at), h.status, h.written, h.skipped, h.failed,
                  text_of(h.override_reason)) for h in history(journal)))
    yield Heading(2, "Appendix G: records changed")
    yield Para("Every write the tool made, with the value before and after (from the journal's audit log).")
    yield Table(("Number", "Record id", "When", "Step", "Object", "Field", "Old → new", "Request id"),
                ((text_of(r["number"]), r["record_id"], r["at"], r["step_id"], r["object"], r["field"],
                  f"{text_of(r['old']) or '(empty)'} → {text_of(r['new'])}", text_of(r["request_id"]))
                 for r in changes(journal)))
    yield Heading(2, "Appendix H: records skipped")
    yield Para("Planned records an apply did not write because, just before the write, the step no longer selected "
               "them or their value was no longer the plan's.")
    yield Table(("Number", "Record id", "When", "Step", "Plan", "Object", "Field", "Planned"),
                ((text_of(r["number"]), r["record_id"], r["at"], r["step_id"], r["plan_id"], r["object"], r["field"],
                  f"{text_of(r['old']) or '(empty)'} → {text_of(r['new'])}") for r in changes(journal, skipped=True)))
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
                ((h["checked_at"], h["status"], text_of(h["count"]), h["summary"] + (f" [{h['error']}]"
                  if h["error"] and h["error"] not in h["summary"] else "")) for h in entry["history"]))


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
