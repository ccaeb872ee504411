"""What every simulated Zuora route shares: auth, the concurrency gate, latency, injected faults, the request and
track ids, and the error shapes of apis.md A3/A4.

Handlers are plain functions `handler(call) -> Response` run in one handler thread (the store is synchronous), and
raise `Fault` for errors. Each route family (v1 REST, Actions query, Data Query, Object Query) renders a fault in
its own shape, so a handler only says what went wrong: a category and a message.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from core.sim.limits import ConcurrencyGate

# apis.md A3: the HTTP status of each error category from Zuora-Version 2024-05-20.
CATEGORY_STATUS = {10: 403, 11: 401, 20: 400, 21: 400, 22: 400, 23: 400, 27: 400, 30: 400, 40: 404, 45: 405,
                   50: 409, 60: 500, 61: 500, 70: 429, 90: 400, 99: 500}
STATUS_VERSION = "2024-05-20"
UNKNOWN_RESOURCE = 500000  # the resource part of a code when the resource is unknown (apis.md A4)
WWW_AUTHENTICATE = "Basic realm=Zuora API, ZSession realm=Zuora API, Bearer realm=Zuora API"
TOO_MANY = ("Your total number of concurrent requests have exceeded the limit allowed by the system. "
            "Please resubmit your request later.")
# Actions query faultcodes by category (apis.md A4 shape 3).
FAULTCODES = {20: "INVALID_VALUE", 21: "INVALID_FIELD", 22: "INVALID_VALUE", 23: "INVALID_VALUE",
              30: "INVALID_VALUE", 40: "INVALID_ID", 50: "LOCK_COMPETITION", 60: "UNKNOWN_ERROR",
              61: "TEMPORARY_ERROR", 70: "REQUEST_EXCEEDED_LIMIT", 90: "MALFORMED_QUERY", 99: "UNKNOWN_ERROR"}
_TRACK_ID = re.compile(r"^[\x20-\x7e]{1,64}$")
# Handlers run one at a time in one thread, in arrival order: the store is one connection behind one lock, so more
# threads only fight over it and the GIL. A plain executor hop is also far cheaper than anyio's run_in_threadpool
# (bulk benchmark ratio ~1.2 -> ~1.07).
_HANDLER_THREAD = ThreadPoolExecutor(1, thread_name_prefix="sim-zuora-handler")


class Family(Enum):
    V1 = "v1"  # {"success":false,"reasons":[...]}; status by Zuora-Version
    ACTIONS = "actions"  # {"faultcode","faultstring"}
    DATA_QUERY = "data_query"  # {"code":<http status>,"message"}
    OBJECT_QUERY = "object_query"  # {"reasons":[{"code":<int>}],"requestId"}


class Fault(Exception):
    """An error the route answers; `category` is the two-digit Zuora error category."""

    def __init__(self, category: int, message: str, *, resource: int | None = None, status: int | None = None,
                 faultcode: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.category = category
        self.message = message
        self.resource = resource
        self.status = status  # forced HTTP status (gateway-level failures ignore Zuora-Version)
        self.faultcode = faultcode
        self.headers = headers or {}

    def code(self, resource: int) -> int:
        """The 8-digit code: a 6-digit resource plus the 2-digit category."""
        return (self.resource or resource) * 100 + self.category


class JSONAnswer(JSONResponse):
    """JSON rendered by orjson: a 50-memo bulk answer costs a tenth of json.dumps, and the bulk benchmark needs
    the simulator that cheap."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def process_id() -> str:
    return secrets.token_hex(8).upper()


def new_request_id() -> str:
    return str(uuid.uuid4())


def json_body(raw: bytes) -> Any:
    """The request's JSON, or a category-90 fault that says what is wrong with it."""
    if not raw.strip():
        raise Fault(90, "The request body is empty; send a JSON object.")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Fault(90, f"The request body is not valid JSON: {exc}.") from None


def modern_errors(version: str) -> bool:
    """Date versions from 2024-05-20 map categories to HTTP statuses; numbered (legacy) versions answer 200."""
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", version)) and version >= STATUS_VERSION


@dataclass
class ZuoraCall:
    """One request as a handler sees it: the parsed bits, the ids, and the simulator."""

    sim: Any
    request: Request
    family: Family
    resource: int
    request_id: str = field(default_factory=new_request_id)
    body: bytes = b""

    @property
    def version(self) -> str:
        return self.request.headers.get("zuora-version") or self.sim.config.default_zuora_version

    @property
    def store(self):
        return self.sim.store

    @property
    def query(self):
        return self.request.query_params

    def path(self, name: str) -> str:
        return self.request.path_params[name]

    def json(self) -> Any:
        return json_body(self.body)

    def fault_response(self, fault: Fault) -> Response:
        cat, msg = fault.category, fault.message
        code = fault.code(self.resource)
        status = fault.status or CATEGORY_STATUS.get(cat, 400)
        if self.family is Family.V1:
            if fault.status is None and not modern_errors(self.version):
                status = 200
            body: dict = {"success": False, "processId": process_id(),
                          # The contract (2026 spec) types code as a string; the docs show an integer.
                          "reasons": [{"code": str(code), "message": msg}], "requestId": self.request_id}
        elif self.family is Family.ACTIONS:
            if fault.status is None:
                status = 429 if cat == 70 else 400
            body = {"faultcode": f"fns:{fault.faultcode or FAULTCODES.get(cat, 'UNKNOWN_ERROR')}",
                    "faultstring": msg}
        elif self.family is Family.DATA_QUERY:
            body = {"code": status, "message": msg}
        else:
            body = {"reasons": [{"code": code, "message": msg}], "requestId": self.request_id}
        return JSONAnswer(body, status_code=status, headers=fault.headers)


