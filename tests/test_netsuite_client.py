"""NetSuiteClient end to end: real HTTP over loopback to the simulator's NetSuite routes, signed with TBA."""

from __future__ import annotations

import asyncio
import socket
from contextlib import contextmanager

import pytest

from core.errors import ApiError, AuthError, ConfigError, NotFound, RateLimited
from core.netsuite import NetSuiteClient, number, proposed_mapping
from core.netsuite.fields import candidate
from core.sim.app import Simulator
from core.sim.catalog import NS_FIELD_IDS, NS_FIELD_LABELS
from core.sim.config import Faults, SimConfig
from core.sim.server import SimServer

ROWS = 2_600  # ids 1..ROWS; odd ids are invoices, even ids customer payments
FAST_RETRY = {"retry_wait_initial": 0.01, "retry_wait_max": 0.05}
# The profile's mapping; in the simulated account it is the catalog's (Sync Updates off the naming pattern).
PROFILE_FIELDS = NS_FIELD_IDS


def _fill(sim: Simulator) -> None:
    f = PROFILE_FIELDS
    cols = ("id", "tranid", "type", "trandate", "entity", "currency", "foreigntotal", "memo", f["zuora_id"],
            f["zuora_integration_status"], f["zuora_sync_updates"])

    def txn(i: int) -> tuple:
        payment = i % 2 == 0
        return (i, f"{'PYMT' if payment else 'INV'}{i:05d}", "CustPymt" if payment else "CustInvc",
                f"2026-10-{1 + i % 28:02d}", 1 + i % 40, "USD", round(10 + i * 0.25, 2), None,
                f"8a8aa0{i:06x}" if i % 3 else None, "Sync Complete" if i % 3 else None, None)

    fields = [(sid, NS_FIELD_LABELS[key], "BODY", "Free-Form Text", None) for key, sid in PROFILE_FIELDS.items()]
    fields += [("custentityzuoraid", "Zuora ID", "ENTITY", "Free-Form Text", None),
               ("custbodyshippingnote", "Shipping Note", "BODY", "Free-Form Text", None)]
    with sim.store.transaction() as conn:
        conn.executemany(f'INSERT INTO ns."transaction" ({", ".join(cols)}) VALUES ({",".join("?" * len(cols))})',
                         (txn(i) for i in range(1, ROWS + 1)))
        conn.executemany("INSERT INTO ns.customfield (scriptid, name, fieldtype, fieldvaluetype, defaultvalue) "
                         "VALUES (?,?,?,?,?)", fields)


@pytest.fixture
def serve(tmp_path):
    """serve(**SimConfig fields) -> a filled simulated account on loopback, closed at the end of the test."""
    sims: list[Simulator] = []

    @contextmanager
    def _serve(**config):
        sim = Simulator(SimConfig(scale=1, **config), data_dir=tmp_path / f"sim{len(sims)}", seed_data=False)
        sims.append(sim)
        _fill(sim)
        with SimServer(sim):
            yield sim

    yield _serve
    for sim in sims:
        sim.close()


def client_for(sim: Simulator, **kw) -> NetSuiteClient:
    c = sim.credentials
    kw = {**FAST_RETRY, **kw}
    token_secret = kw.pop("token_secret", c.netsuite_token_secret)
    return NetSuiteClient(sim.config.netsuite_account_id, c.netsuite_consumer_key, c.netsuite_consumer_secret,
                          c.netsuite_token_id, token_secret, base_url=sim.base_url, **kw)


async def test_suiteql_streams_every_page(serve):
    with serve() as sim:
        async with client_for(sim) as ns:
            ids = [r["id"] async for r in ns.suiteql("SELECT id, tranid FROM transaction ORDER BY id", page_size=500)]
            assert ids == [str(i) for i in range(1, ROWS + 1)]  # strings, in order, none twice, none missed
            assert ns.request_count == 6


async def test_keyset_paging_on_id(serve):
    with serve() as sim:
        async with client_for(sim) as ns:
            rows = [r async for r in ns.suiteql_by_id(
                "t.id, t.tranid, t.type FROM transaction t", where="t.type = 'CustPymt' OR t.tranid = 'INV00001'",
                id_column="t.id", page_size=400)]
            assert [int(r["id"]) for r in rows] == [1, *range(2, ROWS + 1, 2)]
            assert {r["type"] for r in rows} == {"CustPymt", "CustInvc"} and "links" not in rows[0]
            assert ns.request_count == 4  # 1,301 rows in pages of 400; the last page says hasMore false


