"""The connector's Zuora -> NetSuite syncs, as runbook R4.1 documents them.

Each sync picks its records by the documented criteria (TTA, status, cutover date, the account's Sync To NetSuite
and Integration Status, Origin), marks them `Creating …` / TTA Processing, writes the NetSuite copy with its Zuora
body fields, then writes IntegrationId__NS, `Sync Complete` and TTA Yes back; or `Error Creating …` / TTA Error.
The same mapping builds the seeded tenant's already-synced NetSuite rows.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from core.objects import (
    ACCOUNT, CREDIT_MEMO, DEBIT_MEMO, INVOICE, INVOICE_ITEM_ADJUSTMENT, NS_CREDIT_MEMO, NS_CUSTOMER_PAYMENT,
    NS_INVOICE, NS_REFUND, PAYMENT, REFUND, ZuoraObject,
)
from core.sim.catalog import NS_FIELD_IDS
from core.sim.records import RecordWriter
from core.sim.store import Store, now_ts

SYNC_COMPLETE = "Sync Complete"
# Payment method names must match exactly between the systems (runbook R8.12); the simulated NetSuite account
# has exactly Zuora's names.
PAYMENT_METHODS = frozenset({"ACH", "Cash", "Check", "CreditCard", "Other", "PayPal", "WireTransfer", "DebitCard",
                             "CreditCardReferenceTransaction"})
CUTOVER_KEYS = ("invoice", "payment", "refund", "iia", "memo", "ns_payment")

TTA_PICKED = "(t.transferredtoaccounting IS NULL OR t.transferredtoaccounting IN ('No', 'Error', 'Processing'))"
SYNC_TO_NETSUITE = "(a.synctonetsuite__ns IS NULL OR a.synctonetsuite__ns = 'Yes')"
ACCOUNT_SYNCED = f"a.integrationstatus__ns = '{SYNC_COMPLETE}'"
NOT_FROM_NETSUITE = "coalesce(t.origin__ns, '') <> 'NETSUITE'"


class SyncError(Exception):
    """The destination refused the record (a validation error): it ends in `Error Creating …`."""


# Stored credentials of the NetSuite-to-Zuora payment sync (Boomi, runbook R0.9 and F4): the OAuth client they name.
BOOMI_CLIENT = "connector.boomi_client_id"
# Payment method names a person added on one side to match the other (a C3/C4 fix at the source).
EXTRA_NETSUITE_METHODS = "netsuite.extra_payment_methods"
EXTRA_ZUORA_METHODS = "zuora.extra_payment_methods"


@dataclass
class SyncContext:
    store: Store
    invoice_settlement: bool  # the rules of the running instance, not only the tenant's state
    cutovers: dict[str, str | None]
    fields: dict[str, str] = field(default_factory=lambda: dict(NS_FIELD_IDS))
    boomi_ok: bool = True  # the NetSuite-to-Zuora payment sync can sign in to Zuora
    netsuite_methods: frozenset[str] = PAYMENT_METHODS
    zuora_methods: frozenset[str] = PAYMENT_METHODS

    @classmethod
    def load(cls, store: Store, *, invoice_settlement: bool | None = None,
             oauth_client_id: str | None = None) -> SyncContext:
        boomi = store.setting(BOOMI_CLIENT)
        return cls(store, store.invoice_settlement if invoice_settlement is None else invoice_settlement,
                   {k: store.setting(f"cutover.{k}") for k in CUTOVER_KEYS},
                   boomi_ok=oauth_client_id is None or boomi is None or boomi == oauth_client_id,
                   netsuite_methods=PAYMENT_METHODS | set(store.setting(EXTRA_NETSUITE_METHODS) or ()),
                   zuora_methods=PAYMENT_METHODS | set(store.setting(EXTRA_ZUORA_METHODS) or ()))


@dataclass(frozen=True)
class Source:
    amount: str
    date: str
    label: str  # as Integration Status spells it: "Creating Invoice Item Adjustment"
    cutover: str


SOURCES: dict[str, Source] = {
    "Invoice": Source("amount", "invoicedate", "Invoice", "invoice"),
    "InvoiceItemAdjustment": Source("amount", "adjustmentdate", "Invoice Item Adjustment", "iia"),
    "Payment": Source("amount", "effectivedate", "Payment", "payment"),
    "Refund": Source("amount", "refunddate", "Refund", "refund"),
    "CreditMemo": Source("totalamount", "memodate", "Credit Memo", "memo"),
    "DebitMemo": Source("totalamount", "memodate", "Debit Memo", "memo"),
}


def netsuite_kind(obj_name: str, rec: dict[str, Any]) -> tuple[str, str]:
    """(NetSuite transaction type, Zuora Type) of the NetSuite copy of a Zuora record (runbook R3.2)."""
    if obj_name == "Invoice":
        return (NS_INVOICE, "INVOICE") if rec["amount"] >= 0 else (NS_CREDIT_MEMO, "NEGATIVE_INVOICE")
    if obj_name == "InvoiceItemAdjustment":
        return (NS_INVOICE if rec.get("type") == "Charge" else NS_CREDIT_MEMO), "INVOICE_ITEM_ADJUSTMENT"
    return {"Payment": (NS_CUSTOMER_PAYMENT, "PAYMENT"), "Refund": (NS_REFUND, "PAYMENT_REFUND"),
            "CreditMemo": (NS_CREDIT_MEMO, "CREDIT_MEMO"), "DebitMemo": (NS_INVOICE, "DEBIT_MEMO")}[obj_name]


def netsuite_copy(obj: ZuoraObject, rec: dict[str, Any], *, entity: int, currency: str | None, synced_at: str,
                  remaining: float | None = None, fields: dict[str, str] = NS_FIELD_IDS) -> dict[str, Any]:
    """The NetSuite transaction the connector makes from a Zuora record, with its Zuora body fields."""
    src = SOURCES[obj.name]
    ns_type, zuora_type = netsuite_kind(obj.name, rec)
    total = round(abs(rec[src.amount] or 0.0), 2)
    if remaining is None:
        remaining = round(rec.get("unappliedamount") or 0.0, 2) if ns_type == NS_CUSTOMER_PAYMENT else (
            0.0 if ns_type == NS_REFUND else total)
    row = {
        "type": ns_type, "trandate": rec[src.date], "entity": entity, "currency": currency,
        "foreigntotal": total, "foreignamountremaining": remaining,
        "foreignamountpaid": round(total - remaining, 2) if ns_type == NS_CUSTOMER_PAYMENT else None,
        "paymentmethod": rec.get("paymentmethodtype") or rec.get("methodtype"),
        fields["zuora_id"]: rec["id"], fields["zuora_integration_status"]: SYNC_COMPLETE,
        fields["zuora_type"]: zuora_type, fields["zuora_origin"]: "ZUORA", fields["zuora_sync_date"]: synced_at,
        fields["zuora_reference_number"]: rec.get(obj.number_field.lower()),
    }
    if ns_type == NS_CUSTOMER_PAYMENT:
        row[fields["zuora_customer_id_payment"]] = rec["accountid"]
    return row


def _ns_by_zuora_id(conn: sqlite3.Connection, ctx: SyncContext, zuora_id: str) -> dict | None:
    row = conn.execute(f'SELECT * FROM ns."transaction" WHERE {ctx.fields["zuora_id"]} = ? ORDER BY id LIMIT 1',
                       (zuora_id,)).fetchone()
    return dict(row) if row else None


def _known_copy(conn: sqlite3.Connection, ctx: SyncContext, row: dict) -> dict | None:
    """The NetSuite record the Zuora record's Integration Id names, if it carries this Zuora id."""
    ref = str(row.get("integrationid__ns") or "")
    if not ref.isdigit():
        return None
    found = conn.execute(f'SELECT * FROM ns."transaction" WHERE id = ? AND {ctx.fields["zuora_id"]} = ?',
                         (int(ref), row["id"])).fetchone()
    return dict(found) if found else None


