"""NetSuite vendor routes of the simulator: SuiteQL and the customerPayment record, behind token-based auth.

Every route goes through one guard, in the order a request meets them on the real service: the account's
concurrency limit (429 with no Retry-After, held for the whole request including latency), the TBA
signature, then injected faults, then the work, which runs in a thread so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.sim.customer_payment import RECORD, payment_changes, read_customer_payment, update_customer_payment
from core.sim.suiteql import MAX_PAGE, MAX_RESULTS, SuiteQLError, run_page
from core.sim.tba import TbaVerifier

log = logging.getLogger("cutover.sim.netsuite")

SERVICES_PATH = "/services/rest"
SUITEQL_PATH = SERVICES_PATH + "/query/v1/suiteql"
RECORD_PATH = SERVICES_PATH + "/record/v1"
INVALID_LOGIN = ("Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
                 "Setup > Users/Roles > User Management > View Login Audit Trail.")
NONEXISTENT = "The record instance does not exist. Provide a valid record instance ID."
# RFC 9110 sections per status; 429 is defined by RFC 6585.
_TYPES = {400: "rfc9110.html#section-15.5.1", 401: "rfc9110.html#section-15.5.2",
          404: "rfc9110.html#section-15.5.5", 405: "rfc9110.html#section-15.5.6", 429: "rfc6585.html#section-4",
          500: "rfc9110.html#section-15.6.1", 502: "rfc9110.html#section-15.6.3", 503: "rfc9110.html#section-15.6.4",
          504: "rfc9110.html#section-15.6.5"}

Handler = Callable[[Request, str], Awaitable[Response]]


def error_body(status: int, code: str, detail: str, **where: str) -> dict[str, Any]:
    """NetSuite's error shape; `where` adds o:errorPath / o:errorQueryParam / o:errorHeader."""
    return {"type": f"https://www.rfc-editor.org/rfc/{_TYPES[status]}", "title": HTTPStatus(status).phrase,
            "status": status, "o:errorDetails": [{"detail": detail, "o:errorCode": code,
                                                  **{f"o:{k}": v for k, v in where.items()}}]}


class NsError(Exception):
    def __init__(self, status: int, code: str, detail: str, **where: str):
        super().__init__(detail)
        self.status, self.code, self.detail, self.where = status, code, detail, where

    def response(self) -> JSONResponse:
        return JSONResponse(error_body(self.status, self.code, self.detail, **self.where), status_code=self.status)


