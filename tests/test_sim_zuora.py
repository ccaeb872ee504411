"""The simulator's Zuora routes, in process through ASGITransport, plus a few over real loopback HTTP."""

from __future__ import annotations

import asyncio
import gzip
import json

import httpx
import pytest

import core.sim.data_query as data_query_module
import core.sim.zoql as zoql_module
from core.sim import sql as sql_module
from core.objects import ACCOUNT, CREDIT_MEMO
from core.sim.config import Faults
from core.sim.server import SimServer
from sim_tenant import (DATA_QUERY, add_accounts, add_credit_memos, add_debit_memos, add_invoices, add_payments,
                        bearer, client, empty_tenant, finished_job, signed_in, zuora_id)


@pytest.fixture
def tenant(tmp_path):
    sim = empty_tenant(tmp_path)
    yield sim
    sim.close()


@pytest.fixture
def is_tenant(tenant):
    """Invoice Settlement on, one account, five posted memos at TTA No."""
    tenant.store.set_setting("invoice_settlement", True)
    account = add_accounts(tenant, 1)[0]
    add_credit_memos(tenant, 5, account=account)
    return tenant


# ---- OAuth ------------------------------------------------------------------------------------------------------
async def test_token_lifecycle(tenant):
    add_accounts(tenant, 1)
    async with client(tenant) as c:
        query = {"queryString": "select Id from Account"}
        assert (await c.post("/v1/action/query", json=query)).status_code == 401
        headers = await bearer(c, tenant)
        ok = await c.post("/v1/action/query", json=query, headers=headers)
        assert ok.status_code == 200 and ok.json()["size"] == 1

        tenant.expire_tokens()
        stale = await c.post("/v1/action/query", json=query, headers=headers)
        assert stale.status_code == 401 and stale.json() == {"message": "Authentication error"}
        assert "Bearer realm=Zuora API" in stale.headers["WWW-Authenticate"]
        assert (await c.post("/v1/action/query", json=query, headers=await bearer(c, tenant))).status_code == 200

        bad = await c.post("/oauth/token", data={"client_id": tenant.credentials.zuora_client_id,
                                                 "client_secret": "wrong", "grant_type": "client_credentials"})
        assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
        assert "wrong" not in bad.text
        grant = await c.post("/oauth/token", data={"client_id": "x", "client_secret": "y", "grant_type": "password"})
        assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"


async def test_token_endpoint_is_outside_the_gate_and_rate_limited_per_ip(tmp_path):
    sim = empty_tenant(tmp_path, zuora_concurrency=1)
    try:
        async with client(sim) as c:
            sim.zuora_gate.in_flight = 1  # the gate is full; the token endpoint does not care
            r = await c.post("/oauth/token", data={"client_id": sim.credentials.zuora_client_id,
                                                   "client_secret": sim.credentials.zuora_client_secret,
                                                   "grant_type": "client_credentials"})
            assert r.status_code == 200 and int(r.headers["X-RateLimit-Remaining-minute"]) == 99
            for _ in range(99):
                await c.post("/oauth/token", data={"grant_type": "client_credentials"})
            limited = await c.post("/oauth/token", data={"grant_type": "client_credentials"})
            assert limited.status_code == 429 and limited.headers["Retry-After"] == "60"
    finally:
        sim.close()


# ---- ZOQL -------------------------------------------------------------------------------------------------------
async def test_zoql_pages_past_several_batches_and_omits_nulls(tenant, http):
    add_accounts(tenant, 25)
    first = await http.post("/v1/action/query", json={
        "queryString": "select Id, AccountNumber, Balance, UpdatedDate from Account where Status = 'Active'",
        "conf": {"batchSize": 7}}, headers={"Zuora-Track-Id": "run-1"})
    assert first.headers["Zuora-Track-Id"] == "run-1" and len(first.headers["Zuora-Request-Id"]) == 36
    pages, answer = [first.json()], first.json()
    while not answer["done"]:
        answer = (await http.post("/v1/action/queryMore", json={"queryLocator": answer["queryLocator"],
                                                               "conf": {"batchSize": 7}})).json()
        pages.append(answer)
    assert [len(p["records"]) for p in pages] == [7, 7, 7, 4]
    assert all(p["size"] == 25 for p in pages) and "queryLocator" not in pages[-1]
    records = [r for p in pages for r in p["records"]]
    assert len({r["Id"] for r in records}) == 25
    odd, even = records[0], records[1]
    assert odd["Balance"] == 1.5 and "Balance" not in even  # null fields are left out
    assert set(even) == {"Id", "AccountNumber", "UpdatedDate"}
    assert odd["UpdatedDate"].endswith(".000+00:00") and "T" in odd["UpdatedDate"]


