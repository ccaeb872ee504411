"""Issue 9, "checks that see the harm": each new or changed check against the simulator over loopback HTTP, once
with the harm in place (the check fails, or asks for action, naming it) and once without it (the check passes).

Every tenant is a fresh `DemoTenant(scale=200)`; the tool talks to it through a `Run` (real clients, real engine,
real journal), and the test plays the people and Support directly on the simulator's store, in the runbook's order
(`cutover rehearse` shows the whole of it). Each assertion checks real values: counts against what the store holds,
the records the sample shows, and summaries that name the harm; no case passes on zero candidates.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sim_tenant import fix_migration_blockers, repoint_connector

from core.demo import DemoTenant
from core.objects import CREDIT_MEMO, INVOICE, INVOICE_ITEM_ADJUSTMENT
from core.run import Run
from core.words import counted
from core.runbook.model import CheckResult, Status, utc_now
from core.runbook.probes import MORE_CREDITS, NEGATIVE_CREDITS
from core.runbook.steps.c_freeze import OLD_INSTANCE_IIAS, OLD_INSTANCE_NEGATIVES
from core.runbook.steps.h_go_live import DUPLICATES, MISSING_IN_ZUORA, SENT_TWICE, SYNCED_SINCE_IS, ZUORA_WAITING
from core.sim import support
from core.sim.catalog import NS_FIELD_IDS
from core.sim.hand_edits import clear_integration_status
from core.sim.migration import migrate_invoice_settlement
from core.sim.netsuite_user import enter_payments, set_field_default
from core.sim.records import RecordWriter, sim_today
from core.sim.source_fixes import fix_at_source
from core.sim.traffic import tenant_traffic

pytestmark = pytest.mark.timeout(120)
F = NS_FIELD_IDS
AR_MIG = "AR Mig - negative invoice"
NS_ERRORS = "NetSuite transactions in error since IS"
H3_PROBLEMS = ("credit memos waiting for NetSuite", "debit memos waiting for NetSuite", ZUORA_WAITING,
               MISSING_IN_ZUORA, "Zuora records in error since IS", NS_ERRORS)
C6_PERSON_IIAS = "IIAs created since the freeze (not the migration's write-offs)"
E3_PUSHED = "migration write-off IIAs pushed to NetSuite"
ISH = "Invoice Settlement Harmonization"
NOTHING_TO_CONVERT = "Nothing for the migration to convert"


# ---- the tenant and the run -----------------------------------------------------------------------------------
@dataclass
class Tenant:
    demo: DemoTenant
    run: Run

    @property
    def sim(self):
        return self.demo.sim

    @property
    def store(self):
        return self.demo.sim.store

    @property
    def runbook(self):
        return self.run.runbook

    def count(self, sql: str, *params) -> int:
        return int(self.store.scalar(sql, params))

    def ids(self, sql: str, *params) -> set[str]:
        return {str(r["id"]) for r in self.store.query(sql, params)}


@asynccontextmanager
async def opened(**options) -> AsyncIterator[Tenant]:
    async with DemoTenant(scale=200, connector_pace_s=0, **options) as demo, \
            Run(demo.profile, demo.credentials) as run:
        yield Tenant(demo, run)


@pytest.fixture
async def t() -> AsyncIterator[Tenant]:
    async with opened() as tenant:
        yield tenant


async def check(t: Tenant, step_id: str) -> CheckResult:
    """The step's own check result (not the folded state, which also waits for confirmations and gates)."""
    state = (await t.runbook.check([step_id]))[0]
    assert state.result is not None, f"{step_id} recorded no result: {state.summary}"
    return state.result


def sampled(result: CheckResult, label: str) -> set[str]:
    return {str(r["id"]) for r in result.sample if r.get("part", label) == label}


# ---- the runbook's people, in its order ------------------------------------------------------------------------
def sim_ts(iso: str) -> str:
    """A run variable's time ('2026-12-01T14:00:00Z') in the store's format ('2026-12-01 14:00:00')."""
    return iso.replace("T", " ").removesuffix("Z")


async def next_second() -> str:
    """As core.rehearsal does: wait for the next whole second, so every write before it is strictly earlier."""
    await asyncio.sleep(1 - datetime.now(UTC).microsecond / 1_000_000)
    return utc_now()


