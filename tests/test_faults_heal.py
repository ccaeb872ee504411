"""Faults heal themselves (issue 11, item 6), over real loopback HTTP:

- a memo that Zuora fails on its own with a retryable error (lock competition, a temporary error) is sent again in a
  later bulk call of the same update, with backoff; one it refuses for good is reported once, with its reason and
  what to do next;
- retries are told at INFO (the -v log), never as warnings on the terminal;
- a server that never answers is bounded by the timeout, and the message says what timed out;
- an HTML page where JSON was expected says the URL is not the API;
- an ExceptionGroup is never the message;
- the simulator's `429` fault refuses at the concurrency gate, and its injected resets log nothing.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from cli_support import run, simulated_profile
from sim_tenant import add_credit_memos, add_invoices
from test_zuora_client import bench, tenant, tta

from core.profile import Profile
from core.errors import ApiError, ConfigError, RateLimited, first_cause
from core.netsuite import NetSuiteClient
from core.netsuite.client import TIMEOUT_RETRIES as NETSUITE_TIMEOUT_RETRIES
from core.run import Run
from core.secrets import Credentials, env_var
from core.session import test_connection
from core.sim.app import Simulator
from core.sim.config import Faults, SimConfig
from core.sim.server import SimServer
from core.zuora import ZuoraClient
from core.zuora.memos import ITEM_ATTEMPTS
from core.zuora.retry import TIMEOUT_RETRIES, TOKEN_RENEWALS, Backoff, TokenRejected

ACCOUNT = "TSTDRV2207311_SB1"
SECRETS = {"zuora_client_id": "zid", "zuora_client_secret": "zsecret-planted", "netsuite_consumer_key": "ck",
           "netsuite_consumer_secret": "cs", "netsuite_token_id": "tid", "netsuite_token_secret": "ts"}


def _marks(n: int) -> list[dict]:
    return [{"id": bench.memo_id(i), "transferredToAccounting": "Yes"} for i in range(1, n + 1)]


# ---- per-item retries in the bulk update --------------------------------------------------------------------------
async def test_retryable_item_failures_are_sent_again_until_every_memo_is_marked(tmp_path):
    async with tenant(tmp_path, 200, faults=Faults(bulk_item=0.3, seed=4)) as (sim, zuora):
        seen: list[str] = []

        async def journal(result) -> None:
            assert result.success, result
            assert tta(sim, result.id) == "Yes"  # reported after Zuora wrote it, once
            seen.append(result.id)

        summary = await zuora.bulk_update_credit_memos(_marks(200), on_result=journal)
        marked = sim.store.scalar("SELECT count(*) FROM creditmemo WHERE transferredtoaccounting = 'Yes'")
    failed_once = sim.dice.counts["bulk_item"]
    assert sorted(seen) == [bench.memo_id(i) for i in range(1, 201)]  # every memo once, none twice
    assert summary.succeeded == 200 == marked and summary.failed == 0
    assert 0 < summary.retried <= failed_once  # a memo that failed twice is one memo sent again
    assert summary.requests > 4  # the resends rode in later bulk calls


async def test_only_the_failures_retrying_cannot_fix_remain_each_with_its_reason_and_next_step(tmp_path):
    async with tenant(tmp_path, 200, faults=Faults(bulk_item=0.3, bulk_item_refused=0.1, seed=6)) as (sim, zuora):
        results = []
        summary = await zuora.bulk_update_credit_memos(_marks(200), on_result=results.append)
        marked = sim.store.scalar("SELECT count(*) FROM creditmemo WHERE transferredtoaccounting = 'Yes'")
    failed = [r for r in results if not r.success]
    assert len(results) == 200 and summary.failed == len(failed) > 0
    assert summary.retried > 0
    assert {int(r.error_code) % 100 for r in failed} == {30}  # no lock competition or temporary error is left
    assert all("bill run" in r.error_message and "look at the memo in Zuora, fix it there" in r.error_message
               for r in failed)
    assert marked == 200 - len(failed)


async def test_a_memo_that_stays_locked_gives_up_after_its_tries_and_says_what_to_do(tmp_path):
    async with tenant(tmp_path, 10, faults=Faults(bulk_item=1.0)) as (sim, zuora):
        results = []
        summary = await zuora.bulk_update_credit_memos(_marks(10), on_result=results.append)
    assert summary.failed == 10 and len(results) == 10
    assert sim.dice.counts["bulk_item"] == 10 * ITEM_ATTEMPTS  # each memo tried ITEM_ATTEMPTS times, no more
    assert all(f"still failing after {ITEM_ATTEMPTS} tries: apply the step again later" in r.error_message
               for r in results)


async def test_a_bulk_call_that_failed_after_its_retries_is_not_retried_again_memo_by_memo(tmp_path):
    async with tenant(tmp_path, 10, faults=Faults(http_5xx=1.0), retry_attempts=2) as (sim, zuora):
        results = []
        summary = await zuora.bulk_update_credit_memos(_marks(10), on_result=results.append)
    assert summary.failed == 10 and summary.retried == 0 and summary.requests == 1
    assert sim.dice.counts["http_5xx"] == 2  # the call's own two tries, nothing more
    assert all(r.call_failed and "apply the step again once Zuora answers" in r.error_message for r in results)


def test_cutover_apply_lists_what_stayed_failed_with_its_reason_and_next_step(capsys, monkeypatch):
    faults = Faults(bulk_item=0.1, bulk_item_refused=0.1, seed=5)
    with simulated_profile(capsys, monkeypatch, faults=faults) as demo:
        store = demo.sim.store
        account = store.scalar("SELECT id FROM account LIMIT 1")
        negatives = add_invoices(demo.sim, 120, account=account, amount=-1.0)  # in NetSuite: E1 marks their memos
        add_credit_memos(demo.sim, 120, account=account, start=10_000, invoices=negatives)
        store.set_setting("invoice_settlement", True)
        code, out, err = run(capsys, "apply", "E1", "--profile", "sim", "--yes")
        marked = store.scalar("SELECT count(*) FROM creditmemo WHERE memonumber >= 'CM00010000' "
                              "AND transferredtoaccounting = 'Yes'")
        retryable = demo.sim.dice.counts["bulk_item"]
    assert code == 1 and "Traceback" not in err
    failed = int(out.split(" failed, ")[0].rsplit(", ", 1)[1])
    assert 0 < failed == 120 - marked and retryable > 0  # the retryable ones healed
    listed = [line for line in out.splitlines() if "failed (e.g. CM" in line]
    assert len(listed) == 1 and listed[0].startswith(f"  {failed} records failed (e.g. CM000")  # one reason
    assert listed[0].endswith("The credit memo cannot be updated while it is being processed by a bill run. (Zuora "
                              "refuses this change for this memo: look at the memo in Zuora, fix it there, then "
                              "apply again) [code 53610030]")


def test_a_token_that_worked_is_renewed_however_often_it_is_revoked_but_a_refused_new_one_is_not():
    backoff = Backoff(0.01, 0.02)
    revoked = TokenRejected(None, "the access token was refused", status=401, system="Zuora", expired=True)
    assert [backoff(revoked) for _ in range(2 * TOKEN_RENEWALS)] == [0.0] * (2 * TOKEN_RENEWALS)
    never_taken = TokenRejected(None, "the access token was refused", status=401, system="Zuora")
    tries = [backoff(never_taken) for _ in range(TOKEN_RENEWALS + 1)]
    assert tries[0] == 0.0 and tries[-1] is False  # credentials or access wrong: renewing does not cure it


# ---- retries are quiet ----------------------------------------------------------------------------------------
async def test_retries_are_told_at_info_never_as_warnings(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    # A memo has 6 tries of its own: at 0.1 a memo fails all of them once in a million (at 0.2, once a run in a
    # hundred, since a concurrent run draws the seeded dice in whatever order the answers come).
    faults = Faults(http_5xx=0.2, token_expiry=0.05, bulk_item=0.1, seed=3)
    async with tenant(tmp_path, 150, faults=faults) as (sim, zuora):
        summary = await zuora.bulk_update_credit_memos(_marks(150))
    assert summary.succeeded == 150
    told = [r for r in caplog.records if r.name == "cutover.retry"]
    assert told and all(r.levelno == logging.INFO for r in told)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []  # nothing for the terminal


# ---- a server that never answers ---------------------------------------------------------------------------------
@contextmanager
def silent_server():
    """A loopback port that takes connections and never answers a byte."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def _profile(tmp_path, url: str) -> Profile:
    return Profile(name="silent", zuora_base_url=url, netsuite_base_url=url, netsuite_account_id=ACCOUNT,
                   environment="sandbox", data_dir=tmp_path / "data")