async def test_zoql_filters_null_and_datetime(tenant, http):
    add_accounts(tenant, 6)

    async def ids(where: str) -> list[str]:
        r = await http.post("/v1/action/query", json={"queryString": f"select AccountNumber from Account {where}"})
        assert r.status_code == 200, r.text
        return sorted(rec["AccountNumber"] for rec in r.json()["records"])

    assert await ids("where Balance = null") == ["A00000002", "A00000004", "A00000006"]
    assert await ids("where Balance != null and Balance > 2 or AccountNumber = 'A00000002'") == [
        "A00000002", "A00000003", "A00000005"]
    assert await ids("where UpdatedDate >= '2024-02-05T11:00:00+01:00'") == ["A00000004", "A00000005",
                                                                            "A00000006"]


@pytest.mark.parametrize(("query", "faultcode"), [
    ("select Id from CreditMemo", "fns:INVALID_TYPE"),
    ("select Id from DebitMemo", "fns:INVALID_TYPE"),
    ("select Id from Nothing", "fns:INVALID_TYPE"),
    ("select Id, Foo from Account", "fns:INVALID_FIELD"),
    ("SELECT Id FROM Account", "fns:MALFORMED_QUERY"),
    ("select * from Account", "fns:MALFORMED_QUERY"),
    ("select Id from Account where (Status = 'Active')", "fns:MALFORMED_QUERY"),
    ("select Id from Account order by Id", "fns:MALFORMED_QUERY"),
    ("select Id from Account a join Invoice i on i.AccountId = a.Id", "fns:MALFORMED_QUERY"),
    ("select Id from Account where " + " or ".join(["Name = 'x'"] * 201), "fns:MALFORMED_QUERY"),
    ("select Id from Account where UpdatedDate > 'yesterday'", "fns:INVALID_VALUE"),
])
async def test_zoql_rejects_what_zuora_rejects(http, query, faultcode):
    r = await http.post("/v1/action/query", json={"queryString": query})
    assert r.status_code == 400 and r.json()["faultcode"] == faultcode and r.json()["faultstring"]


async def test_zoql_batch_size_and_locators(tenant, http, monkeypatch):
    add_accounts(tenant, 3)
    capped = await http.post("/v1/action/query", json={"queryString": "select Id from Account",
                                                       "conf": {"batchSize": 5000}})
    assert capped.json()["done"] and len(capped.json()["records"]) == 3
    zero = await http.post("/v1/action/query", json={"queryString": "select Id from Account",
                                                     "conf": {"batchSize": 0}})
    assert zero.status_code == 400 and zero.json()["faultcode"] == "fns:INVALID_VALUE"

    page = (await http.post("/v1/action/query", json={"queryString": "select Id from Account",
                                                      "conf": {"batchSize": 1}})).json()
    later = zoql_module.time.monotonic() + zoql_module.LOCATOR_IDLE_S + 1
    monkeypatch.setattr(zoql_module.time, "monotonic", lambda: later)
    expired = await http.post("/v1/action/queryMore", json={"queryLocator": page["queryLocator"]})
    assert expired.status_code == 400 and "expired" in expired.json()["faultstring"]


# ---- Data Query -------------------------------------------------------------------------------------------------
async def _run_query(http, query: str, **body) -> dict:
    r = await http.post("/query/jobs", json={"query": query, **DATA_QUERY, **body})
    assert r.status_code == 200, r.text
    return await finished_job(http, {}, r.json()["data"]["id"])