def final_sync(t: Tenant) -> None:
    """B2/B3 and C2-C5 fixed at the source, then the old connector's final runs: nothing is left pending."""
    fix_migration_blockers(t.sim)
    for step in ("C2", "C3", "C4", "C5"):
        fix_at_source(t.store, step)
    first, second = t.sim.connector.run(), t.sim.connector.run()
    assert first["status"] == second["status"] == "completed"
    assert first["errors"] == 0 and first["synced"] > 0 and second["synced"] == 0


async def freeze(t: Tenant, *, stop_old: bool = True) -> str:
    """C7: the old instance stopped (unless the test leaves it running), then freeze_ts recorded."""
    if stop_old:
        t.sim.connector.stop()
    at = await next_second()
    t.runbook.set_variable("freeze_ts", at)
    return at


async def support_migrates(t: Tenant) -> dict:
    """D1: Support's migration; D1's check then records is_enabled_ts."""
    summary = migrate_invoice_settlement(t.store)
    t.runbook.set_variable("migration_date", summary["migration_date"])
    d1 = await check(t, "D1")
    assert d1.status is Status.PASS and t.run.journal.variables().is_enabled_ts is not None
    assert summary["negative_invoice_memos"] > 0 and summary["credit_balance_memos"] > 0
    return summary


async def data_fixes(t: Tenant) -> None:
    """E1 (every AR Mig memo NetSuite already has marked Yes) and E2 (decision mark-yes), both applied."""
    e1 = await t.runbook.apply("E1")
    assert e1.written > 0 and e1.recheck.status is Status.PASS, e1.recheck.summary
    t.runbook.set_variable("e2_decision", "mark-yes")
    e2 = await t.runbook.apply("E2")
    assert e2.written > 0 and e2.recheck.status is Status.PASS, e2.recheck.summary


async def up_to_go_live(t: Tenant) -> str:
    """Everything before the new connector: final sync, freeze, migration, E1 and E2. Returns freeze_ts."""
    final_sync(t)
    at = await freeze(t)
    await support_migrates(t)
    await data_fixes(t)
    return at


def ns_payment(t: Tenant, ns_id) -> dict:
    return t.store.query_one('SELECT * FROM ns."transaction" WHERE id = ?', (ns_id,))


# ---- B3 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("days_out", [2, 19])
async def test_b3_counts_a_charge_only_within_two_days_before_the_migration_and_says_when(t, days_out):
    """C-PRPC: create or update the charge within two days before the migration. Made today, it counts for a
    migration two days out; for one 19 days out it is too early, and the check says from when it counts."""
    fix_at_source(t.store, "B3")  # a person creates every charge today, right in every other way
    target = date.fromisoformat(sim_today(t.store)) + timedelta(days=days_out)
    t.runbook.set_variable("target_migration_date", target.isoformat())
    b3 = await check(t, "B3")
    if days_out == 2:
        assert b3.status is Status.PASS, b3.summary
        return
    needed = b3.details["currencies without a valid migration charge"]
    assert b3.status is Status.FAIL and needed > 0 and b3.details["of them with a charge made too early"] == needed
    assert b3.summary.endswith(f"update them on or after {(target - timedelta(days=2)).isoformat()}"), b3.summary


# ---- H3 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("late", ["invoice/payment/refund", "memo"])
async def test_h3_fails_when_a_cutover_set_too_late_strands_the_new_flows(t, late):
    """F6 done wrong (R8.8): the new instance skips what falls before its cutover, for good. The same traffic passes
    H3 when the cutovers are right (the test below)."""
    await up_to_go_live(t)
    repoint_connector(t.sim)
    set_field_default(t.store, "zuora_sync_updates", "Yes")  # G1
    late_day = (date.fromisoformat(sim_today(t.store)) + timedelta(days=7)).isoformat()
    if late == "memo":
        support.set_cutover_dates(t.store, {"memo": late_day})
    else:
        support.set_cutover_dates(t.store, {"invoice": late_day, "payment": late_day, "refund": late_day})
    made = tenant_traffic(t.store, 2)
    assert t.sim.connector.run()["status"] == "completed"
    flows = await check(t, "H3")
    assert flows.status is Status.FAIL, flows.summary
    if late == "memo":
        assert flows.details["credit memos waiting for NetSuite"] == len(made["credit_memos"]) > 0
        assert flows.details["debit memos waiting for NetSuite"] == len(made["debit_memos"]) > 0
        assert flows.details[ZUORA_WAITING] == 0
    else:  # the day's Zuora payments and refunds of payments
        assert flows.details[ZUORA_WAITING] == len(made["payments"]) + len(made["refunds"]) > 0
        assert flows.details["credit memos waiting for NetSuite"] == 0
        assert f"{flows.details[ZUORA_WAITING]} {ZUORA_WAITING}" in flows.summary


