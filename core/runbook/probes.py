"""Checks that are API probes rather than counts: IS on/off, connector fields, a new OAuth client, the journal,
and the per-customer credits H2 compares with D2's baseline. Each step names its probe as `Check(probe=...)`.

A probe gets the step, the QueryContext, the clients, and the result of the step's counted parts (or None when it
has none) and returns the step's CheckResult.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from core.errors import AuthError
from core.runbook.checks import ID_CHUNK, Clients, chunks, need_netsuite, need_zuora
from core.runbook.model import CheckResult, QueryContext, Status, Step
from core.runbook.sql import ar_mig_memos, in_netsuite
from core.sql_literals import quote
from core.words import plural

CONNECTOR_OBJECTS = ("Invoice", "Payment", "InvoiceItemAdjustment")
MEMO_FIELDS = ("IntegrationId__NS", "IntegrationStatus__NS", "SyncDate__NS", "Origin__NS", "Transaction__NS")
# D2's baseline for H2: NetSuite credit memos that came from negative invoices, per customer.
NEGATIVE_CREDITS = "netsuite-negative-invoice-credits-by-customer"
MORE_CREDITS = "customers with more negative-invoice credits than at D2"


async def _missing_fields(systems: Clients, objects: tuple[str, ...], wanted: tuple[str, ...]) -> list[dict]:
    """One row per object: which of the wanted fields `GET /v1/describe/{object}` lacks."""
    rows = []
    for obj in objects:
        names = {f.name for f in await need_zuora(systems).describe(obj)}
        rows.append({"object": obj, "missing": ", ".join(f for f in wanted if f not in names)})
    return rows


async def _harmonization(systems: Clients) -> bool:
    """Memos without payment parts: Invoice Settlement Harmonization, not IS (runbook R12) [INFERRED: the IS
    migration builds payment parts, ISH's own migration builds them FIFO later]."""
    tables = {str(next(iter(r.values()))).lower() for r in await need_zuora(systems).data_query_rows("SHOW TABLES")}
    return "creditmemo" in tables and "paymentpart" not in tables


async def settlement_state(systems: Clients) -> str:
    """"off", "harmonization" (memos without payment parts: the IS migration is still to come) or "on"."""
    if not await need_zuora(systems).invoice_settlement_enabled():
        return "off"
    return "harmonization" if await _harmonization(systems) else "on"


async def invoice_settlement_off(step: Step, ctx: QueryContext, systems: Clients, _: CheckResult | None
                                 ) -> CheckResult:
    """A1: IS is not on yet, and the connector's IntegrationId__NS exists on Invoice, Payment and IIA."""
    state = await settlement_state(systems)
    is_on, harmonized = state != "off", state == "harmonization"
    ctx.invoice_settlement = state == "on"
    rows = await _missing_fields(systems, CONNECTOR_OBJECTS, ("IntegrationId__NS",))
    lacking = [r["object"] for r in rows if r["missing"]]
    state = "harmonization (ISH)" if harmonized else "on" if is_on else "off"
    sample = ({"object": "Invoice Settlement", "missing": "", "state": state},
              *({**r, "state": "connector fields " + ("missing" if r["missing"] else "present")} for r in rows))
    if lacking:
        status, summary = Status.FAIL, f"The connector is not installed: no IntegrationId__NS on {', '.join(lacking)}"
    elif harmonized:
        status, summary = Status.NEEDS_ACTION, (
            "Invoice Settlement Harmonization is on: credit and debit memos already exist next to IIAs, but no "
            "payment parts. The checklist applies to ISH -> IS too; confirm the path with Support (B1) before "
            "going on, and expect A1's 'IS on' menus to show both sets")
    elif is_on and ctx.variables.is_enabled_ts is None:
        status, summary = Status.FAIL, "Invoice Settlement is already on; this runbook starts before the migration"
    elif is_on:
        status, summary = Status.PASS, f"Invoice Settlement on since {ctx.variables.is_enabled_ts:%Y-%m-%d %H:%M}Z"
    else:
        status, summary = Status.PASS, "Invoice Settlement is off and the connector is installed"
    return CheckResult(step.id, status, len(lacking) + int(status is not Status.PASS and not lacking), summary,
                       sample=sample, query="GET /v1/credit-memos?pageSize=1; SHOW TABLES; GET /v1/describe/"
                                            "{Invoice,Payment,InvoiceItemAdjustment}")


async def invoice_settlement_on(step: Step, ctx: QueryContext, systems: Clients, _: CheckResult | None
                                ) -> CheckResult:
    """D1: poll the IS probe until Support has turned IS on (ISH's memos alone are not IS)."""
    is_on = await settlement_state(systems) == "on"
    ctx.invoice_settlement = is_on
    if is_on:
        return CheckResult(step.id, Status.PASS, 0, "Invoice Settlement is on",
                           query="GET /v1/credit-memos?pageSize=1")
    return CheckResult(step.id, Status.NEEDS_ACTION, 1,
                       "Invoice Settlement is still off: Support runs the migration after the D1 ticket",
                       query="GET /v1/credit-memos?pageSize=1")


async def _negative_credits(ctx: QueryContext, systems: Clients) -> Counter[str]:
    """NetSuite credit memos typed NEGATIVE_INVOICE, per customer (entity)."""
    q = (f"SELECT t.entity AS entity, COUNT(*) AS n FROM transaction t WHERE t.type = 'CustCred' "
         f"AND t.{ctx.ns('zuora_type')} = 'NEGATIVE_INVOICE' GROUP BY t.entity")
    return Counter({str(r["entity"]): int(r["n"]) for r in await need_netsuite(systems).suiteql_rows(q)})


async def migration_output(step: Step, ctx: QueryContext, systems: Clients, counted: CheckResult | None
                           ) -> CheckResult:
    """D2, after the counts: the memos carry the connector fields, and NetSuite's credits per customer are kept.

    CreditMemo and DebitMemo must list the connector's fields; the first time D2 runs with IS on, NetSuite's
    negative-invoice credits per customer are recorded as H2's baseline."""
    assert counted is not None
    rows = await _missing_fields(systems, ("CreditMemo", "DebitMemo"), MEMO_FIELDS)
    lacking = [f"{r['object']} lacks {r['missing']}" for r in rows if r["missing"]]
    query = counted.query + ";\nGET /v1/describe/CreditMemo; GET /v1/describe/DebitMemo"
    baselines = {}
    if ctx.recorded_baseline(NEGATIVE_CREDITS) is None:
        baselines[NEGATIVE_CREDITS] = dict(await _negative_credits(ctx, systems))
    if not lacking:
        return replace(counted, query=query, baselines=baselines)
    return replace(counted, status=Status.FAIL, summary="; ".join([counted.summary, *lacking]), query=query,
                   sample=tuple(rows) + counted.sample, baselines=baselines)


async def credits_per_customer(step: Step, ctx: QueryContext, systems: Clients, counted: CheckResult | None
                               ) -> CheckResult:
    """H2, after the counts: per customer, NetSuite's credits for negative invoices stay at D2's baseline.

    They are the NEGATIVE_INVOICE credits and the credits carrying the id of an AR Mig memo whose invoice NetSuite
    had. New credit memos after go-live are other Zuora ids, so they do not count."""
    assert counted is not None
    before = ctx.recorded_baseline(NEGATIVE_CREDITS)
    if before is None:
        return replace(counted, status=Status.NEEDS_ACTION if counted.status is Status.PASS else counted.status,
                       summary=counted.summary + "; no D2 baseline of NetSuite's credits per customer: run D2 "
                                                 "before the new connector's first run")
    now = await _negative_credits(ctx, systems)
    ids_sql = f"SELECT m.id FROM creditmemo m WHERE {ar_mig_memos('m.')} AND {in_netsuite('m.')}"
    zid = ctx.ns("zuora_id")
    async for ids in chunks(need_zuora(systems).data_query(ids_sql), ID_CHUNK):
        q = (f"SELECT t.entity AS entity, COUNT(*) AS n FROM transaction t WHERE t.type = 'CustCred' "
             f"AND t.{zid} IN ({', '.join(quote(i) for i in ids)}) GROUP BY t.entity")
        now.update({str(r["entity"]): int(r["n"]) for r in await need_netsuite(systems).suiteql_rows(q)})
    grown = sorted((c for c in now if now[c] > before.get(c, 0)), key=lambda c: now[c] - before.get(c, 0),
                   reverse=True)
    details = {**counted.details, MORE_CREDITS: len(grown)}
    query = counted.query + f";\nper customer: NEGATIVE_INVOICE credits + credits carrying an AR Mig memo id, " \
                            f"against D2's baseline ({len(before):,} customers)"
    if not grown:
        return replace(counted, details=details, query=query)
    extra = sum(now[c] - before.get(c, 0) for c in grown)
    sample = tuple({"customer": c, "at D2": before.get(c, 0), "now": now[c]} for c in grown[:10]) + counted.sample
    summary = (f"{len(grown):,} customers have {extra:,} more credits for negative invoices in NetSuite than at D2"
               + ("" if counted.status is Status.PASS else f"; {counted.summary}"))
    # Mostly the same credits the id match counts: the larger number, never their sum.
    return replace(counted, status=Status.FAIL, count=max(counted.count or 0, extra), summary=summary,
                   sample=sample[:20], details=details, query=query)


async def oauth_token(step: Step, ctx: QueryContext, systems: Clients, _: CheckResult | None) -> CheckResult:
    """F1: the new OAuth client gets a token from POST /oauth/token. The secret is given for the test only (the
    app's Instances > t, or `cutover check F1 --oauth-secret`) and held in memory only."""
    from core.zuora import ZuoraClient

    client_id = ctx.var("new_oauth_client_id")
    secret = ctx.secrets.get("new_oauth_client_secret")
    query = "POST /oauth/token (client_credentials, the new client)"
    if secret is None:
        return CheckResult(step.id, Status.NEEDS_ACTION, None,
                           "Test the new client with its secret: in the app, Instances (i) > t Test new OAuth client; "
                           "on the command line, cutover check F1 --oauth-secret", query=query)
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
    """I2: every other step is done (passes, is waived, or is off the chosen path), so the report can be signed."""
    states = [s for s in (ctx.step_states() if ctx.step_states else []) if s.step.id != step.id
              and not s.step.children]
    open_steps = [s for s in states if not s.status.done]
    sample = tuple({"id": s.step.id, "status": str(s.status), "summary": s.summary} for s in open_steps[:20])
    if open_steps:
        listed = ", ".join(s.step.id for s in open_steps[:8]) + (", …" if len(open_steps) > 8 else "")
        return CheckResult(step.id, Status.NEEDS_ACTION, len(open_steps),
                           f"Not ready for sign-off: {plural(len(open_steps), 'step')} {plural(len(open_steps), 'is', number=False)} "
                           f"still open ({listed})",
                           sample=sample, query="journal")
    waived = [s.step.id for s in states if s.status is Status.WAIVED]
    return CheckResult(step.id, Status.PASS, 0, "Every step is done: the run is ready for sign-off"
                       + (f" ({len(waived)} waived: {', '.join(waived)})" if waived else ""), query="journal")
