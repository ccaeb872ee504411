"""Stand-ins for Zuora Support and the vendors' UIs, under /_sim/, apart from the vendor routes.

The rehearsal calls them where a person or a support ticket would act: run the IS migration, Run Now, stop the
old connector, create an instance or an OAuth client, set a NetSuite field default, type payments into NetSuite.
They accept the simulator's Zuora bearer token. Besides the migration and the connector's UI: the person who
fixes data at the source (`/people/fix-source`), Support updating the payment sync's stored credentials
(`/support/boomi-credentials`), the schedulers' turn (`/connector/tick`) and the tenant's own life after go-live
(`/tenant/traffic`). `GET /connector/errors` reads the connector's error log: the latest message per failed
record, what a real connector writes only to its Warning log (Logs > Download Logs). Errors are JSON
`{"success": false, "message": ...}` that say what to do.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from core.errors import CutoverError, NotFound
from core.sim import support
from core.sim.connector import ERROR_LOG_KEPT
from core.sim.hand_edits import clear_integration_status
from core.sim.migration import MigrationRefused, migrate_invoice_settlement
from core.sim.netsuite_user import enter_payments, set_field_default
from core.sim.source_fixes import fix_at_source
from core.sim.traffic import tenant_traffic

log = logging.getLogger(__name__)

WRITE_LOG_PAGE = 500
WRITE_LOG_MAX = 5000
ERRORS_PAGE = 50


class BadRequest(ValueError):
    pass


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"success": False, "message": message}, status_code=status)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise BadRequest("the body is not valid JSON: send a JSON object") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def _int(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    try:
        n = int(value)
    except ValueError:
        raise BadRequest(f"{name} must be a whole number, not {value!r}") from None
    if not low <= n <= high:
        raise BadRequest(f"{name} must be between {low} and {high}")
    return n


def _whole(body: dict[str, Any], name: str, default: int) -> int:
    value = body.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadRequest(f"{name} must be a whole number, e.g. {{\"{name}\": {default or 3}}}")
    return value


def _endpoint(sim, action: Callable[[Request, dict], Any], status: int = 200):
    """Bearer check, JSON body, the action in a worker thread (store work blocks), errors as JSON."""

    async def endpoint(request: Request) -> Response:
        if not sim.bearer_ok(request):
            return _error(401, "Authentication error: send `Authorization: Bearer <token>` with a token from "
                               "POST /oauth/token (the client id and secret are in the first line that "
                               "`cutover sim serve` prints)")
        try:
            body = await _body(request)
            result = await run_in_threadpool(action, request, body)
        except NotFound as exc:
            return _error(404, str(exc))
        except MigrationRefused as exc:
            return _error(409, str(exc))
        except (ValueError, CutoverError) as exc:
            return _error(400, str(exc))
        except Exception:  # a simulator bug: answered here, so the connection stays usable for the next call
            log.exception("%s %s failed", request.method, request.url.path)
            return _error(500, "An unexpected error occurred in the simulator; see its log.")
        if result is None:
            return Response(status_code=204)
        return JSONResponse(result, status_code=status)

    return endpoint


def routes(sim) -> list:
    store, connector = sim.store, sim.connector

    def migrate(request, body):
        return migrate_invoice_settlement(store)

    def create_client(request, body):
        return support.create_oauth_client(store, body.get("name"))

    def delete_client(request, body):
        support.delete_oauth_client(store, request.path_params["client_id"])

    def expire_tokens(request, body):
        sim.expire_tokens()
        return {"expired": len(sim.tokens)}

    def permissions(request, body):
        from core.sim.credit_memos import OVERRIDE_TTA, override_tta_allowed

        value = body.get("override_transferred_to_accounting")
        if not isinstance(value, bool):
            raise BadRequest('send {"override_transferred_to_accounting": true} or false')
        store.set_setting(OVERRIDE_TTA, value)
        return {"override_transferred_to_accounting": override_tta_allowed(store)}

    def run_now(request, body):
        return connector.run(trigger="run-now")

    def create_instance(request, body):
        return support.create_instance(store, environment=body.get("environment", "production"),
                                       oauth_client_id=body.get("oauth_client_id"),
                                       make_current=body.get("current", True) is not False)

    def update_instance(request, body):
        return support.update_instance(store, request.path_params["instance_id"], body)

    def field_default(request, body):
        if "field" not in body or "value" not in body:
            raise BadRequest('send {"field": "zuora_sync_updates", "value": "Yes"}')
        return set_field_default(store, body["field"], body["value"])

    def netsuite_payments(request, body):
        count, back = _whole(body, "count", 1), _whole(body, "backdate_days", 0)
        made = enter_payments(store, count, method=body.get("payment_method", "Check"), backdate_days=back)
        return {"payments": made, "requested": count, "entered": len(made)}

    def fix_source(request, body):
        if not isinstance(body.get("step"), str):
            raise BadRequest('send the step whose records to fix, e.g. {"step": "V1"}')
        return fix_at_source(store, body["step"])

    def clear_status(request, body):
        return clear_integration_status(store, _whole(body, "count", 2))

    def instance_state(state):
        def change(request, body):
            return connector.start(body.get("instance_id")) if state == "running" else \
                connector.stop(body.get("instance_id"))
        return change

    def boomi(request, body):
        if not isinstance(body.get("oauth_client_id"), str):
            raise BadRequest('send {"oauth_client_id": "..."}: the client the payment sync should sign in with')
        return support.update_boomi_credentials(store, body["oauth_client_id"])

    def traffic(request, body):
        return tenant_traffic(store, _whole(body, "count", 3))

    def scenario(request, body):
        summary = store.setting("scenario.summary") or {}
        return {"as_of": store.setting("scenario.as_of"), "freeze_date": store.setting("scenario.freeze_date"),
                "seed": summary.get("seed"), "invoices": summary.get("invoices"),
                "counts": summary.get("rows", {}), "cases": summary.get("cases", {}),
                "invoice_settlement": store.invoice_settlement, "is_enabled_ts": store.setting("is_enabled_ts")}

    def write_log(request, body):
        q = request.query_params
        since = _int(q.get("since"), "since", 0, 0, 2**62)
        limit = _int(q.get("limit"), "limit", WRITE_LOG_PAGE, 1, WRITE_LOG_MAX)
        conds, params = ["seq > ?"], [since]
        for name in ("object", "source", "system", "record_id"):
            if q.get(name):
                conds.append(f"{name} = ?")
                params.append(q[name])
        rows = store.query(f"SELECT * FROM sim_write_log WHERE {' AND '.join(conds)} ORDER BY seq LIMIT ?",
                           [*params, limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
        return {"entries": rows, "next_since": rows[-1]["seq"] if rows else since, "more": more}

    def connector_errors(request, body):
        q = request.query_params
        limit = _int(q.get("limit"), "limit", ERRORS_PAGE, 1, ERROR_LOG_KEPT)
        return {"errors": connector.errors(q.get("record_id") or None, limit)}

    def ep(action, status=200):
        return _endpoint(sim, action, status)

    return [Mount("/_sim", routes=[
        Route("/zuora/migrate-invoice-settlement", ep(migrate), methods=["POST"]),
        Route("/zuora/oauth-clients", ep(create_client, 201), methods=["POST"]),
        Route("/zuora/oauth-clients/{client_id}", ep(delete_client), methods=["DELETE"]),
        Route("/zuora/expire-tokens", ep(expire_tokens), methods=["POST"]),
        Route("/zuora/permissions", ep(permissions), methods=["PUT"]),
        Route("/connector/run", ep(run_now), methods=["POST"]),
        Route("/connector/stop", ep(instance_state("stopped")), methods=["POST"]),
        Route("/connector/start", ep(instance_state("running")), methods=["POST"]),
        Route("/connector/tick", ep(lambda r, b: {"runs": connector.tick()}), methods=["POST"]),
        Route("/connector/status", ep(lambda r, b: connector.status()), methods=["GET"]),
        Route("/connector/errors", ep(connector_errors), methods=["GET"]),
        Route("/connector/instances", ep(lambda r, b: {"instances": support.list_instances(store)}),
              methods=["GET"]),
        Route("/connector/instances", ep(create_instance, 201), methods=["POST"]),
        Route("/connector/instances/{instance_id}", ep(update_instance), methods=["PUT"]),
        Route("/connector/cutover-dates", ep(lambda r, b: {"cutover_dates": support.cutover_dates(store)}),
              methods=["GET"]),
        Route("/connector/cutover-dates",
              ep(lambda r, b: {"cutover_dates": support.set_cutover_dates(store, b)}), methods=["PUT"]),
        Route("/netsuite/field-default", ep(field_default), methods=["PUT"]),
        Route("/netsuite/payments", ep(netsuite_payments, 201), methods=["POST"]),
        Route("/people/fix-source", ep(fix_source), methods=["POST"]),
        Route("/people/clear-integration-status", ep(clear_status), methods=["POST"]),
        Route("/support/boomi-credentials", ep(lambda r, b: support.boomi_credentials(store)), methods=["GET"]),
        Route("/support/boomi-credentials", ep(boomi), methods=["PUT"]),
        Route("/tenant/traffic", ep(traffic, 201), methods=["POST"]),
        Route("/scenario", ep(scenario), methods=["GET"]),
        Route("/write-log", ep(write_log), methods=["GET"]),
    ])]
