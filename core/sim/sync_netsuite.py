"""The connector's NetSuite -> Zuora syncs, as runbook R4.2 documents them.

Customer payments become External payments in Zuora (IS off: fully applied ones; IS on: only when the
`Zuora Sync Updates` body field says Yes). With IS off, standard NetSuite credit memos become credit-type IIAs;
with IS on that sync does not exist. NetSuite records carry the status flow in their Zuora Integration Status.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from core.objects import (
    ACCOUNT, DEBIT_MEMO, INVOICE, INVOICE_ITEM_ADJUSTMENT, NS_CREDIT_MEMO, NS_CUSTOMER_PAYMENT, NS_INVOICE,
    NS_JOURNAL, PAYMENT, ZuoraObject,
)
from core.sim.records import RecordWriter
from core.sim.store import now_ts
from core.sim.sync_rules import SYNC_COMPLETE, SyncContext, SyncError


def _links(conn: sqlite3.Connection, ctx: SyncContext, ns_id: int) -> list[dict[str, Any]]:
    """The documents a NetSuite payment or credit is applied to, with their Zuora body fields."""
    f = ctx.fields
    rows = conn.execute(
        f'SELECT d.id, d.type, d.foreignamountremaining, d.{f["zuora_id"]} AS zuora_id, '
        f'd.{f["zuora_type"]} AS zuora_type, l.foreignamount AS applied '
        f'FROM ns.nexttransactionlinelink l JOIN ns."transaction" d ON d.id = l.previousdoc '
        f'WHERE l.nextdoc = ? ORDER BY l.id', (ns_id,)).fetchall()
    return [dict(r) for r in rows]


class NetSuiteToZuora:
    direction = "NetSuite -> Zuora"
    ns_type = NS_CUSTOMER_PAYMENT
    label = "Payment"

    def __init__(self, name: str):
        self.name = name

    def _conditions(self, ctx: SyncContext) -> tuple[list[str], list[Any]]:
        f = ctx.fields
        return [f"coalesce(t.{f['zuora_integration_status']}, '') <> '{SYNC_COMPLETE}'",
                f"coalesce(t.{f['zuora_origin']}, '') <> 'ZUORA'", f"t.{f['zuora_id']} IS NULL"], []

    def candidates(self, ctx: SyncContext, after: Any, limit: int) -> list[dict]:
        conds, params = self._conditions(ctx)
        return ctx.store.query(
            f'SELECT t.*, c.custentityzuoraid AS _account FROM ns."transaction" t '
            f'LEFT JOIN ns.customer c ON c.id = t.entity WHERE t.type = ? AND {" AND ".join(conds)} '
            f'AND t.id > ? ORDER BY t.id LIMIT ?', [self.ns_type, *params, after or 0, limit])

    def mark(self, w: RecordWriter, ctx: SyncContext, row: dict) -> None:
        w.update_ns("transaction", row, {ctx.fields["zuora_integration_status"]: f"Creating {self.label}"})

    def fail(self, w: RecordWriter, ctx: SyncContext, row: dict, message: str) -> None:
        w.update_ns("transaction", row, {ctx.fields["zuora_integration_status"]: f"Error Creating {self.label}"})

    def _zuora_doc(self, conn: sqlite3.Connection, doc: dict) -> tuple[ZuoraObject, dict]:
        obj = DEBIT_MEMO if doc["zuora_type"] == "DEBIT_MEMO" else INVOICE
        rec = conn.execute(f"SELECT * FROM main.{obj.table} WHERE id = ?", (doc["zuora_id"],)).fetchone()
        if rec is None or not rec["integrationid__ns"]:
            raise SyncError(f"Zuora {obj.name} {doc['zuora_id']} is not synced (it has no IntegrationId__NS)")
        return obj, dict(rec)

    def _account(self, conn: sqlite3.Connection, zuora_account_id: str | None) -> dict:
        acct = conn.execute("SELECT * FROM main.account WHERE id = ?", (zuora_account_id,)).fetchone()
        if acct is None:
            raise SyncError(f"no Zuora account has the customer's Zuora ID {zuora_account_id!r}")
        return dict(acct)

    def _settle(self, w: RecordWriter, targets: list[tuple[ZuoraObject, dict, float]], acct: dict) -> None:
        """Lower the Zuora documents' balances (and the account's) by what the NetSuite record applied."""
        total = 0.0
        for obj, rec, amount in targets:
            w.update_zuora(obj, rec, {"balance": round(max(0.0, (rec["balance"] or 0.0) - amount), 2)})
            total += amount
        if total:
            w.update_zuora(ACCOUNT, acct, {"balance": round((acct["balance"] or 0.0) - total, 2)})

    def _finish(self, w: RecordWriter, ctx: SyncContext, row: dict, zuora_id: str) -> None:
        f = ctx.fields
        w.update_ns("transaction", row, {f["zuora_id"]: zuora_id, f["zuora_integration_status"]: SYNC_COMPLETE,
                                         f["zuora_origin"]: "NETSUITE", f["zuora_sync_date"]: now_ts()})

    def _from_netsuite(self, row: dict) -> dict[str, Any]:
        """The connector fields of a Zuora record made from a NetSuite one."""
        return {"transferredtoaccounting": "Yes", "origin__ns": "NETSUITE", "transaction__ns": row["tranid"],
                "integrationid__ns": str(row["id"]), "integrationstatus__ns": SYNC_COMPLETE,
                "syncdate__ns": now_ts()}

    def _made_earlier(self, conn: sqlite3.Connection, obj: ZuoraObject, row: dict) -> str | None:
        found = conn.execute(f"SELECT id FROM main.{obj.table} WHERE integrationid__ns = ? AND origin__ns = "
                             f"'NETSUITE'", (str(row["id"]),)).fetchone()
        return found[0] if found else None


class CustomerPaymentSync(NetSuiteToZuora):
    """R4.2 customer payments; the IS rule adds `Zuora Sync Updates = Yes` and allows debit memos."""

    def _conditions(self, ctx):
        conds, params = super()._conditions(ctx)
        f = ctx.fields
        conds.append(f"t.{f['zuora_customer_id_payment']} IS NOT NULL")
        if ctx.invoice_settlement:
            conds.append(f"t.{f['zuora_sync_updates']} = 'Yes'")
        else:
            conds.append("t.foreignamountremaining = 0")  # fully applied
        if ctx.cutovers.get("ns_payment"):
            conds.append("t.trandate >= ?")
            params.append(ctx.cutovers["ns_payment"])
        return conds, params

    def pick(self, conn, ctx, row) -> bool:
        docs = _links(conn, ctx, row["id"])
        if any(d["type"] == NS_JOURNAL for d in docs):
            return False  # payments applied to journals are never synced
        kinds = ("INVOICE", "DEBIT_MEMO") if ctx.invoice_settlement else ("INVOICE",)
        zuora_docs = [d for d in docs if d["zuora_id"] and d["zuora_type"] in kinds]
        row["_docs"] = zuora_docs
        if ctx.invoice_settlement:
            unapplied = not docs and (row["foreignamountremaining"] or 0) > 0
            return bool(zuora_docs) or unapplied
        return bool(zuora_docs) and all(d["type"] == NS_INVOICE for d in docs)

    def push(self, w, ctx, row, was_interrupted) -> str:
        if was_interrupted and (made := self._made_earlier(w.conn, PAYMENT, row)):
            self._finish(w, ctx, row, made)
            return made
        if not ctx.boomi_ok:
            raise SyncError("the NetSuite-to-Zuora payment sync signs in to Zuora with credentials stored by Zuora "
                            "(Boomi) for another OAuth client: Support must update them (F4 ticket)")
        if row.get("paymentmethod") not in ctx.zuora_methods:
            raise SyncError(f"payment method {row.get('paymentmethod')!r} has no match in Zuora")
        acct = self._account(w.conn, row[ctx.fields["zuora_customer_id_payment"]])
        targets = [(*self._zuora_doc(w.conn, d), d["applied"] or 0.0) for d in row["_docs"]]
        applied = round(sum(t[2] for t in targets), 2)
        first_invoice = next((rec["id"] for obj, rec, _ in targets if obj is INVOICE), None)
        payment = w.insert_zuora(PAYMENT, {
            "accountid": acct["id"], "invoiceid": first_invoice, "amount": row["foreigntotal"],
            "appliedamount": applied, "unappliedamount": round((row["foreigntotal"] or 0) - applied, 2),
            "effectivedate": row["trandate"], "status": "Processed", "type": "External",
            "paymentmethodtype": row["paymentmethod"], "currency": row["currency"] or acct["currency"],
            **self._from_netsuite(row)})
        self._settle(w, targets, acct)
        self._finish(w, ctx, row, payment["id"])
        return payment["id"]


class CreditMemoToAdjustmentSync(NetSuiteToZuora):
    """IS off only: a standard NetSuite credit memo (Zuora Type empty, fully applied to one Zuora invoice)."""

    ns_type = NS_CREDIT_MEMO
    label = "Invoice Item Adjustment"

    def _conditions(self, ctx):
        conds, params = super()._conditions(ctx)
        conds += [f"t.{ctx.fields['zuora_type']} IS NULL", "t.foreignamountremaining = 0",
                  "c.custentityzuoraid IS NOT NULL"]
        return conds, params

    def pick(self, conn, ctx, row) -> bool:
        docs = _links(conn, ctx, row["id"])
        row["_docs"] = docs
        return len(docs) == 1 and docs[0]["zuora_type"] == "INVOICE" and bool(docs[0]["zuora_id"])

    def push(self, w, ctx, row, was_interrupted) -> str:
        if was_interrupted and (made := self._made_earlier(w.conn, INVOICE_ITEM_ADJUSTMENT, row)):
            self._finish(w, ctx, row, made)
            return made
        obj, invoice = self._zuora_doc(w.conn, row["_docs"][0])
        acct = self._account(w.conn, row["_account"])
        iia = w.insert_zuora(INVOICE_ITEM_ADJUSTMENT, {
            "accountid": acct["id"], "invoiceid": invoice["id"], "invoicenumber": invoice["invoicenumber"],
            "amount": row["foreigntotal"], "type": "Credit", "status": "Processed",
            "reasoncode": "NetSuite credit memo", "adjustmentdate": row["trandate"], **self._from_netsuite(row)})
        self._settle(w, [(obj, invoice, row["foreigntotal"] or 0.0)], acct)
        self._finish(w, ctx, row, iia["id"])
        return iia["id"]


def netsuite_to_zuora_steps(invoice_settlement: bool) -> list[NetSuiteToZuora]:
    """NetSuite payments, then (IS off only) NetSuite credit memos, as in runbook R4.3."""
    steps: list[NetSuiteToZuora] = [CustomerPaymentSync("netsuite payments")]
    if not invoice_settlement:
        steps.append(CreditMemoToAdjustmentSync("netsuite credit memos"))
    return steps