async def test_suiteql_rows_one_page_counts_and_groups(serve):
    with serve() as sim:
        async with client_for(sim) as ns:
            groups = await ns.suiteql_rows(
                "SELECT type, COUNT(*) AS n FROM transaction GROUP BY type ORDER BY type")
            assert [(g["type"], number(g["n"])) for g in groups] == [("CustInvc", 1300), ("CustPymt", 1300)]
            sample = await ns.suiteql_rows("SELECT id, foreigntotal FROM transaction ORDER BY id", limit=5)
            assert [number(r["foreigntotal"]) for r in sample][:2] == [number("10.25"), number("10.5")]
            assert len(sample) == 5 and ns.request_count == 2


async def test_customer_payment_read_patch_read(serve):
    sync_updates = PROFILE_FIELDS["zuora_sync_updates"]
    with serve() as sim:
        async with client_for(sim) as ns:
            before = await ns.get_customer_payment(42)
            assert before["tranId"] == "PYMT00042"
            assert before.get(sync_updates) in (None, "")
            location = await ns.update_customer_payment("42", {sync_updates: "Yes", "memo": "cutover G2"})
            assert location.endswith("/services/rest/record/v1/customerPayment/42")
            after = await ns.get_customer_payment(42)
            assert after[sync_updates] == "Yes" and after["memo"] == "cutover G2"
            [seen] = await ns.suiteql_rows(f"SELECT id, {sync_updates} FROM transaction WHERE id = 42")
            assert seen[sync_updates] == "Yes"
            with pytest.raises(NotFound):
                await ns.get_customer_payment(999_999)


async def test_wrong_token_secret_is_an_auth_error(serve):
    with serve() as sim:
        async with client_for(sim, token_secret="not-the-secret") as ns:
            with pytest.raises(AuthError) as err:
                await ns.suiteql_rows("SELECT id FROM transaction")
        text = str(err.value)
        assert err.value.code == "INVALID_LOGIN" and err.value.status == 401 and "realm" in text
        assert ns.request_count == 1  # a refused login is not retried
        for secret in (sim.credentials.netsuite_consumer_secret, sim.credentials.netsuite_token_secret,
                       "not-the-secret", "oauth_signature"):
            assert secret not in text


async def test_concurrency_limit_429_is_retried_until_done(serve):
    # 16 calls need >= 8 rounds of 20 ms through 2 slots; the backoff budget (~1.5 s over 10 attempts) covers it.
    with serve(netsuite_concurrency=2, latency_ms=20) as sim:
        async with client_for(sim, max_concurrency=12, retry_attempts=10, retry_wait_initial=0.02,
                              retry_wait_max=0.25) as ns:
            results = await asyncio.gather(*(ns.suiteql_rows(f"SELECT id FROM transaction WHERE id = {i}")
                                             for i in range(1, 17)))
            assert [r[0]["id"] for r in results] == [str(i) for i in range(1, 17)]
            assert sim.netsuite_gate.rejected > 0
            assert ns.request_count == 16 + sim.netsuite_gate.rejected


async def test_concurrency_limit_raises_rate_limited_when_retries_run_out(serve):
    with serve(netsuite_concurrency=1, latency_ms=50) as sim:
        async with client_for(sim, max_concurrency=8, retry_attempts=1) as ns:
            outcomes = await asyncio.gather(*(ns.suiteql_rows("SELECT id FROM transaction WHERE id = 1")
                                              for _ in range(8)), return_exceptions=True)
    limited = [o for o in outcomes if isinstance(o, RateLimited)]
    assert limited and limited[0].code == "CONCURRENCY_LIMIT_EXCEEDED" and limited[0].retry_after is None


@pytest.mark.parametrize("fault", ["http_5xx", "reset"])
async def test_server_errors_and_dropped_connections_are_retried(serve, fault):
    with serve(faults=Faults(**{fault: 0.3}, seed=11)) as sim:
        async with client_for(sim) as ns:
            results = await asyncio.gather(*(ns.suiteql_rows(f"SELECT id FROM transaction WHERE id = {i}")
                                             for i in range(1, 21)))
            assert [r[0]["id"] for r in results] == [str(i) for i in range(1, 21)]
            assert sim.dice.counts.get(fault, 0) > 0 and ns.request_count > 20