async def test_h3_needs_action_while_nothing_synced_since_is_and_passes_on_real_traffic(t):
    await up_to_go_live(t)
    repoint_connector(t.sim)
    set_field_default(t.store, "zuora_sync_updates", "Yes")  # G1

    nothing = await check(t, "H3")  # the new connector has not run, and nobody has typed anything in
    assert nothing.status is Status.NEEDS_ACTION, nothing.summary
    assert nothing.count == 0 and nothing.details[SYNCED_SINCE_IS] == 0
    assert nothing.summary.startswith("Nothing has synced since IS was enabled")
    assert {label: nothing.details[label] for label in H3_PROBLEMS} == dict.fromkeys(H3_PROBLEMS, 0)  # no candidates

    made = tenant_traffic(t.store, 2)
    run = t.sim.connector.run()
    assert run["status"] == "completed" and run["errors"] == 0
    is_on = sim_ts(t.run.journal.variables().is_enabled_ts.strftime("%Y-%m-%dT%H:%M:%SZ"))
    synced = t.count("SELECT count(*) FROM (SELECT syncdate__ns s, integrationstatus__ns i FROM creditmemo UNION ALL "
                     "SELECT syncdate__ns, integrationstatus__ns FROM debitmemo UNION ALL SELECT syncdate__ns, "
                     "integrationstatus__ns FROM payment UNION ALL SELECT syncdate__ns, integrationstatus__ns FROM "
                     "refund) WHERE s >= ? AND i = 'Sync Complete'", is_on)
    # the day's 2 credit memos, 2 debit memos, 2 payments, 1 refund, and the 2 NetSuite payments made Zuora payments
    assert synced == 9 == sum(len(made[k]) for k in ("credit_memos", "debit_memos", "payments", "refunds",
                                                      "netsuite_payments"))
    flows = await check(t, "H3")
    assert flows.status is Status.PASS, flows.summary
    assert flows.details[SYNCED_SINCE_IS] == synced and flows.details[MISSING_IN_ZUORA] == 0
    assert flows.summary.startswith(f"{synced} records synced since IS was enabled; every memo since IS, every Zuora "
                                    "invoice, payment and refund and every NetSuite payment since the freeze")


async def test_h3_fails_on_window_payments_without_sync_updates_until_g2_backfills_them(t):
    await up_to_go_live(t)
    repoint_connector(t.sim)  # F1 + F3a + F4: the payment sync's credentials are right; only G1/G2 are missing
    made = enter_payments(t.store, 2)  # typed in after the freeze, before any default: Sync Updates empty
    assert [p[F["zuora_sync_updates"]] for p in made] == [None, None]
    assert t.sim.connector.run()["errors"] == 0  # IS rules: not Sync Updates Yes, not picked, no error either

    h3 = await check(t, "H3")
    assert h3.status is Status.FAIL
    assert h3.details[MISSING_IN_ZUORA] == 2 and h3.count == 2 and h3.details[NS_ERRORS] == 0
    assert h3.summary.startswith(f"2 {MISSING_IN_ZUORA}")
    shown = [r for r in h3.sample if r.get("part") == MISSING_IN_ZUORA]
    assert {str(r["id"]) for r in shown} == {str(p["id"]) for p in made}
    assert {r.get("zuorasyncupdates") for r in shown} == {None}  # found whatever their Sync Updates (SuiteQL omits nulls)

    g2 = await t.runbook.apply("G2")
    assert g2.written == 2 and g2.recheck.status is Status.PASS
    assert t.sim.connector.run()["errors"] == 0
    assert all(ns_payment(t, p["id"])[F["zuora_id"]] for p in made)  # they reached Zuora

    h3 = await check(t, "H3")
    assert h3.status is Status.PASS, h3.summary
    assert h3.details[MISSING_IN_ZUORA] == 0 and h3.details[SYNCED_SINCE_IS] >= 2


