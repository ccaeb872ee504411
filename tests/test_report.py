"""The sign-off report: after a real rehearsal the Markdown, HTML and JSON reports hold every step, the
confirmations, the tickets and each changed record with its old and new value, and no secret; HTML escapes what
people typed; the audit log streams; `cutover report` picks the format and fails in one line."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import tracemalloc

import pytest
from cli_support import run

from core.config import get_profile
from core.journal import Journal
from core.run import Run
from core.rehearsal import Rehearsal
from core.report import write_report
from core.runbook.model import CheckResult, Status
from core.runbook.phases import RUNBOOK

pytestmark = pytest.mark.timeout(120)
FORMATS = ("md", "html", "json")


@pytest.fixture(scope="module")
def rehearsed(tmp_path_factory):
    """One unattended rehearsal; before its journal goes away, the three reports, the audit log and every secret
    the run held (the simulator's credentials, the new OAuth client's secret)."""
    out = tmp_path_factory.mktemp("reports")
    seen: dict = {}

    def keep(rehearsal: Rehearsal) -> None:
        journal = rehearsal.opened.journal
        seen["paths"] = {fmt: write_report(rehearsal.opened, out / f"report.{fmt}", fmt) for fmt in FORMATS}
        seen["audit"] = list(journal.audit_log())
        seen["confirmations"] = journal.confirmations()
        seen["tickets"] = journal.tickets()
        seen["secrets"] = [*rehearsal.tenant.credentials.secret_values(),
                           rehearsal.opened.runbook.secrets["new_oauth_client_secret"].get_secret_value()]

    outcome = asyncio.run(Rehearsal(seed=3, scale=300, before_close=keep).run())
    assert outcome.passed
    return seen | {"text": {fmt: p.read_text(encoding="utf-8") for fmt, p in seen["paths"].items()}}


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_report_holds_the_whole_run_and_no_secret(rehearsed, fmt):
    text = rehearsed["text"][fmt]
    html = fmt == "html"
    for step in RUNBOOK:
        assert step.id in text, step.id
    for c in rehearsed["confirmations"].values():
        note = json.dumps(c.note)[1:-1] if fmt == "json" else c.note
        assert (note.replace("'", "&#x27;") if html else note) in text and c.at in text
    for t in rehearsed["tickets"].values():
        assert t.number in text
    audit = rehearsed["audit"]
    assert {a["step_id"] for a in audit} == {"E1", "E2", "G2"}
    for a in audit:
        assert a["record_id"] in text
    if fmt != "json":  # each change is one row: record, field, old -> new
        for a in audit:
            cells = (a["record_id"], a["field"], f"{a['old'] or '(empty)'} → {a['new']}")
            row = "".join(f"<td>{c}</td>" for c in cells) if html else " | ".join(cells)
            assert row in text, row
    for secret in rehearsed["secrets"]:
        assert secret and secret not in text


def test_json_is_one_object_with_every_change(rehearsed):
    report = json.loads(rehearsed["text"]["json"])
    assert list(report) == ["header", "steps", "waivers", "decisions", "variables", "confirmations", "tickets",
                            "instances", "plans", "changes", "skipped"]
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
    decisions = {d["step"]: d["value"] for d in report["decisions"]}
    assert decisions["A3"] == "new-instance" and decisions["E2"] == "mark-yes"
    assert {p["step"]: p["status"] for p in report["plans"]} == {"E1": "done", "E2": "done", "G2": "done"}


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
    assert "<script>" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "&lt;b&gt;00123&lt;/b&gt;" in html and "2 IIAs &lt;pending&gt;" in html and "-- &lt;q&gt;" in html
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
    assert code == 0 and out.startswith("\n# Sign-off report: acme") and "no integrations make IIAs" in out
    code, out, err = run(capsys, "report", "--profile", "acme", "-o", str(tmp_path / "r.json"))
    assert code == 0 and out == "" and "written to" in err
    assert json.loads((tmp_path / "r.json").read_text())["header"]["profile"] == "acme"
    code, _, _ = run(capsys, "report", "--profile", "acme", "--format", "html", "-o", str(tmp_path / "r.txt"))
    assert code == 0 and (tmp_path / "r.txt").read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("args, message", [
    (["--profile", "nosuch"], "nosuch"),
    (["--profile", "acme", "-o", "/proc/no/such/dir/r.md"], "cannot write the report"),
])
def test_cutover_report_errors_are_one_line(profile, capsys, args, message):
    code, out, err = run(capsys, "report", *args)
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1