def interrupted(status: str | None) -> bool:
    """`Creating …`/`Updating …`: a run stopped half-way, so the record may already exist on the other side."""
    return bool(status) and (status.startswith("Creating") or status.startswith("Updating"))


class ZuoraToNetSuite:
    """One Zuora -> NetSuite sync: selection, the NetSuite write, and the status flow on the Zuora record."""

    direction = "Zuora -> NetSuite"

    def __init__(self, name: str, obj: ZuoraObject, conditions: tuple[str, ...]):
        self.name = name
        self.obj = obj
        self.src = SOURCES.get(obj.name)
        self.conditions = conditions

    @property
    def label(self) -> str:
        return self.src.label

    def _where(self, ctx: SyncContext) -> tuple[list[str], list[Any]]:
        conds, params = [TTA_PICKED, SYNC_TO_NETSUITE, *self.conditions], []
        cutover = ctx.cutovers.get(self.src.cutover)
        if cutover:
            conds.append(f"t.{self.src.date} >= ?")
            params.append(cutover)
        return conds, params

    def candidates(self, ctx: SyncContext, after: str | None, limit: int) -> list[dict]:
        conds, params = self._where(ctx)
        sql = (f"SELECT t.*, a.integrationid__ns AS _customer, a.currency AS _currency "
               f"FROM main.{self.obj.table} t JOIN main.account a ON a.id = t.accountid "
               f"WHERE {' AND '.join(conds)} AND t.id > ? ORDER BY t.id LIMIT ?")
        return ctx.store.query(sql, [*params, after or "", limit])

    def pick(self, conn: sqlite3.Connection, ctx: SyncContext, row: dict) -> bool:
        return True

    def mark(self, w: RecordWriter, ctx: SyncContext, row: dict) -> None:
        self._set(w, row, {"integrationstatus__ns": f"Creating {self.label}", "transferredtoaccounting": "Processing"})

    def fail(self, w: RecordWriter, ctx: SyncContext, row: dict, message: str) -> None:
        self._set(w, row, {"integrationstatus__ns": f"Error Creating {self.label}", "transferredtoaccounting": "Error"})

    def _set(self, w: RecordWriter, row: dict, changes: dict[str, Any]) -> None:
        cols = set(self.obj.columns())
        w.update_zuora(self.obj, row, {c: v for c, v in changes.items() if c in cols})

    def push(self, w: RecordWriter, ctx: SyncContext, row: dict, was_interrupted: bool) -> str:
        """Write the NetSuite copy and complete the Zuora record. A record that already has a copy updates it
        instead: one sent before (its Integration Id names a NetSuite record carrying its Zuora id, and TTA was set
        back to No to resync a change) or one an interrupted run left. Only a record whose Integration fields were
        cleared by hand is created a second time: the duplicate R8.9 warns of."""
        existing = _known_copy(w.conn, ctx, row) or (
            _ns_by_zuora_id(w.conn, ctx, row["id"]) if was_interrupted else None)
        if existing is not None:  # NetSuite has it already: finish its status too
            w.update_ns("transaction", existing, {ctx.fields["zuora_integration_status"]: SYNC_COMPLETE})
        ns_id = existing["id"] if existing is not None else self._create(w, ctx, row)
        self._set(w, row, {"integrationid__ns": str(ns_id), "integrationstatus__ns": SYNC_COMPLETE,
                           "syncdate__ns": now_ts(), "transferredtoaccounting": "Yes", "origin__ns": "ZUORA"})
        return str(ns_id)

    def _create(self, w: RecordWriter, ctx: SyncContext, row: dict) -> int:
        if not row.get("_customer"):
            raise SyncError(f"the customer of {self.obj.name} {row['id']} is not synced to NetSuite")
        currency = row.get("currency") or row.get("_currency")
        _customer_takes(w.conn, int(row["_customer"]), currency)
        doc = self.check(w.conn, ctx, row)
        copy = netsuite_copy(self.obj, row, entity=int(row["_customer"]), currency=currency, synced_at=now_ts(),
                             fields=ctx.fields)
        amount = 0.0
        if doc is not None:
            wanted = row.get("appliedamount") if row.get("appliedamount") is not None else copy["foreigntotal"]
            amount = min(wanted, doc.get("foreignamountremaining") or 0.0) if doc["type"] == NS_INVOICE else wanted
        if copy["type"] == NS_CREDIT_MEMO:
            copy["foreignamountremaining"] = round(copy["foreigntotal"] - amount, 2)
        ns_id = w.insert_ns("transaction", copy)
        if doc is not None and amount > 0:
            apply_to_netsuite(w, doc, ns_id, amount, link_type(copy["type"]))
        return ns_id

    def check(self, conn: sqlite3.Connection, ctx: SyncContext, row: dict) -> dict | None:
        """Validate against the destination; returns the NetSuite document this one applies to, if any."""
        return None

    def _synced_copy(self, conn, ctx, obj: ZuoraObject, zuora_id: str | None, what: str) -> dict:
        ref = conn.execute(f"SELECT integrationid__ns FROM main.{obj.table} WHERE id = ?", (zuora_id,)).fetchone()
        if ref is None or not ref[0]:
            raise SyncError(f"{what} {zuora_id} is not synced to NetSuite")
        doc = conn.execute('SELECT * FROM ns."transaction" WHERE id = ?', (int(ref[0]),)).fetchone()
        if doc is None:
            raise SyncError(f"{what} {zuora_id} points to NetSuite record {ref[0]}, which does not exist")
        return dict(doc)