async def test_h3_fails_while_the_payment_sync_signs_in_with_stale_credentials_until_support_updates_them(t):
    await up_to_go_live(t)
    set_field_default(t.store, "zuora_sync_updates", "Yes")  # G1 done: every new payment qualifies
    client = support.create_oauth_client(t.store, "connector after IS")["client_id"]
    support.update_instance(t.store, t.sim.connector.instance()["id"], {"oauth_client_id": client})  # F3a
    t.sim.connector.start()  # ...but nobody asked Support to update the stored (Boomi) credentials: no F4
    made = enter_payments(t.store, 2)
    assert [p[F["zuora_sync_updates"]] for p in made] == ["Yes", "Yes"]
    run = t.sim.connector.run()
    assert run["errors"] == 2 and {e["step"] for e in run["error_samples"]} == {"netsuite payments"}

    h3 = await check(t, "H3")
    assert h3.status is Status.FAIL
    assert h3.details[MISSING_IN_ZUORA] == 2 and h3.details[NS_ERRORS] == 2 and h3.count == 4
    assert f"2 {MISSING_IN_ZUORA}" in h3.summary and f"2 {NS_ERRORS}" in h3.summary
    assert sampled(h3, NS_ERRORS) == {str(p["id"]) for p in made}

    support.update_boomi_credentials(t.store, client)  # F4's ticket, done by Support
    run = t.sim.connector.run()
    assert run["errors"] == 0 and run["steps"]["netsuite payments"]["synced"] == 2
    h3 = await check(t, "H3")
    assert h3.status is Status.PASS, h3.summary
    assert h3.details[MISSING_IN_ZUORA] == h3.details[NS_ERRORS] == 0 and h3.details[SYNCED_SINCE_IS] == 2


# ---- G2 --------------------------------------------------------------------------------------------------------
async def test_g2_finds_a_back_dated_payment_by_when_it_was_entered(t):
    final_sync(t)
    frozen = await freeze(t)
    before = await check(t, "G2")
    assert before.status is Status.PASS and before.count == 0  # nothing typed in since the freeze yet

    [made] = enter_payments(t.store, 1, backdate_days=40)
    assert date.fromisoformat(made["trandate"]) < date.fromisoformat(frozen[:10])  # dated before the freeze
    assert ns_payment(t, made["id"])["createddate"] >= sim_ts(frozen)  # ...but entered after it
    g2 = await check(t, "G2")
    assert g2.status is Status.FAIL and g2.count == 1
    [row] = g2.sample
    assert str(row["id"]) == str(made["id"]) and row["trandate"] == made["trandate"]
    assert row.get("zuorasyncupdates") is None

    applied = await t.runbook.apply("G2")
    assert applied.written == 1 and applied.recheck.status is Status.PASS and applied.recheck.count == 0
    assert ns_payment(t, made["id"])[F["zuora_sync_updates"]] == "Yes"