async def test_a_run_opened_with_a_timeout_gives_up_on_a_silent_zuora_and_says_what_timed_out(tmp_path):
    with silent_server() as url:
        async with Run(_profile(tmp_path, url), Credentials.from_values(SECRETS), timeout=0.3) as run:
            zuora = run.session.zuora
            zuora.backoff_base, zuora.backoff_cap = 0.01, 0.02
            started = time.monotonic()
            with pytest.raises(ApiError) as err:
                await zuora.token()
            # four tries of 0.3 s, not eight of the default minute (the count below says four; the bound leaves a
            # loaded box room and still rules out a single default-minute wait)
            assert time.monotonic() - started < 30
            assert zuora.request_count == 1 + TIMEOUT_RETRIES  # of retry_attempts=8: silence is not retried long
            assert run.session.netsuite.timeout == 0.3
    message = str(err.value)
    assert message.startswith("Zuora did not answer POST /oauth/token within 0.3 s")
    assert "raise --timeout" in message and "zsecret-planted" not in message


def test_cutover_check_with_timeout_gives_up_on_a_silent_tenant_in_one_line(capsys, monkeypatch):
    with silent_server() as url:
        code, _, err = run(capsys, "profile", "add", "silent", "--zuora-base-url", url, "--netsuite-base-url", url,
                           "--netsuite-account-id", ACCOUNT)
        assert code == 0, err
        for name, value in SECRETS.items():
            monkeypatch.setenv(env_var(name), value)
        started = time.monotonic()
        code, out, err = run(capsys, "check", "A1", "--profile", "silent", "--timeout", "0.3")
        elapsed = time.monotonic() - started
    assert code in (1, 2) and "Traceback" not in out + err
    said = out + err
    assert "Zuora did not answer POST /oauth/token within 0.3 s" in said and "raise --timeout" in said
    assert elapsed < 20  # four tries of 0.3 s and their backoff (at most 7 s), not eight minutes
    assert "zsecret-planted" not in said


