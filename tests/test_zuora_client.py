"""The Zuora client end to end: real HTTP over loopback to the simulator, for every operation, with the faults
a real tenant throws (expired tokens, 429 with Retry-After, 5xx bursts, timeouts, per-item bulk failures)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import socket
import subprocess
import sys
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from core.errors import ApiError, AuthError, ConfigError, NotFound, RateLimited
from core.sim.config import Faults, SimConfig
from core.sim.server import SimServer
from core.zuora import ZUORA_ENVIRONMENTS, BulkItemResult, ZuoraClient, resolve_zuora_base_url
from core.zuora.concurrency import AdaptiveLimiter
from core.zuora.dataquery import stream_json_lines
from core.zuora.errors import category, read_failure, to_error
from core.zuora.sockets import FLUSH_AT, AsyncioBackend

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("zuora_bulk_mark", ROOT / "benchmarks" / "zuora_bulk_mark.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

FAST = dict(backoff_base=0.01, backoff_cap=0.05)  # tests wait milliseconds between retries, not seconds


@asynccontextmanager
async def tenant(tmp_path, memos: int = 0, *, faults: Faults | None = None, **config):
    """An empty IS tenant with `memos` AR Mig memos at TTA No, served over loopback, and a client for it."""
    client_kw = {k: config.pop(k) for k in list(config) if k in (
        "max_concurrency", "timeout", "retry_attempts", "zuora_version", "on_request")}
    sim = bench.ar_mig_tenant(SimConfig(faults=faults or Faults(), **config), memos, tmp_path / "sim")
    try:
        with SimServer(sim) as srv:
            c = sim.credentials
            async with ZuoraClient(srv.base_url, c.zuora_client_id, c.zuora_client_secret, **FAST,
                                   **client_kw) as zuora:
                yield sim, zuora
    finally:
        sim.close()


def tta(sim, memo: str) -> str | None:
    return sim.store.scalar("SELECT transferredtoaccounting FROM creditmemo WHERE id = ?", (memo,))


# ---- environments -----------------------------------------------------------------------------------------
EXPECTED_URLS = {
    "us-cloud1-production": "https://rest.na.zuora.com", "us-cloud2-production": "https://rest.zuora.com",
    "us-cloud1-api-sandbox": "https://rest.sandbox.na.zuora.com",
    "us-cloud2-api-sandbox": "https://rest.apisandbox.zuora.com", "us-central-sandbox": "https://rest.test.zuora.com",
    "eu-production": "https://rest.eu.zuora.com", "eu-api-sandbox": "https://rest.sandbox.eu.zuora.com",
    "eu-central-sandbox": "https://rest.test.eu.zuora.com", "apac-production": "https://rest.ap.zuora.com",
    "apac-central-sandbox": "https://rest.test.ap.zuora.com",
}
SDK_NAMES = {"PROD_NA": "us-cloud1-production", "PROD": "us-cloud2-production", "SBX_NA": "us-cloud1-api-sandbox",
             "SBX": "us-cloud2-api-sandbox", "CSBX": "us-central-sandbox", "PROD_EU": "eu-production",
             "SBX_EU": "eu-api-sandbox", "CSBX_EU": "eu-central-sandbox", "PROD_AP": "apac-production",
             "CSBX_AP": "apac-central-sandbox"}


@pytest.mark.parametrize("name", sorted(EXPECTED_URLS))
def test_every_named_environment_resolves(name):
    assert resolve_zuora_base_url(name, None) == EXPECTED_URLS[name]
    sdk = next(k for k, v in SDK_NAMES.items() if v == name)
    assert resolve_zuora_base_url(sdk, None) == ZUORA_ENVIRONMENTS[sdk] == EXPECTED_URLS[name]


def test_environment_errors_name_the_choices():
    assert resolve_zuora_base_url("eu-production", "https://rest.example.test/") == "https://rest.example.test"
    with pytest.raises(ConfigError) as bad:
        resolve_zuora_base_url("mars-production", None)
    assert "us-cloud1-production" in str(bad.value) and "PROD_NA" in str(bad.value)
    with pytest.raises(ConfigError, match="no Zuora environment"):
        resolve_zuora_base_url(None, None)
    with pytest.raises(ConfigError, match="not an http"):
        resolve_zuora_base_url(None, "rest.zuora.com")


def test_client_refuses_unsafe_settings():
    with pytest.raises(ConfigError, match="TLS verification on"):
        ZuoraClient("https://rest.zuora.com", "id", "secret", verify=False)
    with pytest.raises(ConfigError, match="https"):
        ZuoraClient("http://rest.zuora.com", "id", "secret")
    with pytest.raises(ConfigError, match="track id"):
        ZuoraClient("https://rest.zuora.com", "id", "secret", track_id="run:1")
    client = ZuoraClient("https://rest.zuora.com", "id", "s3cr3t-value", track_id="run-7")
    assert "s3cr3t-value" not in repr(client) and "s3cr3t-value" not in repr(vars(client))
    assert client.track_id() == "run-7-1" and client.track_id() == "run-7-2"


# ---- error shapes and the limiter (no network) -------------------------------------------------------------
@pytest.mark.parametrize("status, body, kind, code, cat", [
    (200, {"success": False, "reasons": [{"code": 53100320, "message": "bad termType"}], "requestId": "r1"},
     ApiError, 53100320, 20),
    (404, {"success": False, "reasons": [{"code": "50000040", "message": "no memo"}]}, NotFound, "50000040", 40),
    (200, [{"Success": False, "Errors": [{"Code": "INVALID_VALUE", "Message": "bad"}]}], ApiError, "INVALID_VALUE", 20),
    (400, {"faultcode": "fns:INVALID_FIELD", "faultstring": "invalid field for query: Account.Foo"},
     ApiError, "INVALID_FIELD", 21),
    (401, {"message": "Authentication error"}, AuthError, None, 11),
    (400, {"code": 400, "message": "Unable to process JSON"}, ApiError, 400, None),
    (400, {"reasons": [{"code": 50000060, "message": "bad filter"}], "requestId": "r2"}, ApiError, 50000060, 60),
    (429, {"code": "REQUEST_EXCEEDED_LIMIT", "message": "too many"}, RateLimited, "REQUEST_EXCEEDED_LIMIT", 70),
    (401, {"error": "invalid_client"}, AuthError, "invalid_client", 11),
])
def test_every_error_shape_maps_to_a_typed_error(status, body, kind, code, cat):
    failure = read_failure(status, body, "hdr-id")
    assert failure is not None and failure.code == code and failure.category == cat
    err = to_error(status, failure)
    assert type(err) is kind and category(err) == cat and failure.message in str(err)


def test_success_bodies_are_not_failures():
    assert read_failure(200, {"success": True, "memos": []}) is None
    assert read_failure(200, {"records": [], "done": True}) is None
    assert read_failure(200, [{"Id": "1", "Success": True}]) is None


def test_limiter_follows_zuora_headers():
    limiter = AdaptiveLimiter(40)
    limiter.in_flight = 1
    limiter.observe({"concurrency-limit-limit": "10", "concurrency-limit-remaining": "9"})
    assert limiter.capacity == 10  # never above what Zuora advertises
    limiter.observe({"concurrency-limit-limit": "10", "concurrency-limit-remaining": "3"})
    assert limiter.capacity == 4  # six slots busy elsewhere in the tenant: leave them
    for _ in range(10):
        limiter.observe({"concurrency-limit-limit": "10", "concurrency-limit-remaining": "9"})
    assert limiter.capacity == 10  # grows back one slot per answer
    limiter.in_flight = 10
    limiter.rate_limited()
    assert limiter.capacity == 9


# ---- end to end over loopback ------------------------------------------------------------------------------
async def test_token_is_cached_and_bad_credentials_raise_auth_error(tmp_path):
    async with tenant(tmp_path) as (sim, zuora):
        first = await zuora.token()
        assert await zuora.token() == first and zuora.request_count == 1
        assert sim.credentials.zuora_client_id not in repr(zuora)  # the client id is a credential too
        secret = sim.credentials.zuora_client_secret
        async with ZuoraClient(zuora.base_url, sim.credentials.zuora_client_id, "wrong-" + secret[:20],
                               **FAST) as bad:
            with pytest.raises(AuthError) as refused:
                await bad.token()
        assert refused.value.hint and secret[:20] not in str(refused.value) and first not in str(refused.value)
        assert bad.request_count == 1  # refused credentials are not retried


async def test_zoql_pages_past_several_pages(tmp_path):
    async with tenant(tmp_path) as (sim, zuora):
        seed_invoices(sim, 25)
        rows = [r async for r in zuora.zoql("select Id, InvoiceNumber, Status from Invoice where Status = 'Posted'",
                                            batch_size=10)]
        assert sorted(r["InvoiceNumber"] for r in rows) == [f"INV{n:08d}" for n in range(1, 26)]
        assert zuora.request_count == 1 + 3  # token, query, two queryMore
        with pytest.raises(ApiError) as bad:
            [r async for r in zuora.zoql("select Id from CreditMemo")]
        assert category(bad.value) in (20, 21, 90, 45)


async def test_data_query_streams_a_multi_chunk_result(tmp_path):
    async with tenant(tmp_path, 1500) as (sim, zuora):
        count, size, ids = 0, 0, set()
        async for row in zuora.data_query("SELECT * FROM creditmemo", poll_max=0.1):
            count += 1
            size += len(json.dumps(row))
            ids.add(row["id"])
        assert count == 1500 and len(ids) == 1500
        assert size > 256 * 1024  # several of the server's 64 KiB chunks
        rows = await zuora.data_query_rows("SELECT id, transferredtoaccounting FROM creditmemo ORDER BY id", limit=3)
        assert [r["id"] for r in rows] == [bench.memo_id(n) for n in (1, 2, 3)]
        with pytest.raises(ApiError):
            await zuora.data_query_rows("SELECT nosuchcolumn FROM creditmemo")


class _FileThatBreaks(httpx.AsyncByteStream):
    """A result file sent in awkward chunks (lines split across them, CRLF, blank lines, no final newline) whose
    first download breaks after `break_after` chunks."""

    CHUNKS = [b'{"n": 1}\r\n{"n"', b': 2}\n\n', b'  \n{"n": 3}\n{"n": 4', b'}\n{"n": ', b'5}']

    def __init__(self, break_after: int | None):
        self.break_after = break_after

    async def __aiter__(self):
        for sent, chunk in enumerate(self.CHUNKS):
            if sent == self.break_after:
                raise httpx.ReadError("connection reset by peer")
            yield chunk


async def test_a_result_file_is_read_whole_across_chunks_and_resumed_after_a_break():
    downloads = []

    def serve(request: httpx.Request) -> httpx.Response:
        downloads.append(request.url.path)
        return httpx.Response(200, stream=_FileThatBreaks(3 if len(downloads) == 1 else None))

    async with ZuoraClient("http://127.0.0.1:9", "id", "secret", transport=httpx.MockTransport(serve),
                           **FAST) as zuora:
        rows = [row async for row in stream_json_lines(zuora, "http://127.0.0.1:9/data-query-results/x.jsonl")]
    assert rows == [{"n": n} for n in range(1, 6)]  # each row once, none lost where the first download broke
    assert len(downloads) == 2


async def test_object_query_pages_with_filters(tmp_path):
    async with tenant(tmp_path, 30) as (sim, zuora):
        sim.store.execute("UPDATE creditmemo SET transferredtoaccounting = 'Yes' WHERE memonumber <= 'CM00000012'")
        rows = [r async for r in zuora.object_query("credit-memos", filters=["transferredToAccounting.EQ:No"],
                                                    fields=["id", "memoNumber", "transferredToAccounting"],
                                                    page_size=7)]
        assert len(rows) == 18 and {r["transferredToAccounting"] for r in rows} == {"No"}
        assert sorted(r["memoNumber"] for r in rows) == [f"CM{n:08d}" for n in range(13, 31)]
        assert zuora.request_count == 1 + 3  # token and three pages of seven


async def test_single_update_get_and_not_found(tmp_path):
    async with tenant(tmp_path, 3) as (sim, zuora):
        memo = await zuora.update_credit_memo("CM00000002", {"transferredToAccounting": "Yes"})
        assert memo["transferredToAccounting"] == "Yes" and tta(sim, bench.memo_id(2)) == "Yes"
        fetched = await zuora.get_credit_memo(bench.memo_id(2))
        assert fetched["number"] == "CM00000002" and fetched["transferredToAccounting"] == "Yes"
        with pytest.raises(NotFound) as missing:
            await zuora.get_credit_memo("CM99999999")
        assert missing.value.request_id and missing.value.status == 404
        with pytest.raises(ApiError) as invalid:
            await zuora.update_credit_memo("CM00000001", {"transferredToAccounting": "Maybe"})
        assert category(invalid.value) in (20, 21) and tta(sim, bench.memo_id(1)) == "No"


async def test_legacy_version_errors_arrive_as_200_and_still_raise(tmp_path):
    async with tenant(tmp_path, 1, zuora_version="196.0") as (sim, zuora):
        with pytest.raises(NotFound) as missing:
            await zuora.get_credit_memo("CM99999999")
        assert category(missing.value) == 40


async def test_bulk_update_reports_each_item_and_partial_failures(tmp_path):
    async with tenant(tmp_path, 230, faults=Faults(bulk_item_refused=0.2, seed=3)) as (sim, zuora):
        seen: list[BulkItemResult] = []

        async def journal(result: BulkItemResult) -> None:
            assert tta(sim, result.id) == ("Yes" if result.success else "No")  # reported after Zuora wrote
            seen.append(result)

        summary = await zuora.bulk_update_credit_memos(
            ({"id": bench.memo_id(n), "transferredToAccounting": "Yes"} for n in range(1, 231)), on_result=journal)
        assert summary.total == len(seen) == 230 and summary.requests == 5
        assert sorted(r.id for r in seen) == [bench.memo_id(n) for n in range(1, 231)]
        failed = [r for r in seen if not r.success]
        assert summary.failed == len(failed) > 0 and summary.succeeded == 230 - len(failed)
        assert all(r.error_code and r.error_message and r.request_id for r in failed)
        assert summary.retried == 0  # a rule restriction (category 30) is not sent again
        assert all("look at the memo in Zuora" in r.error_message for r in failed)  # the reason, and what to do
        assert sim.store.scalar("SELECT count(*) FROM creditmemo WHERE transferredtoaccounting = 'Yes'") \
            == summary.succeeded


async def test_token_expiry_mid_run_renews_once_for_everyone(tmp_path):
    async with tenant(tmp_path, 120) as (sim, zuora):
        await zuora.get_credit_memo("CM00000001")
        sim.expire_tokens()
        summary = await zuora.bulk_update_credit_memos(
            [{"id": bench.memo_id(n), "transferredToAccounting": "Yes"} for n in range(1, 121)])
        assert summary.succeeded == 120
        assert zuora._tokens.renewals == 2  # the three batches that hit 401 shared one renewal
        sim.expire_tokens()
        assert (await zuora.get_credit_memo("CM00000003"))["transferredToAccounting"] == "Yes"


async def test_random_token_expiry_faults(tmp_path):
    async with tenant(tmp_path, 300, faults=Faults(token_expiry=0.05, seed=5)) as (sim, zuora):
        summary = await zuora.bulk_update_credit_memos(
            ({"id": bench.memo_id(n), "transferredToAccounting": "Yes"} for n in range(1, 301)))
        rows = [r async for r in zuora.object_query("credit-memos", filters=["transferredToAccounting.EQ:Yes"])]
        assert summary.succeeded == 300 and len(rows) == 300
        assert zuora._tokens.renewals > 1


async def test_429_with_retry_after_when_the_client_starts_above_the_limit(tmp_path):
    async with tenant(tmp_path, 600, zuora_concurrency=3, latency_ms=60, max_concurrency=12) as (sim, zuora):
        summary = await zuora.bulk_update_credit_memos(
            ({"id": bench.memo_id(n), "transferredToAccounting": "Yes"} for n in range(1, 601)))
        assert summary.succeeded == 600
        assert zuora.http_429_count > 0  # the first wave went over the limit
        assert zuora.limiter.advertised == 3 and zuora.limiter.capacity <= 3
        assert sim.zuora_gate.peak <= 3


async def test_429_retries_run_out_as_rate_limited(tmp_path):
    async with tenant(tmp_path, 1, zuora_concurrency=0, retry_attempts=2) as (sim, zuora):
        with pytest.raises(RateLimited) as limited:
            await zuora.get_credit_memo("CM00000001")
        assert limited.value.retry_after == 1.0 and zuora.http_429_count == 2


async def test_5xx_bursts_and_resets_every_operation_completes(tmp_path):
    faults = Faults(http_5xx=0.2, reset=0.05, seed=11)
    async with tenant(tmp_path, 150, faults=faults) as (sim, zuora):
        seed_invoices(sim, 12)
        assert len([r async for r in zuora.zoql("select Id from Invoice", batch_size=5)]) == 12
        assert len([r async for r in zuora.object_query("credit-memos", page_size=50)]) == 150
        assert len(await zuora.data_query_rows("SELECT id FROM creditmemo")) == 150
        await zuora.update_credit_memo("CM00000001", {"transferredToAccounting": "Yes"})
        assert (await zuora.get_credit_memo("CM00000001"))["transferredToAccounting"] == "Yes"
        summary = await zuora.bulk_update_credit_memos(
            {"id": bench.memo_id(n), "transferredToAccounting": "Yes"} for n in range(2, 151))
        assert summary.succeeded == 149
        assert await zuora.invoice_settlement_enabled() is True
        assert sim.dice.counts.get("http_5xx", 0) > 0


async def test_5xx_that_never_stops_raises_api_error(tmp_path):
    async with tenant(tmp_path, 50, faults=Faults(http_5xx=1.0), retry_attempts=3) as (sim, zuora):
        with pytest.raises(ApiError) as broken:
            await zuora.get_credit_memo("CM00000001")
        assert broken.value.status in (500, 502, 503)
        results: list[BulkItemResult] = []
        summary = await zuora.bulk_update_credit_memos(
            [{"id": bench.memo_id(n), "transferredToAccounting": "Yes"} for n in range(1, 51)],
            on_result=results.append)
        assert summary.failed == 50 and all(r.error_message and not r.success for r in results)


async def test_a_failing_token_endpoint_is_asked_once_per_round_not_once_per_caller(tmp_path):
    """Zuora rate-limits /oauth/token by IP: callers waiting together share one renewal and its failure, and
    only the calls retry (the renewal itself does not), so the token POSTs stay within calls × attempts."""
    posts = []

    def seen(request):
        if request.url.path.endswith("/oauth/token"):
            posts.append(request)

    async with tenant(tmp_path, 5, faults=Faults(token_5xx=1.0), retry_attempts=3, on_request=seen) as (sim,
                                                                                                      zuora):
        results = await asyncio.gather(*(zuora.get_credit_memo(bench.memo_id(n)) for n in range(1, 6)),
                                       return_exceptions=True)
    assert all(type(r) is ApiError and r.status == 503 for r in results)  # not AuthError "credentials refused"
    assert 1 <= len(posts) <= 5 * 3  # before: each call's attempt retried the token too, up to 5 × 3 × 3 = 45


async def test_timeouts_are_retried(tmp_path):
    faults = Faults(timeout=0.2, timeout_hold_s=0.6, seed=2)
    async with tenant(tmp_path, 100, faults=faults, timeout=0.3) as (sim, zuora):
        summary = await zuora.bulk_update_credit_memos(
            ({"id": bench.memo_id(n), "transferredToAccounting": "Yes"} for n in range(1, 101)))
        assert summary.succeeded == 100
        assert len([r async for r in zuora.object_query("credit-memos", page_size=20)]) == 100
        assert sim.dice.counts.get("timeout", 0) > 0


async def test_timeouts_that_never_stop_raise_a_typed_error(tmp_path):
    faults = Faults(timeout=1.0, timeout_hold_s=0.5)
    async with tenant(tmp_path, 1, faults=faults, timeout=0.1, retry_attempts=2) as (sim, zuora):
        with pytest.raises(ApiError, match="Zuora did not answer GET /v1/credit-memos/CM00000001 within 0.1 s"):
            await zuora.get_credit_memo("CM00000001")


# ---- the connection pool on asyncio's streams (core.zuora.sockets) --------------------------------------------------
async def _json_server(answers: list[str], *, close_after: int):
    """A bare HTTP/1.1 server on loopback: answers each request with JSON, keeps connections alive, and drops
    its connection, unannounced, after its `close_after`-th answer (as a server ending an idle keep-alive does)."""
    served = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal served
        while head := await reader.readuntil(b"\r\n\r\n") if not reader.at_eof() else b"":
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            await reader.readexactly(length)
            path = head.split(b" ")[1].decode()
            body = b'{"access_token": "t", "expires_in": 3600}' if path == "/oauth/token" else b'{"success": true}'
            answers.append(path)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                         % (len(body), body))
            await writer.drain()
            served += 1
            if served == close_after:
                break
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def test_a_keep_alive_connection_the_server_dropped_is_not_reused():
    answers: list[str] = []
    server = await _json_server(answers, close_after=2)
    url = "http://127.0.0.1:%d" % server.sockets[0].getsockname()[1]
    async with server, ZuoraClient(url, "id", "secret", **FAST) as zuora:
        await zuora.call("GET", "/v1/one")
        await asyncio.sleep(0.1)  # the server's close arrives while the connection is idle in the pool
        await zuora.call("GET", "/v1/two")
        assert answers == ["/oauth/token", "/v1/one", "/v1/two"]
        assert zuora.request_count == 3  # a new connection at once, not a failed try on the dead one


async def test_a_request_leaves_in_one_send_when_its_answer_is_read():
    received: asyncio.Queue[bytes] = asyncio.Queue()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while chunk := await reader.read(1 << 20):
            received.put_nowait(chunk)
            writer.write(b"ok")
        writer.close()

    async with await asyncio.start_server(handle, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
        await stream.write(b"PUT /v1/credit-memos/bulk HTTP/1.1\r\n\r\n", timeout=5)
        await stream.write(b'{"memos": []}', timeout=5)
        await asyncio.sleep(0.05)
        assert received.empty()  # held until the answer is awaited
        assert await stream.read(2, timeout=5) == b"ok"
        assert await asyncio.wait_for(received.get(), 5) == b'PUT /v1/credit-memos/bulk HTTP/1.1\r\n\r\n{"memos": []}'
        await stream.write(b"x" * FLUSH_AT, timeout=5)  # a big body is not held back
        assert len(await asyncio.wait_for(received.get(), 5)) > 0
        await stream.aclose()


async def test_a_server_that_stops_reading_costs_the_timeout_not_a_hang():
    """A write that times out closes its connection without waiting on the peer, which will never drain it."""
    async def token_then_stop_reading(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (head := await reader.readuntil(b"\r\n\r\n")).startswith(b"POST /oauth/token "):
            await reader.readexactly(int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0]))
            body = b'{"access_token": "t", "expires_in": 3600}'
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
        await asyncio.sleep(30)  # the bulk call's head read, its body never

    async with await asyncio.start_server(token_then_stop_reading, "127.0.0.1", 0) as server:
        url = "http://127.0.0.1:%d" % server.sockets[0].getsockname()[1]
        async with ZuoraClient(url, "id", "secret", timeout=0.3, retry_attempts=1, **FAST) as zuora:
            with pytest.raises(ApiError, match="did not answer PUT /v1/credit-memos/bulk within 0.3 s"):
                await asyncio.wait_for(zuora.call("PUT", "/v1/credit-memos/bulk",
                                                  json={"memos": [{"id": "x" * 64}] * 200_000}), 5)


async def test_a_refused_connection_is_told_as_no_answer():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed below: nothing listens there
    async with ZuoraClient(f"http://127.0.0.1:{port}", "id", "secret", retry_attempts=2, **FAST) as zuora:
        with pytest.raises(ApiError, match=r"Zuora gave no answer to POST /oauth/token \(the connection failed: "
                                           r"ConnectError\)"):
            await zuora.call("GET", "/v1/one")


async def test_describe_lists_connector_fields_as_custom(tmp_path):
    async with tenant(tmp_path) as (sim, zuora):
        fields = {f.name: f for f in await zuora.describe("CreditMemo")}
        assert fields["IntegrationId__NS"].custom and not fields["Id"].custom
        assert fields["TransferredToAccounting"].type == "picklist"


async def test_invoice_settlement_probe(tmp_path):
    async with tenant(tmp_path) as (sim, zuora):
        assert await zuora.invoice_settlement_enabled() is True
        sim.store.set_setting("invoice_settlement", False)
        assert await zuora.invoice_settlement_enabled() is False


def seed_invoices(sim, count: int) -> None:
    sim.store.executemany(
        "INSERT INTO invoice (id, invoicenumber, accountid, amount, balance, status, invoicedate, currency) "
        "VALUES (?,?,?,?,?,?,?,?)",
        [(f"{n:032x}", f"INV{n:08d}", "a" * 32, 10.0, 10.0, "Posted", "2025-01-01", "USD")
         for n in range(1, count + 1)])


def test_benchmark_smoke(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "zuora_bulk_mark.py"), "--memos", "120",
                           "--latency-ms", "0", "--zuora-concurrency", "4", "--json"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert {"memos", "requests", "elapsed_s", "floor_s", "ratio", "http_429"} <= result.keys()
    assert result["memos"] == 120 and result["write_calls"] == 3 and result["failed"] == 0
    assert result["recheck_queries"] == 1 and result["skipped"] == 0  # one slice re-read before it is written
    assert 0 < result["first_write_s"] <= result["elapsed_s"] and result["first_write_floor_s"] == 0
