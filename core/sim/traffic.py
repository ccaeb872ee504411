"""The tenant keeps living after go-live: the day's new credit memos, debit memos, payments and refunds in Zuora,
and customer payments typed into NetSuite, so that H3 checks real traffic rather than an empty tenant.

Everything is made today, on accounts and invoices that are already in NetSuite, the way billing and collections
go on while the new connector takes over. NetSuite payments take the Zuora Sync Updates default as it stands
(runbook G1): without it they never reach Zuora.
"""

from __future__ import annotations

from typing import Any

from core.objects import CREDIT_MEMO, DEBIT_MEMO, INVOICE, PAYMENT, REFUND
from core.sim.netsuite_user import enter_payments
from core.sim.records import RecordWriter, sim_today
from core.sim.store import Store
from core.sim.sync_rules import SYNC_COMPLETE

SOURCE = "tenant-traffic"


def _open_invoices(store: Store, n: int) -> list[dict]:
    """Synced, posted, positive invoices with something left to pay, on synced active accounts."""
    return store.query(
        "SELECT i.* FROM invoice i JOIN account a ON a.id = i.accountid WHERE i.status = 'Posted' AND i.amount > 0 "
        "AND i.balance > 20 AND i.integrationid__ns IS NOT NULL AND a.status = 'Active' "
        f"AND a.integrationstatus__ns = '{SYNC_COMPLETE}' ORDER BY i.invoicedate DESC, i.id LIMIT ?", (n,))


def tenant_traffic(store: Store, count: int) -> dict[str, Any]:
    """`count` of each: credit memo, debit memo, Zuora payment (one refunded in part), NetSuite payment."""
    if not 1 <= count <= 100:
        raise ValueError("count must be between 1 and 100 records of each kind")
    if not store.invoice_settlement:
        raise ValueError("credit and debit memos exist only once Invoice Settlement is on: run the migration first")
    today = sim_today(store)
    invoices = _open_invoices(store, 2 * count)
    if len(invoices) < 2 * count:
        raise ValueError(f"the tenant has only {len(invoices)} open synced invoices; ask for fewer records")
    made: dict[str, list[str]] = {"credit_memos": [], "debit_memos": [], "payments": [], "refunds": []}
    with store.transaction() as conn:
        w = RecordWriter(store, conn, source=SOURCE)
        for inv in invoices[:count]:  # a credit from the invoice, part of its balance
            amount = round(min(inv["balance"] / 4, 150.0), 2)
            memo = w.insert_zuora(CREDIT_MEMO, {
                "accountid": inv["accountid"], "totalamount": amount, "balance": amount, "status": "Posted",
                "reasoncode": "Correcting invoice error", "memodate": today, "source": "AdhocFromInvoice",
                "sourcetype": "Invoice", "referredinvoiceid": inv["id"], "excludefromautoapplyrules": 0,
                "currency": inv["currency"]})
            debit = w.insert_zuora(DEBIT_MEMO, {
                "accountid": inv["accountid"], "totalamount": 25.0, "balance": 25.0, "status": "Posted",
                "reasoncode": "Late fee", "memodate": today, "currency": inv["currency"]})
            made["credit_memos"].append(memo["memonumber"])
            made["debit_memos"].append(debit["memonumber"])
        for n, inv in enumerate(invoices[count:]):
            amount = round(inv["balance"], 2)
            payment = w.insert_zuora(PAYMENT, {
                "accountid": inv["accountid"], "invoiceid": inv["id"], "amount": amount, "appliedamount": amount,
                "unappliedamount": 0.0, "effectivedate": today, "status": "Processed", "type": "Electronic",
                "paymentmethodtype": "CreditCard", "currency": inv["currency"]})
            w.update_zuora(INVOICE, inv, {"balance": 0.0})
            made["payments"].append(payment["paymentnumber"])
            if n == 0:
                refund = w.insert_zuora(REFUND, {
                    "accountid": inv["accountid"], "paymentid": payment["id"], "amount": round(amount / 2, 2),
                    "refunddate": today, "status": "Processed", "sourcetype": "Payment",
                    "methodtype": "CreditCard", "type": "Electronic"})
                made["refunds"].append(refund["refundnumber"])
    made["netsuite_payments"] = [p["tranid"] for p in enter_payments(store, count)]
    return {"date": today, **made, "count": count}