async def test_data_query_end_to_end_jsonl(tenant, http):
    add_accounts(tenant, 30)
    job = await _run_query(http, "SELECT id, accountnumber, balance FROM account "
                                 "WHERE updateddate >= timestamp '2024-02-10 00:00:00 +00:00' ORDER BY id")
    assert job["queryStatus"] == "completed"
    async with client(tenant) as anonymous:  # pre-signed: no bearer header
        download = await anonymous.get(job["dataFile"])
    assert download.status_code == 200
    rows = [json.loads(line) for line in download.text.splitlines()]
    assert len(rows) == job["outputRows"] == sum(1 for i in range(1, 31) if 1 + i % 28 >= 10)
    assert set(rows[0]) == {"id", "accountnumber", "balance"}
    assert any(r["balance"] is None for r in rows)  # nulls stay as null in JSONL

    forged = job["dataFile"].replace("X-Amz-Signature=", "X-Amz-Signature=00")
    async with client(tenant) as anonymous:
        denied = await anonymous.get(forged)
    assert denied.status_code == 403 and "SignatureDoesNotMatch" in denied.text


async def test_data_query_tables_follow_invoice_settlement(tenant, http):
    async def tables() -> set[str]:
        job = await _run_query(http, "SHOW TABLES")
        return {json.loads(line)["Table"] for line in (await http.get(job["dataFile"])).text.splitlines()}

    before = await tables()
    assert "account" in before and "creditmemo" not in before and "debitmemo" not in before
    hidden = await _run_query(http, "SELECT id FROM creditmemo")
    assert hidden["queryStatus"] == "failed" and "does not exist" in hidden["errorMessage"]

    tenant.store.set_setting("invoice_settlement", True)
    assert {"creditmemo", "debitmemo"} <= await tables()
    columns = await _run_query(http, "SHOW COLUMNS FROM creditmemo")
    names = [json.loads(line)["Column"] for line in (await http.get(columns["dataFile"])).text.splitlines()]
    assert "transferredtoaccounting" in names and "integrationid__ns" in names


@pytest.mark.parametrize("query", ["SELECT * FROM sim_setting", "SELECT * FROM ns.transaction",
                                   "SELECT * FROM pragma_table_info('account')", "DELETE FROM account",
                                   "SELECT id FROM account; SELECT id FROM invoice", "SELEC id FROM account"])
async def test_data_query_sees_only_catalog_selects(http, query):
    job = await _run_query(http, query)
    assert job["queryStatus"] == "failed" and job["errorMessage"]


async def test_data_query_csv_gzip_and_row_cap(tenant, http, tmp_path, monkeypatch):
    add_accounts(tenant, 12)
    job = await _run_query(http, "SELECT accountnumber, status FROM account ORDER BY id", outputFormat="CSV",
                           compression="GZIP")
    lines = gzip.decompress((await http.get(job["dataFile"])).content).decode().splitlines()
    assert lines[0] == "accountnumber,status" and lines[1] == "A00000001,Active" and len(lines) == 13

    monkeypatch.setattr(data_query_module, "MAX_OUTPUT_ROWS", 10)
    capped_sim = empty_tenant(tmp_path / "capped")
    try:
        add_accounts(capped_sim, 12)
        async with signed_in(capped_sim) as c:
            over = await _run_query(c, "SELECT id FROM account")
        assert over["queryStatus"] == "failed" and "500,000" not in over["errorMessage"]
        assert "10 rows" in over["errorMessage"]
    finally:
        capped_sim.close()


async def test_data_query_body_validation(http):
    missing = await http.post("/query/jobs", json={"query": "SELECT 1"})
    assert missing.status_code == 400 and missing.json()["code"] == 400 and "outputFormat" in missing.json()["message"]
    bad = await http.post("/query/jobs", json={"query": "SELECT 1", **DATA_QUERY, "outputFormat": "XML"})
    assert bad.status_code == 400 and "outputFormat" in bad.json()["message"]
    media = await http.post("/query/jobs", content=b"query=1", headers={"Content-Type": "text/plain"})
    assert media.status_code == 415
    unknown = await http.get("/query/jobs/3a3e85c4-0000-0000-0000-000000000000")
    assert unknown.status_code == 404 and unknown.json()["code"] == 404


