"""The live sync monitor: a sample's counts equal the simulator's own rows, a connector run moves them and gives a
rate, a sample stays within its call budget, and `cutover monitor` prints the same figures headless."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from core.profile import NetSuiteFields
from core.errors import ConfigError
from core.monitor import NS_TO_ZUORA, SAMPLE_CALL_BUDGET, STATES, ZUORA_TO_NS, RateTracker, Sampler, eta_seconds
from core.monitor.queries import NetSuiteFieldIds, ns_counts_sql
from core.netsuite import NetSuiteClient
from core.sim.catalog import NS_FIELD_IDS
from core.zuora import ZuoraClient

ROOT = Path(__file__).resolve().parents[1]
F = NS_FIELD_IDS


# ---- the oracle: each row's counts straight from the store, classified in plain Python ----------------------
def _tta_state(tta):
    return {"Yes": "done", "Processing": "processing", "Error": "error", "Ignore": "ignored"}.get(tta, "pending")


def _status_state(status, waiting=False):
    if status == "Sync Complete":
        return "done"
    if status == "Ignore":
        return "ignored"
    if status and status.startswith("Error"):
        return "error"
    if status and status.strip():
        return "processing"
    return "waiting" if waiting else "pending"


DATED_BY = {"invoice": ("invoicedate", "invoice"), "payment": ("effectivedate", "payment"),
            "refund": ("refunddate", "refund"), "invoiceitemadjustment": ("adjustmentdate", "iia"),
            "creditmemo": ("memodate", "memo"), "debitmemo": ("memodate", "memo")}


def _zuora_expected(store, is_on, cutovers):
    not_synced = {r["id"] for r in store.query("SELECT id FROM main.account WHERE synctonetsuite__ns = 'No'")}

    def before_cutover(table, r):  # or of an account that does not sync: never picked either way
        if (r["transferredtoaccounting"] or "No") != "No":
            return False
        column, key = DATED_BY.get(table, (None, None))
        return r.get("accountid") in not_synced or (key in cutovers and r[column] < cutovers[key].isoformat())

    def not_from_ns(r):
        return (r.get("origin__ns") or "") != "NETSUITE"

    objects = [
        ("Customer accounts", "account",
         lambda r: r["status"] == "Active" and (r["synctonetsuite__ns"] or "Yes") == "Yes"),
        ("Invoices", "invoice", lambda r: r["status"] == "Posted" and (not is_on or r["amount"] >= 0)),
        ("Payments", "payment", lambda r: r["status"] == "Processed" and not_from_ns(r)),
        ("Refunds", "refund",
         lambda r: r["sourcetype"] == "Payment" and r["status"] in ("Processed", "Posted") and not_from_ns(r)),
    ]
    if is_on:
        objects += [("Debit memos", "debitmemo", lambda r: r["status"] == "Posted" and not_from_ns(r)),
                    ("Credit memos", "creditmemo", lambda r: r["status"] == "Posted" and not_from_ns(r))]
    else:
        objects.append(("Invoice item adjustments", "invoiceitemadjustment",
                        lambda r: r["status"] == "Processed" and not_from_ns(r)))
    out = {}
    for label, table, counted in objects:
        states = Counter()
        for r in store.iter_query(f"SELECT * FROM main.{table}"):
            if counted(r):
                states[_status_state(r["integrationstatus__ns"]) if table == "account"
                       else "ignored" if before_cutover(table, r) else _tta_state(r["transferredtoaccounting"])] += 1
        out[(label, ZUORA_TO_NS)] = states
    return out


def _netsuite_expected(store, is_on, cutovers):
    types = {"CustPymt": "Customer payments", "CustRfnd": "Customer refunds"}
    if not is_on:
        types["CustCred"] = "Credit memos"
    out = {(label, NS_TO_ZUORA): Counter() for label in types.values()}
    for r in store.iter_query('SELECT * FROM ns."transaction"'):
        if r["type"] not in types or (r[F["zuora_origin"]] or "-") == "ZUORA":
            continue
        waiting = is_on and r["type"] == "CustPymt" and (r[F["zuora_sync_updates"]] or "-") != "Yes"
        state = _status_state(r[F["zuora_integration_status"]], waiting)
        if state in ("pending", "waiting") and r["type"] == "CustPymt" and "ns_payment" in cutovers \
                and r["trandate"] < cutovers["ns_payment"].isoformat():
            state = "ignored"
        out[(types[r["type"]], NS_TO_ZUORA)][state] += 1
    return out


def expected_counts(store, cutovers=None) -> dict:
    is_on = store.invoice_settlement
    return {**_zuora_expected(store, is_on, cutovers or {}), **_netsuite_expected(store, is_on, cutovers or {})}


def sampled_counts(sample) -> dict:
    return {(r.object, r.side): Counter({s: getattr(r, s) for s in STATES if getattr(r, s)}) for r in sample.rows}


@asynccontextmanager
async def clients(sim):
    c = sim.credentials
    async with ZuoraClient(sim.base_url, c.zuora_client_id, c.zuora_client_secret) as zuora, NetSuiteClient(
            sim.config.netsuite_account_id, c.netsuite_consumer_key, c.netsuite_consumer_secret,
            c.netsuite_token_id, c.netsuite_token_secret, base_url=sim.base_url) as netsuite:
        yield zuora, netsuite


def assert_within_budget(sample):
    # At least the Data Query job (submit, poll or not, download) and two SuiteQL queries.
    assert 4 <= sample.api_calls <= SAMPLE_CALL_BUDGET, sample.api_calls


# ---- end to end over loopback ------------------------------------------------------------------------------
async def test_counts_equal_the_store_with_is_off(sim, sim_server):
    async with clients(sim) as (zuora, netsuite):
        sample = await Sampler(zuora, netsuite, F).sample()
    assert sample.invoice_settlement is False
    assert sampled_counts(sample) == expected_counts(sim.store)
    assert [r.object for r in sample.rows if r.side == ZUORA_TO_NS] == [
        "Customer accounts", "Invoices", "Payments", "Refunds", "Invoice item adjustments"]
    totals = Counter()
    for r in sample.rows:
        totals.update({s: getattr(r, s) for s in STATES})
    assert totals["pending"] and totals["done"] and totals["error"], "the seed should give every main state"
    assert_within_budget(sample)
    assert all(r.rate_per_min is None for r in sample.rows)  # one sample: no rate yet


async def test_records_before_the_cutover_dates_are_ignored_not_pending(sim, sim_server):
    """The connector never picks what is dated before its cutover dates: counted as a backlog, the ETA would
    never reach zero."""
    from datetime import date

    cutovers = {key: date.fromisoformat(sim.store.setting(f"cutover.{key}"))
                for key in ("invoice", "payment", "refund", "iia", "ns_payment")}
    queries: list[str] = []

    def counted(method):
        async def call(sql, *args, **kwargs):
            queries.append(sql)
            return await method(sql, *args, **kwargs)
        return call

    async with clients(sim) as (zuora, netsuite):
        zuora.data_query_rows = counted(zuora.data_query_rows)
        netsuite.suiteql_rows = counted(netsuite.suiteql_rows)
        plain = await Sampler(zuora, netsuite, F).sample()
        plain_queries, queries[:] = list(queries), []
        dated = await Sampler(zuora, netsuite, F, cutovers=cutovers).sample()
    assert sampled_counts(dated) == expected_counts(sim.store, cutovers)
    before, after = plain.row("Invoices", ZUORA_TO_NS), dated.row("Invoices", ZUORA_TO_NS)
    moved = after.ignored - before.ignored
    assert moved >= 1 and after.pending == before.pending - moved  # the seeded invoice before the cutover
    iias = dated.row("Invoice item adjustments", ZUORA_TO_NS)
    assert iias.ignored > plain.row("Invoice item adjustments", ZUORA_TO_NS).ignored
    # The same queries, with the dates in them: the cutover dates filter, they add none. (HTTP calls are no measure:
    # a Data Query poll more or less is the pace's timing, which adapts to how long the last jobs took.)
    assert len(queries) == len(plain_queries) == 3 and queries != plain_queries
    assert_within_budget(plain)
    assert_within_budget(dated)


async def test_counts_equal_the_store_with_is_on_and_errors_are_listed(sim, sim_server):
    from sim_tenant import migrate

    migrate(sim)
    with sim.store.transaction() as conn:  # step G2 done for one payment entered during the freeze
        conn.execute(f'UPDATE ns."transaction" SET {F["zuora_sync_updates"]} = \'Yes\' WHERE id = (SELECT MIN(id) '
                     f'FROM ns."transaction" WHERE type = \'CustPymt\' AND {F["zuora_origin"]} IS NULL)')
    async with clients(sim) as (zuora, netsuite):
        sample = await Sampler(zuora, netsuite, NetSuiteFields(**F)).sample()
    assert sample.invoice_settlement is True
    assert sampled_counts(sample) == expected_counts(sim.store)
    rows = {(r.object, r.side): r for r in sample.rows}
    assert ("Credit memos", ZUORA_TO_NS) in rows and ("Invoice item adjustments", ZUORA_TO_NS) not in rows
    payments = rows[("Customer payments", NS_TO_ZUORA)]
    assert payments.waiting and payments.pending
    assert_within_budget(sample)

    assert 0 < len(sample.errors) <= 20
    want = sum(r.error for r in sample.rows)
    assert len(sample.errors) == min(20, want)
    for e in sample.errors:
        if e.side == ZUORA_TO_NS:
            table = {"Customer accounts": "account", "Invoices": "invoice", "Payments": "payment",
                     "Refunds": "refund", "Credit memos": "creditmemo", "Debit memos": "debitmemo"}[e.object]
            rec = sim.store.query_one(f"SELECT * FROM main.{table} WHERE id = ?", (e.record_id,))
            assert rec["integrationstatus__ns"] == e.status or rec["transferredtoaccounting"] == "Error"
        else:
            rec = sim.store.query_one('SELECT * FROM ns."transaction" WHERE id = ?', (int(e.record_id),))
            assert rec["tranid"] == e.number and rec[F["zuora_integration_status"]] == e.status


async def test_a_connector_run_moves_counts_and_gives_a_rate(sim, sim_server):
    async with clients(sim) as (zuora, netsuite):
        sampler = Sampler(zuora, netsuite, F)
        before = await sampler.sample()
        summary = sim.connector.run()
        after = await sampler.sample()
    assert summary
    assert sampled_counts(after) == expected_counts(sim.store)
    was = {r.key: r for r in before.rows}
    assert sum(r.pending for r in after.rows) < sum(r.pending for r in before.rows)
    assert sum(r.done for r in after.rows) > sum(r.done for r in before.rows)
    moved = [r for r in after.rows if r.finished > was[r.key].finished]
    assert moved and all(r.rate_per_min > 0 for r in moved)
    assert all(r.rate_per_min is not None for r in after.rows)
    for r in moved:
        assert len(sampler.history(r.key)) == 1 and sampler.history(r.key)[0] > 0
        assert r.eta_s == (None if r.backlog == 0 else pytest.approx(r.backlog / r.rate_per_min * 60))
    assert_within_budget(after)


async def test_invoice_settlement_is_probed_again_every_few_samples(sim, sim_server):
    from sim_tenant import migrate

    async with clients(sim) as (zuora, netsuite):
        sampler = Sampler(zuora, netsuite, F, recheck_every=2)
        assert (await sampler.sample()).invoice_settlement is False
        migrate(sim)
        assert (await sampler.sample()).invoice_settlement is False  # not probed on this one
        on = await sampler.sample()
    assert on.invoice_settlement is True
    assert sampled_counts(on) == expected_counts(sim.store)


# ---- pure parts -------------------------------------------------------------------------------------------
def test_rate_over_the_window_eta_and_history():
    rates = RateTracker(window_s=60)
    assert rates.observe("Invoices|Zuora→NS", 0, 0) is None
    assert rates.observe("Invoices|Zuora→NS", 30, 30) == 60  # 30 records in half a minute
    assert rates.observe("Invoices|Zuora→NS", 60, 60) == 60
    assert rates.observe("Invoices|Zuora→NS", 90, 60) == 30  # the window now starts at t=30
    assert rates.observe("Invoices|Zuora→NS", 120, 50) == 0  # records sent back: no progress, never negative
    assert rates.history("Invoices|Zuora→NS") == [60, 60, 0, 0]
    assert eta_seconds(120, 30) == 240 and eta_seconds(0, 30) is None and eta_seconds(5, 0) is None
    rates.forget(set())
    assert rates.history("Invoices|Zuora→NS") == [] and rates.rate("Invoices|Zuora→NS") is None


def test_netsuite_script_ids_come_from_the_profile_and_are_checked():
    with pytest.raises(ConfigError, match="zuora_integration_status"):
        NetSuiteFieldIds.from_profile({"zuora_origin": "custbodyzuoraorigin"})
    with pytest.raises(ConfigError, match="not a NetSuite script id"):
        NetSuiteFieldIds.from_profile({**F, "zuora_origin": "x' OR 1=1 --"})
    unmapped = NetSuiteFieldIds.from_profile(NetSuiteFields(**{**F, "zuora_sync_updates": None}))
    assert "custbodyzuoraintegrationstatus" in ns_counts_sql(unmapped, False)
    with pytest.raises(ConfigError, match="Zuora Sync Updates") as err:
        ns_counts_sql(unmapped, True)
    assert "cutover profile fields" in str(err.value)
    renamed = NetSuiteFieldIds.from_profile({**F, "zuora_sync_updates": "custbody_acme_sync", "sync_updates_yes": "T"})
    sql = ns_counts_sql(renamed, True)
    assert "custbody_acme_sync, '-') <> 'T'" in sql and "custbody_zuora_sync_updates" not in sql


# ---- the headless command ----------------------------------------------------------------------------------
def test_monitor_demo_once_json_matches_the_demo_store(monkeypatch, capsys):
    import core.demo
    from cli import main

    seen = {}

    class WatchedDemo(core.demo.DemoTenant):
        def __exit__(self, *exc):
            seen["expected"] = expected_counts(self.sim.store)
            super().__exit__(*exc)

    monkeypatch.setattr(core.demo, "DemoTenant", WatchedDemo)
    assert main(["monitor", "--demo", "--once", "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    sample = json.loads(lines[0])
    got = {(r["object"], r["side"]): Counter({s: r[s] for s in STATES if r[s]}) for r in sample["rows"]}
    assert got == seen["expected"]
    assert sample["invoice_settlement"] is False and 4 <= sample["api_calls"] <= SAMPLE_CALL_BUDGET
    assert {"taken_at", "duration_s", "errors"} <= sample.keys()


def _cutover(*args, **kw):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "cli", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


@pytest.mark.slow
def test_monitor_table_until_ctrl_c_exits_130_without_traceback():
    proc = _cutover("monitor", "--demo", "--interval", "0.2")
    try:
        head = proc.stdout.readline()
        table = [proc.stdout.readline() for _ in range(3)]
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert "IS off" in head and "calls" in head
    assert table[0].startswith("Object") and table[1].startswith("Customer accounts")
    assert proc.returncode == 130
    assert "Traceback" not in err


def test_monitor_with_an_unknown_profile_is_one_clear_line(tmp_path):
    proc = _cutover("monitor", "--profile", "nosuch", "--once")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert out == "" and len(err.strip().splitlines()) == 1 and "nosuch" in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_benchmark_smoke_at_tiny_size():
    done = subprocess.run([sys.executable, "benchmarks/monitor_sample.py", "--invoices", "200", "--samples", "2",
                           "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["invoices"] == 200 and result["within_budget"] and result["flat_memory"]
    assert 4 <= result["api_calls_per_sample"] <= result["budget"] == SAMPLE_CALL_BUDGET
    assert result["records_per_row"]["Invoices|Zuora→NS"] > 0
