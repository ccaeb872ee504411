"""The sign-off report: after a real rehearsal the Markdown, HTML and JSON reports open with a one-page summary
whose counts are the journal's, hold every step, the confirmations, the tickets and each changed record by its
number with its old and new value, and no secret, path, loopback URL or OS user; a rehearsal is marked as one; a
failing and a waived step show as such, with who accepted the waiver; HTML escapes what people typed and prints on
A4 or Letter; the audit log streams; `cutover report` picks the format, and a PDF without its extra is one line."""

from __future__ import annotations

import asyncio
import getpass
import json
import re
import sqlite3
import tracemalloc

import pytest
from cli_support import run

from core.config import get_profile
from core.journal import Journal
from core.run import Run
from core.rehearsal import REHEARSAL_OPERATOR, Rehearsal
from core.report import write_report
from core.report_summary import REHEARSAL_EMAIL
from core.runbook.model import CheckResult, Status
from core.runbook.phases import RUNBOOK
from core.runbook.steps.h_go_live import DUPLICATES, MISSING_IN_ZUORA

pytestmark = pytest.mark.timeout(120)
FORMATS = ("md", "html", "json")


@pytest.fixture(scope="module")
def rehearsed(tmp_path_factory):
    """One unattended rehearsal; before its journal goes away, the three reports of the finished run, then the
    three of the same run after H3 was found failing and C2 was waived, with the audit log, the written counts,
    the journal's path and every secret the run held (the simulator's credentials, the new OAuth client's
    secret)."""
    out = tmp_path_factory.mktemp("reports")
    seen: dict = {}

    def keep(rehearsal: Rehearsal) -> None:
        run_ = rehearsal.opened
        journal = run_.journal
        seen["paths"] = {fmt: write_report(run_, out / f"report.{fmt}", fmt) for fmt in FORMATS}
        seen["audit"] = list(journal.audit_log())
        seen["confirmations"] = journal.confirmations()
        seen["tickets"] = journal.tickets()
        seen["internals"] = [str(journal.path), str(journal.path.parent), run_.profile.zuora_url(),
                             run_.profile.netsuite_url(), *run_.profile.netsuite_fields.script_ids().values()]
        seen["secrets"] = [*rehearsal.tenant.credentials.secret_values(),
                           run_.runbook.secrets["new_oauth_client_secret"].get_secret_value()]
        seen["h2"] = journal.latest_result("H2")
        # Then the consultant finds payments missing (H3 fails) and the client accepts C2's finding on purpose.
        journal.record_result(CheckResult("C2", Status.FAIL, 4, "4 negative invoices never reached NetSuite",
                                          details={"negative invoices not in NetSuite": 4}))
        seen["waiver"] = run_.runbook.waive("C2", "client credits these 4 by hand in NetSuite")
        journal.record_result(CheckResult("H3", Status.FAIL, 2, "2 NetSuite payments since the freeze not in Zuora",
                                          details={MISSING_IN_ZUORA: 2}))
        states = run_.runbook.states()
        seen["open"] = [s.id for s in RUNBOOK if not s.children and s.id != "I2" and not states[s.id].status.done]
        seen["open_paths"] = {fmt: write_report(run_, out / f"open.{fmt}", fmt) for fmt in FORMATS}

    outcome = asyncio.run(Rehearsal(seed=3, scale=300, before_close=keep).run())
    assert outcome.passed
    return seen | {"text": {fmt: p.read_text(encoding="utf-8") for fmt, p in seen["paths"].items()},
                   "open_text": {fmt: p.read_text(encoding="utf-8") for fmt, p in seen["open_paths"].items()}}


