"""Phase C: connector readiness and freeze, before the migration (runbook.md C1-C7).

C1-C5 describe the tenant before IS (`invoice_settlement=False`): once the migration has run, its own write-off
IIAs and the written-off invoices would read as new problems, so the last pre-IS result stands. C6 and C7 also run
after IS, because their harm happens then: C6 leaves out the migration's own write-off IIAs, and C7 then counts
only what the old instance alone syncs (IIAs, negative invoices), since the new one legitimately syncs the rest.
"""

from __future__ import annotations

from collections.abc import Callable

from core.runbook import sources as src
from core.runbook.model import Check, Kind, Part, Phase, QueryContext, Status, Step
from core.runbook.sql import migration_write_off, not_transferred, picked
from core.runbook.stand_ins import Rehearsing, StandIn, checked, fixed_at_source, in_order, run_now

_RUN_NOW = ("Run the old connector: Launch > Logs > Run Now (it can take 30+ minutes).",
            "Read the Warning log for rows in Error (Logs > Download Logs).",
            "Re-run this check until it counts 0, or note why a row is left on purpose.")
_STUCK = ("(integrationstatus__ns LIKE 'Creating %' OR integrationstatus__ns LIKE 'Updating %' "
          "OR integrationstatus__ns LIKE 'Error%'")
_STUCK_TTA = f"{_STUCK} OR transferredtoaccounting IN ('Processing', 'Error'))"
NEGATIVE_BASELINE = "negative-invoice baseline"  # D2 compares the AR Mig memo count with it
CREDIT_BALANCE_BASELINE = "credit-balance baseline"


def _pending_iias(ctx: QueryContext, t: str = "") -> str:
    return (f"{t}status = 'Processed' AND {not_transferred(t)}"
            + ctx.since(f"{t}adjustmentdate", "old_cutover_dates.iia"))


def _pending_negative_invoices(ctx: QueryContext) -> str:
    return (f"i.status = 'Posted' AND i.amount < 0 AND {picked('i.')}"
            + ctx.since("i.invoicedate", "old_cutover_dates.invoice"))


def _with_account(table: str) -> str:
    return f"{table} t JOIN account a ON a.id = t.accountid"


def _ns_pending(ctx: QueryContext, kind: str) -> str:
    """NetSuite records the old connector would still bring to Zuora (R4.2, IS-off rules)."""
    zid, status, ztype, origin = (ctx.ns(k) for k in ("zuora_id", "zuora_integration_status", "zuora_type",
                                                      "zuora_origin"))
    base = (f"t.type = '{kind}' AND NVL(t.{status}, 'x') <> 'Sync Complete' AND NVL(t.{origin}, 'x') <> 'ZUORA'")
    zuora_invoices = (f"FROM nexttransactionlinelink l JOIN transaction i ON i.id = l.previousdoc "
                      f"WHERE l.nextdoc = t.id AND i.type = 'CustInvc' AND i.{zid} IS NOT NULL")
    if kind == "CustCred":
        return (f"{base} AND t.foreignamountremaining = 0 AND ((t.{ztype} IS NULL AND (SELECT COUNT(*) "
                f"{zuora_invoices}) = 1) OR t.{ztype} = 'NEGATIVE_INVOICE')")
    if kind == "CustPymt":
        return (f"{base} AND t.{ctx.ns('zuora_customer_id_payment')} IS NOT NULL AND t.foreignamountremaining = 0 "
                f"AND EXISTS (SELECT 1 {zuora_invoices} AND i.{ztype} = 'INVOICE')")
    return (f"{base} AND EXISTS (SELECT 1 FROM nexttransactionlinelink l JOIN transaction c ON c.id = l.previousdoc "
            f"WHERE l.nextdoc = t.id AND c.type = 'CustCred')")


def _ns_stuck(ctx: QueryContext) -> str:
    status = ctx.ns("zuora_integration_status")
    return (f"t.{status} LIKE 'Creating%' OR t.{status} LIKE 'Updating%' OR t.{status} LIKE 'Error%'")


def _ns_cols(ctx: QueryContext) -> str:
    return f"t.id, t.tranid, t.type, t.trandate, t.{ctx.ns('zuora_integration_status')} AS integrationstatus"


