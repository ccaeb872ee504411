"""Phase E: post-migration data fixes in Zuora (runbook.md E1-E3)."""

from __future__ import annotations

from collections.abc import Mapping

from core.errors import ConfigError
from core.runbook import sources as src
from core.runbook.fixes import CreditMemoTransferred
from core.runbook.model import Check, Kind, Part, Phase, QueryContext, Status, Step
from core.runbook.sql import AR_MIG, ar_mig_memos, in_netsuite, migration_write_off
from core.runbook.stand_ins import Mistake, Rehearsing, StandIn, applied, checked, confirmed, in_order
from core.sql_literals import zuora_date


def credit_balance_memos(ctx: QueryContext) -> str:
    """The memos the migration made from credit balances. No reason code is documented for them (R11.5): they
    are standalone memos from the one-time charge (Source/Source Type, CM-DS), dated the migration day."""
    day = ctx.variables.migration_date
    return (f"coalesce(reasoncode, 'x') <> {AR_MIG} AND source = 'AdhocFromPrpc' AND sourcetype = 'Standalone'"
            + (f" AND memodate = {zuora_date(day)}" if day else ""))


E2_TARGET = {"mark-yes": "Yes", "ignore": "Ignore"}  # e2_decision -> the TTA value it sets; "sync" sets none
E2_SENT = "credit-balance memos already in NetSuite"
_MEMO_COLS = "id, memonumber, accountid, totalamount, memodate, transferredtoaccounting, integrationid__ns"
_M_COLS = ", ".join(f"m.{c}" for c in _MEMO_COLS.split(", "))

# ---- E1 ------------------------------------------------------------------------------------------------------
NOT_MARKED = "AR Mig memos not marked transferred"
CASE_2 = "AR Mig memos of negative invoices NetSuite never had (Case 2)"
CASE_2_MARKED = "of them marked transferred"
CASE_2_UNMARKED = "of them not marked transferred"


def e1_targets(ctx: QueryContext) -> str:
    """The memos E1 marks Yes: every AR Mig memo whose negative invoice NetSuite already has; the Case 2 ones (never
    in NetSuite) only when the person decided to book them by hand (e1_decision mark-yes). Alias m."""
    base = ar_mig_memos("m.")
    if ctx.variables.e1_decision == "mark-yes":
        return base
    return f"{base} AND {in_netsuite('m.')}"


def _e1_rule(counts: Mapping[str, int], ctx: QueryContext) -> tuple[Status, str, int] | None:
    case2, decision = counts[CASE_2], ctx.variables.e1_decision
    left = counts[NOT_MARKED] + (counts[CASE_2_UNMARKED] if decision == "mark-yes" else 0)
    if left:
        more = "" if not case2 or decision == "mark-yes" else \
            f"; {case2:,} more come from negative invoices NetSuite never had (Case 2: decide before marking them)"
        return Status.FAIL, f"{left:,} {NOT_MARKED} (cutover apply E1){more}", left
    if not case2:
        return None
    if decision is None:
        return Status.NEEDS_ACTION, (
            f"{case2:,} AR Mig memos come from negative invoices that never reached NetSuite (Case 2): marking them "
            "would keep their credit out of NetSuite for good. Decide: cutover set e1_decision sync (the new "
            "connector sends them as credit memos) or mark-yes (book them in NetSuite by hand)"), case2
    if decision == "sync" and counts[CASE_2_MARKED]:
        return Status.FAIL, (f"{counts[CASE_2_MARKED]:,} Case 2 memos are marked transferred, so their credit never "
                             "reaches NetSuite (decision sync): set them back to No (needs the Override "
                             "Transferred to Accounting permission)"), counts[CASE_2_MARKED]
    return Status.PASS, (f"Every AR Mig memo NetSuite already had is marked transferred; {case2:,} Case 2 memos "
                         + ("will sync to NetSuite (decision: sync)" if decision == "sync"
                            else "marked too, to book by hand (decision: mark-yes)")), 0


def _case2(extra: str = "") -> str:
    return f"{ar_mig_memos('m.')} AND NOT {in_netsuite('m.')}{extra}"


async def _decide_case_2(r: Rehearsing) -> None:
    """E1, before applying: where the check lists Case 2 memos, the person records the decision."""
    states = await r.check("E1")
    result = states["E1"].result
    if result is not None and result.details.get(CASE_2) and r.variables().e1_decision is None:
        r.set(e1_decision=r.e1_decision)
        r.say("E1", f"{result.details[CASE_2]:,} Case 2 memos; decision recorded: {r.e1_decision}")