# ---- C6 after IS -----------------------------------------------------------------------------------------------
async def test_c6_after_is_leaves_out_the_migrations_write_offs_but_not_a_persons_iia(t):
    final_sync(t)
    frozen = await freeze(t)
    summary = await support_migrates(t)
    write_offs = t.count("SELECT count(*) FROM invoiceitemadjustment WHERE reasoncode = 'Write-off' "
                         "AND createddate >= ?", sim_ts(frozen))
    assert write_offs == summary["write_off_adjustments"] > 0  # created after the freeze, by the migration

    c6 = await check(t, "C6")
    assert c6.status is Status.PASS, c6.summary
    assert c6.count == 0 and c6.details[C6_PERSON_IIAS] == 0

    invoice = t.store.query_one("SELECT * FROM invoice WHERE status = 'Posted' AND amount > 0 AND balance > 10 "
                                "AND integrationid__ns IS NOT NULL ORDER BY id LIMIT 1")
    with t.store.transaction() as conn:  # someone adjusts an invoice by hand after the freeze
        iia = RecordWriter(t.store, conn, source="person").insert_zuora(INVOICE_ITEM_ADJUSTMENT, {
            "accountid": invoice["accountid"], "invoiceid": invoice["id"], "invoicenumber": invoice["invoicenumber"],
            "amount": 10.0, "type": "Credit", "status": "Processed", "reasoncode": "Goodwill",
            "adjustmentdate": sim_today(t.store)})
    c6 = await check(t, "C6")
    assert c6.status is Status.FAIL
    assert c6.count == 1 and c6.details[C6_PERSON_IIAS] == 1
    assert c6.summary.startswith(counted(1, C6_PERSON_IIAS)) and c6.summary.startswith("1 IIA created since")
    assert sampled(c6, C6_PERSON_IIAS) == {iia["id"]}


# ---- C7 after IS, and E3 ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("old_left_running", [True, False], ids=["old-instance-running", "old-instance-stopped"])
async def test_c7_and_e3_after_is_catch_the_old_instance_pushing_the_write_offs(t, old_left_running):
    final_sync(t)
    frozen = await freeze(t, stop_old=not old_left_running)
    summary = await support_migrates(t)
    runs = t.sim.connector.tick()  # time passes during the migration: every running instance has its turn
    pushed = t.ids("SELECT id FROM invoiceitemadjustment WHERE reasoncode = 'Write-off' AND syncdate__ns >= ? "
                   "AND integrationid__ns IS NOT NULL", sim_ts(frozen))
    c7, e3 = await check(t, "C7"), await check(t, "E3")

    if old_left_running:
        assert len(runs) == 1 and runs[0]["invoice_settlement"] is False  # the old instance, on its IS-off rules
        assert len(pushed) == summary["write_off_adjustments"] > 0
        assert c7.status is Status.FAIL and c7.count == len(pushed)
        assert c7.details[OLD_INSTANCE_IIAS] == len(pushed) and c7.details[OLD_INSTANCE_NEGATIVES] == 0
        assert c7.summary.startswith(f"{len(pushed)} IIAs pushed to NetSuite after the freeze")
        assert sampled(c7, OLD_INSTANCE_IIAS) <= pushed and sampled(c7, OLD_INSTANCE_IIAS)
        assert e3.status is Status.FAIL and e3.count == e3.details[E3_PUSHED] == len(pushed)
        assert e3.summary == f"{len(pushed)} {E3_PUSHED}"
        assert {str(r["id"]) for r in e3.sample} <= pushed and e3.sample
    else:
        assert runs == [] and pushed == set()
        assert t.count("SELECT count(*) FROM invoiceitemadjustment WHERE reasoncode = 'Write-off' "
                       "AND integrationid__ns IS NULL") == summary["write_off_adjustments"] > 0
        assert c7.status is Status.PASS and c7.count == 0, c7.summary
        assert c7.details[OLD_INSTANCE_IIAS] == c7.details[OLD_INSTANCE_NEGATIVES] == 0
        assert e3.status is Status.PASS and e3.count == e3.details[E3_PUSHED] == 0, e3.summary


# ---- H2 per customer against D2's baseline ---------------------------------------------------------------------
def ns_customer(t: Tenant, zuora_account_id: str) -> str:
    return str(t.store.scalar("SELECT id FROM ns.customer WHERE custentityzuoraid = ?", (zuora_account_id,)))