async def test_data_query_concurrency_list_and_cancel(tmp_path, monkeypatch):
    release = asyncio.Event()
    loop = asyncio.get_running_loop()
    real_iter = sql_module.iter_rows

    def slow_rows(statement, store):
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result(timeout=10)
        yield from real_iter(statement, store)

    monkeypatch.setattr(sql_module, "iter_rows", slow_rows)
    sim = empty_tenant(tmp_path, data_query_concurrency=1)
    try:
        add_accounts(sim, 2)
        async with signed_in(sim) as c:
            ids = [(await c.post("/query/jobs", json={"query": "SELECT id FROM account", **DATA_QUERY})).json()
                   ["data"]["id"] for _ in range(3)]
            for _ in range(200):  # wait until the one slot is taken
                states = [(await c.get(f"/query/jobs/{i}")).json()["data"]["queryStatus"] for i in ids]
                if "in_progress" in states:
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.05)  # the others stay queued while the slot is held
            states = [(await c.get(f"/query/jobs/{i}")).json()["data"]["queryStatus"] for i in ids]
            assert states.count("in_progress") == 1 and states.count("accepted") == 2

            cancelled = await c.delete(f"/query/jobs/{ids[2]}")
            assert cancelled.status_code == 200 and cancelled.json()["data"]["queryStatus"] == "cancelled"
            release.set()
            done = [await finished_job(c, {}, i) for i in ids[:2]]
            assert [j["queryStatus"] for j in done] == ["completed", "completed"]
            again = await c.delete(f"/query/jobs/{ids[0]}")
            assert again.status_code == 400 and "completed" in again.json()["message"]

            listed = (await c.get("/query/jobs", params={"queryStatus": "completed"})).json()["data"]
            assert {j["id"] for j in listed} == set(ids[:2])
            assert len((await c.get("/query/jobs", params={"pageSize": 1})).json()["data"]) == 1
    finally:
        release.set()
        sim.close()


async def test_jobs_left_open_fail_after_a_restart(tmp_path):
    first = empty_tenant(tmp_path)
    first.store.execute("INSERT INTO sim_query_job(id, query, status, created, updated, output_rows, file_path) "
                        "VALUES ('3a3e85c4-0000-0000-0000-000000000001', 'SELECT 1', 'in_progress', "
                        "'2024-01-01 00:00:00', '2024-01-01 00:00:00', 0, 'x')")
    first.close()
    again = empty_tenant(tmp_path)
    try:
        async with signed_in(again) as c:
            job = (await c.get("/query/jobs/3a3e85c4-0000-0000-0000-000000000001")).json()["data"]
        assert job["queryStatus"] == "failed" and "restarted" in job["errorMessage"]
    finally:
        again.close()


# ---- Object Query -----------------------------------------------------------------------------------------------
async def test_object_query_filters_fields_and_cursor(tenant, http):
    add_accounts(tenant, 23)

    async def numbers(*filters: str, **params) -> list[str]:
        r = await http.get("/object-query/accounts", params=[*(("filter[]", f) for f in filters),
                                                             *params.items(), ("pageSize", "99")])
        assert r.status_code == 200, r.text
        assert r.headers["Concurrency-Limit-Type"] == "Object Query"
        return [a["accountNumber"] for a in r.json()["data"]]

    assert await numbers("accountNumber.EQ:A00000003") == ["A00000003"]
    assert len(await numbers("accountNumber.NE:A00000003")) == 22
    assert await numbers("balance.GT:30") == ["A00000021", "A00000023"]
    assert await numbers("balance.GE:31.5", "balance.LE:34.5") == ["A00000021", "A00000023"]
    assert await numbers("balance.LT:2") == ["A00000001"]
    assert await numbers("accountNumber.SW:A0000001") == [f"A{i:08d}" for i in range(10, 20)]
    assert await numbers("accountNumber.IN:[A00000001,A00000002]") == ["A00000001", "A00000002"]
    assert len(await numbers("balance.EQ:null")) == 11 and len(await numbers("balance.NE:null")) == 12
    assert (await numbers(**{"sort[]": "accountNumber.DESC"}))[0] == "A00000023"

    seen, cursor, pages = [], None, 0
    while True:
        params = {"pageSize": "10", "fields[]": "id,accountNumber"} | ({"cursor": cursor} if cursor else {})
        body = (await http.get("/object-query/accounts", params=params)).json()
        assert all(set(a) == {"id", "accountNumber"} for a in body["data"])
        seen += body["data"]
        pages += 1
        cursor = body["nextPage"]
        if cursor is None:
            break
    assert pages == 3 and len({a["id"] for a in seen}) == 23