def _after_freeze(column: str) -> Callable[[QueryContext], str]:
    return lambda ctx: f"{column} >= {ctx.timestamp('freeze_ts')}"


def _synced_after_freeze(ctx: QueryContext) -> str:
    return f"syncdate__ns >= {ctx.timestamp('freeze_ts')}"


def _stuck_part(label: str, table: str, number: str, where: str = _STUCK_TTA) -> Part:
    return Part(label, "zuora", table, where, f"id, {number}, integrationstatus__ns"
                + (", transferredtoaccounting" if "transferred" in where else ""), order=number,
                invoice_settlement=False)


def _synced_part(label: str, table: str, number: str, where=_synced_after_freeze,
                 invoice_settlement: bool | None = False) -> Part:
    return Part(label, "zuora", table, where, f"id, {number}, syncdate__ns, integrationstatus__ns",
                order="syncdate__ns DESC", invoice_settlement=invoice_settlement)


OLD_INSTANCE_IIAS = "IIAs pushed to NetSuite after the freeze (only the old instance syncs IIAs)"
OLD_INSTANCE_NEGATIVES = "negative invoices pushed to NetSuite after the freeze (only the old instance does)"


def _fix_then_sync(step_id: str) -> StandIn:
    return StandIn("a person fixes what the connector stops at, then runs it",
                   act=in_order(fixed_at_source(step_id), run_now), after=checked(step_id))


async def _freeze(r: Rehearsing) -> None:
    """C7: the old instance stopped; the time recorded; the person's word."""
    old = r.variables().old_instance_id
    await r.world.stop_connector(old)
    r.say("C7", f"old instance {old} stopped (scheduler off)")


async def _record_freeze(r: Rehearsing) -> None:
    freeze = await r.next_second()
    r.set(freeze_ts=freeze)
    r.confirm("C7", f"final sync run, old connector stopped and its scheduler off at {freeze}")
    await r.check("C6", "C7")