class ResetResponse(Response):
    """The `reset` fault: headers and part of the body go out, then the server closes the connection. Returning
    without the final body chunk makes uvicorn abort it; raising instead would print a traceback for a fault
    that was injected on purpose."""

    async def __call__(self, scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")]})
        await send({"type": "http.response.body", "body": b'{"success":true,', "more_body": True})


def unauthorized() -> Response:
    return JSONAnswer({"message": "Authentication error"}, status_code=401,
                      headers={"WWW-Authenticate": WWW_AUTHENTICATE})


def _revoke(sim, request: Request) -> None:
    token = request.headers.get("authorization", "").partition(" ")[2].strip()
    sim.tokens.pop(token, None)


def _valid_track_id(track: str) -> bool:
    return bool(_TRACK_ID.match(track)) and not set(track) & set(":;\"'")


def track_headers(request: Request, request_id: str) -> dict[str, str]:
    """Zuora's request id, and the caller's track id echoed back when it is a valid one."""
    headers = {"Zuora-Request-Id": request_id}
    track = request.headers.get("zuora-track-id")
    if track and _valid_track_id(track):
        headers["Zuora-Track-Id"] = track
    return headers


def check_track_id(request: Request) -> None:
    track = request.headers.get("zuora-track-id")
    if track is not None and not _valid_track_id(track):
        raise Fault(90, "Zuora-Track-Id must be 1 to 64 US-ASCII characters without : ; \" or '.")


async def _serve(call: ZuoraCall, handler: Callable[[ZuoraCall], Response]) -> Response:
    sim, dice = call.sim, call.sim.dice
    late = sim.config.write_before_latency and call.family is Family.V1 and call.request.method == "PUT"
    if sim.config.latency_ms and not late:
        await asyncio.sleep(sim.config.latency_ms / 1000)
    try:
        if dice.roll("timeout"):
            await asyncio.sleep(sim.config.faults.timeout_hold_s)
            raise Fault(61, "Gateway timeout.", status=504)
        if dice.roll("http_5xx"):
            status = dice.choice([500, 502, 503])
            raise Fault(60 if status == 500 else 61, "An internal error occurred; retry the request later.",
                        status=status, headers={"Retry-After": "1"} if status == 503 else None)
        if dice.roll("reset"):
            return ResetResponse()
        call.body = await call.request.body()
        response = await asyncio.get_running_loop().run_in_executor(_HANDLER_THREAD, _authorised, call, handler)
        if late and sim.config.latency_ms:
            await asyncio.sleep(sim.config.latency_ms / 1000)  # the write has landed; its answer is on its way
        return response
    except Fault as fault:
        return call.fault_response(fault)


def _authorised(call: ZuoraCall, handler: Callable[[ZuoraCall], Response]) -> Response:
    """The token check and the handler in one trip to a worker thread (both read the store)."""
    if not call.sim.bearer_ok(call.request):
        return unauthorized()
    if call.sim.dice.roll("token_expiry"):
        _revoke(call.sim, call.request)  # an expired token stays expired, as on a real tenant
        return unauthorized()
    check_track_id(call.request)
    return handler(call)


def zuora_endpoint(sim, handler: Callable[[ZuoraCall], Response], *, family: Family = Family.V1,
                   resource: int = UNKNOWN_RESOURCE, gate: ConcurrencyGate | None = None):
    """Wrap a handler with auth, the concurrency gate (held for the whole request, latency included), latency,
    injected faults and the common response headers."""
    gate = gate or sim.zuora_gate

    async def endpoint(request: Request) -> Response:
        call = ZuoraCall(sim, request, family, resource)
        # The `429` fault refuses the call at the gate, as Zuora does when too many requests are in flight.
        if not sim.dice.roll("rate_429") and gate.try_enter():
            try:
                response = await _serve(call, handler)
                response.headers.update(_gate_headers(gate))
            except ClientDisconnect:  # the client went away mid-request (an app closing): nobody to answer
                return Response(status_code=499)
            finally:
                gate.leave()
        else:
            # v1 on a legacy Zuora-Version answers 200 + category 70; every other case is HTTP 429.
            response = call.fault_response(Fault(70, TOO_MANY, headers={"Retry-After": "1"}))
            response.headers.update(_gate_headers(gate))
        response.headers.update(track_headers(request, call.request_id))
        return response

    return endpoint


def _gate_headers(gate: ConcurrencyGate) -> dict[str, str]:
    return {"Concurrency-Limit-Type": gate.name, "Concurrency-Limit-Limit": str(gate.limit),
            "Concurrency-Limit-Remaining": str(gate.remaining)}
