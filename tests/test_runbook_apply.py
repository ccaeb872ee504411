"""Plan and apply end to end over loopback: E1 marks exactly its targets and prevents the duplicates, a finished
apply re-run makes no write call, G2 never touches Zuora-origin payments, E2 applies the recorded decision, and
read-only profiles are refused."""

from __future__ import annotations

import csv
import json
import threading

import pytest
from sim_tenant import add_credit_memos, add_invoices, final_sync_then_migrate, migrate, repoint_connector

from core.demo import DemoTenant
from core.errors import ConfigError
from core.journal import Journal
from core.runbook.engine import Runbook
from core.runbook.model import Status
from core.session import Session
from core.sim.catalog import NS_FIELD_IDS
from core.sim.source_fixes import fix_at_source

pytestmark = pytest.mark.timeout(120)
AR_MIG = "AR Mig - negative invoice"
SYNC_UPDATES = NS_FIELD_IDS["zuora_sync_updates"]


class _Counter:
    def __init__(self):
        self.bulk_puts = 0

    def __call__(self, request):
        if request.method == "PUT" and request.url.path.endswith("/bulk"):
            self.bulk_puts += 1


@pytest.fixture
async def rb(request):
    read_only = getattr(request, "param", False)
    async with DemoTenant(scale=200, connector_pace_s=0) as demo:
        counter = _Counter()
        profile = demo.profile.model_copy(update={"read_only": read_only})
        async with Session(profile, demo.credentials, zuora_options={"on_request": counter}) as session:
            with Journal.for_profile(profile) as journal:
                runbook = Runbook(profile, journal, session)
                runbook.demo, runbook.counter, runbook.store = demo, counter, demo.sim.store
                runbook.set_variable("freeze_ts", demo.sim.store.setting("scenario.freeze_date"))
                yield runbook


def api_writes(rb, field: str) -> list[dict]:
    return rb.store.query("SELECT * FROM sim_write_log WHERE source = 'api' AND field = ? ORDER BY seq", (field,))


IN_NETSUITE = "EXISTS (SELECT 1 FROM invoice i WHERE i.id = m.referredinvoiceid AND i.integrationid__ns IS NOT NULL)"


