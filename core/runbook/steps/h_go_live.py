"""Phase H: go-live and verification (runbook.md H1-H4)."""

from __future__ import annotations

from collections.abc import Mapping

from core.runbook import sources as src
from core.runbook.checks import AR_MIG, QueryContext, not_transferred
from core.sql_literals import quote
from core.runbook.model import Check, Kind, Part, Phase, Status, Step
from core.runbook.steps.g_payments import freeze_window

NS_PAYMENTS_PER_MIN = 2  # R7: NetSuite payment throughput into Zuora with 10 threads
DUPLICATES = "duplicate credit memos in NetSuite"
WINDOW_PENDING = "NetSuite window payments not yet in Zuora"
_MEMO_COLS = "id, memonumber, accountid, totalamount, memodate, transferredtoaccounting, integrationstatus__ns"


def _duplicates(ctx: QueryContext) -> str:
    return f"t.type = 'CustCred' AND t.{ctx.ns('zuora_id')} IN ({{ids}})"


def _duplicate_cols(ctx: QueryContext) -> str:
    return (f"t.id, t.tranid, t.entity, t.foreigntotal, t.{ctx.ns('zuora_id')} AS zuoraid, "
            f"t.{ctx.ns('zuora_type')} AS zuoratype")


def _window_pending(ctx: QueryContext) -> str:
    return (f"{freeze_window(ctx)} AND t.{ctx.ns('zuora_sync_updates')} = {quote(ctx.sync_updates_yes)} "
            f"AND NVL(t.{ctx.ns('zuora_integration_status')}, 'x') <> 'Sync Complete'")


def _flows_rule(counts: Mapping[str, int], ctx: QueryContext) -> tuple[Status, str] | None:
    waiting = counts[WINDOW_PENDING]
    if not waiting:
        return None
    found = "; ".join(f"{n:,} {label}" for label, n in counts.items() if n)
    return Status.FAIL, f"{found} (about {waiting / NS_PAYMENTS_PER_MIN:,.0f} min at ~2 NetSuite payments/min)"


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
    ),
    Step(
        "H2", Phase.H, "No duplicates in NetSuite", Kind.AUTO,
        why="A NetSuite credit memo carrying an AR Mig memo's Zuora id is a second credit for a negative "
            "invoice NetSuite already had.",
        doc_url=src.P_MIG,
        instructions=("For each duplicate: delete the NetSuite credit memo, then set the Zuora memo's TTA to "
                      "Yes (cutover apply E1) so it is not sent again.",),
        check=Check(ok="No AR Mig memo reached NetSuite a second time", headline=DUPLICATES, parts=(
            Part(DUPLICATES, "netsuite", "transaction t", _duplicates, _duplicate_cols, order="t.id",
                 invoice_settlement=True, ids_from=f"SELECT id FROM creditmemo WHERE reasoncode = {AR_MIG}"),
            Part("AR Mig memos carrying a NetSuite id", "zuora", "creditmemo",
                 f"reasoncode = {AR_MIG} AND integrationid__ns IS NOT NULL", _MEMO_COLS + ", integrationid__ns",
                 order="memonumber", invoice_settlement=True),
            Part("AR Mig memos not marked transferred", "zuora", "creditmemo",
                 f"reasoncode = {AR_MIG} AND coalesce(transferredtoaccounting, 'No') <> 'Yes'", _MEMO_COLS,
                 order="memonumber", invoice_settlement=True),
        )),
    ),
    Step(
        "H3", Phase.H, "New flows work", Kind.AUTO,
        why="After the first run, posted memos and the freeze-window NetSuite payments must have synced; what is "
            "left shows a rule or setting still blocking them (cutover date, account not synced, Boomi creds).",
        doc_url=src.NSC_IS_CREDIT_MEMO, needs=("freeze_ts",),
        check=Check(ok="Memos and window payments have synced", rule=_flows_rule, parts=(
            Part("credit memos waiting for NetSuite", "zuora", "creditmemo",
                 lambda c: (f"status = 'Posted' AND coalesce(origin__ns, 'x') <> 'NETSUITE' "
                            f"AND coalesce(reasoncode, 'x') <> {AR_MIG} AND {not_transferred()}"
                            + c.since("memodate", "new_memo_cutover")),
                 _MEMO_COLS, order="memonumber", invoice_settlement=True),
            Part("debit memos waiting for NetSuite", "zuora", "debitmemo",
                 lambda c: f"status = 'Posted' AND {not_transferred()}" + c.since("memodate", "new_memo_cutover"),
                 _MEMO_COLS, order="memonumber", invoice_settlement=True),
            Part(WINDOW_PENDING, "netsuite", "transaction t", _window_pending,
                 lambda c: f"t.id, t.tranid, t.trandate, t.{c.ns('zuora_integration_status')} AS integrationstatus",
                 order="t.id", invoice_settlement=True),
        )),
    ),
    Step(
        "H4", Phase.H, "Enable the schedule", Kind.HUMAN,
        why="Scheduled runs start only once the first run proved there are no duplicates and the new flows work.",
        doc_url=src.NSC_SCHEDULER, confirm=True, gates=("H2", "H3"), needs=("go_live_ts",),
        instructions=("Turn on the Scheduler configured in F7.",
                      "Record the time: cutover set go_live_ts 'YYYY-MM-DD HH:MM' (UTC)."),
    ),
)
