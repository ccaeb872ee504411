"""Phase H: go-live and verification (runbook.md H1-H4)."""

from __future__ import annotations

from collections.abc import Mapping

from core.runbook import sources as src
from core.runbook.model import Check, Kind, Part, Phase, QueryContext, Status, Step
from core.runbook.probes import credits_per_customer
from core.runbook.sql import AR_MIG, ar_mig_memos, in_netsuite, picked
from core.runbook.stand_ins import Rehearsing, StandIn, checked, confirmed
from core.runbook.steps.g_payments import freeze_window
from core.words import plural

NS_PAYMENTS_PER_MIN = 2  # R7: NetSuite payment throughput into Zuora with 10 threads
DUPLICATES = "duplicate credit memos in NetSuite"
MISSING_IN_ZUORA = "NetSuite payments since the freeze not in Zuora"
SYNCED_SINCE_IS = "records synced since IS was enabled"
_MEMO_COLS = "m.id, m.memonumber, m.accountid, m.totalamount, m.memodate, m.transferredtoaccounting, " \
             "m.integrationstatus__ns"
_CONNECTED = ("account", "invoice", "payment", "refund", "creditmemo", "debitmemo")


def _duplicates(ctx: QueryContext) -> str:
    return f"t.type = 'CustCred' AND t.{ctx.ns('zuora_id')} IN ({{ids}})"


def _duplicate_cols(ctx: QueryContext) -> str:
    return (f"t.id, t.tranid, t.entity, t.foreigntotal, t.{ctx.ns('zuora_id')} AS zuoraid, "
            f"t.{ctx.ns('zuora_type')} AS zuoratype")


SENT_TWICE = "NetSuite copies of Zuora records sent twice"
_SENT_TYPES = "('CustInvc', 'CustPymt', 'CustRfnd', 'CustCred')"


def _sent_twice(ctx: QueryContext) -> str:
    """NetSuite transactions that share one Zuora id: a record the connector created a second time, because its
    Integration fields were cleared by hand (R8.9) or a new instance did not know its copy. Each Zuora invoice,
    payment, refund or memo has one NetSuite copy, so a pair is a duplicate whatever its type."""
    z = ctx.ns("zuora_id")
    return (f"t.type IN {_SENT_TYPES} AND t.{z} IN (SELECT d.{z} FROM transaction d WHERE d.{z} IS NOT NULL "
            f"GROUP BY d.{z} HAVING COUNT(*) > 1)")


def _sent_twice_cols(ctx: QueryContext) -> str:
    return (f"t.id, t.tranid, t.type, t.entity, t.foreigntotal, t.{ctx.ns('zuora_id')} AS zuoraid, "
            f"t.createddate")


def _already_credited(m: str = "m.") -> str:
    """AR Mig memos whose negative invoice NetSuite already has: a second credit for those is a duplicate."""
    return f"{ar_mig_memos(m)} AND {in_netsuite(m)}"


# ---- H3 ------------------------------------------------------------------------------------------------------
def _memos_waiting(table: str):
    """Posted memos the new connector should have sent: not transferred, on accounts that sync, made since IS was
    enabled. Bounded by IS, not by the memo cutover recorded at F6: a cutover set later than IS (R8.8; F6 says
    "empty or the IS date") strands exactly the memos in between, and they must show here. AR Mig memos are out,
    except Case 2 ones (their negative invoice never reached NetSuite)."""
    def where(c: QueryContext) -> str:
        ar_mig = f" AND (coalesce(m.reasoncode, 'x') <> {AR_MIG} OR NOT {in_netsuite('m.')})" \
            if table == "creditmemo" else ""
        return (f"m.status = 'Posted' AND coalesce(m.origin__ns, 'x') <> 'NETSUITE' AND {picked('m.')}{ar_mig} "
                f"AND m.createddate >= {c.timestamp('is_enabled_ts')}")
    return where


