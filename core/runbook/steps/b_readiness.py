"""Phase B: the IS readiness checklist in Zuora Billing (runbook.md B1-B6, with the B2 rows V1-V9)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

from core.runbook import sources as src
from core.runbook.model import Check, Kind, Part, Phase, QueryContext, Status, Step, TicketTemplate
from core.runbook.stand_ins import Rehearsing, StandIn, checked, confirmed, fixed_at_source, in_order
from core.sql_literals import zuora_date, zuora_timestamp
from core.words import plural

_ACCOUNT_COLS = "id, accountnumber, name, status, creditbalance, currency"
_NEG_INVOICE_SRC = "invoice i JOIN account a ON a.id = i.accountid"
_NEG_INVOICE_COLS = "i.id, i.invoicenumber, a.accountnumber, a.status AS accountstatus, i.balance, i.currency"
_FIX_ACCOUNTS = ("Delete the listed accounts, or activate them (Customers > the account > Activate).",
                 "Re-run the check until it counts 0.")


def _row(n: int, title: str, why: str, part: Part, instructions: tuple[str, ...], ok: str, fix: str) -> Step:
    """A B2 row V1-V6: a Data Query filter that must count 0 before the migration."""
    return Step(f"B2/V{n}", Phase.B, title, Kind.VERIFY, why=why, doc_url=src.C_VALID, also=Kind.HUMAN,
                check=Check(ok=ok, parts=(part,)),  # records to fix: × fail, as the legend says
                instructions=instructions, parent="B2", aliases=(f"V{n}",),
                stand_in=StandIn(fix, act=fixed_at_source(f"V{n}"), after=checked(f"B2/V{n}")))


async def _charges_dated_today(r: Rehearsing) -> None:
    """The charges a stand-in makes are dated today: when the agreed date is further off than B3's window, say so
    at once, since a demo or a rehearsal cannot wait for the window to open (a real cutover updates them then)."""
    target = r.variables().target_migration_date
    today = date.fromisoformat(r.today())
    if target is not None and _charge_window(target) > today:
        r.say("B3", f"the charges are dated {today}, but B3 counts only those made on or after "
                    f"{_charge_window(target)}, two days before the migration on {target}: here nothing waits "
                    f"that long, so record today as target_migration_date on B1, or waive B3")


async def _request_enablement(r: Rehearsing) -> None:
    """B1: a date agreed with Support, the B2-B6 results checked for the ticket, the ticket sent."""
    r.set(target_migration_date=r.today())
    await r.check("B2", "B3", "B4")
    r.ticket("B1")


def _charge_exists(ctx: QueryContext, *, recent: bool) -> str:
    """A valid `Special one time charge for migration - <currency>` for this needed currency (C-PRPC spec);
    `recent`: created or updated no more than two days before the migration, as the spec also asks."""
    target = ctx.variables.target_migration_date
    year = (target or date.today()).year
    since = ""
    if recent and target is not None:
        since = f" AND c.updateddate >= {zuora_timestamp(datetime.combine(_charge_window(target), time.min))}"
    return (
        "EXISTS (SELECT 1 FROM productrateplancharge c WHERE c.name = concat('Special one time charge for "
        "migration - ', n.currency) AND c.chargetype = 'OneTime' AND c.chargemodel = 'Flat Fee Pricing' "
        "AND c.amount < 0 AND coalesce(c.taxable, false) = false "
        f"AND c.effectivestartdate <= {zuora_date(date(year, 1, 1))} "
        f"AND c.effectiveenddate >= {zuora_date(date(year, 12, 31))}{since})"
    )


def _charge_window(target: date) -> date:
    return target - timedelta(days=2)


def _charge_missing(ctx: QueryContext) -> str:
    return f"NOT {_charge_exists(ctx, recent=True)}"


def _charge_too_early(ctx: QueryContext) -> str:
    """Right in every way but its date: made or last updated more than two days before the migration."""
    return f"NOT {_charge_exists(ctx, recent=True)} AND {_charge_exists(ctx, recent=False)}"


NO_CHARGE = "currencies without a valid migration charge"
_NEEDED_CURRENCIES = ("(SELECT currency FROM account WHERE creditbalance > 0 UNION SELECT currency FROM invoice "
                      "WHERE status = 'Posted' AND balance < 0) n")
TOO_EARLY = "of them with a charge made too early"


def _b3_rule(counts: Mapping[str, int], ctx: QueryContext) -> tuple[Status, str, int] | None:
    """The default fail, said so a person knows when a charge that looks right does not count yet."""
    missing, early = counts[NO_CHARGE], counts[TOO_EARLY]
    target = ctx.variables.target_migration_date
    if not missing or not early or target is None:
        return None
    window = _charge_window(target).isoformat()
    if early == missing:
        return Status.FAIL, (f"{missing:,} {NO_CHARGE}: each was made or last updated more than two days before "
                             f"the migration on {target.isoformat()}; update them on or after {window}"), missing
    return Status.FAIL, (f"{missing:,} {NO_CHARGE} ({early:,} {TOO_EARLY}: update those on or after "
                         f"{window})"), missing


NEGATIVE_TO_CONVERT = "posted negative invoices"
BALANCES_TO_CONVERT = "accounts with credit balance"


def _v9_rule(counts: Mapping[str, int], ctx: QueryContext) -> tuple[Status, str, int]:
    """What the migration will convert, so the person knows whether the On-Account code matters."""
    negatives, balances = counts[NEGATIVE_TO_CONVERT], counts[BALANCES_TO_CONVERT]
    if not negatives and not balances:
        return Status.PASS, "Nothing for the migration to convert: no negative invoice, no credit balance", 0
    # The count is what the migration converts (the summary's numbers), not 0: nothing here is a problem to fix.
    return Status.PASS, (f"The migration will turn {plural(negatives, 'posted negative invoice')} and "
                         f"{plural(balances, 'credit balance')} into credit memos: give Support the On-Account "
                         "accounting code (or confirm Finance is off)"), negatives + balances


def _v7_rule(counts: Mapping[str, int], ctx: QueryContext) -> tuple[Status, str, int]:
    n = counts["error payments"]
    return Status.PASS, (f"{plural(n, 'error payment')}: not migrated; their invoice links stay readable (listed "
                         "for the record, nothing to fix)" if n else "No error payments"), n


PERIODS_COVERING = "accounting periods containing the migration date"
NOT_OPEN = "accounting periods containing the migration date that are not Open"


def _covers_migration_date(ctx: QueryContext) -> str:
    day = zuora_date(ctx.var("target_migration_date"))
    return f"startdate <= {day} AND enddate >= {day}"


def _finance_rule(counts: Mapping[str, int], ctx: QueryContext) -> tuple[Status, str, int]:
    """No period at all: nothing closed blocks the migration, but whether Finance is off only a person can say,
    and the step's confirmation records that."""
    day = ctx.var("target_migration_date")
    if not counts[PERIODS_COVERING]:
        return (Status.PASS, f"No accounting period contains {day}: Zuora Finance looks off; confirm with the note "
                "\"Finance off\" (or create the period if Finance is on)", 0)
    if counts[NOT_OPEN]:
        return (Status.FAIL, f"The accounting period containing {day} is not Open: reopen it (Finance > "
                "Accounting Periods) or move the migration date", counts[NOT_OPEN])
    return Status.PASS, f"The accounting period containing {day} is Open", 0


