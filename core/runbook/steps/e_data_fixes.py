"""Phase E: post-migration data fixes in Zuora (runbook.md E1-E3)."""

from __future__ import annotations

from collections.abc import Mapping

from core.runbook import sources as src
from core.runbook.checks import AR_MIG, QueryContext
from core.sql_literals import zuora_date
from core.runbook.model import Check, Kind, Part, Phase, Status, Step


def credit_balance_memos(ctx: QueryContext) -> str:
    """The memos the migration made from credit balances. No reason code is documented for them (R11.5): they
    are standalone memos from the one-time charge (Source/Source Type, CM-DS), dated the migration day."""
    day = ctx.variables.migration_date
    return (f"coalesce(reasoncode, 'x') <> {AR_MIG} AND source = 'AdhocFromPrpc' AND sourcetype = 'Standalone'"
            + (f" AND memodate = {zuora_date(day)}" if day else ""))
E2_TARGET = {"mark-yes": "Yes", "ignore": "Ignore"}  # e2_decision -> the TTA value it sets; "sync" sets none
_MEMO_COLS = "id, memonumber, accountid, totalamount, memodate, transferredtoaccounting, integrationid__ns"


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
    if left:
        return Status.FAIL, (f"{left:,} of {memos:,} credit-balance memos still to mark "
                             f"{E2_TARGET[decision]} (decision: {decision}; cutover apply E2)"), left
    return Status.PASS, f"{memos:,} credit-balance memos marked {E2_TARGET[decision]} (decision: {decision})", 0


STEPS = (
    Step(
        "E1", Phase.E, "Mark migrated negative-invoice credit memos as transferred", Kind.AUTO,
        why="The migration turned each negative invoice into a credit memo (reason code \"AR Mig - negative "
            "invoice\"). NetSuite already has these as credit memos; if their Transferred to Accounting stays No, "
            "the new connector pushes them again as duplicates.",
        doc_url=src.P_MIG, action="E1",
        check=Check(ok="Every AR Mig memo is marked transferred", parts=(
            Part("AR Mig memos not marked transferred", "zuora", "creditmemo",
                 f"reasoncode = {AR_MIG} AND coalesce(transferredtoaccounting, 'No') <> 'Yes'", _MEMO_COLS,
                 order="memonumber", invoice_settlement=True),)),
    ),
    Step(
        "E2", Phase.E, "Decide on the credit-balance migration memos", Kind.AUTO, also=Kind.HUMAN,
        why="The memos made from credit balances also meet the IS credit memo sync rules, but they stand alone "
            "(no synced invoice), so they may fail or create unapplied credits in NetSuite, where the credit "
            "balance never was. The docs give no guidance: decide, record it, and raise it in the F4 ticket.",
        doc_url=src.NSC_IS_CREDIT_MEMO, action="E2", needs=("e2_decision",),
        instructions=("Review the listed memos with the finance team.",
                      "sync: let the new connector send them to NetSuite.",
                      "mark-yes / ignore: keep them out of the sync (TTA Yes or Ignore) and book them in NetSuite "
                      "by hand.",
                      "Record it: cutover set e2_decision sync|mark-yes|ignore, then cutover apply E2."),
        check=Check(ok="The migration made no credit-balance memos", rule=_e2_rule, parts=(
            Part("credit-balance memos", "zuora", "creditmemo", credit_balance_memos, _MEMO_COLS,
                 order="memonumber", role="info", invoice_settlement=True),
            *(Part(f"credit-balance memos not {value}", "zuora", "creditmemo",
                   lambda c, v=value: f"{credit_balance_memos(c)} AND coalesce(transferredtoaccounting, 'No') <> '{v}'",
                   _MEMO_COLS, order="memonumber", invoice_settlement=True) for value in E2_TARGET.values()),
        )),
    ),
    Step(
        "E3", Phase.E, "Migration IIAs need no action", Kind.HUMAN,
        why="The new connector does not sync the IIAs the migration made to write off negative invoices. That "
            "holds only because the old connector was stopped first (C7).",
        doc_url=src.P_PREP, confirm=True, gates=("C7",),
        instructions=("Check that the old connector's scheduler stayed off through the migration (C7).",
                      "Confirm: nothing to do for the migration IIAs."),
    ),
)
