"""Phase G: NetSuite payments after the upgrade (runbook.md G1-G3). Script ids come from the profile only."""

from __future__ import annotations

from collections.abc import Mapping

from core.runbook import sources as src
from core.runbook.fixes import PaymentSyncUpdates
from core.runbook.model import Check, Kind, Part, Phase, QueryContext, Status, Step
from core.runbook.stand_ins import Mistake, Rehearsing, StandIn, applied, checked
from core.sql_literals import quote

# Payment method names the connector can match in Zuora (R8.12).
ZUORA_PAYMENT_METHODS = ("ACH", "Cash", "Check", "CreditCard", "Other", "PayPal", "WireTransfer", "DebitCard",
                         "CreditCardReferenceTransaction")
FIELD_DEFINED = "Zuora Sync Updates field definitions"
CRITERIA = ("without a Zuora customer id", "with Zuora Sync Updates not Yes",
            "neither applied to a Zuora invoice nor fully unapplied", "applied to a journal",
            "with a payment method Zuora does not know")


def since_freeze(ctx: QueryContext) -> str:
    """Dated, created or last changed since the freeze: a payment typed in today but dated last week (back-dated)
    is in the window as much as one dated today."""
    return (f"(t.trandate >= {ctx.ns_date('freeze_ts')} OR t.createddate >= {ctx.ns_timestamp('freeze_ts')} "
            f"OR t.lastmodifieddate >= {ctx.ns_timestamp('freeze_ts')})")


def freeze_window(ctx: QueryContext) -> str:
    """Customer payments entered in NetSuite since the freeze that did not come from Zuora."""
    return f"t.type = 'CustPymt' AND {since_freeze(ctx)} AND NVL(t.{ctx.ns('zuora_origin')}, 'x') <> 'ZUORA'"


def window_payments(ctx: QueryContext) -> str:
    """Freeze-window payments not yet in Zuora (the G2 query)."""
    return f"{freeze_window(ctx)} AND t.{ctx.ns('zuora_id')} IS NULL"


def backfill_targets(ctx: QueryContext) -> str:
    """G2: window payments whose Zuora Sync Updates is still empty."""
    return f"{window_payments(ctx)} AND t.{ctx.ns('zuora_sync_updates')} IS NULL"


def _applied(ctx: QueryContext, condition: str) -> str:
    return (f"EXISTS (SELECT 1 FROM nexttransactionlinelink l JOIN transaction d ON d.id = l.previousdoc "
            f"WHERE l.nextdoc = t.id AND {condition})")


def _criteria(ctx: QueryContext) -> dict[str, str]:
    """Each IS NetSuite-to-Zuora payment rule (R4.2), written as the condition that breaks it."""
    methods = ", ".join(quote(m) for m in ZUORA_PAYMENT_METHODS)
    zuora_doc = _applied(ctx, f"d.type = 'CustInvc' AND d.{ctx.ns('zuora_id')} IS NOT NULL")
    conditions = (
        f"t.{ctx.ns('zuora_customer_id_payment')} IS NULL",
        f"NVL(t.{ctx.ns('zuora_sync_updates')}, 'x') <> {quote(ctx.sync_updates_yes)}",
        f"NOT {zuora_doc} AND NOT (t.foreignamountremaining > 0 AND t.foreignamountpaid = 0)",
        _applied(ctx, "d.type = 'Journal'"),
        f"NVL(t.paymentmethod, 'x') NOT IN ({methods})",
    )
    return dict(zip(CRITERIA, conditions, strict=True))


def _failing(ctx: QueryContext) -> str:
    return f"{window_payments(ctx)} AND (" + " OR ".join(f"({c})" for c in _criteria(ctx).values()) + ")"


def _criterion(label: str) -> Part:
    return Part(label, "netsuite", "transaction t", lambda c: f"{window_payments(c)} AND ({_criteria(c)[label]})",
                "t.id, t.tranid", role="info")


def _payment_cols(ctx: QueryContext) -> str:
    return (f"t.id, t.tranid, t.trandate, t.foreigntotal, t.paymentmethod, "
            f"t.{ctx.ns('zuora_sync_updates')} AS zuorasyncupdates")


def _default_rule(counts: Mapping[str, int], ctx: QueryContext) -> tuple[Status, str] | None:
    if counts[FIELD_DEFINED] == 0:
        return Status.FAIL, (f"NetSuite has no custom field {ctx.ns('zuora_sync_updates')}: check the mapping "
                             f"with `cutover profile fields {ctx.profile_name}`")
    return None


WINDOW_PAYMENTS = 3  # typed into NetSuite after the freeze, before the G1 default