async def test_h2_compares_each_customers_negative_invoice_credits_with_d2s_baseline(t):
    assert (await check(t, "C2")).status is Status.FAIL  # taken before the migration: D2's expected counts
    final_sync(t)
    await freeze(t)
    await support_migrates(t)
    d2 = await check(t, "D2")
    assert d2.status is Status.PASS, d2.summary
    baseline = t.run.journal.baseline(NEGATIVE_CREDITS)
    assert baseline and sum(baseline.values()) == t.count(
        f'SELECT count(*) FROM ns."transaction" WHERE type = \'CustCred\' AND {F["zuora_type"]} = \'NEGATIVE_INVOICE\'')
    await data_fixes(t)
    repoint_connector(t.sim)
    set_field_default(t.store, "zuora_sync_updates", "Yes")

    made = tenant_traffic(t.store, 3)  # a day of business: new credit memos that the new connector syncs
    assert t.sim.connector.run()["errors"] == 0
    new_memos = t.store.query(f"SELECT * FROM creditmemo WHERE memonumber IN ({', '.join('?' * 3)})",
                              made["credit_memos"])
    assert len(new_memos) == 3 and all(m["integrationid__ns"] for m in new_memos)
    h2 = await check(t, "H2")
    assert h2.status is Status.PASS, h2.summary
    assert h2.details[MORE_CREDITS] == 0 and h2.details[DUPLICATES] == 0

    # Someone undoes E1 on one memo of a negative invoice NetSuite already had; the next run sends it again.
    memo = t.store.query_one("SELECT m.* FROM creditmemo m JOIN invoice i ON i.id = m.referredinvoiceid WHERE "
                             "m.reasoncode = ? AND i.integrationid__ns IS NOT NULL ORDER BY m.id LIMIT 1", (AR_MIG,))
    assert memo["transferredtoaccounting"] == "Yes"
    with t.store.transaction() as conn:
        RecordWriter(t.store, conn, source="person").update_zuora(CREDIT_MEMO, dict(memo),
                                                                  {"transferredtoaccounting": "No"})
    assert t.sim.connector.run()["errors"] == 0
    customer = ns_customer(t, memo["accountid"])
    h2 = await check(t, "H2")
    assert h2.status is Status.FAIL
    assert h2.details[MORE_CREDITS] == 1 and h2.details[DUPLICATES] == 1 and h2.count == 1
    assert h2.summary.startswith("1 customers have 1 more credits for negative invoices in NetSuite than at D2")
    assert {"customer": customer, "at D2": baseline.get(customer, 0), "now": baseline.get(customer, 0) + 1} \
        in h2.sample


def ns_copies(t: Tenant, zuora_id: str) -> int:
    return t.count(f'SELECT count(*) FROM ns."transaction" WHERE {F["zuora_id"]} = ?', zuora_id)


async def test_h2_finds_a_zuora_record_sent_twice_after_its_fields_were_cleared_by_hand(t):
    """R8.9: clearing Integration Status by hand makes the connector send a record again; TTA back to No, the
    documented way to resync a change, updates the NetSuite copy it has."""
    await check(t, "C2")  # before the migration: D2's baseline of NetSuite's credits, which H2 compares with
    await up_to_go_live(t)
    assert (await check(t, "D2")).status is Status.PASS
    repoint_connector(t.sim)
    set_field_default(t.store, "zuora_sync_updates", "Yes")
    assert t.sim.connector.run()["errors"] == 0
    invoice = t.store.query_one(
        "SELECT * FROM invoice WHERE status = 'Posted' AND amount > 0 AND transferredtoaccounting = 'Yes' "
        "AND integrationid__ns IS NOT NULL AND invoicedate >= ? ORDER BY invoicedate DESC, id LIMIT 1",
        (t.store.setting("cutover.invoice") or "",))
    with t.store.transaction() as conn:
        RecordWriter(t.store, conn, source="person").update_zuora(INVOICE, dict(invoice),
                                                                  {"transferredtoaccounting": "No"})
    run = t.sim.connector.run()
    assert run["errors"] == 0 and run["synced"] >= 1
    assert t.store.scalar("SELECT transferredtoaccounting FROM invoice WHERE id = ?", (invoice["id"],)) == "Yes"
    assert ns_copies(t, invoice["id"]) == 1
    h2 = await check(t, "H2")
    assert h2.status is Status.PASS and h2.details[SENT_TWICE] == 0, h2.summary
    assert t.count(f'SELECT count(*) FROM ns."transaction" WHERE {F["zuora_id"]} IS NOT NULL') > 100  # candidates

    cleared = clear_integration_status(t.store, 2)["cleared"]  # two invoices and two payments
    ids = t.ids("SELECT id FROM invoice WHERE invoicenumber IN (?, ?) UNION SELECT id FROM payment WHERE "
                "paymentnumber IN (?, ?)", *cleared)
    assert len(cleared) == len(ids) == 4 and all(ns_copies(t, i) == 1 for i in ids)
    assert t.sim.connector.run()["errors"] == 0
    assert all(ns_copies(t, i) == 2 for i in ids)
    h2 = await check(t, "H2")
    assert h2.status is Status.FAIL and h2.details[SENT_TWICE] == 8 and h2.details[DUPLICATES] == 0
    assert "8 NetSuite copies of Zuora records sent twice" in h2.summary
    assert {str(r["zuoraid"]) for r in h2.sample if r.get("part") == SENT_TWICE} == ids


