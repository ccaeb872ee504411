"""The simulated tenant: Zuora, NetSuite and the connector behind one Starlette app.

Vendor routes live in `zuora_api` and `netsuite_api`; the stand-ins for Zuora Support and UI actions live in
`admin_api` under `/_sim/`, apart from them. `Simulator` owns the state every route shares: the store, the
credentials it accepts, the tokens it issued, the concurrency gates and the fault dice.

What no route answers (an unknown path, a wrong method, a handler's unexpected exception) is answered in the JSON
error shape of the vendor whose path it is under, never in Starlette's text/plain: NetSuite's under
`/services/rest/`, the stand-ins' under `/_sim/`, Zuora's everywhere else.
"""

from __future__ import annotations

import secrets
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount

from core.sim.config import SimConfig
from core.sim.limits import ConcurrencyGate, FaultDice
from core.sim.store import Store, now_ts


@dataclass(frozen=True)
class SimCredentials:
    """Fresh random credentials at each start; printed once by `cutover sim serve`, kept nowhere else."""

    zuora_client_id: str
    zuora_client_secret: str
    netsuite_consumer_key: str
    netsuite_consumer_secret: str
    netsuite_token_id: str
    netsuite_token_secret: str

    @classmethod
    def generate(cls) -> SimCredentials:
        return cls(
            zuora_client_id=str(uuid.uuid4()),
            zuora_client_secret=secrets.token_urlsafe(30)[:40],
            netsuite_consumer_key=secrets.token_hex(32),
            netsuite_consumer_secret=secrets.token_hex(32),
            netsuite_token_id=secrets.token_hex(32),
            netsuite_token_secret=secrets.token_hex(32),
        )


def _allowed(routes: list[BaseRoute], scope: dict) -> set[str]:
    """Every method some route of this path takes (what a 405's Allow header lists)."""
    methods: set[str] = set()
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        if isinstance(route, Mount):
            methods |= _allowed(route.routes, {**scope, **child})
        else:
            methods |= getattr(route, "methods", None) or set()
    return methods


@dataclass
class Token:
    client_id: str
    expires_at: float