async def _window_payments(r: Rehearsing) -> None:
    """Collections go on during the cutover: payments typed into NetSuite before the default is set, one of them
    dated back before the freeze."""
    made = await r.world.enter_netsuite_payments(WINDOW_PAYMENTS - 1)
    made += await r.world.enter_netsuite_payments(1, backdate_days=40)
    r.say("G1", f"{len(made)} customer payments typed into NetSuite since the freeze, before the default "
                f"(one dated {made[-1]['trandate']}): Zuora Sync Updates empty")


async def _default_yes(r: Rehearsing) -> None:
    await r.world.set_field_default("zuora_sync_updates", "Yes")
    r.say("G1", "Zuora Sync Updates defaults to Yes (Customization > Transaction Body Fields)")


async def _integration_status_cleared(r: Rehearsing) -> None:
    """Before the first run, someone clears the connector's fields on records it had sent: it sends them again."""
    done = await r.world.clear_integration_status(2)
    r.say("G3", f"Integration Status, Id and TTA cleared by hand on {', '.join(done['cleared'])}")


STEPS = (
    Step(
        "G1", Phase.G, "Default Zuora Sync Updates to Yes in NetSuite", Kind.HUMAN, also=Kind.VERIFY,
        why="With IS on, the NetSuite-to-Zuora payment sync only picks up payments whose Zuora Sync Updates is "
            "Yes; defaulting the field makes every new payment qualify.",
        doc_url=src.P_PAY,
        instructions=("NetSuite, as administrator: Customization > Lists, Records, & Fields > Transaction Body "
                      "Fields.",
                      "Open Zuora Sync Updates > Validation & Defaulting.",
                      "Set the default selection to Yes and save; then re-run this check."),
        stand_in=StandIn("the NetSuite administrator sets the default", before=_window_payments, act=_default_yes,
                         after=checked("G1")),
        check=Check(ok="Zuora Sync Updates defaults to Yes", rule=_default_rule, parts=(
            Part(FIELD_DEFINED, "netsuite", "customfield",
                 lambda c: f"LOWER(scriptid) = LOWER({quote(c.ns('zuora_sync_updates'))})",
                 "scriptid, name, defaultvalue", role="info"),
            Part("Zuora Sync Updates fields without the default Yes", "netsuite", "customfield",
                 lambda c: (f"LOWER(scriptid) = LOWER({quote(c.ns('zuora_sync_updates'))}) "
                            f"AND NVL(defaultvalue, 'x') <> {quote(c.sync_updates_yes)}"),
                 "scriptid, name, defaultvalue"),
        )),
    ),
    Step(
        "G2", Phase.G, "Back-fill Zuora Sync Updates on payments from the freeze window", Kind.AUTO,
        why="A field default applies to new records only: customer payments entered since the freeze, before G1, "
            "have an empty Zuora Sync Updates and never reach Zuora. The window counts each payment's creation and "
            "last change, not only its date, so back-dated entries are found too. Payments that came from Zuora are "
            "never touched.",
        doc_url=src.P_PAY, needs=("freeze_ts",), action=PaymentSyncUpdates("G2", backfill_targets),
        stand_in=StandIn("the tool back-fills the payments (plan, confirm, apply)", act=applied("G2"),
                         after=checked("G2")),
        check=Check(ok="Every freeze-window payment has Zuora Sync Updates set", parts=(
            Part("window payments with Zuora Sync Updates empty", "netsuite", "transaction t", backfill_targets,
                 _payment_cols, order="t.id"),)),
    ),
    Step(
        "G3", Phase.G, "Window payments meet the IS sync criteria", Kind.AUTO,
        why="A payment that breaks any IS rule (customer not in Zuora, not applied to a Zuora invoice or fully "
            "unapplied, applied to a journal, unknown payment method) silently never syncs.",
        doc_url=src.NSC_IS_NS_PAYMENT_RULES, needs=("freeze_ts",),
        instructions=("Fix each listed payment in NetSuite (apply it, change its method, or take it off the "
                      "journal), or note why it stays.",),
        check=Check(ok="Every window payment meets the IS criteria", fail_status=Status.NEEDS_ACTION,
                    headline="window payments failing an IS criterion", parts=(
                        Part("window payments failing an IS criterion", "netsuite", "transaction t", _failing,
                             _payment_cols, order="t.id"),
                        *(_criterion(label) for label in CRITERIA),
                    )),
        stand_in=StandIn("the tool checks the window payments", after=checked("G3"), mistakes=(
            Mistake("integration-status-cleared", "Integration Status, Id and TTA cleared by hand on synced "
                    "invoices and payments, to force a resync (R8.9)", _integration_status_cleared),)),
    ),
)
