"""The IS data migration that Zuora Support runs (runbook D1), as the simulator's stand-in does it.

It refuses to start, naming what is wrong, while a B2 row (V1-V6) still lists records or a currency that needs it
lacks a valid one-time migration charge (B3). The guide only says to fix those first; refusing is our choice, so
that a rehearsal cannot carry on past them.

Each posted negative invoice with an open (negative) balance is written off with an IIA and becomes one credit
memo with reason code `AR Mig - negative invoice`, TTA No, excluded from auto-apply. Each account with a credit
balance gets an external refund (method Other) and one credit memo from the one-time charge. Then IS is on, for
good: a second migration is refused.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

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


# The B2 rows the migration cannot get past: (what, the records' numbers). Shared with the stand-ins that fix them.
VALIDATIONS: dict[str, tuple[str, str]] = {
    "V1": ("draft accounts with credit balance",
           "SELECT accountnumber FROM account WHERE status = 'Draft' AND creditbalance > 0"),
    "V2": ("canceled accounts with credit balance",
           "SELECT accountnumber FROM account WHERE status = 'Canceled' AND creditbalance > 0"),
    "V3": ("posted negative invoices on draft accounts",
           "SELECT i.invoicenumber FROM invoice i JOIN account a ON a.id = i.accountid "
           "WHERE a.status = 'Draft' AND i.balance < 0 AND i.status = 'Posted'"),
    "V4": ("posted negative invoices on canceled accounts",
           "SELECT i.invoicenumber FROM invoice i JOIN account a ON a.id = i.accountid "
           "WHERE a.status = 'Canceled' AND i.balance < 0 AND i.status = 'Posted'"),
    "V5": ("draft invoices with a negative balance",
           "SELECT invoicenumber FROM invoice WHERE status = 'Draft' AND balance < 0"),
    "V6": ("draft payments", "SELECT paymentnumber FROM payment WHERE status = 'Draft'"),
}


def unresolved_validations(store: Store) -> dict[str, list[str]]:
    """B2 rows still listing records, with (up to five of) their numbers."""
    out = {}
    for row, (_, sql) in VALIDATIONS.items():
        numbers = [next(iter(r.values())) for r in store.query(f"{sql} LIMIT 6")]
        if numbers:
            out[row] = numbers
    return out


def needed_currencies(store: Store) -> list[str]:
    """Currencies the migration makes memos in from the one-time charge: credit balances and negative invoices."""
    return [r["currency"] for r in store.query(
        "SELECT currency FROM account WHERE creditbalance > 0 UNION SELECT currency FROM invoice "
        "WHERE status = 'Posted' AND balance < 0 ORDER BY 1") if r["currency"]]


def valid_charge_currencies(store: Store, day: str) -> set[str]:
    """Currencies with a charge to the C-PRPC spec for a migration on `day` (B3 checks the same)."""
    year = day[:4]
    since = (date.fromisoformat(day) - timedelta(days=2)).isoformat()
    rows = store.query(
        "SELECT currency FROM productrateplancharge WHERE name = 'Special one time charge for migration - ' || "
        "currency AND chargetype = 'OneTime' AND chargemodel = 'Flat Fee Pricing' AND amount < 0 "
        "AND coalesce(taxable, 0) = 0 AND effectivestartdate <= ? AND effectiveenddate >= ? AND updateddate >= ?",
        (f"{year}-01-01", f"{year}-12-31", since))
    return {r["currency"] for r in rows}


def refusal(store: Store, day: str) -> str | None:
    """Why the migration cannot run today, or None."""
    problems = []
    for row, numbers in unresolved_validations(store).items():
        shown = ", ".join(numbers[:5]) + (", …" if len(numbers) > 5 else "")
        problems.append(f"B2/{row} {VALIDATIONS[row][0]} ({shown})")
    missing = [c for c in needed_currencies(store) if c not in valid_charge_currencies(store, day)]
    if missing:
        problems.append(f"no valid one-time migration charge for {', '.join(missing)} (B3: "
                        f"'{ONE_TIME_CHARGE.format(currency=missing[0])}', flat fee, amount < 0, this year, "
                        f"updated within two days)")
    return "; ".join(problems) or None


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
    why = refusal(store, today)
    if why:
        raise MigrationRefused(f"the IS data migration cannot start: {why}",
                               hint="fix them at the source first (the B2 rows and B3 name them)")
    started = now_ts()
    summary = {"started": started, "migration_date": today}
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
