"""`cutover undo` (issue 14, item 1) over loopback: an apply taken back record by record, from the journal's old
values, as a write like any other.

Undo of E1 after a full apply, after a killed apply (SIGKILLed mid-way, its in-flight writes landed but never
recorded), and after one memo was changed by someone else (skipped and reported, never overwritten): Zuora ends
exactly as before the apply but for that memo, and a finished undo run again makes no write call. The Override
Transferred to Accounting permission refuses each memo with the next step; H1 refuses the undo of E1 unless a
person types why (recorded); an undo of the undo restores the apply; G2 is undone in NetSuite; the app's Undo
action shows the plan, confirms and applies it.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_support import run, simulated_profile
from sim_tenant import add_credit_memos, add_invoices

from core.config import get_profile
from core.demo import DemoTenant
from core.journal import Journal
from core.runbook.engine import Runbook
from core.runbook.undo import UndoRefused, apply_undo, history, plan_undo
from core.secrets import SECRET_NAMES, env_var
from core.session import Session
from core.sim.catalog import NS_FIELD_IDS
from core.sim.credit_memos import OVERRIDE_TTA

pytestmark = pytest.mark.timeout(120)
MEMOS = 120
ROOT = Path(__file__).resolve().parents[1]
SYNC_UPDATES = NS_FIELD_IDS["zuora_sync_updates"]
ADMIN = "ask your Zuora admin for the Override Transferred to Accounting permission"


class _Calls:
    """The bulk updates Zuora answered, and the memos each sent."""

    def __init__(self):
        self.bulk_puts = 0
        self.sent: list[str] = []

    def __call__(self, request):
        if request.method == "PUT" and request.url.path.endswith("/bulk"):
            self.bulk_puts += 1
            self.sent += [m["id"] for m in json.loads(request.content)["memos"]]


def _memos(sim, n: int = MEMOS) -> list[str]:
    """n AR Mig memos whose negative invoices NetSuite has (E1 marks them); a few of them start with an empty TTA,
    which reads as No."""
    store = sim.store
    account = store.scalar("SELECT id FROM account LIMIT 1")
    negatives = add_invoices(sim, n, account=account, amount=-1.0)
    targets = add_credit_memos(sim, n, account=account, start=10_000, invoices=negatives)
    store.execute("UPDATE creditmemo SET transferredtoaccounting = NULL WHERE id IN (?, ?)", (targets[0], targets[7]))
    store.set_setting("invoice_settlement", True)
    return targets


@pytest.fixture
async def rb():
    async with DemoTenant(scale=50, connector_pace_s=0) as demo:
        targets = _memos(demo.sim)
        calls = _Calls()
        async with Session(demo.profile, demo.credentials, zuora_options={"on_request": calls}) as session:
            with Journal.for_profile(demo.profile) as journal:
                runbook = Runbook(demo.profile, journal, session)
                runbook.store, runbook.calls, runbook.targets = demo.sim.store, calls, targets
                yield runbook


def _tta(store) -> dict[str, str | None]:
    """Every memo's Transferred to Accounting: the whole tenant, so an undo that touched anything else shows."""
    return {r["id"]: r["transferredtoaccounting"] for r in store.query(
        "SELECT id, transferredtoaccounting FROM creditmemo")}


def _as_before(before: dict[str, str | None]) -> dict[str, str | None]:
    """What an undo leaves: an empty TTA comes back as No (Zuora's update takes only a value of its enum)."""
    return {k: v or "No" for k, v in before.items()}


