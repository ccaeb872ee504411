"""The journal on its own: variables with history, check results with history, confirmations, tickets, plans with
per-item outcomes and the audit log, and the apply lock (refusal, and release when the holder is SIGKILLed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from core.errors import ConfigError
from core.journal import ApplyBusy, Journal, OperatorMissing, apply_lock
from core.runbook.model import CheckResult, Status


OPERATOR = "Ada Lovelace <ada@example.com>"


@pytest.fixture
def journal(tmp_path):
    with Journal(tmp_path / "data" / "journal.db", operator=OPERATOR) as j:
        yield j


def test_variables_are_parsed_stored_and_kept_with_history(journal, tmp_path):
    journal.set_variable("freeze_ts", "2026-10-28 18:00")
    journal.set_variable("old_cutover_dates.invoice", "2024-01-01")
    journal.set_variable("freeze_ts", "2026-10-29T06:30Z")
    with Journal(tmp_path / "data" / "journal.db") as again:  # another process's view: same file
        v = again.variables()
    assert v.dump()["freeze_ts"] == "2026-10-29T06:30:00Z"
    assert v.old_cutover_dates.invoice.isoformat() == "2024-01-01"
    history = journal.variable_history("freeze_ts")
    assert [h["value"] for h in history] == ["2026-10-28T18:00:00Z", "2026-10-29T06:30:00Z"]
    assert {h["set_by"] for h in history} == {OPERATOR}  # the profile's operator, not the OS user
    journal.set_variable("freeze_ts", "")
    assert journal.variables().freeze_ts is None


def test_bad_variable_values_name_the_variable_and_the_form(journal):
    with pytest.raises(ConfigError, match=r"freeze_ts: expected a UTC date and time like 2026-10-28T18:00Z"):
        journal.set_variable("freeze_ts", "next tuesday")
    with pytest.raises(ConfigError, match="expected one of edit-instance, new-instance, new-tenant"):
        journal.set_variable("provisioning_path", "rebuild")
    with pytest.raises(ConfigError, match="did you mean freeze_ts"):
        journal.set_variable("freez_ts", "2026-10-28")
    assert journal.variable_history("freeze_ts") == []


def test_check_results_keep_their_history(journal):
    first = CheckResult("C2", Status.FAIL, 17, "17 negative invoices not yet in NetSuite",
                        sample=({"id": "a", "invoicenumber": "INV1", "amount": -12.5},), query="SELECT 1",
                        details={"negative invoices not yet in NetSuite": 17})
    second = CheckResult("C2", Status.PASS, 0, "Every negative invoice is in NetSuite")
    journal.record_result(first)
    journal.record_result(second)
    journal.record_result(CheckResult("E1", Status.ERROR, None, "could not run", error="boom"))
    assert journal.latest_result("C2") == second
    assert journal.result_history("C2") == [second, first]  # newest first, nothing lost
    assert set(journal.latest_results()) == {"C2", "E1"}
    assert journal.latest_results()["E1"].error == "boom"


def test_confirmations_and_tickets_record_who_and_when(journal):
    journal.confirm("C7", "scheduler off at 18:02")
    later = journal.confirm("C7", "re-checked after the final run")
    journal.record_ticket("B1", " 00123456 ")
    assert journal.confirmations()["C7"] == later
    assert [c.note for c in journal.confirmation_history("C7")] == ["scheduler off at 18:02",
                                                                     "re-checked after the final run"]
    assert later.who == OPERATOR and later.at.endswith("Z")
    assert journal.tickets()["B1"].number == "00123456"


def test_plan_items_outcomes_and_audit_log(journal):
    plan_id = journal.create_plan("E1", system="zuora", object="CreditMemo", field="transferredToAccounting",
                                  new_value="Yes", concurrency=40)
    assert journal.add_plan_items(plan_id, [(f"m{i}", f"CM{i}", "No", "Yes") for i in range(1, 6)]) == 5
    plan = journal.finish_plan(plan_id, calls=1, estimate_s=1.5)
    assert (plan.total, plan.status, plan.counts["pending"]) == (5, "planned", 5)

    claimed = journal.claim_items(plan_id, 0, 3)
    assert [c["record_id"] for c in claimed] == ["m1", "m2", "m3"]
    assert journal.plan(plan_id).counts["sent"] == 3
    journal.record_outcome(plan, claimed[0], success=True, outcome="written", request_id="req-1")
    journal.record_outcome(plan, claimed[1], success=False, outcome="failed", error="not posted [code 53]")
    journal.reset_items(plan_id, [claimed[2]["seq"]])
    counts = journal.plan(plan_id).counts
    assert counts == {"pending": 3, "sent": 0, "done": 1, "failed": 1, "skipped": 0}
    assert journal.plan(plan_id).remaining == 4
    # failed items are offered again, done ones never
    assert [c["record_id"] for c in journal.claim_items(plan_id, 0, 10)] == ["m2", "m3", "m4", "m5"]

    audit = list(journal.audit_log("E1"))
    assert len(audit) == 1
    assert {k: audit[0][k] for k in ("record_id", "field", "old", "new", "request_id", "system", "object")} == {
        "record_id": "m1", "field": "transferredToAccounting", "old": "No", "new": "Yes", "request_id": "req-1",
        "system": "zuora", "object": "CreditMemo"}
    assert [i["record_id"] for i in journal.iter_plan_items(plan_id, ("done",))] == ["m1"]
    assert len(list(journal.iter_plan_items(plan_id, chunk=2))) == 5
    assert len(list(journal.iter_plan_items(plan_id, limit=3))) == 3


def test_a_new_plan_supersedes_the_unfinished_one(journal):
    first = journal.create_plan("G2", system="netsuite", object="customerPayment", field="f", new_value="Yes",
                                concurrency=10)
    journal.finish_plan(first, calls=0, estimate_s=0)
    second = journal.create_plan("G2", system="netsuite", object="customerPayment", field="f", new_value="Yes",
                                 concurrency=10)
    journal.finish_plan(second, calls=0, estimate_s=0)
    assert journal.plan(first).status == "superseded"
    assert journal.latest_plan("G2").plan_id == second


def test_a_second_apply_on_the_profile_is_refused_naming_the_holder(tmp_path):
    with apply_lock(tmp_path, "acme", "E1"):
        with pytest.raises(ApplyBusy, match=rf"another apply is running on profile acme \(pid {os.getpid()}, "
                                            r"step E1"):
            with apply_lock(tmp_path, "acme", "G2"):
                pass
    with apply_lock(tmp_path, "acme", "G2"):  # released at the end of the block
        pass


def test_the_lock_is_released_when_its_holder_is_killed(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from core.journal import apply_lock
        with apply_lock({str(tmp_path)!r}, "acme", "E1"):
            print("locked", flush=True)
            time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(ApplyBusy, match=f"pid {holder.pid}"):
            with apply_lock(tmp_path, "acme", "E1"):
                pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        deadline = time.monotonic() + 30  # released at exit; a loaded box may take a while to retry
        while True:
            try:
                with apply_lock(tmp_path, "acme", "E1"):
                    break
            except ApplyBusy:
                assert time.monotonic() < deadline, "the OS did not release a dead holder's lock"
                time.sleep(0.05)
    finally:
        holder.kill()
        holder.wait()


def test_a_journal_from_the_first_release_opens_migrated_with_its_data(tmp_path):
    import sqlite3

    from core.journal_schema import SCHEMA, SCHEMA_VERSION

    path = tmp_path / "old" / "journal.db"
    path.parent.mkdir()
    with sqlite3.connect(path) as db:  # exactly what version 0 wrote: its schema, no user_version
        db.executescript(SCHEMA)
        db.execute("INSERT INTO confirmation(step_id, who, at, note) VALUES ('C7', 'root', '2026-11-20T18:00:00Z', "
                   "'scheduler off')")
        db.execute("INSERT INTO variable(name, value, set_at, set_by) VALUES ('freeze_ts', '2026-11-20T18:00:00Z', "
                   "'2026-11-20T18:00:00Z', 'root')")
    with Journal(path, operator=OPERATOR) as journal:
        assert journal.schema_version == SCHEMA_VERSION >= 1
        assert journal.confirmations()["C7"].note == "scheduler off"  # mid-cutover data is all there
        assert journal.variables().freeze_ts is not None
        journal.waive("B3", "accepted on purpose")  # and the new tables work
        assert journal.waivers()["B3"].who == OPERATOR
    with Journal(path) as again:  # opening twice migrates nothing twice
        assert again.schema_version == SCHEMA_VERSION and set(again.waivers()) == {"B3"}


def test_a_journal_that_cannot_be_used_is_one_clear_error(tmp_path):
    import sqlite3

    from core.errors import CutoverError

    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as db:
        db.execute("PRAGMA user_version = 999")
    with pytest.raises(CutoverError, match="written by a newer cutover .schema 999"):
        Journal(newer)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database at all, just text " * 100)
    with pytest.raises(CutoverError, match="garbage.db is not an SQLite database .*move it aside"):
        Journal(garbage)


def test_without_an_operator_the_journal_reads_but_refuses_to_record(tmp_path):
    with Journal(tmp_path / "j.db") as journal:
        assert journal.confirmations() == {}
        with pytest.raises(OperatorMissing, match="who is doing this"):
            journal.confirm("C7", "scheduler off")