# What the new connector sends from Zuora besides memos (runbook R4.3 with IS): posted invoices that are not
# negative, processed payments and refunds of payments (a credit-balance refund is the migration's own and never
# syncs), none that came from NetSuite.
_ZUORA_FLOWS = (
    ("invoice", "invoicenumber", "status = 'Posted' AND amount >= 0"),
    ("payment", "paymentnumber", "status = 'Processed' AND coalesce(origin__ns, 'x') <> 'NETSUITE'"),
    ("refund", "refundnumber", "status IN ('Processed', 'Posted') AND sourcetype = 'Payment' "
                               "AND coalesce(origin__ns, 'x') <> 'NETSUITE'"),
)
ZUORA_WAITING = "Zuora invoices, payments and refunds since the freeze not in NetSuite"


def _zuora_waiting(ctx: QueryContext) -> str:
    """Made since the freeze and still not transferred: a cutover date set later than the freeze (F6, R8.8) skips
    them for good, so the first run's leftovers here are never "the next run's"."""
    return f"{picked('r.')} AND r.createddate >= {ctx.timestamp('freeze_ts')}"


_ZUORA_FLOWS_FROM = "(" + " UNION ALL ".join(
    f"SELECT '{table}' AS object, id, {number} AS number, accountid, createddate, transferredtoaccounting "
    f"FROM {table} WHERE {where}" for table, number, where in _ZUORA_FLOWS) + ") r JOIN account a ON a.id = r.accountid"


def _union(columns: str, where: str, tables=_CONNECTED) -> str:
    return "(" + " UNION ALL ".join(f"SELECT '{t}' AS object, {columns} FROM {t} WHERE {where}" for t in tables) \
        + ") r"


def _zuora_errors(ctx: QueryContext) -> str:
    return f"r.updateddate >= {ctx.timestamp('is_enabled_ts')}"


def _ns_errors(ctx: QueryContext) -> str:
    status = ctx.ns("zuora_integration_status")
    return f"t.{status} LIKE 'Error%' AND t.lastmodifieddate >= {ctx.ns_timestamp('is_enabled_ts')}"


def _missing_in_zuora(ctx: QueryContext) -> str:
    """Whatever their Zuora Sync Updates: the payments G2 exists to rescue, and those the Boomi credentials stop."""
    return f"{freeze_window(ctx)} AND t.{ctx.ns('zuora_id')} IS NULL"


def _synced_since_is(ctx: QueryContext) -> str:
    return f"r.syncdate__ns >= {ctx.timestamp('is_enabled_ts')} AND r.integrationstatus__ns = 'Sync Complete'"


def _flows_rule(counts: Mapping[str, int], ctx: QueryContext) -> tuple[Status, str, int] | None:
    problems = {p.label: counts[p.label] for p in _H3_PARTS if p.role == "problem" and counts[p.label]}
    if problems:
        found = "; ".join(f"{n:,} {label}" for label, n in problems.items())
        missing = counts[MISSING_IN_ZUORA]
        if missing:
            found += f" (about {missing / NS_PAYMENTS_PER_MIN:,.0f} min at ~2 NetSuite payments/min once they qualify)"
        return Status.FAIL, found, sum(problems.values())
    if not counts[SYNCED_SINCE_IS]:
        return Status.NEEDS_ACTION, ("Nothing has synced since IS was enabled, so nothing proves the new flows work "
                                     "yet: re-run after the new connector has synced new memos or payments"), 0
    info = "; ".join(f"{counts[p.label]:,} {p.label}" for p in _H3_PARTS if p.role == "info" and counts[p.label]
                     and p.label != SYNCED_SINCE_IS)
    return Status.PASS, (f"{counts[SYNCED_SINCE_IS]:,} {SYNCED_SINCE_IS}; every memo since IS, every Zuora "
                         "invoice, payment and refund and every NetSuite payment since the freeze has synced, none "
                         "in error" + (f" ({info})" if info else "")), 0


