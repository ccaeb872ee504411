"""The simulated connector follows the documented sync rules (runbook R4), IS off and on; the migration (D1)
and the /_sim/ stand-ins drive it. Admin routes are called over real loopback HTTP."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from conftest import make_sim
from sim_tenant import fix_migration_blockers, migrate, repoint_connector

from core.objects import CREDIT_MEMO, DEBIT_MEMO
from core.sim.catalog import NS_FIELD_IDS
from core.sim.migration import NEGATIVE_INVOICE_REASON, MigrationRefused, migrate_invoice_settlement
from core.sim.records import RecordWriter
from core.sim.seed_cases import BAD_COMMA_NAME, BAD_METHOD, BAD_QUOTE_NAME
from core.sim.server import SimServer

F = NS_FIELD_IDS
PENDING = "(transferredtoaccounting IS NULL OR transferredtoaccounting IN ('No', 'Error', 'Processing'))"


def ns_copies(store, zuora_ids) -> list[dict]:
    ids = list(zuora_ids)
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    return store.query(f'SELECT *, {F["zuora_id"]} AS zid, {F["zuora_type"]} AS ztype FROM ns."transaction" '
                       f'WHERE {F["zuora_id"]} IN ({marks})', ids)


def ar_mig_memos(store) -> list[dict]:
    return store.query("SELECT * FROM creditmemo WHERE reasoncode = ?", (NEGATIVE_INVOICE_REASON,))


@pytest.fixture
def admin(sim_server):
    """An httpx client on the served simulator, signed in with its Zuora bearer token."""
    c = sim_server.sim.credentials
    token = sim_server.sim.issue_token(c.zuora_client_id, c.zuora_client_secret)["access_token"]
    with httpx.Client(base_url=sim_server.base_url, headers={"Authorization": f"Bearer {token}"},
                      timeout=30) as client:
        yield client


# ---- IS off -------------------------------------------------------------------------------------------------------
def test_is_off_run_syncs_unsynced_iia_and_negative_invoice(sim):
    store = sim.store
    iia = store.query_one(f"SELECT * FROM invoiceitemadjustment WHERE status = 'Processed' AND {PENDING} "
                          "AND adjustmentdate >= ? ORDER BY id LIMIT 1", (store.setting("cutover.iia"),))
    neg = store.query_one("SELECT i.* FROM invoice i JOIN account a ON a.id = i.accountid WHERE i.amount < 0 "
                          "AND i.status = 'Posted' AND a.integrationstatus__ns = 'Sync Complete' AND "
                          "(i.transferredtoaccounting IS NULL OR i.transferredtoaccounting = 'No') "
                          "ORDER BY i.id LIMIT 1")
    summary = sim.connector.run()
    assert summary["status"] == "completed" and summary["steps"]["invoice item adjustments"]["synced"] >= 1
    assert list(summary["steps"]) == ["customers", "invoices", "payments", "refunds", "invoice item adjustments",
                                      "netsuite payments", "netsuite credit memos"]  # runbook R4.3, IS off

    copies = {r["zid"]: r for r in ns_copies(store, [iia["id"], neg["id"]])}
    assert (copies[iia["id"]]["type"], copies[iia["id"]]["ztype"]) == ("CustCred", "INVOICE_ITEM_ADJUSTMENT")
    assert (copies[neg["id"]]["type"], copies[neg["id"]]["ztype"]) == ("CustCred", "NEGATIVE_INVOICE")
    for table, rec in (("invoiceitemadjustment", iia), ("invoice", neg)):
        now = store.query_one(f"SELECT * FROM {table} WHERE id = ?", (rec["id"],))
        assert (now["integrationstatus__ns"], now["transferredtoaccounting"]) == ("Sync Complete", "Yes")
        assert now["integrationid__ns"] == str(copies[rec["id"]]["id"]) and now["syncdate__ns"]
    # The record went through `Creating …` / Processing on its way, and every change is in the write log.
    trail = [r["new_value"] for r in store.query(
        "SELECT new_value FROM sim_write_log WHERE source = 'connector' AND record_id = ? "
        "AND field = 'IntegrationStatus__NS' ORDER BY seq", (iia["id"],))]
    assert trail == ["Creating Invoice Item Adjustment", "Sync Complete"]


def test_bad_records_end_in_error_and_the_rest_stays_consistent(sim):
    store = sim.store
    sim.connector.run()
    for name in (BAD_QUOTE_NAME, BAD_COMMA_NAME):
        acct = store.query_one("SELECT * FROM account WHERE name = ?", (name,))
        assert acct["integrationstatus__ns"] == "Error Creating Customer" and acct["integrationid__ns"] is None
        for inv in store.query("SELECT * FROM invoice WHERE accountid = ?", (acct["id"],)):
            assert (inv["integrationstatus__ns"], inv["transferredtoaccounting"]) == ("Error Creating Invoice",
                                                                                      "Error")
    for pay in store.query("SELECT * FROM payment WHERE paymentmethodtype = ?", (BAD_METHOD,)):
        assert (pay["integrationstatus__ns"], pay["transferredtoaccounting"]) == ("Error Creating Payment", "Error")
    assert store.scalar(f'SELECT {F["zuora_integration_status"]} FROM ns."transaction" WHERE type = \'CustPymt\' '
                        f"AND paymentmethod = ?", (BAD_METHOD,)) == "Error Creating Payment"
    # A run interrupted after writing NetSuite is finished by finding the copy, not by writing a second one.
    assert not store.query(f'SELECT {F["zuora_id"]}, count(*) FROM ns."transaction" WHERE {F["zuora_id"]} '
                           f"IS NOT NULL GROUP BY 1 HAVING count(*) > 1")
    assert not store.query("SELECT id FROM invoice WHERE integrationstatus__ns LIKE 'Creating%'")


def test_netsuite_credit_memos_and_payments_reach_zuora_with_is_off(sim):
    store = sim.store
    sim.connector.run()
    made = store.query("SELECT * FROM invoiceitemadjustment WHERE origin__ns = 'NETSUITE'")
    assert len(made) >= 2 and all(r["transferredtoaccounting"] == "Yes" and r["transaction__ns"] for r in made)
    payments = store.query(f'SELECT * FROM ns."transaction" WHERE type = \'CustPymt\' AND {F["zuora_origin"]} '
                           f"= 'NETSUITE' AND {F['zuora_integration_status']} = 'Sync Complete'")
    assert payments
    for p in payments:
        z = store.query_one("SELECT * FROM payment WHERE id = ?", (p[F["zuora_id"]],))
        assert (z["type"], z["origin__ns"], z["transaction__ns"], z["integrationid__ns"]) == (
            "External", "NETSUITE", p["tranid"], str(p["id"]))


def test_stop_is_honoured_and_start_resumes(tmp_path):
    sim = make_sim(tmp_path, connector_batch=2, connector_pace_s=0.05)
    try:
        store = sim.store
        sim.connector.stop()
        before = store.scalar("SELECT count(*) FROM sim_write_log")
        refused = sim.connector.run()
        assert refused["status"] == "skipped" and "stopped" in refused["message"]
        assert store.scalar("SELECT count(*) FROM sim_write_log") == before
        sim.connector.start()
        result: dict = {}
        runner = threading.Thread(target=lambda: result.update(sim.connector.run()))
        runner.start()
        deadline = time.monotonic() + 30
        while store.scalar("SELECT count(*) FROM sim_write_log") == before and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sim.connector.status()["running_now"]
        sim.connector.stop()
        runner.join(10)
        assert result["status"] == "stopped"
        assert sim.connector.status()["last_run"]["run_id"] == result["run_id"]
        sim.connector.start()
        assert sim.connector.run()["status"] == "completed"
        assert not store.query("SELECT id FROM account WHERE integrationstatus__ns LIKE 'Creating%'")
        assert not store.query(f'SELECT {F["zuora_id"]} FROM ns."transaction" WHERE {F["zuora_id"]} IS NOT NULL '
                               "GROUP BY 1 HAVING count(*) > 1")
    finally:
        sim.close()


def test_schedule_runs_until_stopped(sim):
    sim.connector.start_schedule(0.05)
    deadline = time.monotonic() + 30
    while sim.store.scalar("SELECT count(*) FROM sim_connector_run WHERE trigger = 'schedule'") == 0:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    started = time.monotonic()
    sim.connector.stop_schedule()
    assert time.monotonic() - started < 20 and sim.connector.status()["schedule_interval_s"] is None


# ---- the migration and IS on ---------------------------------------------------------------------------------------
def test_migration_turns_negative_invoices_and_credit_balances_into_memos(sim):
    store = sim.store
    with pytest.raises(MigrationRefused, match=r"B2/V1 draft accounts with credit balance \(A\d+") as refused:
        migrate_invoice_settlement(store)  # the seed plants every B2 row and no migration charge
    assert "B2/V6 draft payments" in str(refused.value) and "no valid one-time migration charge for" in str(
        refused.value)
    assert not store.invoice_settlement
    fix_migration_blockers(sim)
    negatives = store.query("SELECT id, balance FROM invoice WHERE status = 'Posted' AND balance < 0")
    credit = store.query("SELECT id, creditbalance FROM account WHERE creditbalance > 0")
    summary = migrate_invoice_settlement(store)
    assert summary["negative_invoice_memos"] == len(negatives) and summary["credit_balance_memos"] == len(credit)
    assert store.invoice_settlement and store.setting("is_enabled_ts")
    memos = {m["referredinvoiceid"]: m for m in ar_mig_memos(store)}
    for inv in negatives:
        memo = memos[inv["id"]]
        assert memo["totalamount"] == -inv["balance"] and memo["status"] == "Posted"
        assert (memo["transferredtoaccounting"], memo["excludefromautoapplyrules"], memo["origin__ns"]) == (
            "No", 1, None)
        assert store.scalar("SELECT balance FROM invoice WHERE id = ?", (inv["id"],)) == 0
        write_off = store.query_one("SELECT * FROM invoiceitemadjustment WHERE invoiceid = ? AND reasoncode = "
                                    "'Write-off'", (inv["id"],))
        assert write_off["status"] == "Processed" and write_off["transferredtoaccounting"] is None
    for acct in credit:
        refund = store.query_one("SELECT * FROM refund WHERE accountid = ? AND sourcetype = 'CreditBalance'",
                                 (acct["id"],))
        assert (refund["methodtype"], refund["amount"]) == ("Other", acct["creditbalance"])
        memo = store.query_one("SELECT * FROM creditmemo WHERE accountid = ? AND reasoncode IS NULL", (acct["id"],))
        assert memo["source"] == "AdhocFromPrpc" and memo["comment"].startswith("Special one time charge")
    assert store.scalar("SELECT count(*) FROM account WHERE creditbalance > 0") == 0
    assert store.scalar("SELECT count(*) FROM sim_write_log WHERE source = 'migration'") > 0
    with pytest.raises(MigrationRefused, match="already enabled"):
        migrate_invoice_settlement(store)


def test_skipping_e1_makes_one_duplicate_credit_memo_per_negative_invoice_in_netsuite(sim):
    store = sim.store
    sim.connector.run()  # the final sync before the freeze
    sim.connector.stop()  # C7
    migrate(sim)
    repoint_connector(sim)
    memos = ar_mig_memos(store)
    in_netsuite = {m["id"] for m in memos if ns_copies(store, [m["referredinvoiceid"]])
                   and store.scalar("SELECT integrationstatus__ns FROM account WHERE id = ?", (m["accountid"],))
                   == "Sync Complete"}
    assert in_netsuite
    summary = sim.connector.run()
    assert summary["invoice_settlement"]
    assert list(summary["steps"]) == ["customers", "invoices", "debit memos", "credit memos", "payments",
                                      "refunds", "netsuite payments"]  # R4.3 with IS: no IIAs, no NS credit memos
    duplicates = ns_copies(store, in_netsuite)
    assert sorted(d["zid"] for d in duplicates) == sorted(in_netsuite)  # exactly one each
    assert all((d["type"], d["ztype"]) == ("CustCred", "CREDIT_MEMO") for d in duplicates)
    # A memo whose negative invoice NetSuite never had (Case 2) is not a duplicate: its credit arrives once.
    case_2 = [m["id"] for m in memos if m["id"] not in in_netsuite]
    assert len(ns_copies(store, case_2)) <= len(case_2)
    # The migration's write-off IIAs are never synced under IS.
    assert store.scalar("SELECT count(*) FROM invoiceitemadjustment WHERE reasoncode = 'Write-off' "
                        "AND transferredtoaccounting IS NOT NULL") == 0


def test_with_e1_done_no_duplicates_reach_netsuite(sim):
    store = sim.store
    sim.connector.run()
    migrate(sim)
    repoint_connector(sim)
    with store.transaction() as conn:
        w = RecordWriter(store, conn, source="api")
        for memo in ar_mig_memos(store):
            w.update_zuora(CREDIT_MEMO, memo, {"transferredtoaccounting": "Yes"})
    sim.connector.run()
    memos = ar_mig_memos(store)
    assert ns_copies(store, [m["id"] for m in memos]) == []
    assert all(m["transferredtoaccounting"] == "Yes" and m["integrationid__ns"] is None for m in memos)  # H2
    # Credit-balance memos (E2 undecided) still sync, as standalone NetSuite credits.
    standalone = store.query("SELECT * FROM creditmemo WHERE reasoncode IS NULL AND integrationid__ns IS NOT NULL")
    assert standalone and all(r["transferredtoaccounting"] == "Yes" for r in standalone)


def test_memo_cutover_and_debit_memos_under_is(sim):
    store = sim.store
    migrate(sim)
    repoint_connector(sim)
    store.set_setting("cutover.memo", "2099-01-01")
    sim.connector.run()
    assert store.scalar("SELECT count(*) FROM creditmemo WHERE integrationid__ns IS NOT NULL") == 0
    acct = store.query_one("SELECT * FROM account WHERE integrationstatus__ns = 'Sync Complete' "
                           "AND status = 'Active' ORDER BY id LIMIT 1")
    with store.transaction() as conn:
        dm = RecordWriter(store, conn, source="api").insert_zuora(DEBIT_MEMO, {
            "accountid": acct["id"], "totalamount": 80.0, "balance": 80.0, "status": "Posted",
            "memodate": "2099-02-01", "currency": acct["currency"]})
    store.set_setting("cutover.memo", None)
    sim.connector.run()
    (copy,) = ns_copies(store, [dm["id"]])
    assert (copy["type"], copy["ztype"], copy["entity"]) == ("CustInvc", "DEBIT_MEMO", int(acct["integrationid__ns"]))
    assert store.scalar("SELECT transferredtoaccounting FROM debitmemo WHERE id = ?", (dm["id"],)) == "Yes"


def test_netsuite_payments_under_is_need_zuora_sync_updates_yes(sim, admin):
    store = sim.store
    migrate(sim)
    repoint_connector(sim)
    empty = admin.post("/_sim/netsuite/payments", json={"count": 2}).json()["payments"]
    assert len(empty) == 2 and all(p[F["zuora_sync_updates"]] is None for p in empty)
    assert admin.post("/_sim/connector/run").json()["status"] == "completed"
    for p in empty:  # not picked: Zuora Sync Updates is empty
        row = store.query_one('SELECT * FROM ns."transaction" WHERE id = ?', (p["id"],))
        assert row[F["zuora_id"]] is None and row[F["zuora_integration_status"]] is None

    changed = admin.put("/_sim/netsuite/field-default", json={"field": "zuora_sync_updates", "value": "Yes"})
    assert changed.json()["defaultvalue"] == "Yes"
    assert store.scalar("SELECT defaultvalue FROM ns.customfield WHERE scriptid = ?",
                        (F["zuora_sync_updates"],)) == "Yes"
    after = admin.post("/_sim/netsuite/payments", json={"count": 2}).json()["payments"]
    assert all(p[F["zuora_sync_updates"]] == "Yes" for p in after)
    summary = admin.post("/_sim/connector/run").json()
    assert summary["steps"]["netsuite payments"]["synced"] == 2
    for p in after:
        row = store.query_one('SELECT * FROM ns."transaction" WHERE id = ?', (p["id"],))
        assert (row[F["zuora_integration_status"]], row[F["zuora_origin"]]) == ("Sync Complete", "NETSUITE")
        z = store.query_one("SELECT * FROM payment WHERE id = ?", (row[F["zuora_id"]],))
        assert (z["type"], z["transferredtoaccounting"], z["origin__ns"], z["transaction__ns"],
                z["integrationid__ns"]) == ("External", "Yes", "NETSUITE", p["tranid"], str(p["id"]))
    for p in empty:  # the default does not reach payments made before it (G2's back-fill does)
        assert store.scalar(f'SELECT {F["zuora_id"]} FROM ns."transaction" WHERE id = ?', (p["id"],)) is None


# ---- the /_sim/ routes ----------------------------------------------------------------------------------------------
def test_admin_routes_need_the_bearer_token(sim_server):
    r = httpx.get(f"{sim_server.base_url}/_sim/connector/status")
    assert r.status_code == 401 and "Bearer" in r.json()["message"]


def test_admin_connector_controls_and_scenario(admin, sim):
    scenario = admin.get("/_sim/scenario").json()
    assert scenario["as_of"] == "2026-11-01" and scenario["freeze_date"] < scenario["as_of"]
    assert scenario["counts"]["invoice"] > 200 and scenario["invoice_settlement"] is False
    assert admin.post("/_sim/connector/stop").json()["state"] == "stopped"
    assert admin.post("/_sim/connector/run").json()["status"] == "skipped"
    assert admin.post("/_sim/connector/start").json()["state"] == "running"
    run = admin.post("/_sim/connector/run").json()
    status = admin.get("/_sim/connector/status").json()
    assert status["last_run"]["run_id"] == run["run_id"] and status["instance_id"] == run["instance_id"]
    refused = admin.post("/_sim/zuora/migrate-invoice-settlement")
    assert refused.status_code == 409 and "B2/V1" in refused.json()["message"]
    for step in ("V1", "V2", "V3", "V4", "V5", "V6", "B3"):
        fixed = admin.post("/_sim/people/fix-source", json={"step": step}).json()
        assert fixed["step"] == step and fixed["count"] > 0, fixed
    assert admin.post("/_sim/people/fix-source", json={"step": "V1"}).json()["count"] == 0  # nothing left to fix
    assert admin.post("/_sim/people/fix-source", json={"step": "Z9"}).status_code == 400
    again = admin.post("/_sim/zuora/migrate-invoice-settlement")
    assert again.status_code == 200 and admin.post("/_sim/zuora/migrate-invoice-settlement").status_code == 409


def test_admin_write_log_pages(admin, sim):
    admin.post("/_sim/connector/run")
    first = admin.get("/_sim/write-log", params={"limit": 5, "object": "Invoice"}).json()
    assert len(first["entries"]) == 5 and first["more"]
    assert all(e["object"] == "Invoice" for e in first["entries"])
    second = admin.get("/_sim/write-log", params={"limit": 5, "object": "Invoice",
                                                  "since": first["next_since"]}).json()
    assert second["entries"][0]["seq"] > first["entries"][-1]["seq"]
    assert admin.get("/_sim/write-log", params={"since": "x"}).status_code == 400


def test_admin_instances_oauth_clients_and_cutover_dates(admin, sim_server):
    sim = sim_server.sim
    old = admin.get("/_sim/connector/instances").json()["instances"]
    assert len(old) == 1 and old[0]["current"]
    client = admin.post("/_sim/zuora/oauth-clients", json={"name": "netsuite-connector-is"})
    assert client.status_code == 201
    cid, secret = client.json()["client_id"], client.json()["client_secret"]
    assert sim.issue_token(cid, secret) is not None
    made = admin.post("/_sim/connector/instances", json={"environment": "production", "oauth_client_id": cid})
    assert made.status_code == 201
    new = made.json()
    assert new["account_id"] != old[0]["account_id"] and new["environment_id"] != old[0]["environment_id"]
    assert admin.get("/_sim/connector/status").json()["instance_id"] == new["id"]
    assert new["state"] == "stopped" and admin.post("/_sim/connector/run").json()["status"] == "skipped"
    assert admin.post("/_sim/connector/start").json()["state"] == "running"
    bad = admin.post("/_sim/connector/instances", json={"oauth_client_id": "nope"})
    assert bad.status_code == 400 and "oauth-clients" in bad.json()["message"]

    assert admin.delete(f"/_sim/zuora/oauth-clients/{cid}").status_code == 204
    assert sim.issue_token(cid, secret) is None
    refused = admin.post("/_sim/connector/run").json()
    assert refused["status"] == "skipped" and "no longer exists" in refused["message"]
    other = admin.post("/_sim/zuora/oauth-clients", json={}).json()["client_id"]
    assert admin.put(f"/_sim/connector/instances/{new['id']}", json={"oauth_client_id": other}).status_code == 200
    assert admin.post("/_sim/connector/run").json()["status"] == "completed"
    assert admin.delete("/_sim/zuora/oauth-clients/unknown").status_code == 404

    dates = admin.put("/_sim/connector/cutover-dates", json={"memo": "2026-11-24", "cutover.iia": None}).json()
    assert dates["cutover_dates"]["memo"] == "2026-11-24" and dates["cutover_dates"]["iia"] is None
    bad = admin.put("/_sim/connector/cutover-dates", json={"memo": "24/11/2026"})
    assert bad.status_code == 400 and "2026-10-01" in bad.json()["message"]
    assert admin.put("/_sim/connector/cutover-dates", json={"dm": "2026-11-24"}).status_code == 400
    assert admin.put("/_sim/netsuite/field-default", json={"field": "zuora_sync_updates",
                                                           "value": "Maybe"}).status_code == 400
    assert admin.post("/_sim/netsuite/payments", content=b"{not json").status_code == 400


def test_admin_expire_tokens(admin, sim_server):
    assert admin.post("/_sim/zuora/expire-tokens").status_code == 200
    assert admin.get("/_sim/connector/status").status_code == 401


def test_admin_routes_on_an_empty_tenant(tmp_path):
    from core.sim.app import Simulator
    from core.sim.config import SimConfig

    sim = Simulator(SimConfig(), data_dir=tmp_path / "empty", seed_data=False)
    try:
        with SimServer(sim) as srv:
            c = sim.credentials
            token = sim.issue_token(c.zuora_client_id, c.zuora_client_secret)["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            assert httpx.get(f"{srv.base_url}/_sim/scenario", headers=headers).json()["as_of"] is None
            run = httpx.post(f"{srv.base_url}/_sim/connector/run", headers=headers, timeout=30).json()
            assert run["status"] == "completed" and run["synced"] == 0
            r = httpx.put(f"{srv.base_url}/_sim/netsuite/field-default", headers=headers,
                          json={"field": "zuora_sync_updates", "value": "Yes"})
            assert r.status_code == 400 and "seed" in r.json()["message"]
    finally:
        sim.close()


# ---- separate instances, the payment sync's credentials, the tenant's life -----------------------------------------
def test_an_old_instance_left_running_pushes_the_migrations_write_offs(sim):
    """C7's harm: the old instance keeps its IS-off rules after IS, so its IIA sync picks the write-off IIAs."""
    store = sim.store
    sim.connector.run()
    migrate(sim)  # nobody stopped the old connector
    runs = sim.connector.tick()  # its scheduled run during the migration
    assert [r["invoice_settlement"] for r in runs] == [False]
    pushed = store.query("SELECT * FROM invoiceitemadjustment WHERE reasoncode = 'Write-off' "
                         "AND integrationid__ns IS NOT NULL")
    assert pushed and len(pushed) == runs[0]["steps"]["invoice item adjustments"]["synced"]
    assert {c["type"] for c in ns_copies(store, [p["id"] for p in pushed])} == {"CustInvc"}