# ---- A1 --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("harmonization", [True, False], ids=["ish-tenant", "is-off-tenant"])
async def test_a1_says_when_the_tenant_is_on_invoice_settlement_harmonization(harmonization):
    async with opened(harmonization=harmonization) as t:
        a1 = await check(t, "A1")
    if harmonization:
        assert a1.status is Status.NEEDS_ACTION and a1.count == 1
        assert a1.summary.startswith(f"{ISH} is on")
        assert a1.sample[0] == {"object": "Invoice Settlement", "missing": "", "state": "harmonization (ISH)"}
    else:
        assert a1.status is Status.PASS and a1.count == 0
        assert a1.summary == "Invoice Settlement is off and the connector is installed" and ISH not in a1.summary
        assert a1.sample[0]["state"] == "off"


# ---- C3 --------------------------------------------------------------------------------------------------------
PENDING = "coalesce({t}transferredtoaccounting, 'No') NOT IN ('Yes', 'Ignore')"


async def test_c3_leaves_out_accounts_whose_sync_to_netsuite_is_no(t):
    for key in ("invoice", "payment", "refund", "iia", "ns_payment"):  # A2: the old instance's cutover dates
        t.runbook.set_variable(f"old_cutover_dates.{key}", t.store.setting(f"cutover.{key}"))
    cutover = t.store.setting("cutover.invoice")
    never_synced = t.ids(f"SELECT i.id FROM invoice i JOIN account a ON a.id = i.accountid WHERE "
                         f"a.synctonetsuite__ns = 'No' AND i.status = 'Posted' AND i.amount >= 0 "
                         f"AND i.invoicedate >= ? AND {PENDING.format(t='i.')}", cutover)
    assert len(never_synced) == 2  # the seed's account that is never meant for NetSuite

    def pending(table: str, where: str, column: str, key: str) -> set[str]:
        return t.ids(f"SELECT t.id FROM {table} t JOIN account a ON a.id = t.accountid WHERE {where} AND "
                     f"{PENDING.format(t='t.')} AND coalesce(a.synctonetsuite__ns, 'Yes') = 'Yes' "
                     f"AND t.{column} >= ?", t.store.setting(f"cutover.{key}"))

    invoices = pending("invoice", "t.status = 'Posted' AND t.amount >= 0", "invoicedate", "invoice")
    payments = pending("payment", "t.status = 'Processed'", "effectivedate", "payment")
    refunds = pending("refund", "t.sourcetype = 'Payment' AND t.status IN ('Posted', 'Processed')", "refunddate",
                      "refund")
    assert invoices and payments and refunds and not never_synced & invoices
    before = await check(t, "C3")
    assert before.status is Status.NEEDS_ACTION
    assert before.details["invoices not yet in NetSuite"] == len(invoices)
    assert before.details["payments not yet in NetSuite"] == len(payments)
    assert before.details["payment refunds not yet in NetSuite"] == len(refunds)
    assert before.count == len(invoices) + len(payments) + len(refunds)
    assert before.summary.startswith(f"{len(invoices)} invoices not yet in NetSuite")
    assert not sampled(before, "invoices not yet in NetSuite") & never_synced

    assert fix_at_source(t.store, "C3")["count"] > 0
    assert t.sim.connector.run()["status"] == "completed"
    after = await check(t, "C3")
    assert after.status is Status.PASS and after.count == 0, after.summary
    assert after.summary == "No other Zuora transaction waits for NetSuite"
    assert t.ids(f"SELECT id FROM invoice WHERE id IN ({', '.join('?' * 2)}) AND integrationid__ns IS NULL "
                 f"AND {PENDING.format(t='')}", *never_synced) == never_synced  # still unsynced, on purpose