async def test_e1_marks_exactly_its_targets_and_a_second_apply_writes_nothing(rb, tmp_path):
    final_sync_then_migrate(rb.demo.sim)
    targets = {r["id"] for r in rb.store.query(
        f"SELECT id FROM creditmemo m WHERE reasoncode = ? AND coalesce(transferredtoaccounting, 'No') <> 'Yes' "
        f"AND {IN_NETSUITE}", (AR_MIG,))}
    case_2 = {r["id"] for r in rb.store.query(
        f"SELECT id FROM creditmemo m WHERE reasoncode = ? AND NOT {IN_NETSUITE}", (AR_MIG,))}
    assert len(case_2) == 2  # the seed's CHF negative invoices, which NetSuite refused
    others = {r["id"]: r["transferredtoaccounting"] for r in rb.store.query(
        "SELECT id, transferredtoaccounting FROM creditmemo WHERE reasoncode IS NULL")}
    assert targets and others

    plan = await rb.plan("E1")
    assert plan.total == len(targets) and plan.calls == -(-len(targets) // 50) and plan.status == "planned"
    items = list(rb.journal.iter_plan_items(plan.plan_id))
    assert {i["record_id"] for i in items} == targets
    assert {(i["current"], i["new"]) for i in items} == {("No", "Yes")}
    assert rb.counter.bulk_puts == 0  # planning writes nothing
    out = tmp_path / "plan.csv"
    from core.runbook.actions import export_plan

    assert export_plan(rb.journal, plan.plan_id, out) == len(targets)
    assert {row["record_id"] for row in csv.DictReader(out.open())} == targets

    progress = []
    outcome = await rb.apply("E1", plan_id=plan.plan_id, progress=progress.append)
    assert (outcome.written, outcome.failed, outcome.cancelled) == (len(targets), 0, False)
    # Case 2 (R12): their credit never reached NetSuite, so marking them would lose it; a person decides.
    assert outcome.plan.status == "done" and outcome.recheck.status is Status.NEEDS_ACTION
    assert outcome.recheck.summary.startswith("2 AR Mig memos come from negative invoices that never reached NetSuite")
    assert progress[-1].done == progress[-1].total == len(targets) and progress[-1].eta_s == 0
    assert len(targets) >= 10 and len(progress) < len(targets)  # throttled: not one redraw per memo
    writes = api_writes(rb, "TransferredToAccounting")
    assert {w["record_id"] for w in writes} == targets and len(writes) == len(targets)
    assert rb.store.query("SELECT DISTINCT transferredtoaccounting AS t FROM creditmemo m WHERE reasoncode = ? AND "
                          f"{IN_NETSUITE}", (AR_MIG,)) == [{"t": "Yes"}]
    assert {r["transferredtoaccounting"] for r in rb.store.query(
        "SELECT transferredtoaccounting FROM creditmemo WHERE id IN (" + ",".join("?" * len(case_2)) + ")",
        list(case_2))} == {"No"}
    assert {r["id"]: r["transferredtoaccounting"] for r in rb.store.query(
        "SELECT id, transferredtoaccounting FROM creditmemo WHERE reasoncode IS NULL")} == others
    audit = list(rb.journal.audit_log("E1"))
    assert {a["record_id"] for a in audit} == targets
    assert {(a["record_id"], a["request_id"]) for a in audit} == {(w["record_id"], w["request_id"]) for w in writes}

    puts = rb.counter.bulk_puts
    again = await rb.apply("E1")
    assert again.write_calls == 0 and again.plan.total == 0 and again.recheck.status is Status.NEEDS_ACTION
    assert rb.counter.bulk_puts == puts and len(api_writes(rb, "TransferredToAccounting")) == len(targets)
    rb.set_variable("e1_decision", "sync")  # let the new connector send them: the credit reaches NetSuite
    assert (await rb.check(["E1"]))[0].status is Status.PASS

    await rb.check(["D2"])  # the per-customer baseline of NetSuite's negative-invoice credits
    fix_at_source(rb.store, "C2")  # NetSuite's customer takes CHF now, so the memos can reach it
    repoint_connector(rb.demo.sim)
    rb.demo.sim.connector.run()  # with E1 done the new connector creates no duplicate
    h2 = (await rb.check(["H2"]))[0]
    assert h2.status is Status.PASS and h2.result.count == 0, h2.summary
    synced = rb.store.query("SELECT integrationid__ns FROM creditmemo WHERE id IN ("
                            + ",".join("?" * len(case_2)) + ")", list(case_2))
    assert all(r["integrationid__ns"] for r in synced)  # the Case 2 credits reached NetSuite, once


async def test_g2_backfills_only_window_payments_never_zuora_origin_ones_and_resumes(rb, tmp_path):
    freeze = rb.store.setting("scenario.freeze_date")
    window = f"type = 'CustPymt' AND trandate >= '{freeze}'"
    targets = {str(r["id"]) for r in rb.store.query(
        f'SELECT id FROM ns."transaction" WHERE {window} AND {SYNC_UPDATES} IS NULL '
        f"AND coalesce({NS_FIELD_IDS['zuora_origin']}, 'x') <> 'ZUORA' AND {NS_FIELD_IDS['zuora_id']} IS NULL")}
    zuora_origin = {str(r["id"]): r["v"] for r in rb.store.query(
        f'SELECT id, {SYNC_UPDATES} AS v FROM ns."transaction" WHERE {window} '
        f"AND {NS_FIELD_IDS['zuora_origin']} = 'ZUORA'")}
    assert targets and zuora_origin

    plan = await rb.plan("G2")
    assert plan.total == len(targets) and plan.field == SYNC_UPDATES and plan.new_value == "Yes"
    out = tmp_path / "plan.json"
    from core.runbook.actions import export_plan

    export_plan(rb.journal, plan.plan_id, out)
    assert {i["record_id"] for i in json.loads(out.read_text())["items"]} == targets

    # A killed run had sent two PATCHes without recording the answers; only the first one landed.
    sent = rb.journal.claim_items(plan.plan_id, 0, 2)
    landed = sent[0]["record_id"]
    rb.store.execute(f'UPDATE ns."transaction" SET {SYNC_UPDATES} = \'Yes\' WHERE id = ?', (int(landed),))

    outcome = await rb.apply("G2", plan_id=plan.plan_id)
    assert (outcome.already_set, outcome.written) == (1, len(targets) - 1)
    assert outcome.write_calls == len(targets) - 1 and outcome.recheck.status is Status.PASS
    writes = api_writes(rb, SYNC_UPDATES)
    assert {w["record_id"] for w in writes} == targets - {landed} and {w["new_value"] for w in writes} == {"Yes"}
    assert {a["record_id"] for a in rb.journal.audit_log("G2")} == targets
    assert {str(r["id"]): r["v"] for r in rb.store.query(
        f'SELECT id, {SYNC_UPDATES} AS v FROM ns."transaction" WHERE {window} '
        f"AND {NS_FIELD_IDS['zuora_origin']} = 'ZUORA'")} == zuora_origin
    again = await rb.apply("G2")
    assert again.write_calls == 0 and len(api_writes(rb, SYNC_UPDATES)) == len(targets) - 1


async def test_e2_applies_the_recorded_decision(rb):
    migrate(rb.demo.sim)
    memos = {r["id"] for r in rb.store.query("SELECT id FROM creditmemo WHERE sourcetype = 'Standalone' "
                                             "AND reasoncode IS NULL")}
    assert memos
    state = (await rb.check(["E2"]))[0]
    assert state.status is Status.NEEDS_ACTION and f"{len(memos)} credit-balance memos" in state.summary
    with pytest.raises(ConfigError, match="run variable e2_decision is not recorded"):
        await rb.plan("E2")
    rb.set_variable("e2_decision", "sync")
    with pytest.raises(ConfigError, match="the E2 decision is 'sync': the memos sync as they are"):
        await rb.plan("E2")
    assert (await rb.check(["E2"]))[0].status is Status.PASS
    rb.set_variable("e2_decision", "ignore")
    outcome = await rb.apply("E2")
    assert outcome.written == len(memos) and outcome.recheck.status is Status.PASS
    assert rb.store.query("SELECT DISTINCT transferredtoaccounting AS t FROM creditmemo WHERE sourcetype = "
                          "'Standalone' AND reasoncode IS NULL") == [{"t": "Ignore"}]


async def test_a_cancelled_apply_stops_cleanly_and_the_next_one_finishes(tmp_path):
    async with DemoTenant(scale=50, connector_pace_s=0) as demo:
        store = demo.sim.store
        account = store.scalar("SELECT id FROM account LIMIT 1")
        negatives = add_invoices(demo.sim, 1000, account=account, amount=-1.0)  # in NetSuite: E1 marks their memos
        add_credit_memos(demo.sim, 1000, account=account, start=10_000, invoices=negatives)
        store.set_setting("invoice_settlement", True)
        async with Session(demo.profile, demo.credentials, zuora_options={"max_concurrency": 1}) as session:
            with Journal.for_profile(demo.profile) as journal:
                runbook = Runbook(demo.profile, journal, session)
                cancel = threading.Event()
                first = await runbook.apply("E1", progress=lambda p: cancel.set(), cancel=cancel)
                assert first.cancelled and first.plan.status == "cancelled"
                assert 0 < first.written < first.plan.total and first.plan.remaining == first.plan.total - first.written
                assert first.recheck.status is Status.FAIL
                second = await runbook.apply("E1")
                assert second.plan.plan_id == first.plan.plan_id  # resumed, not re-planned
                assert second.written == first.plan.remaining and second.recheck.status is Status.PASS
        writes = store.query("SELECT record_id FROM sim_write_log WHERE field = 'TransferredToAccounting'")
        assert len(writes) == len({w["record_id"] for w in writes}) == first.plan.total


async def test_e1_before_the_migration_is_refused_with_the_reason(rb):
    with pytest.raises(ConfigError, match="E1 comes after the IS migration"):
        await rb.plan("E1")
    with pytest.raises(ConfigError, match="C2 has nothing for the tool to write"):
        await rb.plan("C2")


@pytest.mark.parametrize("rb", [True], indirect=True)
async def test_read_only_profiles_plan_but_never_apply(rb):
    plan = await rb.plan("G2")
    assert plan.total > 0
    with pytest.raises(ConfigError, match="profile demo is read-only: apply is refused"):
        await rb.apply("G2", plan_id=plan.plan_id)
    assert api_writes(rb, SYNC_UPDATES) == []