STEPS = (
    Step(
        "C1", Phase.C, "All invoice item adjustments synced", Kind.AUTO, also=Kind.HUMAN,
        why="After IS the connector cannot sync IIAs; any still unsynced must then be booked in NetSuite by hand.",
        doc_url=src.NSC_IIA_SYNC, instructions=_RUN_NOW,
        check=Check(ok="Every IIA the old connector would pick is in NetSuite", parts=(
            Part("IIAs not yet in NetSuite", "zuora", "invoiceitemadjustment", _pending_iias,
                 "id, adjustmentnumber, invoicenumber, type, amount, adjustmentdate, transferredtoaccounting, "
                 "integrationstatus__ns", order="adjustmentnumber", invoice_settlement=False),
            Part("of them on invoices not in NetSuite (they cannot sync)", "zuora",
                 "invoiceitemadjustment j JOIN invoice i ON i.id = j.invoiceid",
                 lambda c: _pending_iias(c, "j.") + " AND i.integrationid__ns IS NULL",
                 "j.id, j.adjustmentnumber, i.invoicenumber", role="info", invoice_settlement=False),
        )),
        stand_in=StandIn("the consultant runs the old connector", act=run_now, after=checked("C1")),
    ),
    Step(
        "C2", Phase.C, "All negative invoices synced", Kind.AUTO, also=Kind.HUMAN,
        why="The new connector never syncs negative invoices; any not in NetSuite before IS are stranded. The "
            "count of negative invoices with a negative balance is the baseline D2 checks the migration against.",
        doc_url=src.NSC_INVOICE_RULES, instructions=_RUN_NOW,
        check=Check(ok="Every negative invoice is in NetSuite", parts=(
            Part("negative invoices not yet in NetSuite", "zuora", "invoice i JOIN account a ON a.id = i.accountid",
                 _pending_negative_invoices,
                 "i.id, i.invoicenumber, a.accountnumber, i.amount, i.invoicedate, i.transferredtoaccounting, "
                 "i.integrationstatus__ns", order="i.invoicenumber", invoice_settlement=False),
            Part(NEGATIVE_BASELINE, "zuora", "invoice", "status = 'Posted' AND balance < 0", "id, invoicenumber",
                 role="info", invoice_settlement=False),
            Part(CREDIT_BALANCE_BASELINE, "zuora", "account", "creditbalance > 0", "id, accountnumber",
                 role="info", invoice_settlement=False),
        )),
        stand_in=_fix_then_sync("C2"),
    ),
    Step(
        "C3", Phase.C, "Other pending Zuora transactions", Kind.AUTO, also=Kind.HUMAN,
        why="Pending invoices, payments and refunds still sync after IS, but only if the new instance's cutover "
            "dates let them through (F6). Syncing them now removes that risk.",
        doc_url=src.NSC_PAYMENT_RULES, instructions=_RUN_NOW,
        check=Check(ok="No other Zuora transaction waits for NetSuite", fail_status=Status.NEEDS_ACTION, parts=(
            Part("invoices not yet in NetSuite", "zuora", _with_account("invoice"),
                 lambda c: f"t.status = 'Posted' AND t.amount >= 0 AND {picked('t.')}"
                 + c.since("t.invoicedate", "old_cutover_dates.invoice"),
                 "t.id, t.invoicenumber, t.accountid, t.amount, t.invoicedate, t.transferredtoaccounting",
                 order="t.invoicenumber", invoice_settlement=False),
            Part("payments not yet in NetSuite", "zuora", _with_account("payment"),
                 lambda c: f"t.status = 'Processed' AND {picked('t.')}"
                 + c.since("t.effectivedate", "old_cutover_dates.payment"),
                 "t.id, t.paymentnumber, t.accountid, t.amount, t.effectivedate, t.transferredtoaccounting",
                 order="t.paymentnumber", invoice_settlement=False),
            Part("payment refunds not yet in NetSuite", "zuora", _with_account("refund"),
                 lambda c: f"t.sourcetype = 'Payment' AND t.status IN ('Posted', 'Processed') AND {picked('t.')}"
                 + c.since("t.refunddate", "old_cutover_dates.refund"),
                 "t.id, t.refundnumber, t.accountid, t.amount, t.refunddate, t.transferredtoaccounting",
                 order="t.refundnumber", invoice_settlement=False),
        )),
        stand_in=_fix_then_sync("C3"),
    ),
    Step(
        "C4", Phase.C, "NetSuite-to-Zuora traffic drained", Kind.AUTO, also=Kind.HUMAN,
        why="With IS there is no NetSuite credit memo sync, so credit memos that should become Zuora IIAs, and "
            "pending customer payments and refunds, must reach Zuora before the migration.",
        doc_url=src.NSC_SEQUENCE, instructions=_RUN_NOW,
        check=Check(ok="No NetSuite transaction waits for Zuora", fail_status=Status.NEEDS_ACTION, parts=(
            Part("NetSuite credit memos not yet in Zuora", "netsuite", "transaction t",
                 lambda c: _ns_pending(c, "CustCred"), _ns_cols, order="t.id", invoice_settlement=False),
            Part("NetSuite customer payments not yet in Zuora", "netsuite", "transaction t",
                 lambda c: _ns_pending(c, "CustPymt"), _ns_cols, order="t.id", invoice_settlement=False),
            Part("NetSuite customer refunds not yet in Zuora", "netsuite", "transaction t",
                 lambda c: _ns_pending(c, "CustRfnd"), _ns_cols, order="t.id", invoice_settlement=False),
        )),
        stand_in=_fix_then_sync("C4"),
    ),
    Step(
        "C5", Phase.C, "Stuck or half-synced records", Kind.AUTO, also=Kind.HUMAN,
        why="\"Creating/Updating …\" means a sync was interrupted and the record may or may not exist on the other "
            "side; \"Error …\" means the destination refused it. Never edit Integration Status by hand: it causes "
            "resyncs and duplicates.",
        doc_url=src.NSC_STATUS,
        instructions=("Run a final sync (Logs > Run Now); the connector re-checks interrupted records by id.",
                      "For rows in Error, fix the cause named in the Warning log and sync again.",
                      "Do not edit Integration Status by hand."),
        check=Check(ok="No record is stuck mid-sync or in error", fail_status=Status.NEEDS_ACTION, parts=(
            _stuck_part("accounts stuck or in error", "account", "accountnumber", _STUCK + ")"),
            _stuck_part("invoices stuck or in error", "invoice", "invoicenumber"),
            _stuck_part("payments stuck or in error", "payment", "paymentnumber"),
            _stuck_part("refunds stuck or in error", "refund", "refundnumber"),
            _stuck_part("IIAs stuck or in error", "invoiceitemadjustment", "adjustmentnumber"),
            Part("NetSuite transactions stuck or in error", "netsuite", "transaction t", _ns_stuck, _ns_cols,
                 order="t.id", invoice_settlement=False),
        )),
        stand_in=_fix_then_sync("C5"),
    ),
    Step(
        "C6", Phase.C, "Stop creating negative invoices and IIAs", Kind.HUMAN, also=Kind.VERIFY,
        why="Negative invoices or IIAs made after the freeze reach NetSuite by no rule: the old connector is "
            "stopped and the new one does not sync them. New ones during the migration force it to re-run.",
        doc_url=src.P_PREP, needs=("freeze_ts",),
        instructions=("Stop bill runs and processes that can produce negative invoices.",
                      "Stop users and integrations that create IIAs; optionally remove the \"Create Invoice Item "
                      "Adjustment\" permission from their roles.",
                      "Re-run this check until the migration ends (D)."),
        check=Check(ok="Nothing negative or adjusting was created since the freeze", parts=(
            Part("negative invoices created since the freeze", "zuora", "invoice",
                 lambda c: f"amount < 0 AND {_after_freeze('createddate')(c)}",
                 "id, invoicenumber, accountid, amount, createddate", order="createddate"),
            Part("IIAs created since the freeze", "zuora", "invoiceitemadjustment", _after_freeze("createddate"),
                 "id, adjustmentnumber, invoicenumber, amount, createddate", order="createddate",
                 invoice_settlement=False),
            Part("IIAs created since the freeze (not the migration's write-offs)", "zuora",
                 "invoiceitemadjustment j",
                 lambda c: f"j.createddate >= {c.timestamp('freeze_ts')} AND NOT {migration_write_off('j.')}",
                 "j.id, j.adjustmentnumber, j.invoicenumber, j.amount, j.createddate", order="j.createddate",
                 invoice_settlement=True),
        )),
    ),
    Step(
        "C7", Phase.C, "Final sync, then stop the old connector", Kind.HUMAN, also=Kind.VERIFY,
        why="While the old instance runs, its IIA rules would pick up the write-off IIAs the migration creates "
            "and push them to NetSuite.",
        doc_url=src.NSC_RUN_SYNC, confirm=True, needs=("freeze_ts",),
        instructions=("Run a final sync (Logs > Run Now) and wait for it to finish (30+ minutes).",
                      "Re-run C1-C5 and resolve what they list.",
                      "Turn the old instance's Scheduler off.",
                      "Record the time: cutover set freeze_ts 'YYYY-MM-DD HH:MM' (UTC).",
                      "Re-run this check: no connector write may come after freeze_ts."),
        check=Check(ok="No write by the old connector since the freeze", parts=(
            _synced_part("accounts synced after the freeze", "account", "accountnumber"),
            _synced_part("invoices synced after the freeze", "invoice", "invoicenumber"),
            _synced_part("payments synced after the freeze", "payment", "paymentnumber"),
            _synced_part("refunds synced after the freeze", "refund", "refundnumber"),
            _synced_part("IIAs synced after the freeze", "invoiceitemadjustment", "adjustmentnumber"),
            _synced_part(OLD_INSTANCE_IIAS, "invoiceitemadjustment", "adjustmentnumber", invoice_settlement=True),
            _synced_part(OLD_INSTANCE_NEGATIVES, "invoice", "invoicenumber",
                         lambda c: f"amount < 0 AND {_synced_after_freeze(c)}", invoice_settlement=True),
        )),
        stand_in=StandIn("the consultant stops the old connector after a final sync",
                         before=in_order(run_now, checked("C1", "C2", "C3", "C4", "C5")), act=_freeze,
                         after=_record_freeze),
    ),
)