# ---- E2 ------------------------------------------------------------------------------------------------------
def _e2_rule(counts: Mapping[str, int], ctx: QueryContext) -> tuple[Status, str, int]:
    memos = counts["credit-balance memos"]
    decision = ctx.variables.e2_decision
    if not memos:
        return Status.PASS, "The migration made no credit-balance memos", 0
    if decision is None:
        return Status.NEEDS_ACTION, (f"{memos:,} credit-balance memos: decide whether they sync to NetSuite "
                                     "(cutover set e2_decision sync|mark-yes|ignore)"), memos
    if decision == "sync":
        return Status.PASS, f"{memos:,} credit-balance memos will sync to NetSuite (decision: sync)", 0
    left = counts[f"credit-balance memos not {E2_TARGET[decision]}"]
    # A connector run before the decision was applied sent them already: marking them now keeps no copy out.
    sent = counts[E2_SENT]
    copies = (f"; {sent:,} of them reached NetSuite already, and marking does not take them back: delete those "
              "NetSuite credit memos") if sent else ""
    if left:
        return Status.FAIL, (f"{left:,} of {memos:,} credit-balance memos still to mark "
                             f"{E2_TARGET[decision]} (decision: {decision}; cutover apply E2){copies}"), left
    if sent:
        return Status.FAIL, (f"{sent:,} credit-balance memos reached NetSuite before they were marked "
                             f"{E2_TARGET[decision]} (decision: {decision}): delete their NetSuite credit memos, then "
                             "waive E2 saying so"), sent
    return Status.PASS, f"{memos:,} credit-balance memos marked {E2_TARGET[decision]} (decision: {decision})", 0


def _e2_value(ctx: QueryContext) -> str:
    decision = ctx.var("e2_decision")
    if decision not in E2_TARGET:
        raise ConfigError(f"the E2 decision is {decision!r}: the memos sync as they are, nothing to write",
                          hint="record another decision with `cutover set e2_decision mark-yes|ignore` to mark them")
    return E2_TARGET[decision]


async def _decide_e2(r: Rehearsing) -> None:
    r.set(e2_decision=r.e2_decision)
    r.say("E2", f"decision recorded: {r.e2_decision}")


async def _mark_e2(r: Rehearsing) -> None:
    if r.e2_decision != "sync":  # "sync" leaves the memos as they are: nothing to write
        await r.apply("E2")


async def _old_connector_restarted(r: Rehearsing) -> None:
    """Someone turns the old instance's scheduler back on once E3 has passed; its next scheduled run follows."""
    old = r.variables().old_instance_id
    await r.world.start_connector(old)
    for run in await r.world.tick():
        r.say("E3", f"old instance {old} started again; scheduled run of {run.get('instance_id')}: "
                    f"{run.get('status')}, {run.get('synced', 0):,} synced")


