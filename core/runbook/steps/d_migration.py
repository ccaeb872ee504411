"""Phase D: the IS data migration, run by Zuora (runbook.md D1-D2)."""

from __future__ import annotations

from collections.abc import Mapping

from core.runbook import sources as src
from core.runbook.model import Check, Kind, Part, Phase, QueryContext, Status, Step, TicketTemplate
from core.runbook.probes import invoice_settlement_on, migration_output
from core.runbook.sql import ar_mig_memos
from core.runbook.stand_ins import Rehearsing, StandIn, checked
from core.runbook.steps.c_freeze import CREDIT_BALANCE_BASELINE, NEGATIVE_BASELINE
from core.runbook.steps.e_data_fixes import credit_balance_memos

AR_MIG_MEMOS = "AR Mig memos"
MIGRATION_GATES = (*(f"B2/V{n}" for n in range(1, 7)), "B3", "C1", "C2", "C3", "C4", "C5", "C6", "C7")
BALANCE_MEMOS = "credit-balance memos"


def _migration_rule(counts: Mapping[str, int], ctx: QueryContext) -> tuple[Status, str] | None:
    """One AR Mig memo per negative invoice of the C2 baseline; one credit-balance memo per account."""
    negatives = ctx.baseline("C2", NEGATIVE_BASELINE)
    balances = ctx.baseline("C2", CREDIT_BALANCE_BASELINE)
    if negatives is None or balances is None:
        return Status.NEEDS_ACTION, ("No C2 baseline in the journal: run `cutover check C2` before the migration "
                                     "(afterwards only the memo counts can be read)")
    problems = [f"{counts[AR_MIG_MEMOS]:,} AR Mig memos, expected {negatives:,} (C2 baseline)"
                if counts[AR_MIG_MEMOS] != negatives else "",
                f"{counts[BALANCE_MEMOS]:,} credit-balance memos, expected {balances:,} (C2 baseline)"
                if counts[BALANCE_MEMOS] != balances else ""]
    problems += [f"{counts[label]:,} {label}" for label in ("negative invoices not written off",
                                                             "accounts still holding credit balance")
                 if counts[label]]
    problems = [p for p in problems if p]
    if problems:
        return Status.FAIL, "; ".join(problems) + " — raise it with Support"
    return Status.PASS, (f"{negatives:,} AR Mig memos and {balances:,} credit-balance memos, as the C2 baseline "
                         "expects")


async def _request_migration(r: Rehearsing) -> None:
    r.ticket("D1")  # refused while a migration gate is open: nothing is asked of Support then


async def _support_migrates(r: Rehearsing) -> None:
    summary = await r.world.migrate_invoice_settlement()
    r.set(migration_date=summary["migration_date"])
    r.say("D1", f"Support's migration: {summary['negative_invoice_memos']:,} AR Mig memos, "
                f"{summary['credit_balance_memos']:,} credit-balance memos; IS on at {summary['is_enabled_ts']}")


async def _time_passes(r: Rehearsing) -> None:
    """The migration takes a while: whatever connector is still scheduled runs meanwhile."""
    for run in await r.world.tick():
        r.say("D1", f"scheduled run of instance {run.get('instance_id')} during the migration: "
                    f"{run.get('synced', 0):,} synced")
    await r.check("D1", "C6", "C7")


STEPS = (
    Step(
        "D1", Phase.D, "Support enables IS and runs the migration", Kind.TICKET,
        why="Only Zuora Global Support turns IS on and runs the data migration. New payments, refunds, credit "
            "balance adjustments or negative invoices during it force a re-run, so pick a quiet time.",
        doc_url=src.C_ENABLE,
        check=Check(ok="Invoice Settlement is on", probe=invoice_settlement_on, records="is_enabled_ts"),
        ticket=TicketTemplate(
            subject="Invoice Settlement: please enable IS and run the data migration for {profile}",
            body="""Hello Zuora Global Support,

Please enable Invoice Settlement and run the IS data migration on {target_migration_date}.
This follows our ticket {b1_ticket}.

Our NetSuite connector (instance {old_instance_id}) was stopped at {freeze_ts} (UTC).
IIAs and negative invoices since then (C6): {r[C6].line}
Our baseline of negative invoices (C2): {r[C2].line}
Expected output:
- one credit memo with reason code "AR Mig - negative invoice" per posted negative invoice;
- one credit memo per account with a credit balance.
One-time migration charge per currency (B3): {r[B3].line}

Please tell us when the migration has finished, and its date.

Thank you.""",
            variable="d1_ticket", optional=("b1_ticket",),
        ),
        instructions=("Send the drafted ticket and record its number: cutover ticket D1 --number N.",
                      "When Support reports the migration done: cutover set migration_date YYYY-MM-DD.",
                      "Re-run this check; it records is_enabled_ts when it first sees IS on."),
        # R8: nothing is asked of Support while a record would be stranded or the migration would fail on it.
        needs=("migration_date",), gates=MIGRATION_GATES,
        stand_in=StandIn("Support enables IS and runs the migration", before=_request_migration,
                         act=_support_migrates, after=_time_passes),
    ),
    Step(
        "D2", Phase.D, "Verify the migration output", Kind.AUTO,
        why="Each negative invoice must have become one AR Mig credit memo, each credit balance one credit memo, "
            "and the memos must carry the connector's fields; otherwise Support must look before anything syncs.",
        doc_url=src.C_GUIDE,
        check=Check(ok="The migration output matches the baseline", rule=_migration_rule, probe=migration_output,
                    parts=(
                        Part(AR_MIG_MEMOS, "zuora", "creditmemo", ar_mig_memos(),
                             "id, memonumber, accountid, totalamount, memodate", order="memonumber", role="info",
                             invoice_settlement=True),
                        Part(BALANCE_MEMOS, "zuora", "creditmemo", credit_balance_memos,
                             "id, memonumber, accountid, totalamount, memodate", order="memonumber", role="info",
                             invoice_settlement=True),
                        Part("negative invoices not written off", "zuora", "invoice",
                             "status = 'Posted' AND balance < 0", "id, invoicenumber, accountid, balance",
                             order="invoicenumber", invoice_settlement=True),
                        Part("accounts still holding credit balance", "zuora", "account", "creditbalance > 0",
                             "id, accountnumber, creditbalance, currency", order="accountnumber",
                             invoice_settlement=True),
                    )),
        stand_in=StandIn("the tool checks the migration's output", after=checked("D2")),
    ),
)