def _plain(text: str) -> str:
    """The HTML's text with tags out (a timestamp is wrapped in a span that keeps it on one line)."""
    return re.sub(r"<[^>]+>", "", text)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_report_holds_the_whole_run_and_no_secret(rehearsed, fmt):
    text = rehearsed["text"][fmt]
    html = fmt == "html"
    for step in RUNBOOK:
        assert step.id in text, step.id
    for c in rehearsed["confirmations"].values():
        note = c.note.removeprefix("rehearsal: ")  # every page says it is a rehearsal: no note repeats it
        note = json.dumps(note)[1:-1] if fmt == "json" else note
        assert (note.replace("'", "&#x27;") if html else note) in (_plain(text) if html else text) and c.at in text
    assert "rehearsal: " not in text
    for t in rehearsed["tickets"].values():
        assert t.number in text
    audit = rehearsed["audit"]
    assert {a["step_id"] for a in audit} == {"E1", "E2", "G2"}
    for a in audit:
        assert a["record_id"] in text
    if fmt != "json":  # each change is one row: the record's number, then its id, ... old -> new
        numbered = 0
        for a in audit:
            cell = f"<td>{a['record_id']}</td>" if html else f"| {a['record_id']} |"
            line = next(line for line in text.splitlines() if cell in line and "→" in line)
            cells = re.findall(r"<td>(.*?)</td>", line) if html else [c.strip() for c in line.strip("|").split(" | ")]
            assert cells[1] == a["record_id"] and _plain(cells[-2]) == f"{a['old'] or '(empty)'} → {a['new']}", line
            numbered += bool(cells[0]) and cells[0] != a["record_id"]
        assert numbered == len(audit)  # every record written shows its number first
        memo_numbers = [line for line in text.splitlines() if "→" in line and re.search(r"\bCM\d+", line)]
        assert memo_numbers  # E1 and E2 memos by their CM… numbers
    for secret in rehearsed["secrets"]:
        assert secret and secret not in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_internals_reach_the_report(rehearsed, fmt):
    """No journal path, no simulator URL, no OS user, no NetSuite field script id: nothing a client should not
    read (the JSON keeps the check queries, which name the script ids)."""
    for which in ("text", "open_text"):
        text = rehearsed[which][fmt]
        internals = rehearsed["internals"] if fmt != "json" else rehearsed["internals"][:4]
        for internal in internals:
            assert internal not in text, internal
        assert not re.search(r"https?://(127\.|localhost|\[::1\])", text)
        assert not re.search(rf"(?<![\w.-]){re.escape(getpass.getuser())}(?![\w.-])", text), getpass.getuser()


def _summary_md(text: str) -> str:
    return text.split("\n---\n")[0]  # the first page ends at the page break


def test_the_summary_counts_are_the_journals(rehearsed):
    audit = rehearsed["audit"]
    written = {s: len({a["record_id"] for a in audit if a["step_id"] == s}) for s in ("E1", "E2", "G2")}
    assert all(written.values())
    md = _summary_md(rehearsed["text"]["md"])
    assert md.startswith("> **REHEARSAL: not a sign-off of a client's tenant.**")
    assert "**Ready to sign: every step passed, was waived on purpose or is not needed**" in md
    marked = written["E1"] + written["E2"]
    assert f"- **Memos marked Transferred to Accounting:** {marked:,} (E1 {written['E1']:,}, E2 {written['E2']:,})" \
        in md
    assert f"- **NetSuite payments back-filled:** {written['G2']:,} (G2)" in md
    h2 = rehearsed["h2"]
    assert f"- **Duplicate credit memos in NetSuite:** {h2.details[DUPLICATES]:,} (found by H2, {h2.checked_at})" \
        in md
    assert f"- **Zuora records sent to NetSuite twice (NetSuite copies):** 0 (found by H2, {h2.checked_at})" in md
    assert "- **NetSuite payments missing in Zuora:** 0 (found by H3" in md
    assert "- **Path (A3):** Path 2: a new connector instance" in md
    for label in ("Freeze (old connector stopped)", "Migration (Zuora's IS data migration)",
                  "Go-live (new connector's schedule on)"):
        assert re.search(rf"- \*\*{re.escape(label)}:\*\* 20\d\d-\d\d-\d\d", md), label
    assert f"Consultant: {REHEARSAL_OPERATOR.name}" in md and "Client: ___" in md
    summary = json.loads(rehearsed["text"]["json"])["summary"]
    assert summary["ready"] is True and summary["open_steps"] == []
    assert summary["counts"]["Memos marked Transferred to Accounting"].startswith(f"{marked:,} ")
    assert summary["signatories"] == {"Consultant": REHEARSAL_OPERATOR.name, "Client": ""}
    assert REHEARSAL_OPERATOR.email == REHEARSAL_EMAIL  # how the report knows a rehearsal


