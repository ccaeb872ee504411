"""The seeded tenant: deterministic, with every awkward case the runbook looks for, and sized by `invoices`."""

from __future__ import annotations

import hashlib

import pytest

from core.errors import ConfigError
from core.objects import ZUORA_OBJECTS
from core.sim.catalog import NS_FIELD_IDS, NS_FIELD_LABELS, NS_TABLES
from core.sim.scenario import seed_tenant
from core.sim.seed_cases import BAD_COMMA_NAME, BAD_QUOTE_NAME
from core.sim.store import Store

F = NS_FIELD_IDS


def _store(tmp_path, name: str) -> Store:
    folder = tmp_path / name
    folder.mkdir()
    return Store(folder / "tenant.db")


def _digest(store: Store) -> str:
    h = hashlib.sha256()
    tables = [f"main.{o.table}" for o in ZUORA_OBJECTS.values()] + [f'ns."{t}"' for t in NS_TABLES]
    for table in tables:
        key = "scriptid" if "customfield" in table else "id"
        for row in store.iter_query(f"SELECT * FROM {table} ORDER BY {key}"):
            h.update(repr(sorted(row.items())).encode())
    return h.hexdigest()


@pytest.fixture
def seeded(tmp_path):
    store = _store(tmp_path, "a")
    summary = seed_tenant(store, seed=7, invoices=300)
    yield store, summary
    store.close()


def test_same_seed_same_tenant_other_seed_other_tenant(tmp_path, seeded):
    store, _ = seeded
    again, other = _store(tmp_path, "b"), _store(tmp_path, "c")
    seed_tenant(again, seed=7, invoices=300)
    seed_tenant(other, seed=8, invoices=300)
    assert _digest(again) == _digest(store)
    assert _digest(other) != _digest(store)


def test_counts_scale_with_invoices(tmp_path):
    small, big = _store(tmp_path, "s"), _store(tmp_path, "b")
    s, b = seed_tenant(small, seed=3, invoices=200), seed_tenant(big, seed=3, invoices=1600)
    cases_s, cases_b = s["rows"]["invoice"] - 200, b["rows"]["invoice"] - 1600
    assert cases_s == cases_b > 0  # the awkward cases come on top, the same handful at every scale
    assert b["rows"]["account"] - s["rows"]["account"] == 1600 // 8 - 200 // 8
    assert b["rows"]["payment"] > 5 * s["rows"]["payment"] // 2
    assert b["rows"]["ns.transaction"] > 5 * s["rows"]["ns.transaction"] // 2
    assert small.scalar("SELECT count(*) FROM invoice") == s["rows"]["invoice"]
    assert len(small.query("SELECT DISTINCT currency FROM account")) >= 3


def test_settings_describe_the_starting_point(seeded):
    store, summary = seeded
    assert store.setting("scenario.as_of") == "2026-11-01"
    assert store.setting("scenario.freeze_date") == summary["freeze_date"] < "2026-11-01"
    assert store.setting("invoice_settlement") is False
    assert store.setting("connector.installed") is True
    assert store.setting("netsuite.sync_updates_default") is None
    assert store.setting("cutover.memo") is None
    for key in ("invoice", "payment", "refund", "iia", "ns_payment"):
        assert store.setting(f"cutover.{key}") <= "2024-11-01"
    instance = store.query_one("SELECT * FROM sim_instance WHERE id = ?", (store.setting("connector.instance_id"),))
    assert instance["environment"] == "production" and instance["status"] == "active"
    assert (instance["state"], instance["mode"]) == ("running", "legacy")  # the old connector, on IS-off rules
    assert store.scalar("SELECT active FROM sim_oauth_client WHERE client_id = ?", (instance["oauth_client_id"],))
    assert store.setting("connector.boomi_client_id") == instance["oauth_client_id"]  # payment sync's own login
    fields = {r["scriptid"]: r for r in store.query("SELECT * FROM ns.customfield")}
    assert {r["name"] for r in fields.values()} == set(NS_FIELD_LABELS.values())
    sync_updates = fields[F["zuora_sync_updates"]]
    assert (sync_updates["fieldtype"], sync_updates["fieldvaluetype"], sync_updates["defaultvalue"]) == (
        "BODY", "List/Record", None)