class Simulator:
    def __init__(self, config: SimConfig | None = None, data_dir: Path | str | None = None, *,
                 seed_data: bool = True):
        self.config = config or SimConfig()
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="cutover-sim-")
            data_dir = self._tmp.name
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(self.data_dir / "tenant.db")
        self.credentials = SimCredentials.generate()
        self.store.execute(
            "INSERT OR REPLACE INTO sim_oauth_client(client_id, client_secret, name, active, created) "
            "VALUES (?,?,?,1,?)",
            (self.credentials.zuora_client_id, self.credentials.zuora_client_secret, "cutover", now_ts()),
        )
        self.zuora_gate = ConcurrencyGate("Default", self.config.zuora_concurrency)
        self.object_query_gate = ConcurrencyGate("Object Query", self.config.object_query_concurrency)
        self.netsuite_gate = ConcurrencyGate("NetSuite", self.config.netsuite_concurrency)
        self.dice = FaultDice(self.config.faults)
        self.tokens: dict[str, Token] = {}
        self.base_url = "http://127.0.0.1"  # set by the server once it has a port
        from core.sim.connector import Connector  # late: the connector needs a built simulator

        self.connector = Connector(self)
        if not self.config.override_tta:
            from core.sim.credit_memos import OVERRIDE_TTA

            self.store.set_setting(OVERRIDE_TTA, False)
        if seed_data and self.config.twin:
            from core.sim.twin_load import load_twin

            load_twin(self.store, self.config.twin)
        elif seed_data:
            from core.sim.scenario import seed_tenant

            seed_tenant(self.store, seed=self.config.seed, invoices=self.config.scale)
            if self.config.harmonization:
                self.store.set_setting("harmonization", True)
        self._app: Starlette | None = None

    # ---- Zuora OAuth ----------------------------------------------------------------------------------------
    def issue_token(self, client_id: str, client_secret: str) -> dict | None:
        row = self.store.query_one(
            "SELECT client_secret, active FROM sim_oauth_client WHERE client_id = ?", (client_id,))
        if row is None or not row["active"] or not secrets.compare_digest(row["client_secret"], client_secret):
            return None
        token = secrets.token_hex(16)
        self.tokens[token] = Token(client_id, time.monotonic() + self.config.token_ttl_s)
        return {"access_token": token, "token_type": "bearer", "expires_in": self.config.token_ttl_s,
                "scope": f"user.{uuid.uuid4()} entity.{uuid.uuid4()} service.echo.read tenant.19",
                "jti": secrets.token_hex(16)}

    def bearer_ok(self, request: Request) -> bool:
        """True when the request carries a live token of an active OAuth client."""
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer":
            return False
        info = self.tokens.get(token.strip())
        if info is None or info.expires_at < time.monotonic():
            return False
        active = self.store.scalar("SELECT active FROM sim_oauth_client WHERE client_id = ?", (info.client_id,))
        return bool(active)

    def expire_tokens(self) -> None:
        """Every issued token stops working now (the 'token expiry mid-run' case)."""
        for t in self.tokens.values():
            t.expires_at = 0

    # ---- the ASGI app ---------------------------------------------------------------------------------------
    @property
    def app(self) -> Starlette:
        if self._app is None:
            from core.sim import admin_api, netsuite_api, zuora_api

            self._app = Starlette(routes=[*zuora_api.routes(self), *netsuite_api.routes(self),
                                          *admin_api.routes(self)],
                                  exception_handlers={HTTPException: self._route_error, 500: self._route_error})
            self._app.router.redirect_slashes = False  # the vendors answer a stray slash with a 404, not a 307
        return self._app

    async def _route_error(self, request: Request, exc: Exception) -> Response:
        """The router's 404 (no such path) and 405 (wrong method), and a handler's unexpected exception (500), in
        the JSON error shape of the vendor whose path prefix it is under."""
        from core.sim import admin_api, netsuite_api
        from core.sim.zuora_http import UNKNOWN_RESOURCE, Family, Fault, ZuoraCall, track_headers

        status = exc.status_code if isinstance(exc, HTTPException) and exc.status_code in (404, 405) else 500
        path, method = request.scope["path"], request.method
        headers: dict[str, str] = {}
        if status == 405:
            # Starlette's Allow names the first route of the path only, and a path has one route per method here.
            # Matched from the top again: by now a mount has moved its prefix into the scope's root_path.
            scope = {"type": "http", "path": path, "root_path": "", "method": method}
            headers["Allow"] = ", ".join(sorted(_allowed(request.app.routes, scope)))
        message = {404: f"Nothing is served at {path}: check the path and its spelling.",
                   405: f"{method} is not allowed on {path}; it accepts {headers.get('Allow', 'other methods')}.",
                   }.get(status, "An unexpected error occurred in the simulator; see its log.")
        if (path + "/").startswith(netsuite_api.SERVICES_PATH + "/"):
            # The error codes of an unknown URL and a wrong method are not documented; these are ours.
            code = {404: "INVALID_URL", 405: "METHOD_NOT_ALLOWED"}.get(status, "UNEXPECTED_ERROR")
            response: Response = netsuite_api.NsError(status, code, message, urlPath=path).response()
            headers["X-N-OperationId"] = uuid.uuid4().hex
        elif (path + "/").startswith("/_sim/"):
            response = admin_api._error(status, message)
        else:
            # Forced statuses: the gateway answers 404/405 whatever the Zuora-Version (legacy v1 errors are 200).
            call = ZuoraCall(self, request, Family.V1, UNKNOWN_RESOURCE)
            response = call.fault_response(Fault({404: 40, 405: 45}.get(status, 60), message, status=status))
            headers |= track_headers(request, call.request_id)
        response.headers.update(headers)
        return response

    def connection_info(self) -> dict[str, str]:
        """The first stdout line of `cutover sim serve`."""
        c = self.credentials
        return {
            "zuora_base_url": self.base_url,
            "netsuite_base_url": self.base_url,
            "netsuite_account_id": self.config.netsuite_account_id,
            "zuora_client_id": c.zuora_client_id,
            "zuora_client_secret": c.zuora_client_secret,
            "netsuite_consumer_key": c.netsuite_consumer_key,
            "netsuite_consumer_secret": c.netsuite_consumer_secret,
            "netsuite_token_id": c.netsuite_token_id,
            "netsuite_token_secret": c.netsuite_token_secret,
        }

    def close(self) -> None:
        self.connector.stop_schedule()
        self.store.close()
        if getattr(self, "_tmp", None) is not None:
            self._tmp.cleanup()