_B1_TICKET = TicketTemplate(
    subject="Invoice Settlement: compatibility review and migration scheduling for {profile}",
    body="""Hello Zuora Global Support,

We plan to enable Invoice Settlement on this tenant, which runs the Zuora Connector for NetSuite
(instance {old_instance_id}, account {old_account_id}).
Please assess feature compatibility in Production and schedule the IS data migration.
Target migration date: {target_migration_date} ({target_migration_notice}).

Validate-transactions checklist (B2), as checked today:
- {r[B2/V1].line}
- {r[B2/V2].line}
- {r[B2/V3].line}
- {r[B2/V4].line}
- {r[B2/V5].line}
- {r[B2/V6].line}
- {r[B2/V7].line}
- {r[B2/V9].line}
One-time migration charge (B3): {r[B3].line}

If Zuora Finance is on: please use our On-Account accounting code for the migration credit memos (V9).
Which connector re-provisioning path applies to us: edit the existing instance, a new instance with new
Account/Environment IDs, or re-used IDs on a new tenant?
Our current choice: {provisioning_path}.

Thank you.""",
    variable="b1_ticket", optional=("provisioning_path",),
)

STEPS = (
    Step(
        "B1", Phase.B, "Compatibility review and enablement request", Kind.TICKET, also=Kind.HUMAN,
        why="Support assesses compatibility (Prepaid Drawdown and the No Rounding features must be off; the "
            "connector is supported with limitations; Zuora Revenue's IIA Revenue Sync job must be disabled) and "
            "schedules the migration; IS cannot be rolled back.",
        doc_url=src.C_ENABLE,
        instructions=("Review the known limitations (IS-COMPAT) and the connector's (Prepaid Drawdown, ARM).",
                      "Zuora Revenue: disable the IIA Revenue Sync job and set up the credit and debit memo "
                      "templates (Billing - Revenue integration needs its own IS enablement).",
                      "Agree a date at least 7 days out: cutover set target_migration_date YYYY-MM-DD.",
                      "Send the drafted ticket, then record its number: cutover ticket B1 --number N."),
        ticket=_B1_TICKET, needs=("target_migration_date",),
        stand_in=StandIn("the consultant agrees a date with Support and sends the ticket",
                         after=_request_enablement),
    ),
    Step(
        "B2", Phase.B, "Validate transactions", Kind.VERIFY,
        why="The IS migration fails or mis-migrates these records; each row must count 0 or be handled first.",
        doc_url=src.C_VALID, children=tuple(f"B2/V{n}" for n in range(1, 10)),
    ),
    _row(1, "Draft accounts with credit balance",
         "The migration turns credit balances into credit memos; draft accounts cannot take them.",
         Part("draft accounts with credit balance", "zuora", "account", "status = 'Draft' AND creditbalance > 0",
              _ACCOUNT_COLS, order="accountnumber"), _FIX_ACCOUNTS, "No draft account has a credit balance",
         "a person activates the draft accounts"),
    _row(2, "Canceled accounts with credit balance",
         "The migration turns credit balances into credit memos; canceled accounts cannot take them.",
         Part("canceled accounts with credit balance", "zuora", "account",
              "status = 'Canceled' AND creditbalance > 0", _ACCOUNT_COLS, order="accountnumber"),
         _FIX_ACCOUNTS, "No canceled account has a credit balance", "a person activates the canceled accounts"),
    _row(3, "Draft accounts with posted negative invoices",
         "Each negative invoice becomes a credit memo on its account; a draft account cannot take it.",
         Part("posted negative invoices on draft accounts", "zuora", _NEG_INVOICE_SRC,
              "a.status = 'Draft' AND i.balance < 0 AND i.status = 'Posted'", _NEG_INVOICE_COLS,
              order="i.invoicenumber"), _FIX_ACCOUNTS, "No draft account has a posted negative invoice",
         "a person activates the draft accounts"),
    _row(4, "Canceled accounts with posted negative invoices",
         "Each negative invoice becomes a credit memo on its account; a canceled account cannot take it.",
         Part("posted negative invoices on canceled accounts", "zuora", _NEG_INVOICE_SRC,
              "a.status = 'Canceled' AND i.balance < 0 AND i.status = 'Posted'", _NEG_INVOICE_COLS,
              order="i.invoicenumber"), _FIX_ACCOUNTS, "No canceled account has a posted negative invoice",
         "a person activates the canceled accounts"),
    _row(5, "Draft invoices with a negative balance",
         "Draft negative invoices cannot be migrated to credit memos.",
         Part("draft invoices with a negative balance", "zuora", "invoice", "status = 'Draft' AND balance < 0",
              "id, invoicenumber, accountid, balance, invoicedate", order="invoicenumber"),
         ("Cancel or post each listed draft invoice.", "Re-run the check until it counts 0."),
         "No draft invoice has a negative balance", "a person cancels the draft invoices"),
    _row(6, "Draft payments",
         "Draft payments are not migrated into payment parts.",
         Part("draft payments", "zuora", "payment", "status = 'Draft'",
              "id, paymentnumber, accountid, amount, effectivedate", order="paymentnumber"),
         ("Cancel or process each listed draft payment.", "Re-run the check until it counts 0."),
         "No draft payments", "a person cancels the draft payments"),
    Step(
        "B2/V7", Phase.B, "Error payments (for the record)", Kind.AUTO,
        why="Error and canceled payments are not migrated; their invoice links stay in the Invoice Payment data "
            "source. The list is kept for the record; nothing needs doing.",
        doc_url=src.C_VALID, parent="B2", aliases=("V7",),
        check=Check(ok="No error payments", rule=_v7_rule, parts=(
            Part("error payments", "zuora", "payment", "status = 'Error'",
                 "id, paymentnumber, accountid, amount, effectivedate", order="paymentnumber", role="info"),)),
        stand_in=StandIn("the tool lists them for the record", after=checked("B2/V7")),
    ),
    Step(
        "B2/V8", Phase.B, "Payment runs that apply credit balance", Kind.HUMAN,
        why="Scheduled payment runs with \"Apply Credit Balance to the invoice before attempting payment\" stop "
            "working once credit balance becomes credit memos.",
        doc_url=src.C_VALID, parent="B2", aliases=("V8",), confirm=True,
        instructions=("Billing > Payment Runs: find scheduled runs with \"Apply Credit Balance to the invoice "
                      "before attempting payment\".",
                      "Cancel that run and every later one.",
                      "After IS, create new runs; to use old credit balance tick \"Auto-apply unapplied credit "
                      "memos during payment runs\" (it may also apply other credit memos).",
                      "Confirm here with a note of the runs you cancelled."),
        stand_in=StandIn("the consultant reviews the payment runs",
                         after=confirmed("B2/V8", "the simulated tenant has no scheduled payment runs")),
    ),
    Step(
        "B2/V9", Phase.B, "Zuora Finance: accounting code for migration memos", Kind.HUMAN,
        why="With Zuora Finance, the migration credit memos need an On-Account accounting code; the default is "
            "Accounts Receivable.",
        doc_url=src.C_VALID, parent="B2", aliases=("V9",), confirm=True,
        check=Check(ok="Nothing for the migration to convert", rule=_v9_rule, parts=(
            Part(NEGATIVE_TO_CONVERT, "zuora", "invoice", "status = 'Posted' AND balance < 0",
                 "id, invoicenumber, accountid, balance, currency", order="invoicenumber", role="info"),
            Part(BALANCES_TO_CONVERT, "zuora", "account", "creditbalance > 0", _ACCOUNT_COLS,
                 order="accountnumber", role="info"),
        )),
        stand_in=StandIn("the consultant gives Support the On-Account code", after=in_order(
            checked("B2/V9"), confirmed("B2/V9", "On-Account accounting code for the migration memos: Customer "
                                                 "Credit (simulated)"))),
        instructions=("If Zuora Finance is off, confirm with the note \"Finance off\".",
                      "Otherwise choose the On-Account accounting code and put it in the B1 ticket.",
                      "Confirm here with the code in the note."),
    ),
    Step(
        "B3", Phase.B, "One-time migration charge per currency", Kind.VERIFY, also=Kind.HUMAN,
        why="The migration makes the credit-balance memos (and, per P-PREP, the negative-invoice memos) from a "
            "one-time charge named for each currency; it must be created or updated within two days before the "
            "migration.",
        doc_url=src.C_PRPC,
        check=Check(ok="A valid migration charge exists for every currency that needs one", rule=_b3_rule, parts=(
            Part(NO_CHARGE, "zuora", _NEEDED_CURRENCIES, _charge_missing, "n.currency", order="n.currency"),
            Part(TOO_EARLY, "zuora", _NEEDED_CURRENCIES, _charge_too_early, "n.currency", order="n.currency",
                 role="info"),
            Part("migration charges", "zuora", "productrateplancharge",
                 "name LIKE 'Special one time charge for migration - %'",
                 "id, name, currency, chargemodel, amount, taxable, updateddate", role="info"),
        )),
        instructions=("Product Catalog: create (or update) a product and rate plan effective for the current year.",
                      "Add a one-time Flat Fee charge named exactly \"Special one time charge for migration - "
                      "<CURRENCY>\" with a negative amount (e.g. -10), not taxable, any valid accounting code.",
                      "One per listed currency, within two days before {target_migration_date}."),
        stand_in=StandIn("a person creates the migration charges",
                         act=in_order(fixed_at_source("B3"), _charges_dated_today), after=checked("B3")),
    ),
    Step(
        "B4", Phase.B, "Finance timing (Zuora Finance only)", Kind.VERIFY, also=Kind.HUMAN,
        why="The migration fails if the accounting period it posts into is closed. Best practice: enable IS "
            "right after a period closes and before a journal run in the open period.",
        doc_url=src.C_GUIDE, confirm=True, needs=("target_migration_date",),
        check=Check(ok="The period containing the migration date is Open", rule=_finance_rule, parts=(
            Part(NOT_OPEN, "zuora", "accountingperiod",
                 lambda ctx: f"{_covers_migration_date(ctx)} AND status <> 'Open'",
                 "id, name, startdate, enddate, status", order="startdate"),
            Part(PERIODS_COVERING, "zuora", "accountingperiod", _covers_migration_date,
                 "id, name, startdate, enddate, status", order="startdate", role="info"),
        )),
        instructions=("If Zuora Finance is off, confirm with the note \"Finance off\".",
                      "Finance > Accounting Periods: the period containing {target_migration_date} is Open.",
                      "Schedule month-end close before or after the migration, never during it."),
        stand_in=StandIn("the consultant checks the period with Finance", after=in_order(
            checked("B4"), confirmed("B4", "the period containing the migration date is Open; no close during it"))),
    ),
    Step(
        "B5", Phase.B, "API and integration review", Kind.HUMAN,
        why="After IS, IIA, Invoice Adjustment and Credit Balance Adjustment calls are deprecated; any script or "
            "workflow that makes them, or negative invoices, breaks or must change.",
        doc_url=src.C_API, confirm=True,
        instructions=("List every integration, workflow and script that creates IIAs, invoice adjustments, "
                      "credit balance adjustments or negative invoices.",
                      "Plan their move to credit/debit memos and unapplied payments.",
                      "Confirm with the list in the note."),
        stand_in=StandIn("the consultant reviews the integrations", after=confirmed(
            "B5", "no integrations create IIAs or negative invoices in the simulated tenant")),
    ),
    Step(
        "B6", Phase.B, "Billing configuration review", Kind.HUMAN,
        why="IS brings memo settings that default differently: generation rule, mirroring, validation, "
            "application rule, numbering, templates, reason codes and accounting codes.",
        doc_url=src.C_BILLCFG, confirm=True,
        instructions=("Review: invoice/credit memo generation rule, \"Create credit memos mirroring invoice "
                      "items\", \"Available to credit\" validation, default application rule.",
                      "Review memo prefix and numbering, templates, custom fields, callouts and notifications.",
                      "Review role permissions, memo reason codes and accounting codes.",
                      "Confirm with what you changed in the note."),
        stand_in=StandIn("the consultant reviews the billing configuration",
                         after=confirmed("B6", "billing configuration reviewed: simulator defaults")),
    ),
)