async def test_the_app_opens_its_run_with_the_timeout(capsys, monkeypatch):
    from tui.backend import Backend

    opened = {}

    def keep(backend) -> int:  # instead of running the app: the backend it would run
        opened["backend"] = backend
        return 0

    monkeypatch.setattr("cli.launch._run_app", keep)
    with silent_server() as url:
        run(capsys, "profile", "add", "silent", "--zuora-base-url", url, "--netsuite-base-url", url,
            "--netsuite-account-id", ACCOUNT)
        for name, value in SECRETS.items():
            monkeypatch.setenv(env_var(name), value)
        code, _, err = run(capsys, "open", "--profile", "silent", "--timeout", "0.4")
        assert code == 0, err
        backend: Backend = opened["backend"]
        try:
            await backend.read_profile()
            await backend.connect()
            assert backend.session.zuora.timeout == 0.4 and backend.session.netsuite.timeout == 0.4
        finally:
            await backend.close()


async def test_a_silent_netsuite_is_bounded_the_same_way(tmp_path):
    with silent_server() as url:
        async with NetSuiteClient(ACCOUNT, "ck", "cs", "tid", "ts", base_url=url, timeout=0.3,
                                  retry_wait_initial=0.01, retry_wait_max=0.02) as ns:
            with pytest.raises(ApiError) as err:
                await ns.suiteql_rows("SELECT id FROM transaction")
            assert ns.request_count == 1 + NETSUITE_TIMEOUT_RETRIES  # of retry_attempts=8
    assert str(err.value).startswith("NetSuite did not answer POST /services/rest/query/v1/suiteql within 0.3 s")
    assert "raise --timeout" in str(err.value)