async def test_server_errors_raise_api_error_when_retries_run_out(serve):
    with serve(faults=Faults(http_5xx=1.0)) as sim:
        async with client_for(sim, retry_attempts=3) as ns:
            with pytest.raises(ApiError) as err:
                await ns.get_customer_payment(42)
            assert err.value.status >= 500 and err.value.system == "NetSuite"
            assert ns.request_count == 3


async def test_timeouts_are_retried_then_typed(serve):
    with serve(faults=Faults(timeout=0.3, timeout_hold_s=0.4, seed=5)) as sim:
        async with client_for(sim, timeout=0.15) as ns:
            results = await asyncio.gather(*(ns.suiteql_rows(f"SELECT id FROM transaction WHERE id = {i}")
                                             for i in range(1, 11)))
            assert len(results) == 10 and sim.dice.counts.get("timeout", 0) > 0
    with serve(faults=Faults(timeout=1.0, timeout_hold_s=0.4)) as sim:
        async with client_for(sim, timeout=0.15, retry_attempts=2) as ns:
            with pytest.raises(ApiError, match="NetSuite did not answer POST /services/rest/query/v1/suiteql "
                                               "within 0.15 s") as err:
                await ns.suiteql_rows("SELECT id FROM transaction")
            assert err.value.code == "ReadTimeout" and ns.request_count == 2


async def test_discover_zuora_fields(serve):
    with serve() as sim:
        async with client_for(sim) as ns:
            found = await ns.discover_zuora_fields()
    by_id = {c.script_id: c for c in found}
    assert "custbody_zuora_sync_updates" in by_id
    assert by_id["custbody_zuora_sync_updates"].profile_key == "zuora_sync_updates"
    assert by_id["custentityzuoraid"].profile_key is None  # a customer field, not a transaction body field
    assert "custbodyshippingnote" not in by_id
    assert proposed_mapping(found) == PROFILE_FIELDS


async def test_offset_paging_refuses_a_query_over_the_cap(serve):
    with serve() as sim:
        async with client_for(sim) as ns:
            huge = "SELECT a.id, b.id AS other FROM transaction a CROSS JOIN transaction b ORDER BY a.id, b.id"
            with pytest.raises(ApiError, match="100,000") as err:
                async for _ in ns.suiteql(huge):
                    pass
            assert "suiteql_by_id" in str(err.value) and ns.request_count == 1
            with pytest.raises(ConfigError, match="1 to 1000"):
                await ns.suiteql_rows("SELECT id FROM transaction", limit=5000)


def test_field_guess_by_label_then_script_id_and_ambiguity_left_to_a_person():
    by_id = candidate({"scriptid": "CUSTBODY_ZUORA_SYNC_UPDATES", "name": "Sync to Zuora", "fieldtype": "BODY"})
    assert (by_id.script_id, by_id.profile_key, by_id.matched_by) == (
        "custbody_zuora_sync_updates", "zuora_sync_updates", "script id")
    by_label = candidate({"scriptid": "custbody7", "name": "Zuora Customer ID (Payment)"})
    assert (by_label.profile_key, by_label.matched_by) == ("zuora_customer_id_payment", "label")
    twin = candidate({"scriptid": "custbodyzuoraid_old", "name": "Zuora ID"})
    first = candidate({"scriptid": "custbodyzuoraid", "name": "Zuora ID"})
    assert proposed_mapping([by_id, by_label, first, twin]) == {
        "zuora_sync_updates": "custbody_zuora_sync_updates", "zuora_customer_id_payment": "custbody7"}


async def test_unreachable_host_fails_at_once_with_a_typed_error():
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with NetSuiteClient("1234567_SB1", "ck", "cs", "tk", "ts", base_url=f"http://127.0.0.1:{port}",
                              **FAST_RETRY) as ns:
        with pytest.raises(ApiError, match="failed") as err:
            await ns.suiteql_rows("SELECT id FROM transaction")
    assert err.value.code == "ConnectError" and ns.request_count == 1
    assert "base URL" in str(err.value)
