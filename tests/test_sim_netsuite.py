"""The simulator's NetSuite side over real loopback HTTP: TBA signatures checked by an independent OAuth 1.0a
implementation (oauthlib's client), SuiteQL paging and translation, the customerPayment record, and the
account's concurrency limit."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from contextlib import contextmanager
from urllib.parse import urlencode

import httpx
import pytest
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256, Client

from core.sim.app import Simulator
from core.objects import NS_CUSTOMER_PAYMENT, NS_INVOICE
from core.sim.catalog import NS_FIELD_IDS
from core.sim.config import Faults, SimConfig
from core.sim.server import SimServer

SUITEQL = "/services/rest/query/v1/suiteql"
PAYMENT = "/services/rest/record/v1/customerPayment"
SYNC_UPDATES = NS_FIELD_IDS["zuora_sync_updates"]
ORIGIN = NS_FIELD_IDS["zuora_origin"]
PAYMENTS = 25


def oauth_client(sim: Simulator, **overrides) -> Client:
    c = sim.credentials
    kw = dict(client_key=c.netsuite_consumer_key, client_secret=c.netsuite_consumer_secret,
              resource_owner_key=c.netsuite_token_id, resource_owner_secret=c.netsuite_token_secret,
              signature_method=SIGNATURE_HMAC_SHA256, realm=sim.config.netsuite_account_id)
    return Client(**{**kw, **overrides})


def signed(client: Client, method: str, url: str) -> tuple[str, dict[str, str]]:
    uri, headers, _ = client.sign(url, http_method=method)
    return uri, headers


def suiteql_request(sim: Simulator, q: str, *, client: Client | None = None, prefer: bool = True,
                    **params) -> tuple[str, dict[str, str], str]:
    url = sim.base_url + SUITEQL + (f"?{urlencode(params)}" if params else "")
    uri, headers = signed(client or oauth_client(sim), "POST", url)
    headers["Content-Type"] = "application/json"
    if prefer:
        headers["Prefer"] = "transient"
    return uri, headers, json.dumps({"q": q})


def suiteql(http: httpx.Client, sim: Simulator, q: str, **kw) -> httpx.Response:
    uri, headers, body = suiteql_request(sim, q, **kw)
    return http.post(uri, headers=headers, content=body)


def record(http: httpx.Client, sim: Simulator, method: str, path: str, body: dict | None = None) -> httpx.Response:
    uri, headers = signed(oauth_client(sim), method, sim.base_url + path)
    if body is None:
        return http.request(method, uri, headers=headers)
    return http.request(method, uri, headers={**headers, "Content-Type": "application/json"},
                        content=json.dumps(body))


def assert_ns_error(resp: httpx.Response, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["status"] == status and body["title"] and body["type"].startswith("https://www.rfc-editor.org/")
    assert body["o:errorDetails"][0]["o:errorCode"] == code
    assert body["o:errorDetails"][0]["detail"]
    return body["o:errorDetails"][0]


def fill_account(sim: Simulator) -> None:
    """Three customers, PAYMENTS customer payments (every fifth from Zuora, every third with Sync Updates=Yes),
    five invoices, and payment applications linking payments to invoices."""
    store = sim.store
    store.executemany('INSERT INTO ns.customer(id, entityid, companyname, currency, custentityzuoraid) '
                      'VALUES (?,?,?,?,?)',
                      [(i, f"CUST{i}", f"Customer {i}", "USD", f"{i:032x}") for i in (1, 2, 3)])
    payments = (
        (i, f"PYMT{i:05d}", NS_CUSTOMER_PAYMENT, f"2026-10-{i:02d}", i % 3 + 1, "USD", 100.5 * i, 0.0,
         None if i % 4 else "paid by wire", "2026-10-01 08:00:00", "2026-10-01 08:00:00",
         "ZUORA" if i % 5 == 0 else None, "Yes" if i % 3 == 0 else None)
        for i in range(1, PAYMENTS + 1))
    store.executemany(
        f'INSERT INTO ns."transaction"(id, tranid, type, trandate, entity, currency, foreigntotal, '
        f'foreignamountremaining, memo, createddate, lastmodifieddate, {ORIGIN}, {SYNC_UPDATES}) '
        'VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)', payments)
    store.executemany('INSERT INTO ns."transaction"(id, tranid, type, trandate, entity, foreigntotal) '
                      'VALUES (?,?,?,?,?,?)',
                      [(100 + i, f"INV{i:05d}", NS_INVOICE, "2026-09-30", 1, 500.0) for i in range(1, 6)])
    store.executemany('INSERT INTO ns.nexttransactionlinelink(id, previousdoc, nextdoc, linktype, foreignamount) '
                      'VALUES (?,?,?,?,?)', [(i, 100 + i, i, "Payment", 100.5 * i) for i in range(1, 6)])


@contextmanager
def served(tmp_path, **config):
    sim = Simulator(SimConfig(**config), data_dir=tmp_path / "ns-sim", seed_data=False)
    fill_account(sim)
    try:
        with SimServer(sim), httpx.Client(timeout=10) as http:
            yield sim, http
    finally:
        sim.close()


@pytest.fixture
def account(tmp_path):
    with served(tmp_path) as pair:
        yield pair


# ---- token-based authentication -------------------------------------------------------------------------------

def test_oauthlib_signed_suiteql_with_query_string_is_accepted(sim_server):
    sim = sim_server.sim
    with httpx.Client(timeout=10) as http:
        resp = suiteql(http, sim, "SELECT 1 AS ok FROM DUAL", limit=5, offset=0)
    assert resp.status_code == 200, resp.text
    assert resp.json()["items"] == [{"links": [], "ok": "1"}]
    assert resp.headers["X-N-OperationId"]


def _flip(text: str, at: int) -> str:
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1:]


def test_one_changed_byte_is_refused(sim_server, caplog):
    sim = sim_server.sim
    caplog.set_level(logging.INFO, logger="cutover.sim.netsuite")
    with httpx.Client(timeout=10) as http:
        # The signature itself: one character of the base64 value.
        uri, headers, body = suiteql_request(sim, "SELECT 1 AS ok FROM DUAL", limit=5, offset=0)
        at = headers["Authorization"].index('oauth_signature="') + len('oauth_signature="') + 3
        headers["Authorization"] = _flip(headers["Authorization"], at)
        assert_ns_error(http.post(uri, headers=headers, content=body), 401, "INVALID_LOGIN")

        # A query parameter: signed with limit=5, sent with limit=6.
        uri, headers, body = suiteql_request(sim, "SELECT 1 AS ok FROM DUAL", limit=5, offset=0)
        assert_ns_error(http.post(uri.replace("limit=5", "limit=6"), headers=headers, content=body),
                        401, "INVALID_LOGIN")

        # The consumer key: correctly signed, but with a key the account does not know.
        key = sim.credentials.netsuite_consumer_key
        stranger = oauth_client(sim, client_key=_flip(key, 0))
        assert_ns_error(suiteql(http, sim, "SELECT 1 AS ok FROM DUAL", client=stranger, limit=5),
                        401, "INVALID_LOGIN")

        # The realm is the account id; HMAC-SHA1 is no longer accepted.
        for client in (oauth_client(sim, realm=sim.config.netsuite_account_id.lower()),
                       oauth_client(sim, signature_method=SIGNATURE_HMAC_SHA1)):
            assert_ns_error(suiteql(http, sim, "SELECT 1 AS ok FROM DUAL", client=client), 401, "INVALID_LOGIN")

        assert suiteql(http, sim, "SELECT 1 AS ok FROM DUAL", limit=5).status_code == 200
    for reason in ("InvalidSignature", "consumer_key_unknown", "realm_refused", "signature_method_rejected"):
        assert reason in caplog.text
    # The refusal is logged without any secret.
    for secret in (sim.credentials.netsuite_consumer_secret, sim.credentials.netsuite_token_secret):
        assert secret not in caplog.text


def test_nonce_replay_short_nonce_and_stale_timestamp_are_refused(sim_server, caplog):
    sim = sim_server.sim
    caplog.set_level(logging.INFO, logger="cutover.sim.netsuite")
    with httpx.Client(timeout=10) as http:
        uri, headers, body = suiteql_request(sim, "SELECT 1 AS ok FROM DUAL", limit=1)
        assert http.post(uri, headers=headers, content=body).status_code == 200
        assert_ns_error(http.post(uri, headers=headers, content=body), 401, "INVALID_LOGIN")

        stale = oauth_client(sim, timestamp=str(int(time.time()) - 301))
        assert_ns_error(suiteql(http, sim, "SELECT 1 AS ok FROM DUAL", client=stale), 401, "INVALID_LOGIN")
        short = oauth_client(sim, nonce="a1b2c")
        assert_ns_error(suiteql(http, sim, "SELECT 1 AS ok FROM DUAL", client=short), 401, "INVALID_LOGIN")
        # No Authorization header at all.
        assert_ns_error(http.post(sim.base_url + SUITEQL, headers={"Prefer": "transient"}, content=body),
                        401, "INVALID_LOGIN")
    for reason in ("nonce_used", "timestamp_refused", "nonce_rejected", "missing_authorization"):
        assert reason in caplog.text


# ---- SuiteQL --------------------------------------------------------------------------------------------------

def test_suiteql_pages_with_limit_offset_links_and_total(account):
    sim, http = account
    q = f"SELECT t.id, t.tranid FROM transaction t WHERE t.type = '{NS_CUSTOMER_PAYMENT}' ORDER BY t.id"
    first = suiteql(http, sim, q, limit=10, offset=0).json()
    assert (first["count"], first["hasMore"], first["offset"], first["totalResults"]) == (10, True, 0, PAYMENTS)
    rels = {link["rel"]: link["href"] for link in first["links"]}
    assert set(rels) == {"next", "last", "self"}
    assert rels["next"].endswith(f"{SUITEQL}?limit=10&offset=10")
    assert rels["last"].endswith("offset=20")

    ids, page = [], first
    while True:
        ids += [int(item["id"]) for item in page["items"]]
        assert all(item["links"] == [] for item in page["items"])
        nxt = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
        if nxt is None:
            break
        uri, headers = signed(oauth_client(sim), "POST", nxt)
        page = http.post(uri, headers={**headers, "Prefer": "transient"}, content=json.dumps({"q": q})).json()
    assert ids == list(range(1, PAYMENTS + 1))
    assert (page["count"], page["hasMore"], page["offset"]) == (5, False, 20)
    assert {link["rel"] for link in page["links"]} == {"first", "prev", "self"}

    default = suiteql(http, sim, q).json()  # no limit: up to 1000
    assert default["count"] == PAYMENTS and default["hasMore"] is False


def test_suiteql_needs_prefer_transient_and_sane_paging(account):
    sim, http = account
    detail = assert_ns_error(suiteql(http, sim, "SELECT id FROM transaction", prefer=False), 400, "INVALID_HEADER")
    assert "Prefer: transient" in detail["detail"] and detail["o:errorHeader"] == "Prefer"
    for params in ({"limit": 0}, {"limit": 1001}, {"limit": "ten"}, {"offset": -1}):
        detail = assert_ns_error(suiteql(http, sim, "SELECT id FROM transaction", **params), 400, "INVALID_PARAMETER")
        assert detail["o:errorQueryParam"] == next(iter(params))
    uri, headers, _ = suiteql_request(sim, "unused")
    assert_ns_error(http.post(uri, headers=headers, content=b"{not json"), 400, "INVALID_CONTENT")
    uri, headers, _ = suiteql_request(sim, "unused")
    assert_ns_error(http.post(uri, headers=headers, content=b'{"query": "SELECT 1 FROM DUAL"}'), 400,
                    "INVALID_CONTENT")


def test_suiteql_keys_are_lower_case_values_strings_and_nulls_left_out(account):
    sim, http = account
    resp = suiteql(http, sim, "SELECT T.ID, T.TRANID, T.FOREIGNTOTAL, T.ENTITY, T.MEMO, "
                              "TO_CHAR(T.TRANDATE, 'YYYY-MM-DD') AS TRANDATE, COUNT(*) OVER () "
                              "FROM TRANSACTION T WHERE T.ID IN (1, 4) ORDER BY T.ID")
    items = resp.json()["items"]
    assert items[0] == {"links": [], "id": "1", "tranid": "PYMT00001", "foreigntotal": "100.5", "entity": "2",
                        "trandate": "2026-10-01", "expr1": "2"}
    assert items[1]["foreigntotal"] == "402" and items[1]["memo"] == "paid by wire"


def test_suiteql_count_group_by_nvl_in_like_join_and_dates(account):
    sim, http = account

    def rows(q: str) -> list[dict]:
        resp = suiteql(http, sim, q)
        assert resp.status_code == 200, resp.text
        return [{k: v for k, v in item.items() if k != "links"} for item in resp.json()["items"]]

    by_origin = rows(f"SELECT NVL(t.{ORIGIN}, 'none') AS origin, COUNT(*) AS n FROM transaction t "
                     f"WHERE t.type = 'CustPymt' GROUP BY NVL(t.{ORIGIN}, 'none') ORDER BY origin")
    assert by_origin == [{"origin": "ZUORA", "n": "5"}, {"origin": "none", "n": "20"}]

    # The G2 window query: payments on/after a date, Sync Updates empty, not from Zuora.
    window = rows(f"SELECT COUNT(*) AS n FROM transaction t WHERE t.type = 'CustPymt' "
                  f"AND t.trandate >= TO_DATE('2026-10-16', 'YYYY-MM-DD') AND t.{SYNC_UPDATES} IS NULL "
                  f"AND NVL(t.{ORIGIN}, 'x') <> 'ZUORA'")
    expected = sum(1 for i in range(16, PAYMENTS + 1) if i % 3 and i % 5)
    assert window == [{"n": str(expected)}]

    assert rows("SELECT COUNT(*) AS n FROM transaction WHERE type IN ('CustInvc', 'CustCred') "
                "OR tranid LIKE 'PYMT0000%'") == [{"n": str(5 + 9)}]
    applied = rows("SELECT p.tranid AS payment, i.tranid AS invoice, l.foreignamount FROM transaction p "
                   "JOIN nexttransactionlinelink l ON l.nextdoc = p.id "
                   "JOIN transaction i ON i.id = l.previousdoc WHERE p.id = 2")
    assert applied == [{"payment": "PYMT00002", "invoice": "INV00002", "foreignamount": "201"}]
    assert rows("SELECT c.companyname, COUNT(t.id) AS payments FROM customer c "
                "LEFT JOIN transaction t ON t.entity = c.id AND t.type = 'CustPymt' "
                "GROUP BY c.companyname ORDER BY c.companyname")[0] == {"companyname": "Customer 1", "payments": "8"}


def test_suiteql_refuses_unknown_tables_writes_and_bad_sql(account):
    sim, http = account
    detail = assert_ns_error(suiteql(http, sim, "SELECT * FROM sim_setting"), 400, "INVALID_PARAMETER")
    assert "sim_setting" in detail["detail"] and "transaction" in detail["detail"]
    assert_ns_error(suiteql(http, sim, "SELECT id FROM invoice"), 400, "INVALID_PARAMETER")
    assert_ns_error(suiteql(http, sim, "DELETE FROM transaction"), 400, "INVALID_PARAMETER")
    assert_ns_error(suiteql(http, sim, "SELECT 1 FROM DUAL; SELECT 2 FROM DUAL"), 400, "INVALID_PARAMETER")
    detail = assert_ns_error(suiteql(http, sim, "SELECT nosuchcolumn FROM transaction"), 400, "INVALID_PARAMETER")
    assert "nosuchcolumn" in detail["detail"]
    assert sim.store.scalar('SELECT COUNT(*) FROM ns."transaction"') == PAYMENTS + 5


def test_suiteql_caps_any_query_at_100k_results(account):
    sim, http = account
    with sim.store.transaction() as conn:
        conn.executemany('INSERT INTO ns."transaction"(id, type) VALUES (?, ?)',
                         ((1000 + i, "Journal") for i in range(100_010)))
    q = "SELECT id FROM transaction WHERE type = 'Journal' ORDER BY id"
    page = suiteql(http, sim, q, limit=1000, offset=99_000).json()
    assert (page["count"], page["hasMore"], page["totalResults"]) == (1000, False, 100_010)
    detail = assert_ns_error(suiteql(http, sim, q, limit=1000, offset=99_500), 400, "INVALID_PARAMETER")
    assert "WHERE id >" in detail["detail"]
    # Keyset paging reaches what offset paging cannot.
    last = page["items"][-1]["id"]
    rest = suiteql(http, sim, f"SELECT id FROM transaction WHERE type = 'Journal' AND id > {last} ORDER BY id").json()
    assert rest["totalResults"] == 10 and rest["items"][-1]["id"] == str(1000 + 100_009)


# ---- customerPayment ------------------------------------------------------------------------------------------

def test_customer_payment_get_patch_round_trip_with_write_log(account):
    sim, http = account
    got = record(http, sim, "GET", f"{PAYMENT}/3")
    assert got.status_code == 200, got.text
    payment = got.json()
    assert payment["id"] == "3" and payment["tranId"] == "PYMT00003" and payment["tranDate"] == "2026-10-03"
    assert payment["customer"]["id"] == "1" and payment["customer"]["refName"] == "Customer 1"
    assert payment["payment"] == pytest.approx(301.5) and payment[SYNC_UPDATES] == "Yes"
    assert "memo" not in payment and ORIGIN not in payment

    patched = record(http, sim, "PATCH", f"{PAYMENT}/3", {"memo": "synced", ORIGIN: "NETSUITE"})
    assert patched.status_code == 204 and patched.content == b""
    assert patched.headers["Location"] == f"{sim.base_url}{PAYMENT}/3"
    after = record(http, sim, "GET", "/services/rest/record/v1/customerpayment/3").json()
    assert after["memo"] == "synced" and after[ORIGIN] == "NETSUITE"
    assert after["lastModifiedDate"] != payment["lastModifiedDate"]

    log = sim.store.query("SELECT source, system, object, record_id, field, old_value, new_value, request_id "
                          "FROM sim_write_log ORDER BY seq")
    assert [(r["field"], r["old_value"], r["new_value"]) for r in log] == [("memo", None, "synced"),
                                                                          (ORIGIN, None, "NETSUITE")]
    assert {(r["source"], r["system"], r["object"], r["record_id"]) for r in log} == {
        ("api", "netsuite", "customerPayment", "3")}
    assert log[0]["request_id"] == patched.headers["X-N-OperationId"]

    # The same values again write nothing; null clears.
    assert record(http, sim, "PATCH", f"{PAYMENT}/3", {"memo": "synced"}).status_code == 204
    assert sim.store.scalar("SELECT COUNT(*) FROM sim_write_log") == 2
    assert record(http, sim, "PATCH", f"{PAYMENT}/3", {"memo": None}).status_code == 204
    assert "memo" not in record(http, sim, "GET", f"{PAYMENT}/3").json()
    assert sim.store.query_one("SELECT old_value, new_value FROM sim_write_log ORDER BY seq DESC LIMIT 1") == {
        "old_value": "synced", "new_value": None}


def test_customer_payment_errors(account):
    sim, http = account
    for path in (f"{PAYMENT}/999", f"{PAYMENT}/101", f"{PAYMENT}/abc"):  # 101 is an invoice
        assert_ns_error(record(http, sim, "GET", path), 404, "NONEXISTENT_ID")
    assert_ns_error(record(http, sim, "PATCH", f"{PAYMENT}/999", {"memo": "x"}), 404, "NONEXISTENT_ID")
    for body in ({"tranId": "X"}, {"nosuchfield": 1}, {"memo": {"id": "1"}}, {}):
        detail = assert_ns_error(record(http, sim, "PATCH", f"{PAYMENT}/3", body), 400, "INVALID_CONTENT")
        assert "memo" in detail["detail"]
    assert_ns_error(record(http, sim, "GET", "/services/rest/record/v1/invoice/101"), 404, "INVALID_RCRD_TYPE")
    assert sim.store.scalar("SELECT COUNT(*) FROM sim_write_log") == 0


# ---- limits and faults ----------------------------------------------------------------------------------------

def test_concurrency_limit_gives_429_without_retry_after(tmp_path):
    with served(tmp_path, netsuite_concurrency=2, latency_ms=300) as (sim, _):
        async def burst() -> list[httpx.Response]:
            async with httpx.AsyncClient(timeout=10) as client:
                requests = [suiteql_request(sim, "SELECT COUNT(*) AS n FROM transaction") for _ in range(6)]
                return await asyncio.gather(*(client.post(u, headers=h, content=b) for u, h, b in requests))

        responses = asyncio.run(burst())
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) >= 2 and 429 in statuses
    for r in responses:
        if r.status_code == 429:
            assert_ns_error(r, 429, "CONCURRENCY_LIMIT_EXCEEDED")
            assert "Retry-After" not in r.headers
    assert sim.netsuite_gate.peak == 2 and sim.netsuite_gate.in_flight == 0


@pytest.mark.parametrize("kind", ["http_5xx", "timeout", "reset"])
def test_injected_faults(tmp_path, kind):
    faults = Faults(**{kind: 1.0}, timeout_hold_s=0.05)
    with served(tmp_path, faults=faults) as (sim, http):
        if kind == "reset":
            with pytest.raises(httpx.TransportError):
                suiteql(http, sim, "SELECT 1 AS ok FROM DUAL")
        else:
            resp = suiteql(http, sim, "SELECT 1 AS ok FROM DUAL")
            assert resp.status_code in ((504,) if kind == "timeout" else (500, 502, 503))
            assert resp.json()["o:errorDetails"][0]["o:errorCode"]
    assert sim.dice.counts[kind] == 1 and sim.netsuite_gate.in_flight == 0