async def test_undo_of_a_full_apply_restores_every_memo_and_a_finished_undo_writes_nothing(rb):
    before = _tta(rb.store)
    applied = await rb.apply("E1")
    assert applied.written == MEMOS and set(_tta(rb.store).values()) >= {"Yes"}
    puts = rb.calls.bulk_puts

    plan = await plan_undo(rb, "E1")
    assert (plan.undoes, plan.total, plan.new_value, plan.status) == (applied.plan.plan_id, MEMOS, "No", "planned")
    assert {(i["current"], i["new"]) for i in rb.journal.iter_plan_items(plan.plan_id)} == {("Yes", "No")}
    assert rb.calls.bulk_puts == puts  # planning writes nothing
    outcome = await apply_undo(rb, "E1", plan_id=plan.plan_id, seal=plan.seal[:6])
    assert (outcome.written, outcome.skipped, outcome.failed, outcome.write_calls) == (MEMOS, 0, 0, 3)
    assert _tta(rb.store) == _as_before(before)
    assert outcome.recheck.step_id == "E1" and outcome.recheck.status.value == "fail"  # the marks are gone again
    undo_audit = [a for a in rb.journal.audit_log("E1") if a["plan_id"] == plan.plan_id]
    assert {(a["record_id"], a["old"], a["new"]) for a in undo_audit} == {(m, "Yes", "No") for m in rb.targets}

    puts = rb.calls.bulk_puts
    again = await plan_undo(rb, "E1")  # the same undo again: it is finished
    assert again.plan_id == plan.plan_id and again.remaining == 0
    rerun = await apply_undo(rb, "E1", plan_id=again.plan_id)
    assert (rerun.write_calls, rerun.written) == (0, 0) and rb.calls.bulk_puts == puts
    rows = history(rb.journal, "E1")
    assert [(r.kind, r.plan_id, r.undoes, r.written) for r in rows] == [
        ("apply", applied.plan.plan_id, None, MEMOS), ("undo", plan.plan_id, applied.plan.plan_id, MEMOS)]
    assert rows[1].by == rb.profile.operator_label and rows[1].started_at and rows[1].ended_at


async def test_a_memo_changed_since_the_apply_is_skipped_and_reported_never_overwritten(rb):
    before = _tta(rb.store)
    await rb.apply("E1")
    changed = rb.targets[42]
    rb.store.execute("UPDATE creditmemo SET transferredtoaccounting = 'Error' WHERE id = ?", (changed,))
    rb.calls.sent.clear()

    plan = await plan_undo(rb, "E1")
    outcome = await apply_undo(rb, "E1", plan_id=plan.plan_id)
    assert (outcome.written, outcome.skipped, outcome.failed) == (MEMOS - 1, 1, 0)
    assert changed not in rb.calls.sent
    skipped = list(rb.journal.iter_plan_items(plan.plan_id, ("skipped",)))
    assert [(i["record_id"], i["number"], i["error"]) for i in skipped] == [
        (changed, "CM00010042", "changed since the apply: Yes -> Error")]
    assert _tta(rb.store) == _as_before(before) | {changed: "Error"}
    assert [a["record_id"] for a in rb.journal.audit_log("E1", skipped=True)] == [changed]


async def test_without_the_override_permission_each_memo_is_refused_with_the_next_step(rb):
    await rb.apply("E1")
    rb.store.set_setting(OVERRIDE_TTA, False)
    plan = await plan_undo(rb, "E1")
    refused = await apply_undo(rb, "E1", plan_id=plan.plan_id)
    assert (refused.written, refused.failed) == (0, MEMOS) and refused.plan.status == "failed"
    errors = {i["error"] for i in rb.journal.iter_plan_items(plan.plan_id, ("failed",))}
    assert len(errors) == 1 and "Override Transferred to Accounting" in errors.pop()
    from core.runbook.failures import failure_lines

    lines = failure_lines(rb.journal, plan.plan_id)
    assert len(lines) == 1 and f"{MEMOS}" in lines[0] and ADMIN in lines[0]
    assert {_tta(rb.store)[m] for m in rb.targets} == {"Yes"}  # nothing changed

    rb.store.set_setting(OVERRIDE_TTA, True)  # the admin granted it: the same undo resumes and finishes
    assert (await plan_undo(rb, "E1")).plan_id == plan.plan_id
    done = await apply_undo(rb, "E1", plan_id=plan.plan_id)
    assert done.written == MEMOS and {_tta(rb.store)[m] for m in rb.targets} == {"No"}


async def test_after_h1_the_undo_of_e1_needs_a_typed_reason_which_is_recorded(rb):
    applied = await rb.apply("E1")
    rb.journal.confirm("H1", "first run of the new connector finished")
    puts = rb.calls.bulk_puts
    with pytest.raises(UndoRefused, match=r"E1 cannot be undone: the new connector's first run \(H1\) is recorded"):
        await plan_undo(rb, "E1")
    assert rb.journal.undo_plan(applied.plan.plan_id) is None and rb.calls.bulk_puts == puts

    reason = "NetSuite checked: none of these memos was pushed; the E1 list was wrong"
    plan = await plan_undo(rb, "E1", override_reason=reason)
    assert plan.override_reason == reason
    outcome = await apply_undo(rb, "E1", plan_id=plan.plan_id)
    assert outcome.written == MEMOS
    assert [r.override_reason for r in history(rb.journal, "E1")] == [None, reason]