def test_synced_records_match_their_netsuite_copies(seeded):
    store, _ = seeded
    rows = store.query(
        f'SELECT i.id, i.amount, i.integrationid__ns, t.id AS ns_id, t.type, t.{F["zuora_type"]} AS ztype, '
        f't.{F["zuora_origin"]} AS origin, t.{F["zuora_integration_status"]} AS status, t.entity, c.custentityzuoraid '
        f'FROM invoice i JOIN ns."transaction" t ON t.{F["zuora_id"]} = i.id JOIN ns.customer c ON c.id = t.entity '
        f"JOIN account a ON a.id = i.accountid WHERE i.transferredtoaccounting = 'Yes' "
        f"AND a.id = c.custentityzuoraid")
    assert len(rows) == store.scalar("SELECT count(*) FROM invoice WHERE transferredtoaccounting = 'Yes'")
    for r in rows:
        assert r["integrationid__ns"] == str(r["ns_id"]) and r["status"] == "Sync Complete"
        assert (r["type"], r["ztype"]) == (("CustInvc", "INVOICE") if r["amount"] >= 0 else ("CustCred",
                                                                                          "NEGATIVE_INVOICE"))
        assert r["origin"] == "ZUORA"
    assert store.scalar(f'SELECT count(*) FROM ns."transaction" WHERE {F["zuora_type"]} = '
                        f"'INVOICE_ITEM_ADJUSTMENT'") > 0
    assert store.scalar(f'SELECT count(*) FROM ns."transaction" WHERE type = \'CustPymt\' AND '
                        f"{F['zuora_origin']} = 'ZUORA'") > 0


VALIDATIONS = {  # runbook B2, as Data Query would ask
    "V1": "SELECT count(*) FROM account WHERE status = 'Draft' AND creditbalance > 0",
    "V2": "SELECT count(*) FROM account WHERE status = 'Canceled' AND creditbalance > 0",
    "V3": "SELECT count(*) FROM invoice i JOIN account a ON a.id = i.accountid WHERE a.status = 'Draft' "
          "AND i.balance < 0 AND i.status = 'Posted'",
    "V4": "SELECT count(*) FROM invoice i JOIN account a ON a.id = i.accountid WHERE a.status = 'Canceled' "
          "AND i.balance < 0 AND i.status = 'Posted'",
    "V5": "SELECT count(*) FROM invoice WHERE status = 'Draft' AND balance < 0",
    "V6": "SELECT count(*) FROM payment WHERE status = 'Draft'",
    "V7": "SELECT count(*) FROM payment WHERE status = 'Error'",
}
PENDING = "(transferredtoaccounting IS NULL OR transferredtoaccounting IN ('No', 'Error', 'Processing'))"


@pytest.mark.parametrize("check", sorted(VALIDATIONS))
def test_every_validation_scenario_is_present(seeded, check):
    assert seeded[0].scalar(VALIDATIONS[check]) >= 2