def test_statuses_and_waivers_are_on_the_first_page(rehearsed):
    open_steps, waiver = rehearsed["open"], rehearsed["waiver"]
    assert "H3" in open_steps and "C2" not in open_steps
    md = _summary_md(rehearsed["open_text"]["md"])
    n = len(open_steps)
    assert f"**Not ready to sign: {n} step{'s' if n != 1 else ''} still open ({', '.join(open_steps)})**" in md
    assert "- **NetSuite payments missing in Zuora:** 2 (found by H3" in md
    phases = {line.split(" | ")[0].strip("| "): line for line in md.splitlines() if line.startswith("| ")}
    assert "| Done (1 waived) |" in phases["C Connector readiness and freeze"]
    assert f"C2: {waiver.reason} (accepted by {waiver.who}, {waiver.at})" in phases["C Connector readiness and freeze"]
    assert "| Failing: H3 |" in phases["H Go-live and verification"]
    html = rehearsed["open_text"]["html"]
    first_page = html.split('<div class="page-break">')[0]
    assert '<p class="headline tone-bad">Not ready to sign' in first_page
    assert '<span class="tone-bad">Failing: H3</span>' in first_page
    assert '<span class="tone-good">Done (1 waived)</span>' in first_page
    assert '<span class="tone-waived">≈ waived</span>' in html and '<span class="tone-bad">× fail</span>' in html
    summary = json.loads(rehearsed["open_text"]["json"])["summary"]
    assert summary["ready"] is False and summary["open_steps"] == open_steps
    c = next(p for p in summary["phases"] if p["phase"] == "C")
    assert c["waivers"] == [{"step": "C2", "who": waiver.who, "at": waiver.at, "reason": waiver.reason}]


def test_html_prints_with_its_marking_charts_and_unbroken_timestamps(rehearsed):
    html = rehearsed["text"]["html"]
    assert "@page { size: A4;" in html and "@media print" in html and "page-break-before: always" in html
    assert '@top-center { content: "REHEARSAL: not a sign-off' in html  # on every printed page
    assert '<div class="band" id="band">REHEARSAL' in html  # and on screen
    assert html.count("<svg") == 1 and "Cutover timeline" in html  # no monitor ran: no sync chart, and says so
    assert "the monitor kept fewer than two samples" in html
    cells = re.findall(r"<td>([^<]*\d{4}-\d\d-\d\dT[^<]*)</td>", html)
    assert not cells, cells[:3]  # every timestamp sits in a span that does not wrap
    assert re.search(r'<span class="ts">\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ</span>', html)
    assert ".ts { white-space: nowrap; }" in html


def test_json_is_one_object_with_every_change(rehearsed):
    report = json.loads(rehearsed["text"]["json"])
    assert list(report) == ["header", "summary", "steps", "waivers", "decisions", "variables", "confirmations",
                            "tickets", "instances", "plans", "applies", "monitor_samples", "changes", "skipped"]
    assert report["header"]["marking"] == "Rehearsal" and "journal" not in report["header"]
    assert report["waivers"] == []  # a clean rehearsal waives nothing
    assert report["skipped"] == [] and {p["skipped"] for p in report["plans"]} == {0}  # nothing changed under it
    assert all(len(p["seal"]) == 64 for p in report["plans"])
    register = {i["role"]: i for i in report["instances"]["register"]}
    assert register["old"]["status"] == "retired" and register["new"]["status"] == "active"
    assert register["new"]["account_id"] and register["new"]["oauth_client_id"]
    assert [s["id"] for s in report["steps"]] == [s.id for s in RUNBOOK]
    e1 = next(s for s in report["steps"] if s["id"] == "E1")
    assert e1["status"] == "pass" and e1["latest"]["query"] and e1["history"][0]["checked_at"]
    assert [(c["record_id"], c["old"], c["new"]) for c in report["changes"]] == [
        (a["record_id"], a["old"], a["new"]) for a in rehearsed["audit"]]
    assert all(c["number"] for c in report["changes"])
    decisions = {d["step"]: d["value"] for d in report["decisions"]}
    assert decisions["A3"] == "new-instance" and decisions["E2"] == "mark-yes"
    assert {p["step"]: p["status"] for p in report["plans"]} == {"E1": "done", "E2": "done", "G2": "done"}
    assert {a["step"] for a in report["applies"]} == {"E1", "E2", "G2"}


# ---- a journal written by hand ----------------------------------------------------------------------------------
@pytest.fixture
def profile(capsys):
    code, _, err = run(capsys, "profile", "add", "acme", "--zuora-base-url", "http://127.0.0.1:9",
                       "--netsuite-base-url", "http://127.0.0.1:9", "--netsuite-account-id", "1234567_SB1")
    assert code == 0, err
    return get_profile("acme")


NASTY = "<script>alert('x')</script> | a & b\nsecond line"