class DroppedConnection(Response):
    """The `reset` fault: headers and part of the body go out, then the server closes the connection."""

    def __init__(self):
        super().__init__(status_code=200)

    async def __call__(self, scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")]})
        await send({"type": "http.response.body", "body": b'{"links":[{"rel":', "more_body": True})
        # Returning without the final body chunk makes the server abort the connection.


class Guard:
    """Wraps a handler with the account's concurrency gate, latency, TBA verification and injected faults."""

    def __init__(self, sim):
        self.sim = sim
        c = sim.credentials
        self.verifier = TbaVerifier(sim.config.netsuite_account_id, c.netsuite_consumer_key,
                                    c.netsuite_consumer_secret, c.netsuite_token_id, c.netsuite_token_secret)

    def __call__(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            gate = self.sim.netsuite_gate
            # The `429` fault refuses the call at the gate, as the account does when its limit is in use.
            if self.sim.dice.roll("rate_429") or not gate.try_enter():
                return NsError(429, "CONCURRENCY_LIMIT_EXCEEDED",
                               "Concurrent request limit exceeded. Request blocked.").response()
            operation_id = uuid.uuid4().hex
            try:
                response = await self._guarded(request, handler, operation_id)
            except NsError as exc:
                response = exc.response()
            except ClientDisconnect:  # the client went away mid-request (an app closing): nobody to answer
                return Response(status_code=499)
            finally:
                gate.leave()
            response.headers["X-N-OperationId"] = operation_id
            return response

        return endpoint

    async def _guarded(self, request: Request, handler: Handler, operation_id: str) -> Response:
        config = self.sim.config
        if config.latency_ms:
            await asyncio.sleep(config.latency_ms / 1000)
        refusal = self.verifier.refusal(request.method, str(request.url), request.headers.get("host", ""),
                                        request.url.query, request.headers.get("authorization"))
        if refusal:
            log.info("NetSuite login refused (%s) for %s %s", refusal, request.method, request.url.path)
            raise NsError(401, "INVALID_LOGIN", INVALID_LOGIN)
        dice = self.sim.dice
        if dice.roll("reset"):
            return DroppedConnection()
        if dice.roll("timeout"):
            await asyncio.sleep(config.faults.timeout_hold_s)
            raise NsError(504, "GATEWAY_TIMEOUT", "The request timed out before the server answered.")
        if dice.roll("http_5xx"):
            status = dice.choice([500, 502, 503])
            raise NsError(status, "UNEXPECTED_ERROR",
                          f"An unexpected error occurred. Error ID: {operation_id}")
        return await handler(request, operation_id)


# ---- request parsing ------------------------------------------------------------------------------------------

def _int_param(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if value < low or (high is not None and value > high):
        span = f"between {low} and {high}" if high is not None else f"{low} or more"
        raise NsError(400, "INVALID_PARAMETER", f"Invalid '{name}' parameter value {raw!r}: use a whole number "
                      f"{span}.", errorQueryParam=name)
    return value


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise NsError(400, "INVALID_CONTENT", "The request body is not valid JSON.") from None


# ---- SuiteQL --------------------------------------------------------------------------------------------------

def _page_links(request: Request, limit: int, offset: int, reachable: int, has_more: bool) -> list[dict]:
    def href(at: int) -> str:
        return str(request.url.replace(query=f"limit={limit}&offset={at}"))

    links = []
    if offset > 0:
        links += [{"rel": "first", "href": href(0)}, {"rel": "prev", "href": href(max(0, offset - limit))}]
    if has_more:
        links += [{"rel": "next", "href": href(offset + limit)},
                  {"rel": "last", "href": href((reachable - 1) // limit * limit)}]
    return [*links, {"rel": "self", "href": href(offset)}]


def suiteql_handler(sim) -> Handler:
    async def suiteql(request: Request, operation_id: str) -> Response:
        if "transient" not in request.headers.get("prefer", "").lower():
            raise NsError(400, "INVALID_HEADER", "SuiteQL queries need the header 'Prefer: transient'.",
                          errorHeader="Prefer")
        limit = _int_param(request, "limit", MAX_PAGE, 1, MAX_PAGE)
        offset = _int_param(request, "offset", 0, 0, None)
        if offset + limit > MAX_RESULTS:
            raise NsError(400, "INVALID_PARAMETER",
                          f"A SuiteQL query returns at most {MAX_RESULTS} results (offset {offset} + limit {limit} "
                          "is beyond that). Page by id instead: WHERE id > <last id> ORDER BY id.",
                          errorQueryParam="offset")
        body = await _json_body(request)
        q = body.get("q") if isinstance(body, dict) else None
        if not isinstance(q, str) or not q.strip():
            raise NsError(400, "INVALID_CONTENT", 'The body must be JSON like {"q": "SELECT id FROM transaction"}.')
        try:
            page = await run_in_threadpool(run_page, sim.store, q, limit=limit, offset=offset)
        except SuiteQLError as exc:
            raise NsError(400, "INVALID_PARAMETER", str(exc)) from None
        reachable = min(page.total, MAX_RESULTS)
        has_more = offset + len(page.items) < reachable
        return JSONResponse({
            "links": _page_links(request, limit, offset, reachable, has_more),
            "count": len(page.items), "hasMore": has_more, "offset": offset, "totalResults": page.total,
            "items": [{"links": [], **item} for item in page.items],
        })

    return suiteql


# ---- customerPayment record -----------------------------------------------------------------------------------

def _payment_id(request: Request) -> int:
    record_type = request.path_params["record_type"]
    if record_type.lower() != RECORD.lower():
        raise NsError(404, "INVALID_RCRD_TYPE",
                      f"Record type '{record_type}' is not served by the simulator; it serves {RECORD}.")
    raw = request.path_params["record_id"]
    if not raw.isdigit():
        raise NsError(404, "NONEXISTENT_ID", NONEXISTENT)
    return int(raw)


def record_handler(sim) -> Handler:
    async def record(request: Request, operation_id: str) -> Response:
        payment_id = _payment_id(request)
        base_url = str(request.base_url).rstrip("/")
        if request.method == "GET":
            found = await run_in_threadpool(read_customer_payment, sim.store, payment_id, base_url)
            if found is None:
                raise NsError(404, "NONEXISTENT_ID", NONEXISTENT)
            return JSONResponse(found)
        try:
            changes = payment_changes(await _json_body(request))
        except ValueError as exc:
            raise NsError(400, "INVALID_CONTENT", f"Invalid request body: {exc}.") from None
        changed = await run_in_threadpool(update_customer_payment, sim.store, payment_id, changes,
                                          request_id=operation_id)
        if changed is None:
            raise NsError(404, "NONEXISTENT_ID", NONEXISTENT)
        return Response(status_code=204,
                        headers={"Location": f"{base_url}{RECORD_PATH}/{RECORD}/{payment_id}"})

    return record


def routes(sim) -> list[Route]:
    guard = Guard(sim)
    return [
        Route(SUITEQL_PATH, guard(suiteql_handler(sim)), methods=["POST"]),
        Route(RECORD_PATH + "/{record_type}/{record_id}", guard(record_handler(sim)), methods=["GET", "PATCH"]),
    ]
