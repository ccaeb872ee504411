"""The IS data migration that Zuora Support runs (runbook D1), as the simulator's stand-in does it.

Each posted negative invoice with an open (negative) balance is written off with an IIA and becomes one credit
memo with reason code `AR Mig - negative invoice`, TTA No, excluded from auto-apply. Each account with a credit
balance gets an external refund (method Other) and one credit memo from the one-time charge. Then IS is on, for
good: a second migration is refused.
"""

from __future__ import annotations

import threading

from core.errors import CutoverError
from core.objects import ACCOUNT, CREDIT_MEMO, INVOICE, INVOICE_ITEM_ADJUSTMENT, REFUND
from core.sim.records import RecordWriter, sim_today
from core.sim.store import Store, now_ts

NEGATIVE_INVOICE_REASON = "AR Mig - negative invoice"
ONE_TIME_CHARGE = "Special one time charge for migration - {currency}"
CHUNK = 500  # records per transaction, so readers are never held up for long
_one_at_a_time = threading.Lock()


class MigrationRefused(CutoverError):
    """The migration cannot run on this tenant as it is."""


def _each_chunk(store: Store, table: str, where: str, change) -> int:
    """Apply `change(writer, record)` to every matching record, a keyset chunk per transaction; returns the count."""
    done, after = 0, ""
    while True:
        with store.transaction() as conn:
            rows = [dict(r) for r in conn.execute(
                f"SELECT * FROM main.{table} WHERE {where} AND id > ? ORDER BY id LIMIT ?", (after, CHUNK))]
            if not rows:
                return done
            w = RecordWriter(store, conn, source="migration")
            for row in rows:
                change(w, row)
        done += len(rows)
        after = rows[-1]["id"]


def _negative_invoice(w: RecordWriter, inv: dict, today: str) -> None:
    amount = round(-inv["balance"], 2)
    w.insert_zuora(INVOICE_ITEM_ADJUSTMENT, {
        "accountid": inv["accountid"], "invoiceid": inv["id"], "invoicenumber": inv["invoicenumber"],
        "amount": amount, "type": "Charge", "status": "Processed", "reasoncode": "Write-off",
        "adjustmentdate": today})  # TTA left empty: the old connector would pick it up if still running
    w.insert_zuora(CREDIT_MEMO, {
        "accountid": inv["accountid"], "totalamount": amount, "balance": amount, "status": "Posted",
        "reasoncode": NEGATIVE_INVOICE_REASON, "memodate": today, "source": "AdhocFromInvoice",
        "sourcetype": "Invoice", "referredinvoiceid": inv["id"], "excludefromautoapplyrules": 1,
        "transferredtoaccounting": "No", "currency": inv["currency"],
        "comment": f"Migrated from negative invoice {inv['invoicenumber']}"})
    w.update_zuora(INVOICE, inv, {"balance": 0.0})


def _credit_balance(w: RecordWriter, acct: dict, today: str) -> None:
    amount = round(acct["creditbalance"], 2)
    w.insert_zuora(REFUND, {
        "accountid": acct["id"], "amount": amount, "refunddate": today, "status": "Processed",
        "sourcetype": "CreditBalance", "methodtype": "Other", "type": "External"})
    w.insert_zuora(CREDIT_MEMO, {
        "accountid": acct["id"], "totalamount": amount, "balance": amount, "status": "Posted", "memodate": today,
        "source": "AdhocFromPrpc", "sourcetype": "Standalone", "excludefromautoapplyrules": 0,
        "transferredtoaccounting": "No", "currency": acct["currency"],
        "comment": ONE_TIME_CHARGE.format(currency=acct["currency"])})
    w.update_zuora(ACCOUNT, acct, {"creditbalance": 0.0})


def _unresolved_validations(store: Store) -> dict[str, int]:
    """B2 rows still open: the real migration may fail on them, so the summary names them."""
    checks = {
        "V1": "SELECT count(*) FROM account WHERE status = 'Draft' AND creditbalance > 0",
        "V2": "SELECT count(*) FROM account WHERE status = 'Canceled' AND creditbalance > 0",
        "V3": "SELECT count(*) FROM invoice i JOIN account a ON a.id = i.accountid "
              "WHERE a.status = 'Draft' AND i.balance < 0 AND i.status = 'Posted'",
        "V4": "SELECT count(*) FROM invoice i JOIN account a ON a.id = i.accountid "
              "WHERE a.status = 'Canceled' AND i.balance < 0 AND i.status = 'Posted'",
        "V5": "SELECT count(*) FROM invoice WHERE status = 'Draft' AND balance < 0",
        "V6": "SELECT count(*) FROM payment WHERE status = 'Draft'",
    }
    return {k: n for k, sql in checks.items() if (n := store.scalar(sql))}


def migrate_invoice_settlement(store: Store) -> dict:
    """Run the migration and turn IS on. Raises MigrationRefused when IS is already on (or a run is going)."""
    if not _one_at_a_time.acquire(blocking=False):
        raise MigrationRefused("the migration is already running", hint="wait for it to finish")
    try:
        return _migrate(store)
    finally:
        _one_at_a_time.release()


def _migrate(store: Store) -> dict:
    if store.invoice_settlement:
        raise MigrationRefused(
            "Invoice Settlement is already enabled on this tenant; the data migration runs once and cannot be "
            "undone", hint="carry on with the post-migration steps (E1 onwards)")
    today = sim_today(store)
    started = now_ts()
    summary = {"started": started, "migration_date": today,
               "unresolved_validations": _unresolved_validations(store)}
    n = _each_chunk(store, "invoice", "status = 'Posted' AND balance < 0",
                    lambda w, inv: _negative_invoice(w, inv, today))
    summary.update(negative_invoices=n, write_off_adjustments=n, negative_invoice_memos=n)
    n = _each_chunk(store, "account", "creditbalance > 0", lambda w, acct: _credit_balance(w, acct, today))
    summary.update(credit_balance_accounts=n, credit_balance_refunds=n, credit_balance_memos=n)
    enabled = now_ts()
    with store.transaction() as conn:
        store.log_write(conn, source="migration", system="zuora", object="Tenant", record_id="settings",
                        field="InvoiceSettlement", old=False, new=True)
    store.set_setting("invoice_settlement", True)
    store.set_setting("is_enabled_ts", enabled)
    summary["ended"] = summary["is_enabled_ts"] = enabled
    return summary
