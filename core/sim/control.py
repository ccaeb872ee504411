"""The simulator's /_sim/ stand-ins, called over HTTP: what a person or Zuora Support does during a rehearsal.

`SimControl(base_url, token)` takes the simulator's base URL and an async callable returning a Zuora bearer
token (`ZuoraClient.token` reuses the run's own). No retries: a stand-in call is an action a person would take
once, and a refusal (409: the migration already ran) must surface as it is, with the simulator's message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from core.errors import ApiError

SYSTEM = "Simulator"


@dataclass(frozen=True)
class NewOAuthClient:
    """An OAuth client made in the Zuora UI stand-in; the secret is shown once and kept in memory only."""

    client_id: str
    client_secret: SecretStr
    name: str


class SimControl(AbstractAsyncContextManager):
    def __init__(self, base_url: str, token: Callable[[], Awaitable[str]], *, timeout: float = 300.0):
        self._token = token
        # A Run Now answers when the run ends, and a migration when it is done: both can take a while.
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/") + "/_sim", timeout=timeout)

    def __repr__(self) -> str:
        return f"SimControl({str(self._http.base_url)!r})"

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, body: dict | None = None, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {await self._token()}"}
        try:
            response = await self._http.request(method, path, json=body, params=params or None, headers=headers)
        except httpx.TransportError as exc:
            raise ApiError(None, f"{method} /_sim{path} got no answer ({type(exc).__name__})", system=SYSTEM,
                           hint="is the simulator still running?") from None
        if response.status_code == 204:
            return None
        try:
            answer = response.json()
        except ValueError:
            answer = {"message": response.text[:200]}
        if response.status_code >= 400:
            message = answer.get("message") if isinstance(answer, dict) else None
            raise ApiError(None, f"{method} /_sim{path}: {message or f'HTTP {response.status_code}'}",
                           status=response.status_code, system=SYSTEM)
        return answer

    # ---- Zuora Support and the Zuora UI ---------------------------------------------------------------------
    async def scenario(self) -> dict[str, Any]:
        return await self._call("GET", "/scenario")

    async def migrate_invoice_settlement(self) -> dict[str, Any]:
        """D1: Support runs the IS data migration; the answer is its summary (dates, counts)."""
        return await self._call("POST", "/zuora/migrate-invoice-settlement")

    async def create_oauth_client(self, name: str) -> NewOAuthClient:
        made = await self._call("POST", "/zuora/oauth-clients", {"name": name})
        return NewOAuthClient(made["client_id"], SecretStr(made["client_secret"]), made["name"])

    async def set_override_tta(self, allowed: bool) -> dict[str, Any]:
        """A Zuora admin gives or takes the API user's "Override Transferred to Accounting" permission."""
        return await self._call("PUT", "/zuora/permissions", {"override_transferred_to_accounting": allowed})

    # ---- the connector (Connect UI: Run Now, Scheduler, instances, Advanced Settings) -------------------------
    async def run_connector(self) -> dict[str, Any]:
        """Run Now; answers with the run's summary when it ends (status completed, stopped or skipped)."""
        return await self._call("POST", "/connector/run")

    async def stop_connector(self, instance_id: str | None = None) -> dict[str, Any]:
        """Stop an instance (the current one by default): C7 for the old one."""
        return await self._call("POST", "/connector/stop", {"instance_id": instance_id} if instance_id else None)

    async def start_connector(self, instance_id: str | None = None) -> dict[str, Any]:
        return await self._call("POST", "/connector/start", {"instance_id": instance_id} if instance_id else None)

    async def connector_errors(self, record_id: str | None = None, limit: int | None = None
                               ) -> list[dict[str, Any]]:
        """The connector's error log (its Warning log on a real tenant): the latest message per failed record,
        newest first, or one record's (`record_id`: the Zuora id, or the NetSuite internal id). Read-only."""
        params = {k: v for k, v in (("record_id", record_id), ("limit", limit)) if v is not None}
        return (await self._call("GET", "/connector/errors", **params))["errors"]

    async def tick(self) -> list[dict[str, Any]]:
        """Time passes: every running instance has its scheduled run. The answer is one summary per run."""
        return (await self._call("POST", "/connector/tick"))["runs"]

    async def instances(self) -> list[dict[str, Any]]:
        return (await self._call("GET", "/connector/instances"))["instances"]

    async def current_instance(self) -> dict[str, Any] | None:
        return next((i for i in await self.instances() if i["current"]), None)

    async def create_instance(self, oauth_client_id: str, environment: str = "production") -> dict[str, Any]:
        """F3b, and the Account ID / Environment ID Support hands back for it (F4)."""
        return await self._call("POST", "/connector/instances",
                                {"oauth_client_id": oauth_client_id, "environment": environment})

    async def update_instance(self, instance_id: str, **changes: Any) -> dict[str, Any]:
        """F3a (`oauth_client_id=`), I1 (`status="retired"`), or `current=True`."""
        return await self._call("PUT", f"/connector/instances/{instance_id}", changes)

    async def cutover_dates(self) -> dict[str, str | None]:
        return (await self._call("GET", "/connector/cutover-dates"))["cutover_dates"]

    async def set_cutover_dates(self, **dates: str | None) -> dict[str, str | None]:
        return (await self._call("PUT", "/connector/cutover-dates", dates))["cutover_dates"]

    async def update_boomi_credentials(self, oauth_client_id: str) -> dict[str, Any]:
        """F4: Support points the NetSuite-to-Zuora payment sync's stored credentials at the new OAuth client."""
        return await self._call("PUT", "/support/boomi-credentials", {"oauth_client_id": oauth_client_id})

    # ---- the person who fixes data, and the tenant's own life ------------------------------------------------
    async def fix_at_source(self, step: str) -> dict[str, Any]:
        """What a person fixes in the vendors' UIs so a step's check can pass (V1-V6, B3, C2-C5)."""
        return await self._call("POST", "/people/fix-source", {"step": step})

    async def clear_integration_status(self, count: int = 2) -> dict[str, Any]:
        """A person clears the connector's fields on synced invoices and payments "to force a resync" (R8.9)."""
        return await self._call("POST", "/people/clear-integration-status", {"count": count})

    async def tenant_traffic(self, count: int = 3) -> dict[str, Any]:
        """A day of business after go-live: new memos, payments and a refund in Zuora, payments in NetSuite."""
        return await self._call("POST", "/tenant/traffic", {"count": count})

    # ---- NetSuite UI ------------------------------------------------------------------------------------------
    async def set_field_default(self, field: str, value: str | None) -> dict[str, Any]:
        """G1: Customization > Transaction Body Fields > Validation & Defaulting."""
        return await self._call("PUT", "/netsuite/field-default", {"field": field, "value": value})

    async def enter_netsuite_payments(self, count: int, payment_method: str = "Check", backdate_days: int = 0
                                      ) -> list[dict[str, Any]]:
        """Customer payments typed into NetSuite now, each paying one open invoice that came from Zuora;
        `backdate_days` dates them that many days back."""
        made = await self._call("POST", "/netsuite/payments", {"count": count, "payment_method": payment_method,
                                                               "backdate_days": backdate_days})
        return made["payments"]
