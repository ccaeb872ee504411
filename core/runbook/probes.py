"""Checks that are API probes rather than counts: IS on/off, connector fields, a new OAuth client, the journal.

Each probe gets the step, the QueryContext, the clients, and the result of the step's counted parts (or None when
it has none) and returns the step's CheckResult.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from core.errors import AuthError
from core.runbook.checks import Clients, QueryContext, need_zuora
from core.runbook.model import CheckResult, Status, Step

CONNECTOR_OBJECTS = ("Invoice", "Payment", "InvoiceItemAdjustment")
MEMO_FIELDS = ("IntegrationId__NS", "IntegrationStatus__NS", "SyncDate__NS", "Origin__NS", "Transaction__NS")

Probe = Callable[[Step, QueryContext, Clients, CheckResult | None], Awaitable[CheckResult]]


async def _missing_fields(systems: Clients, objects: tuple[str, ...], wanted: tuple[str, ...]) -> list[dict]:
    """One row per object: which of the wanted fields `GET /v1/describe/{object}` lacks."""
    rows = []
    for obj in objects:
        names = {f.name for f in await need_zuora(systems).describe(obj)}
        rows.append({"object": obj, "missing": ", ".join(f for f in wanted if f not in names)})
    return rows


async def invoice_settlement_off(step: Step, ctx: QueryContext, systems: Clients, _: CheckResult | None
                                 ) -> CheckResult:
    """A1: IS is not on yet, and the connector's IntegrationId__NS exists on Invoice, Payment and IIA."""
    is_on = await need_zuora(systems).invoice_settlement_enabled()
    ctx.invoice_settlement = is_on
    rows = await _missing_fields(systems, CONNECTOR_OBJECTS, ("IntegrationId__NS",))
    lacking = [r["object"] for r in rows if r["missing"]]
    sample = ({"object": "Invoice Settlement", "missing": "", "state": "on" if is_on else "off"},
              *({**r, "state": "connector fields " + ("missing" if r["missing"] else "present")} for r in rows))
    if lacking:
        status, summary = Status.FAIL, f"The connector is not installed: no IntegrationId__NS on {', '.join(lacking)}"
    elif is_on and ctx.variables.is_enabled_ts is None:
        status, summary = Status.FAIL, "Invoice Settlement is already on; this runbook starts before the migration"
    elif is_on:
        status, summary = Status.PASS, f"Invoice Settlement on since {ctx.variables.is_enabled_ts:%Y-%m-%d %H:%M}Z"
    else:
        status, summary = Status.PASS, "Invoice Settlement is off and the connector is installed"
    return CheckResult(step.id, status, len(lacking) + int(status is Status.FAIL and not lacking), summary,
                       sample=sample, query="GET /v1/credit-memos?pageSize=1; GET /v1/describe/{Invoice,Payment,"
                                            "InvoiceItemAdjustment}")


async def invoice_settlement_on(step: Step, ctx: QueryContext, systems: Clients, _: CheckResult | None
                                ) -> CheckResult:
    """D1: poll the IS probe until Support has turned IS on."""
    is_on = await need_zuora(systems).invoice_settlement_enabled()
    ctx.invoice_settlement = is_on
    if is_on:
        return CheckResult(step.id, Status.PASS, 0, "Invoice Settlement is on",
                           query="GET /v1/credit-memos?pageSize=1")
    return CheckResult(step.id, Status.NEEDS_ACTION, 1,
                       "Invoice Settlement is still off: Support runs the migration after the D1 ticket",
                       query="GET /v1/credit-memos?pageSize=1")


async def memo_fields(step: Step, ctx: QueryContext, systems: Clients, counted: CheckResult | None) -> CheckResult:
    """D2, after the counts: CreditMemo and DebitMemo carry the connector fields."""
    assert counted is not None
    rows = await _missing_fields(systems, ("CreditMemo", "DebitMemo"), MEMO_FIELDS)
    lacking = [f"{r['object']} lacks {r['missing']}" for r in rows if r["missing"]]
    query = counted.query + ";\nGET /v1/describe/CreditMemo; GET /v1/describe/DebitMemo"
    if not lacking:
        return replace(counted, query=query)
    return replace(counted, status=Status.FAIL, summary="; ".join([counted.summary, *lacking]), query=query,
                    sample=tuple(rows) + counted.sample)


async def oauth_token(step: Step, ctx: QueryContext, systems: Clients, _: CheckResult | None) -> CheckResult:
    """F1: the new OAuth client gets a token from POST /oauth/token. Its secret is typed, held in memory only."""
    from core.zuora import ZuoraClient

    client_id = ctx.var("new_oauth_client_id")
    secret = ctx.secrets.get("new_oauth_client_secret")
    query = "POST /oauth/token (client_credentials, the new client)"
    if secret is None:
        return CheckResult(step.id, Status.NEEDS_ACTION, None,
                           "Type the new client's secret to test it: cutover check F1 --oauth-secret", query=query)
    if not ctx.zuora_base_url:
        return CheckResult(step.id, Status.NEEDS_ACTION, None, "The profile has no Zuora base URL", query=query)
    async with ZuoraClient(ctx.zuora_base_url, client_id, secret, retry_attempts=2) as client:
        try:
            await client.token()
        except AuthError as exc:
            return CheckResult(step.id, Status.FAIL, 1, f"The new OAuth client was refused: {exc.message}",
                               query=query)
    return CheckResult(step.id, Status.PASS, 0, f"OAuth client {client_id} gets a token", query=query)


async def journal_complete(step: Step, ctx: QueryContext, systems: Clients, _: CheckResult | None) -> CheckResult:
    """I2: every other applicable step passes, so the report can be signed off."""
    states = ctx.step_states() if ctx.step_states else []
    open_steps = [s for s in states if s.step.id != step.id and s.applicable and s.status is not Status.PASS
                  and not s.step.children]
    sample = tuple({"id": s.step.id, "status": str(s.status), "summary": s.summary} for s in open_steps[:20])
    if open_steps:
        return CheckResult(step.id, Status.NEEDS_ACTION, len(open_steps),
                           f"{len(open_steps)} steps do not pass yet", sample=sample, query="journal")
    return CheckResult(step.id, Status.PASS, 0, "Every step passes: the run is ready for sign-off", query="journal")


PROBES: dict[str, Probe] = {
    "invoice_settlement_off": invoice_settlement_off,
    "invoice_settlement_on": invoice_settlement_on,
    "memo_fields": memo_fields,
    "oauth_token": oauth_token,
    "journal_complete": journal_complete,
}