async def test_object_query_errors_and_invoice_settlement_gate(tenant, http):
    for params in ({"pageSize": "100"}, {"filter[]": "nosuch.EQ:1"}, {"filter[]": "balance.XX:1"},
                   {"filter[]": "balance.GT:abc"}, {"cursor": "garbage!"}):
        r = await http.get("/object-query/accounts", params=params)
        assert r.status_code == 400 and isinstance(r.json()["reasons"][0]["code"], int), params
    off = await http.get("/object-query/credit-memos")
    assert off.status_code == 403
    tenant.store.set_setting("invoice_settlement", True)
    add_credit_memos(tenant, 3, account=add_accounts(tenant, 1)[0], tta=None)
    memos = (await http.get("/object-query/credit-memos", params={"filter[]": "transferredToAccounting.EQ:null"}))
    assert [m["memoNumber"] for m in memos.json()["data"]] == ["CM00000001", "CM00000002", "CM00000003"]
    assert {"totalAmount", "balance", "memoDate", "status"} <= set(memos.json()["data"][0])


# ---- credit memos -----------------------------------------------------------------------------------------------
async def test_credit_memos_need_invoice_settlement(tenant, http):
    modern = await http.get("/v1/credit-memos", params={"pageSize": 1})
    assert modern.status_code == 403 and modern.json()["success"] is False
    assert int(modern.json()["reasons"][0]["code"]) % 100 == 10 and len(modern.json()["reasons"][0]["code"]) == 8
    legacy = await http.get("/v1/credit-memos", params={"pageSize": 1}, headers={"Zuora-Version": "211.0"})
    assert legacy.status_code == 200 and legacy.json()["success"] is False


async def test_credit_memo_list_get_and_both_spellings(is_tenant, http):
    page1 = (await http.get("/v1/credit-memos", params={"pageSize": 2, "transferredToAccounting": "No"})).json()
    assert [m["number"] for m in page1["creditmemos"]] == ["CM00000001", "CM00000002"]
    assert page1["nextPage"].startswith("/v1/credit-memos?page=2")
    page3 = (await http.get(page1["nextPage"].replace("page=2", "page=3"))).json()
    assert [m["number"] for m in page3["creditmemos"]] == ["CM00000005"] and "nextPage" not in page3
    too_big = await http.get("/v1/credit-memos", params={"pageSize": 41})
    assert too_big.status_code == 400
    by_number = (await http.get("/v1/creditmemos/CM00000002")).json()
    by_id = (await http.get(f"/v1/credit-memos/{zuora_id(CREDIT_MEMO, 2)}")).json()
    assert by_number == by_id and by_id["amount"] == 12.0 and by_id["unappliedAmount"] == 12.0
    assert by_id["accountNumber"] == "A00000001" and by_id["creditMemoDate"] == "2024-03-01"
    missing = await http.get("/v1/credit-memos/CM99999999")
    assert missing.status_code == 404 and missing.json()["reasons"][0]["code"] == "50000040"
    legacy_missing = await http.get("/v1/credit-memos/CM99999999", headers={"Zuora-Version": "196.0"})
    assert legacy_missing.status_code == 200 and legacy_missing.json()["success"] is False


async def test_credit_memo_update_logs_each_changed_field_once(is_tenant, http):
    body = {"transferredToAccounting": "Yes", "IntegrationId__NS": "98765", "comment": "migrated"}
    r = await http.put("/v1/credit-memos/CM00000001", json=body)
    assert r.status_code == 200 and r.json()["success"] is True
    assert r.json()["transferredToAccounting"] == "Yes" and r.json()["IntegrationId__NS"] == "98765"
    log = is_tenant.store.query("SELECT field, old_value, new_value, source, system, request_id FROM sim_write_log")
    assert {(e["field"], e["old_value"], e["new_value"]) for e in log} == {
        ("TransferredToAccounting", "No", "Yes"), ("IntegrationId__NS", None, "98765"), ("Comment", None, "migrated")}
    assert {(e["source"], e["system"], e["request_id"]) for e in log} == {("api", "zuora",
                                                                           r.headers["Zuora-Request-Id"])}

    again = await http.put(f"/v1/creditmemos/{zuora_id(CREDIT_MEMO, 1)}", json=body)
    assert again.status_code == 200
    assert is_tenant.store.scalar("SELECT COUNT(*) FROM sim_write_log") == 3  # same values: nothing written

    back = await http.put("/v1/credit-memos/CM00000001", json={"transferredToAccounting": "No"})
    assert back.json()["transferredToAccounting"] == "No"  # the API user holds the override permission

    bad = await http.put("/v1/credit-memos/CM00000001", json={"transferredToAccounting": "Maybe"})
    assert bad.status_code == 400 and "should be one of" in bad.json()["reasons"][0]["message"]
    strict = await http.put("/v1/credit-memos/CM00000001", params={"rejectUnknownFields": "true"},
                            json={"colour": "blue"})
    assert strict.status_code == 400