STEPS = (
    Step(
        "E1", Phase.E, "Mark migrated negative-invoice credit memos as transferred", Kind.AUTO,
        why="The migration turned each negative invoice into a credit memo (reason code \"AR Mig - negative "
            "invoice\"). NetSuite already has these as credit memos; if their Transferred to Accounting stays No, "
            "the new connector pushes them again as duplicates. A memo whose negative invoice never reached "
            "NetSuite (\"Case 2\") is the opposite: marking it keeps that credit out of NetSuite for good, so it is "
            "left out until a person decides.",
        doc_url=src.P_MIG,
        action=CreditMemoTransferred("E1", e1_targets, lambda ctx: "Yes"),
        instructions=("Plan and apply: the AR Mig memos NetSuite already has get Transferred to Accounting = Yes.",
                      "Case 2 memos (negative invoice never in NetSuite) are listed apart. Decide with Support: "
                      "cutover set e1_decision sync (the new connector sends them) or mark-yes (they are marked "
                      "too and booked in NetSuite by hand).",),
        check=Check(ok="Every AR Mig memo is marked transferred", rule=_e1_rule, headline=NOT_MARKED, parts=(
            Part(NOT_MARKED, "zuora", "creditmemo m",
                 f"{ar_mig_memos('m.')} AND {in_netsuite('m.')} AND coalesce(m.transferredtoaccounting, 'No') <> 'Yes'",
                 _M_COLS, order="m.memonumber", invoice_settlement=True),
            Part(CASE_2, "zuora", "creditmemo m", _case2(), _M_COLS, order="m.memonumber", role="info",
                 invoice_settlement=True),
            Part(CASE_2_MARKED, "zuora", "creditmemo m", _case2(" AND m.transferredtoaccounting = 'Yes'"), "m.id",
                 role="info", invoice_settlement=True),
            Part(CASE_2_UNMARKED, "zuora", "creditmemo m",
                 _case2(" AND coalesce(m.transferredtoaccounting, 'No') <> 'Yes'"), "m.id", role="info",
                 invoice_settlement=True),
        )),
        stand_in=StandIn("the tool marks the memos (plan, confirm, apply)", before=_decide_case_2,
                         act=applied("E1"), after=checked("E1")),
    ),
    Step(
        "E2", Phase.E, "Decide on the credit-balance migration memos", Kind.AUTO, also=Kind.HUMAN,
        why="The memos made from credit balances also meet the IS credit memo sync rules, but they stand alone "
            "(no synced invoice), so they may fail or create unapplied credits in NetSuite, where the credit "
            "balance never was. The docs give no guidance: decide, record it, and raise it in the F4 ticket.",
        doc_url=src.NSC_IS_CREDIT_MEMO, needs=("e2_decision",),
        action=CreditMemoTransferred("E2", credit_balance_memos, _e2_value),
        instructions=("Review the listed memos with the finance team.",
                      "sync: let the new connector send them to NetSuite.",
                      "mark-yes / ignore: keep them out of the sync (TTA Yes or Ignore) and book them in NetSuite "
                      "by hand.",
                      "Record it: cutover set e2_decision sync|mark-yes|ignore, then cutover apply E2."),
        check=Check(ok="The migration made no credit-balance memos", rule=_e2_rule, parts=(
            Part("credit-balance memos", "zuora", "creditmemo", credit_balance_memos, _MEMO_COLS,
                 order="memonumber", role="info", invoice_settlement=True),
            Part(E2_SENT, "zuora", "creditmemo", lambda c: f"{credit_balance_memos(c)} AND integrationid__ns IS NOT NULL",
                 _MEMO_COLS, order="memonumber", role="info", invoice_settlement=True),
            *(Part(f"credit-balance memos not {value}", "zuora", "creditmemo",
                   lambda c, v=value: f"{credit_balance_memos(c)} AND coalesce(transferredtoaccounting, 'No') <> '{v}'",
                   _MEMO_COLS, order="memonumber", invoice_settlement=True) for value in E2_TARGET.values()),
        )),
        stand_in=StandIn("the consultant decides and the tool marks the memos", before=_decide_e2, act=_mark_e2,
                         after=checked("E2")),
    ),
    Step(
        "E3", Phase.E, "Migration IIAs need no action", Kind.HUMAN, also=Kind.VERIFY,
        why="The new connector does not sync the IIAs the migration made to write off negative invoices. That "
            "holds only because the old connector was stopped first (C7): a still running old instance pushes "
            "them to NetSuite, where they become invoices nobody billed.",
        doc_url=src.P_PREP, confirm=True, gates=("C7",),
        instructions=("Check that the old connector's scheduler stayed off through the migration (C7).",
                      "If the check lists write-off IIAs in NetSuite, delete their NetSuite copies and raise it with "
                      "Support before the new connector runs.",
                      "Confirm: nothing to do for the migration IIAs."),
        check=Check(ok="No migration write-off IIA reached NetSuite", parts=(
            Part("migration write-off IIAs pushed to NetSuite", "zuora", "invoiceitemadjustment j",
                 f"{migration_write_off('j.')} AND (j.integrationid__ns IS NOT NULL OR "
                 "coalesce(j.transferredtoaccounting, 'No') IN ('Yes', 'Processing'))",
                 "j.id, j.adjustmentnumber, j.invoicenumber, j.amount, j.adjustmentdate, j.integrationid__ns",
                 order="j.adjustmentnumber", invoice_settlement=True),
        )),
        stand_in=StandIn("the consultant checks the old connector stayed off", after=in_order(
            checked("E3"), confirmed("E3", "the old connector stayed stopped through the migration (C7)")),
            mistakes=(Mistake("old-connector-restarted", "the old connector's scheduler switched back on after E3 "
                              "(R8.4)", _old_connector_restarted),)),
    ),
)