_H3_PARTS = (
    Part("credit memos waiting for NetSuite", "zuora", "creditmemo m JOIN account a ON a.id = m.accountid",
         _memos_waiting("creditmemo"), _MEMO_COLS, order="m.memonumber", invoice_settlement=True),
    Part("debit memos waiting for NetSuite", "zuora", "debitmemo m JOIN account a ON a.id = m.accountid",
         _memos_waiting("debitmemo"), _MEMO_COLS, order="m.memonumber", invoice_settlement=True),
    Part(ZUORA_WAITING, "zuora", _ZUORA_FLOWS_FROM, _zuora_waiting, "r.object, r.id, r.number, r.createddate",
         order="r.createddate", invoice_settlement=True),
    Part(MISSING_IN_ZUORA, "netsuite", "transaction t", _missing_in_zuora,
         lambda c: (f"t.id, t.tranid, t.trandate, t.createddate, t.{c.ns('zuora_sync_updates')} AS zuorasyncupdates, "
                    f"t.{c.ns('zuora_integration_status')} AS integrationstatus"),
         order="t.id", invoice_settlement=True),
    Part("Zuora records in error since IS", "zuora",
         _union("id, integrationstatus__ns, updateddate", "integrationstatus__ns LIKE 'Error%'"), _zuora_errors,
         "r.object, r.id, r.integrationstatus__ns", order="r.updateddate DESC", invoice_settlement=True),
    Part("NetSuite transactions in error since IS", "netsuite", "transaction t", _ns_errors,
         lambda c: f"t.id, t.tranid, t.type, t.{c.ns('zuora_integration_status')} AS integrationstatus",
         order="t.id", invoice_settlement=True),
    # R12: debit memos need their customer (and charges, tax codes) in NetSuite first.
    Part("debit memos whose customer is not in NetSuite", "zuora", "debitmemo m JOIN account a ON a.id = m.accountid",
         "m.status = 'Posted' AND a.integrationid__ns IS NULL", "m.id, m.memonumber, m.accountid", role="info",
         invoice_settlement=True),
    # R12: IS syncs applied amounts; unapplied cash may never reach NetSuite.
    Part("payments since IS with unapplied cash (may not reach NetSuite)", "zuora", "payment p",
         lambda c: (f"p.createddate >= {c.timestamp('is_enabled_ts')} AND p.unappliedamount > 0 "
                    "AND coalesce(p.origin__ns, 'x') <> 'NETSUITE'"),
         "p.id, p.paymentnumber, p.amount, p.unappliedamount", role="info", invoice_settlement=True),
    Part(SYNCED_SINCE_IS, "zuora", _union("id, syncdate__ns, integrationstatus__ns", "syncdate__ns IS NOT NULL",
                                          ("creditmemo", "debitmemo", "payment", "refund")),
         _synced_since_is, "r.object, r.id", role="info", invoice_settlement=True),
)


async def _first_run(r: Rehearsing) -> None:
    """H1, the world's part: a day of business, then the new connector's first run. A person can click Run Now
    whatever the tool says; the tool only refuses to record it while H1 is blocked."""
    made = await r.world.tenant_traffic(3)
    r.say("H1", f"a day of business: {len(made['credit_memos'])} credit memos, {len(made['debit_memos'])} debit "
                f"memos, {len(made['payments'])} payments and a refund in Zuora; {len(made['netsuite_payments'])} "
                "payments typed into NetSuite")
    await r.world.start_connector()
    run = await r.world.run_connector()
    r.say("H1", f"new connector Run Now: {run.get('status')}, {run.get('synced', 0):,} synced, "
                f"{plural(run.get('errors', 0), 'error')}")


async def _schedule_on(r: Rehearsing) -> None:
    r.set(go_live_ts=await r.next_second())
    r.confirm("H4", "schedule enabled after H2 and H3 passed")