def _customer_takes(conn: sqlite3.Connection, entity: int, currency: str | None) -> None:
    """NetSuite refuses a transaction in a currency its customer does not take (runbook R8.14)."""
    customer = conn.execute("SELECT currency, currencies FROM ns.customer WHERE id = ?", (entity,)).fetchone()
    if customer is None or currency is None or currency == customer["currency"]:
        return
    if currency not in (customer["currencies"] or "").split(","):
        raise SyncError(f"NetSuite customer {entity} does not take {currency} (its currency is "
                        f"{customer['currency']}): add {currency} to the customer's currencies")


def link_type(ns_type: str) -> str:
    return {NS_CUSTOMER_PAYMENT: "Payment", NS_REFUND: "Refund"}.get(ns_type, "Credit")


def apply_to_netsuite(w: RecordWriter, doc: dict, next_id: int, amount: float, kind: str) -> None:
    """Record the application (payment/credit -> invoice) and lower the invoice's amount remaining."""
    w.insert_ns("nexttransactionlinelink", {"previousdoc": doc["id"], "nextdoc": next_id, "linktype": kind,
                                             "foreignamount": round(amount, 2)})
    if doc["type"] == NS_INVOICE and doc.get("foreignamountremaining") is not None:
        w.update_ns("transaction", doc, {
            "foreignamountremaining": round(max(0.0, doc["foreignamountremaining"] - amount), 2)})