async def test_an_undo_of_the_undo_restores_the_apply(rb):
    await rb.apply("E1")
    after_apply = _tta(rb.store)
    undo = await plan_undo(rb, "E1")
    await apply_undo(rb, "E1", plan_id=undo.plan_id)
    undo_run = rb.journal.apply_runs(undo.plan_id)[-1]["id"]
    rb.journal.confirm("H1", "first run")  # setting the marks back is no risk: H1 does not refuse it

    redo = await plan_undo(rb, "E1", run_id=undo_run)
    assert redo.undoes == undo.plan_id and redo.new_value == "Yes"
    outcome = await apply_undo(rb, "E1", plan_id=redo.plan_id)
    assert outcome.written == MEMOS and outcome.recheck.status.value == "pass"
    assert _tta(rb.store) == after_apply
    assert [r.kind for r in history(rb.journal, "E1")] == ["apply", "undo", "undo"]


async def test_g2_undo_clears_zuora_sync_updates_on_exactly_the_payments_it_set():
    async with DemoTenant(scale=200, connector_pace_s=0) as demo:
        store = demo.sim.store
        with Journal.for_profile(demo.profile) as journal:
            async with Session(demo.profile, demo.credentials) as session:
                rb = Runbook(demo.profile, journal, session)
                rb.set_variable("freeze_ts", store.setting("scenario.freeze_date"))

                def values():
                    return {r["id"]: r["v"] for r in store.query(
                        f'SELECT id, {SYNC_UPDATES} AS v FROM ns."transaction" WHERE type = \'CustPymt\'')}

                before = values()
                applied = await rb.apply("G2")
                assert applied.written > 2 and values() != before
                plan = await plan_undo(rb, "G2")
                assert plan.system == "netsuite" and plan.new_value == "(empty)" and plan.total == applied.written
                outcome = await apply_undo(rb, "G2", plan_id=plan.plan_id)
                assert (outcome.written, outcome.skipped, outcome.write_calls) == (plan.total, 0, plan.total)
                assert values() == before


# ---- the command line: a killed apply, a killed undo ---------------------------------------------------------------
def _done(journal: Path, undo: bool) -> tuple[int, int]:
    """(items confirmed, items planned) of the latest E1 plan or undo plan, read as another process would."""
    if not journal.exists():
        return 0, 0
    db = sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=5)
    try:
        row = db.execute(f"SELECT id, total, status FROM plan WHERE step_id = 'E1' AND undoes IS "
                         f"{'NOT ' if undo else ''}NULL ORDER BY id DESC LIMIT 1").fetchone()
        if row is None or row[2] == "planning":
            return 0, 0
        done = db.execute("SELECT count(*) FROM plan_item WHERE plan_id = ? AND status = 'done'", (row[0],)).fetchone()
        return done[0], row[1]
    except sqlite3.OperationalError:  # the schema is being made right now
        return 0, 0
    finally:
        db.close()


def _kill_at(command: list[str], env: dict, journal: Path, fraction: float, *, undo: bool) -> None:
    """Run `command` and SIGKILL it once `fraction` of its plan is confirmed in the journal."""
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while True:
        done, total = _done(journal, undo)
        if total and done >= fraction * total:
            break
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