async def test_bulk_update_fails_items_on_their_own(is_tenant, http):
    add_credit_memos(is_tenant, 1, account=zuora_id(ACCOUNT, 1), start=6, status="Draft")
    memos = [{"id": zuora_id(CREDIT_MEMO, 1), "transferredToAccounting": "Yes"},
             {"id": "0" * 32, "transferredToAccounting": "Yes"},
             {"id": zuora_id(CREDIT_MEMO, 6), "transferredToAccounting": "Yes"},
             {"id": zuora_id(CREDIT_MEMO, 2), "transferredToAccounting": "Sure"},
             {"id": zuora_id(CREDIT_MEMO, 3), "transferredToAccounting": "Yes"}]
    r = await http.put("/v1/credit-memos/bulk", json={"memos": memos})
    assert r.status_code == 200 and r.json()["success"] is True
    results = r.json()["memos"]
    assert [m["success"] for m in results] == [True, False, False, False, True]
    assert [m["objectIndex"] for m in results if not m["success"]] == [1, 2, 3]
    categories = [int(m["reasons"][0]["code"]) % 100 for m in results if not m["success"]]
    assert categories == [40, 30, 20]
    assert is_tenant.store.scalar("SELECT COUNT(*) FROM creditmemo WHERE transferredtoaccounting = 'Yes'") == 2

    too_many = await http.put("/v1/creditmemos/bulk", json={"memos": [{"id": "x"}] * 51})
    assert too_many.status_code == 400 and "at most 50" in too_many.json()["reasons"][0]["message"]


async def test_bulk_item_fault_fails_single_items(tmp_path):
    sim = empty_tenant(tmp_path, faults=Faults(bulk_item=0.5, seed=3))
    try:
        sim.store.set_setting("invoice_settlement", True)
        ids = add_credit_memos(sim, 40, account=add_accounts(sim, 1)[0])
        async with client(sim) as c:
            r = await c.put("/v1/credit-memos/bulk", headers=await bearer(c, sim),
                            json={"memos": [{"id": i, "transferredToAccounting": "Yes"} for i in ids]})
        results = r.json()["memos"]
        failed = [m for m in results if not m["success"]]
        # lock competition or a temporary error: the per-item failures Zuora marks as retryable
        assert 0 < len(failed) < 40 and {m["reasons"][0]["code"][-2:] for m in failed} == {"50", "61"}
        done = sim.store.scalar("SELECT COUNT(*) FROM creditmemo WHERE transferredtoaccounting = 'Yes'")
        assert done == 40 - len(failed)
    finally:
        sim.close()


# ---- other v1 reads ---------------------------------------------------------------------------------------------
async def test_payment_invoice_and_describe(tenant, http):
    account = add_accounts(tenant, 1)[0]
    add_invoices(tenant, 1, account=account)
    add_payments(tenant, 1, account=account)
    add_debit_memos(tenant, 1, account=account)
    payment = (await http.get("/v1/payments/P-00000001")).json()
    assert payment["number"] == "P-00000001" and payment["effectiveDate"].startswith("2024-02-01T")
    invoice = (await http.get("/v1/invoices/INV00000001")).json()
    assert invoice["invoiceNumber"] == "INV00000001" and invoice["IntegrationId__NS"] == "9001"
    assert (await http.get("/v1/invoices/nope")).status_code == 404

    account_xml = await http.get("/v1/describe/Account")
    assert account_xml.status_code == 200 and account_xml.headers["content-type"].startswith("text/xml")
    assert "<name>IntegrationId__NS</name>" in account_xml.text and "<custom>true</custom>" in account_xml.text
    tenant.store.set_setting("connector.installed", False)
    assert "IntegrationId__NS" not in (await http.get("/v1/describe/Account")).text
    assert (await http.get("/v1/describe/CreditMemo")).status_code == 404
    tenant.store.set_setting("invoice_settlement", True)
    memo_xml = (await http.get("/v1/describe/CreditMemo")).text
    assert "<name>TransferredToAccounting</name>" in memo_xml and "<context>soap</context>" not in memo_xml
    assert (await http.get("/v1/describe/Nothing")).status_code == 404