class InvoiceSync(ZuoraToNetSuite):
    pass


class AdjustmentSync(ZuoraToNetSuite):
    def check(self, conn, ctx, row):
        doc = self._synced_copy(conn, ctx, INVOICE, row["invoiceid"], "the adjusted invoice")
        return doc if row.get("type") != "Charge" else None


class PaymentSync(ZuoraToNetSuite):
    def check(self, conn, ctx, row):
        if row.get("paymentmethodtype") not in ctx.netsuite_methods:
            raise SyncError(f"payment method {row.get('paymentmethodtype')!r} has no match in NetSuite")
        if not row.get("invoiceid"):
            return None
        return self._synced_copy(conn, ctx, INVOICE, row["invoiceid"], "the paid invoice")


class RefundSync(ZuoraToNetSuite):
    def check(self, conn, ctx, row):
        return self._synced_copy(conn, ctx, PAYMENT, row["paymentid"], "the refunded payment")


class CreditMemoSync(ZuoraToNetSuite):
    def check(self, conn, ctx, row):
        # A memo from an invoice applies to that invoice's NetSuite copy; a standalone memo stays unapplied, and so
        # does a memo from a negative invoice, which is a credit itself (Case 2: NetSuite may never have had it).
        if not row.get("referredinvoiceid"):
            return None
        amount = conn.execute("SELECT amount FROM main.invoice WHERE id = ?", (row["referredinvoiceid"],)).fetchone()
        if amount is not None and (amount[0] or 0) < 0:
            return None
        doc = self._synced_copy(conn, ctx, INVOICE, row["referredinvoiceid"], "the memo's invoice")
        return doc if doc["type"] == NS_INVOICE else None  # a negative invoice's copy is itself a credit