def test_a_stopped_old_instance_runs_no_more_and_a_new_one_follows_the_is_rules(sim):
    store = sim.store
    sim.connector.run()
    sim.connector.stop()
    migrate(sim)
    assert sim.connector.tick() == []  # nothing scheduled is running
    assert store.scalar("SELECT count(*) FROM invoiceitemadjustment WHERE reasoncode = 'Write-off' "
                        "AND integrationid__ns IS NOT NULL") == 0
    from core.sim import support

    client = support.create_oauth_client(store, "after IS")["client_id"]
    new = support.create_instance(store, oauth_client_id=client)
    assert (new["state"], new["mode"]) == ("stopped", "invoice-settlement")
    sim.connector.start()
    assert sim.connector.run()["invoice_settlement"] is True


def test_a_new_instances_first_run_syncs_every_customer_since_1970(sim):
    """Runbook R12: the old instance's runs pick unsynced accounts only; a new one's first run picks them all."""
    from core.sim import support

    store = sim.store
    sim.connector.run()
    syncing = store.scalar("SELECT count(*) FROM account a WHERE a.status = 'Active' AND "
                           "(a.synctonetsuite__ns IS NULL OR a.synctonetsuite__ns = 'Yes')")
    customers_before = store.scalar('SELECT count(*) FROM ns."customer"')
    assert sim.connector.run()["steps"]["customers"]["synced"] == 0  # the old instance: nothing new
    sim.connector.stop()
    support.create_instance(store, oauth_client_id=support.create_oauth_client(store, "new")["client_id"])
    sim.connector.start()
    first = sim.connector.run()
    customers = first["steps"]["customers"]
    assert first["customers_since_1970"] and customers["synced"] + customers["errors"] == syncing > 10
    assert store.scalar('SELECT count(*) FROM ns."customer"') == customers_before  # found by Zuora id, none new
    again = sim.connector.run()
    assert "customers_since_1970" not in again and again["steps"]["customers"]["synced"] == 0