# ---- an HTML page where JSON was expected --------------------------------------------------------------------
@contextmanager
def html_server(status: int = 200):
    """Answers every request with a web page, as a login portal or a wrong host would."""
    hits: list[str] = []

    class Page(BaseHTTPRequestHandler):
        def _page(self) -> None:
            hits.append(self.path)
            length = int(self.headers.get("content-length") or 0)
            self.rfile.read(length)
            body = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Welcome</body></html>"
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = _page

        def log_message(self, *args) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


async def test_an_html_page_says_the_url_is_not_the_zuora_api(tmp_path):
    with html_server() as (url, hits):
        async with ZuoraClient(url, "zid", "zsecret", backoff_base=0.01, backoff_cap=0.02) as zuora:
            with pytest.raises(ConfigError) as err:
                await zuora.get_credit_memo("CM1")
    assert str(err.value).startswith(f"this URL does not look like the Zuora API (got an HTML page from "
                                     f"{url}/oauth/token)")
    assert "zuora_base_url" in str(err.value) and "<html" not in str(err.value).lower()
    assert hits == ["/oauth/token"]  # not retried: asking again will not make it the API


async def test_an_html_page_says_the_url_is_not_the_netsuite_api(tmp_path):
    with html_server() as (url, hits):
        async with NetSuiteClient(ACCOUNT, "ck", "cs", "tid", "ts", base_url=url) as ns:
            with pytest.raises(ConfigError) as err:
                await ns.suiteql_rows("SELECT id FROM transaction")
    assert str(err.value).startswith(f"this URL does not look like the NetSuite API (got an HTML page from "
                                     f"{url}/services/rest/query/v1/suiteql)")
    assert "netsuite_account_id" in str(err.value) and len(hits) == 1


async def test_the_connection_test_names_the_wrong_url_for_both_systems(tmp_path):
    with html_server() as (url, _):
        checks = await test_connection(_profile(tmp_path, url), Credentials.from_values(SECRETS), timeout=2)
    assert [(c.system, c.reason) for c in checks] == [("Zuora", "config"), ("NetSuite", "config")]
    assert "does not look like the Zuora API" in checks[0].detail
    assert "does not look like the NetSuite API" in checks[1].detail


async def test_a_gateway_error_page_is_retried_and_reads_as_one(tmp_path):
    with html_server(503) as (url, hits):
        async with ZuoraClient(url, "zid", "zsecret", retry_attempts=3, backoff_base=0.01,
                               backoff_cap=0.02) as zuora:
            with pytest.raises(ApiError) as err:
                await zuora.token()
    assert len(hits) == 3 and err.value.status == 503  # a 503 page is a gateway's, and passes
    assert "HTTP 503 with a web page (something in front of Zuora answered)" in str(err.value)
    assert "<" not in str(err.value)


# ---- an ExceptionGroup is never the message ------------------------------------------------------------------
def test_the_first_cause_that_matters_comes_out_of_a_group():
    api = ApiError("53610030", "the memo is locked", system="Zuora")
    group = ExceptionGroup("unhandled errors in a TaskGroup", [ValueError("x"), ExceptionGroup("inner", [api])])
    assert first_cause(group) is api
    interrupted = BaseExceptionGroup("g", [api, KeyboardInterrupt()])
    assert isinstance(first_cause(interrupted), KeyboardInterrupt)
    assert first_cause(api) is api
    assert isinstance(first_cause(ExceptionGroup("g", [LookupError("k")])), LookupError)


def test_the_app_shows_the_cause_not_the_group():
    from tui.app import CutoverApp

    group = ExceptionGroup("unhandled errors in a TaskGroup (1 sub-exception)",
                           [ConfigError("profile x has no journal", hint="run cutover open --profile x")])
    said = CutoverApp.describe_error(None, group)  # describe_error reads nothing from the app
    assert said == "profile x has no journal (run cutover open --profile x)"