def netsuite_payment_sync_key(instance_id: str) -> str:
    """The instance's NetSuite Payment (and Refund) Sync switch in Advanced Settings: off on a new instance (R8.7),
    turned on at F6 to match the old instance; an instance with no setting (the seeded old one) has it on."""
    return f"instance.{instance_id}.netsuite_payment_sync"


def first_customer_sync_key(instance_id: str) -> str:
    """The setting that marks a new instance whose first customer sync (from 1 Jan 1970) has not finished."""
    return f"connector.first_customer_sync.{instance_id}"


class CustomerSync(ZuoraToNetSuite):
    """Accounts -> NetSuite customers (always first: every transaction sync needs its customer).

    A new instance's first customer sync reads every account modified since 1 Jan 1970 (runbook R12), so it picks
    the accounts already Sync Complete too; later runs pick only what is not Sync Complete."""

    def __init__(self, since_1970: bool = False):
        super().__init__("customers", ACCOUNT, ())
        self.since_1970 = since_1970

    @property
    def label(self) -> str:
        return "Customer"

    def candidates(self, ctx, after, limit):
        return ctx.store.query(
            f"SELECT a.* FROM main.account a WHERE a.status = 'Active' AND {SYNC_TO_NETSUITE} "
            + ("" if self.since_1970 else f"AND coalesce(a.integrationstatus__ns, '') <> '{SYNC_COMPLETE}' ")
            + "AND a.id > ? ORDER BY a.id LIMIT ?",
            (after or "", limit))

    def push(self, w, ctx, row, was_interrupted):
        found = w.conn.execute("SELECT id FROM ns.customer WHERE custentityzuoraid = ?", (row["id"],)).fetchone()
        if found is not None:
            ns_id = found[0]
        else:
            if '"' in (row["name"] or "") or "," in (row["name"] or ""):
                raise SyncError(f"account name {row['name']!r} contains a double quote or a comma")
            ns_id = w.insert_ns("customer", {"entityid": row["accountnumber"], "companyname": row["name"],
                                             "currency": row["currency"], "custentityzuoraid": row["id"],
                                             "custentityzuorasyncdate": now_ts()})
        self._set(w, row, {"integrationid__ns": str(ns_id), "integrationstatus__ns": SYNC_COMPLETE,
                           "syncdate__ns": now_ts()})
        return str(ns_id)


def zuora_to_netsuite_steps(invoice_settlement: bool, *,
                            customers_since_1970: bool = False) -> list[ZuoraToNetSuite]:
    """The Zuora-side syncs in the documented order (runbook R4.3)."""
    customers = CustomerSync(since_1970=customers_since_1970)
    posted = "t.status = 'Posted'"
    payments = PaymentSync("payments", PAYMENT, ("t.status = 'Processed'", NOT_FROM_NETSUITE)
                           + (() if invoice_settlement else (ACCOUNT_SYNCED,)))
    refunds = RefundSync("refunds", REFUND, ("t.sourcetype = 'Payment'", "t.status IN ('Processed', 'Posted')",
                                             NOT_FROM_NETSUITE))
    if not invoice_settlement:
        return [customers, InvoiceSync("invoices", INVOICE, (posted,)), payments, refunds,
                AdjustmentSync("invoice item adjustments", INVOICE_ITEM_ADJUSTMENT, ("t.status = 'Processed'",))]
    return [
        customers,
        InvoiceSync("invoices", INVOICE, (posted, "t.amount >= 0")),  # negative invoices no longer sync
        ZuoraToNetSuite("debit memos", DEBIT_MEMO,
                        (posted, f"coalesce(t.integrationstatus__ns, '') <> '{SYNC_COMPLETE}'")),
        CreditMemoSync("credit memos", CREDIT_MEMO, (posted, ACCOUNT_SYNCED, NOT_FROM_NETSUITE)),
        payments, refunds,
    ]