# ---- limits, versions and faults --------------------------------------------------------------------------------
async def test_gate_answers_429_with_retry_after(tmp_path):
    sim = empty_tenant(tmp_path, zuora_concurrency=2, latency_ms=150)
    try:
        add_accounts(sim, 1)
        async with signed_in(sim) as c:
            answers = await asyncio.gather(*(c.post("/v1/action/query", json={"queryString": "select Id from Account"})
                                             for _ in range(6)))
        codes = sorted(a.status_code for a in answers)
        assert codes == [200, 200, 429, 429, 429, 429]
        for a in answers:
            assert a.headers["Concurrency-Limit-Type"] == "Default" and a.headers["Concurrency-Limit-Limit"] == "2"
            if a.status_code == 429:
                assert a.headers["Retry-After"] == "1" and a.headers["Concurrency-Limit-Remaining"] == "0"
        assert sim.zuora_gate.in_flight == 0 and sim.zuora_gate.peak == 2
    finally:
        sim.close()


async def test_version_decides_the_status_of_v1_errors(tmp_path):
    sim = empty_tenant(tmp_path, default_zuora_version="196.0")
    try:
        async with signed_in(sim) as c:
            assert (await c.get("/v1/invoices/nope")).status_code == 200  # tenant default: legacy
            assert (await c.get("/v1/invoices/nope", headers={"Zuora-Version": "2024-05-20"})).status_code == 404
            assert (await c.get("/v1/invoices/nope", headers={"Zuora-Version": "2023-01-01"})).status_code == 200
    finally:
        sim.close()


@pytest.mark.parametrize("kind", ["http_5xx", "timeout", "token_expiry", "rate_429"])
async def test_each_fault_kind(tmp_path, kind):  # `reset` needs a real connection to break: see below
    sim = empty_tenant(tmp_path, faults=Faults(**{kind: 1.0, "timeout_hold_s": 0.05}))
    try:
        add_accounts(sim, 1)
        async with signed_in(sim) as c:
            r = await c.get(f"/v1/payments/{zuora_id(CREDIT_MEMO, 1)}")
        if kind == "http_5xx":
            assert r.status_code in (500, 502, 503) and r.json()["success"] is False
            assert int(r.json()["reasons"][0]["code"]) % 100 in (60, 61)
        elif kind == "timeout":
            assert r.status_code == 504
        elif kind == "rate_429":  # refused at the gate, as when too many requests are in flight
            assert r.status_code == 429 and r.headers["Retry-After"] == "1" and sim.zuora_gate.peak == 0
        else:
            assert r.status_code == 401 and not sim.tokens  # the token is gone for good
    finally:
        sim.close()


async def test_bad_track_id_is_refused(http):
    r = await http.get("/v1/invoices/x", headers={"Zuora-Track-Id": "a:b"})
    assert r.status_code == 400 and "Zuora-Track-Id" in r.json()["reasons"][0]["message"]
    assert "Zuora-Track-Id" not in r.headers


# ---- over real loopback -----------------------------------------------------------------------------------------
async def test_over_loopback_token_zoql_and_data_query(sim, sim_server):
    add_accounts(sim, 5)
    async with signed_in(sim, sim_server.base_url) as c:
        r = await c.post("/v1/action/query", json={"queryString": "select Id from Account", "conf": {"batchSize": 2}})
        assert r.status_code == 200 and r.json()["queryLocator"]
        submitted = await c.post("/query/jobs", json={"query": "SELECT id FROM account", **DATA_QUERY})
        job = await finished_job(c, {}, submitted.json()["data"]["id"])
        assert job["dataFile"].startswith(sim_server.base_url)
        async with httpx.AsyncClient() as anonymous:
            assert len((await anonymous.get(job["dataFile"])).text.splitlines()) >= 5


async def test_reset_fault_breaks_the_connection_over_loopback(tmp_path):
    sim = empty_tenant(tmp_path, faults=Faults(reset=1.0))
    try:
        with SimServer(sim) as srv:
            async with signed_in(sim, srv.base_url) as c:
                with pytest.raises(httpx.RemoteProtocolError):
                    await c.get("/v1/invoices/x")
    finally:
        sim.close()