def test_netsuite_payments_fail_until_support_updates_the_stored_credentials(sim):
    """F4's harm: after the new OAuth client, the NetSuite-to-Zuora payment sync signs in with the old one."""
    from core.sim import support
    from core.sim.netsuite_user import enter_payments, set_field_default

    store = sim.store
    sim.connector.run()
    sim.connector.stop()
    migrate(sim)
    client = support.create_oauth_client(store, "after IS")["client_id"]
    support.update_instance(store, sim.connector.instance()["id"], {"oauth_client_id": client})
    sim.connector.start()
    set_field_default(store, "zuora_sync_updates", "Yes")
    made = enter_payments(store, 2)
    run = sim.connector.run()
    assert run["steps"]["netsuite payments"]["errors"] == 2
    assert "Boomi" in next(e["message"] for e in run["error_samples"] if e["step"] == "netsuite payments")
    status = {r[F["zuora_integration_status"]] for r in store.query(
        f'SELECT {F["zuora_integration_status"]} FROM ns."transaction" WHERE id IN (?, ?)',
        [p["id"] for p in made])}
    assert status == {"Error Creating Payment"}
    support.update_boomi_credentials(store, client)
    assert sim.connector.run()["steps"]["netsuite payments"]["synced"] == 2


def test_the_tenant_keeps_living_after_go_live(sim, admin):
    assert admin.post("/_sim/tenant/traffic", json={"count": 2}).status_code == 400  # IS is still off
    sim.connector.run()
    sim.connector.stop()
    migrate(sim)
    made = admin.post("/_sim/tenant/traffic", json={"count": 2}).json()
    assert [len(made[k]) for k in ("credit_memos", "debit_memos", "payments", "refunds", "netsuite_payments")] == [
        2, 2, 2, 1, 2]
    repoint_connector(sim)
    run = sim.connector.run()
    assert run["steps"]["credit memos"]["synced"] >= 2 and run["steps"]["debit memos"]["synced"] == 2