def test_connector_backlog_and_stuck_records_are_present(seeded):
    store, summary = seeded
    cutover_iia = store.setting("cutover.iia")
    assert store.scalar(f"SELECT count(*) FROM invoiceitemadjustment WHERE status = 'Processed' AND {PENDING} "
                        "AND adjustmentdate >= ?", (cutover_iia,)) >= 3  # C1
    assert store.scalar(f"SELECT count(*) FROM invoiceitemadjustment WHERE {PENDING} AND adjustmentdate < ?",
                        (cutover_iia,)) >= 1  # before the cutover: intentionally never synced
    assert store.scalar(f"SELECT count(*) FROM invoice WHERE status = 'Posted' AND amount < 0 AND {PENDING}") >= 3
    assert store.scalar(f"SELECT count(*) FROM invoice WHERE status = 'Posted' AND amount > 0 AND {PENDING}") >= 3
    assert store.scalar(f"SELECT count(*) FROM payment WHERE status = 'Processed' AND {PENDING}") >= 3
    assert store.scalar(f"SELECT count(*) FROM refund WHERE sourcetype = 'Payment' AND {PENDING}") >= 2
    for pattern in ("Creating %", "Error Creating %"):  # C5
        assert store.scalar("SELECT count(*) FROM invoice WHERE integrationstatus__ns LIKE ?", (pattern,)) + \
            store.scalar("SELECT count(*) FROM payment WHERE integrationstatus__ns LIKE ?", (pattern,)) + \
            store.scalar("SELECT count(*) FROM invoiceitemadjustment WHERE integrationstatus__ns LIKE ?",
                         (pattern,)) >= 2
    assert store.scalar("SELECT count(*) FROM invoice WHERE transferredtoaccounting IN ('Processing', 'Error')") >= 2
    names = {r["name"] for r in store.query("SELECT name FROM account WHERE integrationid__ns IS NULL")}
    assert {BAD_QUOTE_NAME, BAD_COMMA_NAME} <= names
    assert store.scalar("SELECT count(*) FROM account WHERE status = 'Active' AND creditbalance > 0") >= 3
    assert store.scalar("SELECT count(*) FROM invoice WHERE status = 'Posted' AND balance < 0 "
                        "AND transferredtoaccounting = 'Yes'") >= 3
    assert summary["cases"]["C5 Creating"] == 2


def test_netsuite_side_pending_and_freeze_window_payments(seeded):
    store, summary = seeded
    freeze = summary["freeze_date"]
    # C4: a standard NetSuite credit memo (Zuora Type empty) applied to one Zuora invoice, not yet in Zuora.
    assert store.scalar(
        f'SELECT count(*) FROM ns."transaction" t WHERE t.type = \'CustCred\' AND t.{F["zuora_type"]} IS NULL '
        f'AND t.{F["zuora_id"]} IS NULL AND t.foreignamountremaining = 0') >= 2
    # G2's query: window payments with Zuora Sync Updates, Origin and Zuora ID all empty.
    window = store.query(
        f'SELECT t.id FROM ns."transaction" t WHERE t.type = \'CustPymt\' AND t.trandate >= ? '
        f'AND t.{F["zuora_sync_updates"]} IS NULL AND coalesce(t.{F["zuora_origin"]}, \'x\') <> \'ZUORA\' '
        f'AND t.{F["zuora_id"]} IS NULL', (freeze,))
    assert len(window) >= 4
    for row in window:  # each applied to an invoice already synced from Zuora
        doc = store.query_one(
            f'SELECT d.{F["zuora_id"]} AS zid, d.{F["zuora_type"]} AS ztype FROM ns.nexttransactionlinelink l '
            f'JOIN ns."transaction" d ON d.id = l.previousdoc WHERE l.nextdoc = ?', (row["id"],))
        assert doc["ztype"] == "INVOICE"
        assert store.scalar("SELECT integrationid__ns FROM invoice WHERE id = ?", (doc["zid"],))
    assert store.scalar(
        f'SELECT count(*) FROM ns."transaction" WHERE type = \'CustPymt\' AND trandate >= ? '
        f'AND {F["zuora_origin"]} = \'ZUORA\'', (freeze,)) >= 2  # G2 must never touch these


def test_reseeding_a_data_dir(tmp_path):
    store = _store(tmp_path, "r")
    first = seed_tenant(store, seed=5, invoices=100)
    rows = store.scalar("SELECT count(*) FROM invoice")
    assert seed_tenant(store, seed=5, invoices=100) == first  # the same tenant carries on
    assert store.scalar("SELECT count(*) FROM invoice") == rows
    with pytest.raises(ConfigError, match="seed 5"):
        seed_tenant(store, seed=6, invoices=100)