def test_html_escapes_what_people_typed_and_markdown_keeps_tables_whole(profile, tmp_path):
    with Run(profile) as run_:
        journal = run_.journal
        journal.confirm("A2", NASTY)
        journal.record_ticket("B1", "<b>00123</b>")
        journal.record_result(CheckResult("C1", Status.FAIL, 2, "2 IIAs <pending>", query="SELECT 1 -- <q>"))
        html = write_report(run_, tmp_path / "r.html", "html").read_text()
        md = write_report(run_, tmp_path / "r.md", "md").read_text()
    assert "<script" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "&lt;b&gt;00123&lt;/b&gt;" in html and "2 IIAs &lt;pending&gt;" in html
    assert "<link" not in html and "src=" not in html  # self-contained
    row = next(line for line in md.splitlines() if line.startswith("| A2 | Test Operator") or "alert" in line)
    assert "\\| a & b<br>second line" in row and row.count(" | ") == 3  # the pipe cannot split the table


def test_the_audit_log_streams_into_the_file(profile, tmp_path):
    n = 20_000
    with Run(profile) as run_:
        journal = run_.journal
        with sqlite3.connect(journal.path) as db:
            db.executemany("INSERT INTO audit(at, who, step_id, plan_id, system, object, record_id, field, old, new,"
                           " request_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                           (("2026-11-24T10:00:00Z", "ana", "E1", 1, "zuora", "CreditMemo", f"{i:032x}",
                             "transferredToAccounting", "No", "Yes", f"req-{i}") for i in range(n)))
        for fmt in ("json", "md"):
            tracemalloc.start()
            path = write_report(run_, tmp_path / f"big.{fmt}", fmt)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            assert path.stat().st_size > 2_500_000 and peak < 1_500_000, (fmt, peak)
    assert len(json.loads((tmp_path / "big.json").read_text())["changes"]) == n


def test_cutover_report_writes_stdout_or_a_file_in_the_format_its_name_asks(profile, tmp_path, capsys):
    with Journal.for_profile(profile) as journal:
        journal.confirm("B5", "no integrations make IIAs")
    code, out, err = run(capsys, "report", "--profile", "acme")
    assert code == 0 and out.startswith("> **SIMULATED TENANT: not a sign-off of a client's tenant.**\n\n\n"
                                        "# Sign-off report: acme") and "no integrations make IIAs" in out
    code, out, err = run(capsys, "report", "--profile", "acme", "-o", str(tmp_path / "r.json"))
    assert code == 0 and out == "" and "written to" in err
    assert json.loads((tmp_path / "r.json").read_text())["header"]["profile"] == "acme"
    code, _, _ = run(capsys, "report", "--profile", "acme", "--format", "html", "-o", str(tmp_path / "r.txt"))
    assert code == 0 and (tmp_path / "r.txt").read_text().startswith("<!DOCTYPE html>")
    code, _, _ = run(capsys, "report", "--profile", "acme", "--paper", "letter", "-o", str(tmp_path / "r.html"))
    page = (tmp_path / "r.html").read_text()
    assert code == 0 and "@page { size: letter;" in page and "SIMULATED TENANT" in page  # its URL is loopback


def test_a_pdf_without_its_extra_or_chromium_is_one_line_naming_the_extra(profile, tmp_path, capsys, monkeypatch):
    import core.report_pdf

    monkeypatch.setattr(core.report_pdf, "have_xhtml2pdf", lambda: False)
    monkeypatch.setattr(core.report_pdf, "chromium", lambda: None)
    code, out, err = run(capsys, "report", "--profile", "acme", "-o", str(tmp_path / "r.pdf"))
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert f"pip install '{core.report_pdf.distribution_name()}[pdf]'" in err and "Chromium" in err
    assert not (tmp_path / "r.pdf").exists() and not list(tmp_path.glob(".r.pdf*"))  # nothing half-written


def test_a_pdf_through_the_extra(profile, tmp_path, capsys):
    pytest.importorskip("xhtml2pdf", reason="the pdf extra is not installed")
    with Journal.for_profile(profile) as journal:
        journal.confirm("B5", "no integrations make IIAs")
    code, _, err = run(capsys, "report", "--profile", "acme", "--format", "pdf", "-o", str(tmp_path / "r.out"))
    data = (tmp_path / "r.out").read_bytes()
    assert code == 0 and data.startswith(b"%PDF-") and b"%%EOF" in data[-64:], err


@pytest.mark.parametrize("args, message", [
    (["--profile", "nosuch"], "nosuch"),
    (["--profile", "acme", "-o", "/proc/no/such/dir/r.md"], "cannot write the report"),
])
def test_cutover_report_errors_are_one_line(profile, capsys, args, message):
    code, out, err = run(capsys, "report", *args)
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1