STEPS = (
    Step(
        "H1", Phase.H, "First run of the new connector", Kind.HUMAN,
        why="The first run pushes every memo whose TTA is not Yes: it is refused until E1 passes and the E2 "
            "decision is applied, or NetSuite gets duplicate credits.",
        doc_url=src.NSC_RUN_SYNC, confirm=True, gates=("E1", "E2"),
        instructions=("Launch the new instance > Logs > Run Now; wait for it to finish.",
                      "Download Logs (Info, Warning) and keep them.",
                      "IS order: customers, catalog, charges, invoices, debit memos, credit memos, Zuora "
                      "payments, Zuora refunds, NetSuite payments, NetSuite refunds.",
                      "Confirm with the run's time and any warnings in the note, then run H2 and H3."),
        stand_in=StandIn("the consultant runs the new connector", act=_first_run,
                         after=confirmed("H1", "first run of the new connector finished; logs kept")),
    ),
    Step(
        "H2", Phase.H, "No duplicates in NetSuite", Kind.AUTO,
        why="A NetSuite credit memo carrying an AR Mig memo's Zuora id is a second credit for a negative "
            "invoice NetSuite already had. Per customer, NetSuite's credits for negative invoices may not grow "
            "past what D2 recorded. And no Zuora invoice, payment, refund or memo may have two NetSuite copies: "
            "clearing the connector's fields by hand makes it send a record again (R8.9).",
        doc_url=src.P_MIG,
        instructions=("For each duplicate: delete the NetSuite credit memo, then set the Zuora memo's TTA to "
                      "Yes (cutover apply E1) so it is not sent again.",
                      "For a Zuora record in NetSuite twice: delete the newer NetSuite copy (after moving any "
                      "application to the older one), and point the Zuora record's Integration Id back at the copy "
                      "kept. Never clear Integration Status by hand to force a resync: set TTA to No instead."),
        check=Check(ok="No AR Mig memo, nor any other Zuora record, reached NetSuite twice", headline=DUPLICATES,
                    probe=credits_per_customer, parts=(
                        Part(DUPLICATES, "netsuite", "transaction t", _duplicates, _duplicate_cols, order="t.id",
                             invoice_settlement=True,
                             ids_from=f"SELECT m.id FROM creditmemo m WHERE {_already_credited()}"),
                        Part("AR Mig memos carrying a NetSuite id", "zuora", "creditmemo m",
                             f"{_already_credited()} AND m.integrationid__ns IS NOT NULL",
                             _MEMO_COLS + ", m.integrationid__ns", order="m.memonumber", invoice_settlement=True),
                        Part("AR Mig memos not marked transferred", "zuora", "creditmemo m",
                             f"{_already_credited()} AND coalesce(m.transferredtoaccounting, 'No') <> 'Yes'",
                             _MEMO_COLS, order="m.memonumber", invoice_settlement=True),
                        Part(SENT_TWICE, "netsuite", "transaction t", _sent_twice, _sent_twice_cols,
                             order="zuoraid, t.id", invoice_settlement=True),
                    )),
        stand_in=StandIn("the tool looks for duplicates", after=checked("H2")),
    ),
    Step(
        "H3", Phase.H, "New flows work", Kind.AUTO,
        why="After the first run, memos, Zuora invoices, payments and refunds, and the NetSuite payments made "
            "since the freeze must have synced, "
            "whatever their Zuora Sync Updates: what is left shows a rule or setting still blocking them (the G1 "
            "default, G2's back-fill, a cutover date, the Boomi credentials of F4). Both systems are swept for "
            "records in error since IS; an empty tenant proves nothing, so the check waits for real traffic.",
        doc_url=src.NSC_IS_CREDIT_MEMO, needs=("freeze_ts", "is_enabled_ts"),
        instructions=("Payments not in Zuora: check G1's default, G2, and that Support updated the payment sync's "
                      "credentials (F4).",
                      "Memos, or Zuora invoices, payments and refunds, not in NetSuite: check F6's cutover dates "
                      "(memos: empty or the IS date; the others: never later than the freeze) and that NetSuite "
                      "Payment and Refund Sync are on.",
                      "Records in error: read the connector's Warning log, fix the cause, run again.",
                      "Debit memos: their charges and tax codes must be in NetSuite first.",
                      "Unapplied cash may never reach NetSuite: book it by hand or apply it."),
        check=Check(ok="Memos and NetSuite payments have synced", rule=_flows_rule, parts=_H3_PARTS),
        stand_in=StandIn("the tool checks the new flows", after=checked("H3")),
    ),
    Step(
        "H4", Phase.H, "Enable the schedule", Kind.HUMAN,
        why="Scheduled runs start only once E1, E2, G1 and G2 are done, and the first run proved there are no "
            "duplicates and the new flows work.",
        doc_url=src.NSC_SCHEDULER, confirm=True, needs=("go_live_ts",),
        gates=("E1", "E2", "G1", "G2", "H1", "H2", "H3"),
        instructions=("Turn on the Scheduler configured in F7.",
                      "Record the time: cutover set go_live_ts 'YYYY-MM-DD HH:MM' (UTC)."),
        stand_in=StandIn("the consultant turns the schedule on", after=_schedule_on),
    ),
)