@pytest.mark.slow
def test_undo_after_a_killed_apply_and_itself_killed_ends_exactly_as_before(capsys, monkeypatch):
    """The apply is SIGKILLed while Zuora holds the answers of writes it made (write_before_latency): those memos
    are Yes but not recorded. The undo settles them first, so they are undone too; the undo is killed in turn, and
    the next one finishes it, finding its own in-flight memos written: none skipped, none failed."""
    with simulated_profile(capsys, monkeypatch, latency_ms=100, zuora_concurrency=2,
                           write_before_latency=True) as demo:
        store = demo.sim.store
        targets = _memos(demo.sim, 600)  # 12 bulk calls, two at a time
        before = _tta(store)
        journal = Path(get_profile("sim").data_dir) / "journal.db"
        env = {**os.environ, "PYTHONPATH": f"{ROOT / 'tests'}{os.pathsep}{ROOT}",
               "PYTHON_KEYRING_BACKEND": "memkeyring.MemoryKeyring",
               **{env_var(n): demo.credentials.value(n) for n in SECRET_NAMES}}
        cutover = [str(Path(sys.executable).with_name("cutover")), "--profile", "sim"]

        _kill_at([*cutover, "apply", "E1", "--yes"], env, journal, 0.4, undo=False)
        with Journal(journal) as j:
            applied = j.latest_plan("E1")
            recorded = {i["record_id"] for i in j.iter_plan_items(applied.plan_id, ("done",))}
        marked = {m for m in targets if _tta(store)[m] == "Yes"}
        assert recorded < marked < set(targets)  # landed but never recorded: the kill came between

        _kill_at([*cutover, "undo", "E1", "--yes"], env, journal, 0.3, undo=True)
        assert store.scalar("SELECT count(*) FROM creditmemo WHERE transferredtoaccounting = 'Yes'") > 0

        code, out, err = run(capsys, "undo", "E1", "--yes", "--profile", "sim")
        assert code == 0, out + err
        assert "written back" in out and " 0 failed, 0 skipped" in out and "Re-check E1: fail" in out
        assert _tta(store) == _as_before(before)
        with Journal(journal) as j:
            undo = j.undo_plan(applied.plan_id)
            assert undo.total == len(marked) and undo.counts["done"] == len(marked) and undo.status == "done"
            assert {a["record_id"] for a in j.audit_log("E1") if a["plan_id"] == undo.plan_id} == marked
            assert j.plan(applied.plan_id).status == "superseded"  # its unwritten rest is never resumed

        code, out, err = run(capsys, "undo", "E1", "--yes", "--profile", "sim")  # finished: nothing to write
        assert code == 0 and "Nothing to write." in out and "in 0 write calls" in out


def test_the_command_line_shows_the_undo_plan_and_refuses_what_it_cannot_do(capsys, monkeypatch):
    with simulated_profile(capsys, monkeypatch) as demo:
        _memos(demo.sim, 60)
        code, out, err = run(capsys, "undo", "E1", "--profile", "sim", "--dry-run")
        assert code == 2 and err.strip() == ("cutover: E1 has not been applied: there is nothing to undo (see what "
                                             "an apply would write: cutover plan E1)")
        assert run(capsys, "apply", "E1", "--yes", "--profile", "sim")[0] == 0
        code, out, err = run(capsys, "undo", "E1", "--profile", "sim", "--dry-run")
        assert code == 0, err
        lines = out.splitlines()
        assert lines[0].startswith("Undo of plan 1 (the apply of E1 by Test Operator <test@example.com>, ")
        assert lines[1].startswith("Plan 2 for E1 (seal ") and "60 zuora CreditMemo records, transferredToAccounting" \
            " -> No" in lines[1] and "  CM00010000  Yes -> No" in lines
        assert demo.sim.store.scalar("SELECT count(*) FROM creditmemo WHERE transferredtoaccounting = 'No'") == 0
        code, out, err = run(capsys, "undo", "E1", "--profile", "sim", "--run", "7")
        assert code == 2 and len(err.strip().splitlines()) == 1 and "there is no apply run 7" in err
        code, out, err = run(capsys, "undo", "C2", "--profile", "sim")
        assert code == 2 and "C2 has nothing for the tool to write" in err and "Traceback" not in err

        with Journal.for_profile(get_profile("sim")) as journal:  # the first run happened (E2 is not done here)
            journal.confirm("H1", "first run done")
        code, out, err = run(capsys, "undo", "E1", "--profile", "sim", "--yes", "--json")
        assert code == 2 and "E1 cannot be undone: the new connector's first run (H1) is recorded" in err
        code, out, err = run(capsys, "undo", "E1", "--profile", "sim", "--yes", "--json", "--override-reason",
                             "the client asked for it in writing")
        assert code == 0, err
        body = json.loads(out)
        assert body["plan"]["override_reason"] == "the client asked for it in writing"
        assert (body["outcome"]["written"], body["outcome"]["skipped"], body["outcome"]["write_calls"]) == (60, 0, 2)
        assert demo.sim.store.scalar("SELECT count(*) FROM creditmemo WHERE transferredtoaccounting = 'Yes'") == 0

        code, out, err = run(capsys, "report", "--profile", "sim", "--format", "md")  # one history in the report
        assert code == 0, err
        undo_plan = body["plan"]["plan_id"]
        history_rows = [line for line in out.splitlines() if line.startswith("| E1 |") and "Test Operator" in line]
        assert any(f"| {undo_plan} | undo of plan 1 |" in r and "the client asked for it in writing" in r
                   for r in history_rows), history_rows
        assert any("| 1 | apply |" in r for r in history_rows)