# ---- the simulator's 429 fault and its quiet resets ---------------------------------------------------------
@contextmanager
def served(tmp_path, faults: Faults):
    sim = Simulator(SimConfig(scale=1, faults=faults), data_dir=tmp_path / "sim", seed_data=False)
    try:
        with SimServer(sim):
            yield sim
    finally:
        sim.close()


async def test_the_429_fault_refuses_at_the_concurrency_gate_of_both_systems(tmp_path):
    with served(tmp_path, Faults(rate_429=1.0)) as sim:
        c = sim.credentials
        async with httpx.AsyncClient(base_url=sim.base_url) as http:
            token = (await http.post("/oauth/token", data={
                "client_id": c.zuora_client_id, "client_secret": c.zuora_client_secret,
                "grant_type": "client_credentials"})).json()["access_token"]  # the token endpoint has no gate
            refused = await http.get("/v1/credit-memos", headers={"Authorization": f"Bearer {token}"})
        async with NetSuiteClient(ACCOUNT, c.netsuite_consumer_key, c.netsuite_consumer_secret,
                                  c.netsuite_token_id, c.netsuite_token_secret, base_url=sim.base_url,
                                  retry_attempts=2, retry_wait_initial=0.01, retry_wait_max=0.02) as ns:
            with pytest.raises(RateLimited) as limited:
                await ns.suiteql_rows("SELECT id FROM transaction")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert refused.headers["Concurrency-Limit-Type"] == "Default"
    assert "concurrent requests" in refused.json()["reasons"][0]["message"]
    assert limited.value.code == "CONCURRENCY_LIMIT_EXCEEDED"
    assert sim.dice.counts["rate_429"] == 3  # one Zuora call, two NetSuite tries
    assert sim.zuora_gate.peak == 0 and sim.netsuite_gate.peak == 0  # refused before taking a slot


async def test_injected_resets_break_the_connection_and_log_nothing(tmp_path):
    logged: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logged.append(record)

    keep = Keep()
    try:
        with served(tmp_path, Faults(reset=1.0)) as sim:
            logging.getLogger("uvicorn.error").addHandler(keep)  # after uvicorn set its logging up (it clears them)
            c = sim.credentials
            async with ZuoraClient(sim.base_url, c.zuora_client_id, c.zuora_client_secret, retry_attempts=2,
                                   backoff_base=0.01, backoff_cap=0.02) as zuora:
                with pytest.raises(ApiError, match="Zuora gave no answer to GET /v1/credit-memos/CM1"):
                    await zuora.get_credit_memo("CM1")
            async with NetSuiteClient(ACCOUNT, c.netsuite_consumer_key, c.netsuite_consumer_secret,
                                      c.netsuite_token_id, c.netsuite_token_secret, base_url=sim.base_url,
                                      retry_attempts=2, retry_wait_initial=0.01, retry_wait_max=0.02) as ns:
                with pytest.raises(ApiError, match="NetSuite gave no answer"):
                    await ns.suiteql_rows("SELECT id FROM transaction")
            await asyncio.sleep(0.1)  # the server's side of the last dropped connection
            assert sim.dice.counts["reset"] == 4
    finally:
        logging.getLogger("uvicorn.error").removeHandler(keep)
    assert [r.getMessage() for r in logged] == []


def test_fault_specs_are_checked_where_they_enter():
    storm = Faults.parse("429=0.15,5xx=0.05,timeout=0.005,timeout_hold_s=2,reset=0.02,token_expiry=0.03,"
                         "token_5xx=0.1,bulk_item=0.05,bulk_item_refused=0.01,seed=7")
    assert (storm.rate_429, storm.http_5xx, storm.timeout_hold_s, storm.bulk_item_refused, storm.seed) \
        == (0.15, 0.05, 2.0, 0.01, 7)
    for bad, said in (("429=1.5", "between 0 and 1"), ("jitter=0.1", "KEY one of 429, 5xx"),
                      ("5xx=nan", "finite"), ("seed=1.5", "whole number"), ("timeout_hold_s=-1", "0 and 3600"),
                      ("reset", "KEY=RATE")):
        with pytest.raises(ValueError, match=said):
            Faults.parse(bad)