def test_payments_can_be_entered_back_dated(admin, sim):
    made = admin.post("/_sim/netsuite/payments", json={"count": 1, "backdate_days": 40}).json()["payments"]
    row = sim.store.query_one('SELECT trandate, createddate FROM ns."transaction" WHERE id = ?', (made[0]["id"],))
    assert row["trandate"] < row["createddate"][:10]  # dated back, created now


def test_a_new_instance_has_netsuite_payment_sync_off_until_it_is_turned_on(sim):
    """R8.7: NetSuite Payment and Refund Sync are off by default on a new instance; F6 turns them on. The seeded
    old instance has them on."""
    from core.sim import support
    from core.sim.netsuite_user import enter_payments

    store = sim.store
    assert "netsuite payments" in sim.connector.run()["steps"]  # the old instance syncs them
    sim.connector.stop()
    new = support.create_instance(store, oauth_client_id=support.create_oauth_client(store, "new")["client_id"])
    sim.connector.start()
    enter_payments(store, 2)
    off = sim.connector.run()
    assert "netsuite payments" not in off["steps"]
    with pytest.raises(ValueError, match="netsuite_payment_sync must be true or false"):
        support.update_instance(store, new["id"], {"netsuite_payment_sync": "yes"})
    support.update_instance(store, new["id"], {"netsuite_payment_sync": True})
    assert "netsuite payments" in sim.connector.run()["steps"]
