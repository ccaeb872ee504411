"""Zuora vendor routes of the simulator: the route table, OAuth, and the Actions query handlers.

Every route but the token endpoint and the pre-signed result download goes through `zuora_endpoint` (auth, the
concurrency gate, latency, faults, ids). The handlers live with their subject: zoql, data_query,
object_query, credit_memos, describe.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.sim import zoql
from core.objects import INVOICE, PAYMENT
from core.sim.credit_memos import (CREDIT_MEMO_RESOURCE, bulk_update, get_memo, list_memos, record_getter,
                                   update_memo)
from core.sim.data_query import RESULTS_PATH, DataQueryJobs
from core.sim.describe import describe
from core.sim.object_query import query_objects
from core.sim.zuora_http import Family, Fault, ZuoraCall, new_request_id, track_headers, zuora_endpoint

TOKENS_PER_MINUTE_PER_IP = 100  # apis.md A2: the AUTH limit per IP


class TokenRateLimit:
    """A one-minute sliding window per client address, as the token endpoint's per-IP limit."""

    def __init__(self, limit: int = TOKENS_PER_MINUTE_PER_IP):
        self.limit = limit
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, address: str) -> int | None:
        """Remaining calls this minute after this one, or None when the limit is spent."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(address, deque())
            while hits and now - hits[0] > 60:
                hits.popleft()
            if len(hits) >= self.limit:
                return None
            hits.append(now)
            return self.limit - len(hits)


def token_endpoint(sim):
    limits = TokenRateLimit()

    async def token(request: Request) -> Response:
        headers = track_headers(request, new_request_id())
        remaining = limits.take(request.client.host if request.client else "local")
        headers |= {"X-RateLimit-Limit-minute": str(limits.limit),
                    "X-RateLimit-Remaining-minute": str(remaining or 0)}
        if remaining is None:
            return JSONResponse({"message": "API rate limit exceeded"}, status_code=429,
                                headers=headers | {"Retry-After": "60"})
        if sim.config.latency_ms:
            await asyncio.sleep(sim.config.latency_ms / 1000)
        if sim.dice.roll("token_5xx"):
            return JSONResponse({"error": "temporarily_unavailable",
                                 "error_description": "The authorization server is temporarily unavailable"},
                                status_code=503, headers=headers)
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type",
                                 "error_description": "grant_type must be client_credentials"},
                                status_code=400, headers=headers)
        if not form.get("client_id") or not form.get("client_secret"):
            return JSONResponse({"error": "invalid_request",
                                 "error_description": "send client_id and client_secret as form fields"},
                                status_code=400, headers=headers)
        answer = await run_in_threadpool(sim.issue_token, form["client_id"], form["client_secret"])
        if answer is None:
            return JSONResponse({"error": "invalid_client", "error_description": "Invalid client credentials"},
                                status_code=401, headers=headers)
        return JSONResponse(answer, headers=headers)

    return token


def action_handlers(sim):
    cursors = zoql.ZoqlCursors(sim.store)

    def _body(call: ZuoraCall) -> dict:
        body = call.json()
        if not isinstance(body, dict):
            raise Fault(90, "The body must be a JSON object.")
        return body

    def query(call: ZuoraCall) -> Response:
        body = _body(call)
        parsed = zoql.translate(body.get("queryString"), connector=call.store.connector_installed)
        return JSONResponse(cursors.start(parsed, zoql.batch_size(body)))

    def query_more(call: ZuoraCall) -> Response:
        body = _body(call)
        if not isinstance(body.get("queryLocator"), str):
            raise Fault(20, "queryLocator is required: the value from the previous answer")
        return JSONResponse(cursors.more(body["queryLocator"], zoql.batch_size(body)))

    return query, query_more


def routes(sim) -> list:
    def wrap(handler, family=Family.V1, **kw):
        return zuora_endpoint(sim, handler, family=family, **kw)

    query, query_more = action_handlers(sim)
    jobs = DataQueryJobs(sim)
    table = [
        Route("/oauth/token", token_endpoint(sim), methods=["POST"]),
        Route("/v1/action/query", wrap(query, Family.ACTIONS), methods=["POST"]),
        Route("/v1/action/queryMore", wrap(query_more, Family.ACTIONS), methods=["POST"]),
        Route("/query/jobs", wrap(jobs.submit, Family.DATA_QUERY), methods=["POST"]),
        Route("/query/jobs", wrap(jobs.list, Family.DATA_QUERY), methods=["GET"]),
        Route("/query/jobs/{job_id}", wrap(jobs.get, Family.DATA_QUERY), methods=["GET"]),
        Route("/query/jobs/{job_id}", wrap(jobs.cancel, Family.DATA_QUERY), methods=["DELETE"]),
        Route(RESULTS_PATH + "/{name}", jobs.result_file, methods=["GET"]),
        Route("/object-query/{objects}", wrap(query_objects, Family.OBJECT_QUERY, gate=sim.object_query_gate),
              methods=["GET"]),
        Route("/v1/payments/{key}", wrap(record_getter(PAYMENT)), methods=["GET"]),
        Route("/v1/invoices/{key}", wrap(record_getter(INVOICE)), methods=["GET"]),
        Route("/v1/describe/{object}", wrap(describe), methods=["GET"]),
    ]
    # Both spellings of the memo paths are live (apis.md A7); /bulk comes before /{key}.
    for prefix in ("/v1/credit-memos", "/v1/creditmemos"):
        table += [
            Route(prefix, wrap(list_memos, resource=CREDIT_MEMO_RESOURCE), methods=["GET"]),
            Route(prefix + "/bulk", wrap(bulk_update, resource=CREDIT_MEMO_RESOURCE), methods=["PUT"]),
            Route(prefix + "/{key}", wrap(get_memo, resource=CREDIT_MEMO_RESOURCE), methods=["GET"]),
            Route(prefix + "/{key}", wrap(update_memo, resource=CREDIT_MEMO_RESOURCE), methods=["PUT"]),
        ]
    return table