# ---- the app ----------------------------------------------------------------------------------------------------------
async def plan_and_apply(pilot, screen) -> None:
    """On a fix's step screen: p plans, a asks, Enter applies; back on the screen once it is applied."""
    from tui_helpers import wait_until

    from tui.screens.confirm import ConfirmWrite

    app = pilot.app
    await pilot.press("p")
    await wait_until(pilot, lambda: screen.plan is not None, timeout=60)
    await pilot.press("a")
    await wait_until(pilot, lambda: isinstance(app.screen, ConfirmWrite))
    await pilot.press("enter")
    await wait_until(pilot, lambda: app.screen is screen and not screen.applying and screen.applied, timeout=60)


async def test_the_app_undoes_e1_from_the_step_screen_and_notifies_zuora_refusals():
    """On the demo: apply E1, then Undo (the palette entry, then the footer's u): the undo plan in the same
    confirmation as apply, the progress bar, every memo back; without the permission each refusal is notified."""
    import asyncio

    from sim_tenant import migrate
    from test_tui_runbook import go_to_step
    from textual.widgets import Static
    from tui_helpers import demo_app, wait_ready, wait_until

    from tui.screens.confirm import ConfirmWrite
    from tui.screens.help import help_markdown

    app = demo_app(scale=300)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot, timeout=60)
        store = app.backend.demo.sim.store
        await asyncio.to_thread(migrate, app.backend.demo.sim)
        before = _tta(store)
        app.backend.runbook.set_variable("e1_decision", "mark-yes")
        screen = await go_to_step(pilot, "E1")
        assert not screen.check_action("undo", ())  # nothing applied yet: no Undo in the footer
        await plan_and_apply(pilot, screen)
        marked = {m for m, v in _tta(store).items() if v != before[m]}
        assert marked and screen.check_action("undo", ())
        assert "**Undo** (`u`" in help_markdown(screen)

        store.set_setting(OVERRIDE_TTA, False)  # the API user lacks the permission: every memo is refused
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"undo step e1")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmWrite), timeout=30)
        dialog = app.screen
        assert dialog.title_text == "Undo E1?" and f"{len(marked)}" in dialog.what
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen and not screen.applying
                         and any(ADMIN in n.message for n in app._notifications), timeout=60)
        assert _tta(store) == {**before, **{m: "Yes" for m in marked}}
        assert str(screen.query_one("#apply-status", Static).render()).startswith("Undo done: 0 written")

        store.set_setting(OVERRIDE_TTA, True)
        await pilot.press("u")  # the same undo, resumed
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmWrite), timeout=30)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen and not screen.applying
                         and str(screen.query_one("#apply-status", Static).render()).startswith(
                             f"Undo done: {len(marked)} written"), timeout=60)
        assert _tta(store) == _as_before(before)
        assert screen.query_one("#apply-progress").percentage == 1.0


async def test_the_app_asks_for_a_reason_before_undoing_e1_after_h1_and_says_what_the_override_does():
    import asyncio

    from sim_tenant import migrate
    from test_tui_runbook import go_to_step
    from tui_helpers import demo_app, wait_ready, wait_until

    from tui.screens.reason import ReasonScreen

    app = demo_app(scale=300)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot, timeout=60)
        await asyncio.to_thread(migrate, app.backend.demo.sim)
        app.backend.runbook.set_variable("e1_decision", "mark-yes")
        screen = await go_to_step(pilot, "E1")
        await plan_and_apply(pilot, screen)
        app.backend.journal.confirm("H1", "first run of the new connector finished")
        await pilot.press("u")
        await wait_until(pilot, lambda: isinstance(app.screen, ReasonScreen), timeout=30)
        said = " ".join(str(app.screen.query_one("#reason-what").render()).split())
        assert "E1 cannot be undone: the new connector's first run (H1) is recorded" in said
        assert "nothing was planned or written" not in said  # the dialog goes on to offer the override
        assert "To undo anyway, say why: the undo is then planned (nothing is written until you apply it)" in said