# ---- V9 --------------------------------------------------------------------------------------------------------
async def test_v9_names_what_the_migration_will_convert(t):
    negatives = t.count("SELECT count(*) FROM invoice WHERE status = 'Posted' AND balance < 0")
    balances = t.count("SELECT count(*) FROM account WHERE creditbalance > 0")
    assert negatives > 0 and balances > 0
    v9 = await check(t, "B2/V9")
    assert v9.status is Status.PASS
    assert v9.details == {"posted negative invoices": negatives, "accounts with credit balance": balances}
    assert v9.summary.startswith(f"The migration will turn {negatives} posted negative invoices and {balances} "
                                 "credit balances into credit memos")
    assert NOTHING_TO_CONVERT not in v9.summary

    final_sync(t)
    await freeze(t)
    await support_migrates(t)  # it converted them all: now there is nothing left
    v9 = await check(t, "B2/V9")
    assert v9.details == {"posted negative invoices": 0, "accounts with credit balance": 0}
    assert v9.summary.startswith(NOTHING_TO_CONVERT)


# ---- D2 records H2's baseline once -----------------------------------------------------------------------------
async def test_d2_records_h2s_baseline_only_the_first_time(t):
    await check(t, "C2")
    final_sync(t)
    await freeze(t)
    await support_migrates(t)
    assert t.run.journal.baseline(NEGATIVE_CREDITS) is None
    first = await t.runbook.check_step("D2")  # the fresh result, with what it asks the journal to keep
    assert first.status is Status.PASS and first.baselines.get(NEGATIVE_CREDITS)
    baseline = t.run.journal.baseline(NEGATIVE_CREDITS)
    assert baseline == {str(k): v for k, v in first.baselines[NEGATIVE_CREDITS].items()}

    # NetSuite changes between two D2 checks: one customer gets another credit for a negative invoice.
    credit = t.store.query_one(f'SELECT * FROM ns."transaction" WHERE type = \'CustCred\' AND '
                               f"{F['zuora_type']} = 'NEGATIVE_INVOICE' ORDER BY id LIMIT 1")
    with t.store.transaction() as conn:
        RecordWriter(t.store, conn, source="netsuite-user").insert_ns(
            "transaction", {k: v for k, v in credit.items() if k not in ("id", "tranid", "createddate",
                                                                         "lastmodifieddate")})
    customer = str(credit["entity"])
    now = Counter(str(r["entity"]) for r in t.store.query(
        f'SELECT entity FROM ns."transaction" WHERE type = \'CustCred\' AND {F["zuora_type"]} = \'NEGATIVE_INVOICE\''))
    assert now[customer] == baseline[customer] + 1

    second = await t.runbook.check_step("D2")
    assert second.status is Status.PASS and second.baselines == {}
    assert t.run.journal.baseline(NEGATIVE_CREDITS) == baseline  # the first one stands
    h2 = await check(t, "H2")  # and H2 compares with it
    assert h2.details[MORE_CREDITS] == 1 and h2.status is Status.FAIL
    assert {"customer": customer, "at D2": baseline[customer], "now": baseline[customer] + 1} in h2.sample


async def test_on_an_ish_tenant_the_pre_is_checks_still_run_and_d1_waits_for_is():
    """ISH has the memos but is not IS: C1-C3 keep running, D1 and E1 do not claim the migration happened."""
    async with DemoTenant(scale=200, connector_pace_s=0, harmonization=True) as demo:
        async with Run(demo.profile, demo.credentials) as run:
            states = {s.step.id: s for s in await run.runbook.check(["A1", "C1", "C2", "D1", "E1"])}
    assert states["A1"].status is Status.NEEDS_ACTION
    assert states["C2"].result.status is Status.FAIL and states["C1"].result.status is not Status.NOT_RUN
    assert states["D1"].result.status is Status.NEEDS_ACTION and "still off" in states["D1"].result.summary
    assert states["E1"].result.status is Status.NOT_RUN  # "runs once Invoice Settlement is on"
