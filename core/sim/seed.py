"""Deterministic tenant generator: a Zuora tenant with the NetSuite connector, mostly synced, plus the awkward cases.

The same seed gives the same tenant on any day: every date counts back from the fixed `AS_OF`. Rows are made one
account at a time and written in chunks with executemany, so memory stays flat at a million invoices. The
awkward cases the runbook checks for (B2 V1-V7, C1-C5, G2, the connector's validation errors) are added by
`seed_cases` in a handful each, whatever the scale.
"""

from __future__ import annotations

import functools
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from core.objects import ACCOUNT, ACCOUNTING_PERIOD, INVOICE, INVOICE_ITEM_ADJUSTMENT, PAYMENT, REFUND, ZuoraObject
from core.sim.catalog import NS_FIELD_IDS, NS_TABLES
from core.sim.netsuite_user import entered_payment
from core.sim.records import ns_tranid, zuora_number
from core.sim.store import Store
from core.sim.sync_rules import SYNC_COMPLETE, link_type, netsuite_copy

AS_OF = date(2026, 11, 1)
FREEZE_DAYS = 5  # the freeze started this many days before AS_OF
SPAN_DAYS = 730  # two years of history
SYNC_LAG_DAYS = 7  # records newer than this may still wait for the connector
CHUNK_ROWS = 5000
CURRENCIES = ("USD",) * 12 + ("EUR",) * 4 + ("GBP",) * 2 + ("CAD", "AUD")
METHODS = ("CreditCard",) * 5 + ("ACH",) * 3 + ("Check", "WireTransfer", "PayPal", "DebitCard")
_WORDS = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Wonka", "Tyrell", "Cyberdyne", "Soylent",
          "Hooli", "Vandelay", "Pied Piper", "Dunder", "Gringotts", "Monarch", "Oscorp", "Aperture", "Nakatomi")
_SUFFIXES = ("Ltd", "Inc", "GmbH", "LLC", "Group", "Labs", "Systems", "Partners", "SA", "BV")


@functools.lru_cache(maxsize=4096)
def day(ago: int) -> str:
    return (AS_OF - timedelta(days=ago)).isoformat()


class _Sink:
    """Buffers rows per table and writes them with executemany, one transaction per chunk."""

    def __init__(self, store: Store):
        self.store = store
        self.buf: dict[str, list[tuple]] = {}
        self.sql: dict[str, str] = {}
        self.cols: dict[str, list[str]] = {}
        self.rows: Counter[str] = Counter()
        self.pending = 0

    def _table(self, key: str, target: str, cols: list[str]) -> None:
        self.cols[key] = cols
        self.sql[key] = f"INSERT INTO {target} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        self.buf[key] = []

    def zuora(self, obj: ZuoraObject, row: dict[str, Any]) -> None:
        if obj.table not in self.sql:
            self._table(obj.table, f"main.{obj.table}", obj.columns())
        self._add(obj.table, row)

    def ns(self, table: str, row: dict[str, Any]) -> None:
        key = f"ns.{table}"
        if key not in self.sql:
            self._table(key, f'ns."{table}"', [c for c, _ in NS_TABLES[table]])
        self._add(key, row)

    def _add(self, key: str, row: dict[str, Any]) -> None:
        self.buf[key].append(tuple(map(row.get, self.cols[key])))
        self.rows[key] += 1
        self.pending += 1
        if self.pending >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        with self.store.transaction() as conn:
            for key, rows in self.buf.items():
                if rows:
                    conn.executemany(self.sql[key], rows)
                    rows.clear()
        self.pending = 0


@dataclass
class Account:
    row: dict[str, Any]
    ns_id: int | None  # the NetSuite customer, when synced
    records: list[tuple[ZuoraObject, dict[str, Any]]] = field(default_factory=list)
    ns_rows: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


class TenantBuilder:
    """Makes linked Zuora and NetSuite records; an account's rows are written when it is closed."""

    def __init__(self, store: Store, rng: random.Random):
        self.rng = rng
        self.sink = _Sink(store)
        self.n: Counter[str] = Counter()
        self.ns_next: Counter[str] = Counter()

    # ---- ids, numbers, times --------------------------------------------------------------------------------
    def zid(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def number(self, obj: ZuoraObject) -> str:
        self.n[obj.name] += 1
        return zuora_number(obj.name, self.n[obj.name])

    def ns_id(self, table: str) -> int:
        self.ns_next[table] += 1
        return self.ns_next[table]

    def ts(self, ago: int) -> str:
        r = self.rng.randrange(86400)
        return f"{day(ago)} {r // 3600:02d}:{r // 60 % 60:02d}:{r % 60:02d}"

    def money(self, low: float, high: float) -> float:
        return round(self.rng.uniform(low, high), 2)

    def synced_after(self, ago: int, upstream: bool) -> bool:
        """Old records are synced; recent ones are sometimes still waiting. Never before what they depend on."""
        return upstream and (ago >= SYNC_LAG_DAYS or self.rng.random() < 0.5)

    # ---- Zuora records --------------------------------------------------------------------------------------
    def open_account(self, *, created_ago: int, status: str = "Active", synced: bool = True,
                     name: str | None = None, currency: str | None = None, credit_balance: float = 0.0,
                     sync_to_netsuite: str | None = "Yes", netsuite_currency: str | None = None) -> Account:
        """`netsuite_currency`: the NetSuite customer's currency when it differs from the account's."""
        rng = self.rng
        row = {"id": self.zid(), "accountnumber": self.number(ACCOUNT),
               "name": name or f"{rng.choice(_WORDS)} {rng.choice(_WORDS)} {rng.choice(_SUFFIXES)}",
               "status": status, "balance": 0.0, "creditbalance": credit_balance,
               "currency": currency or rng.choice(CURRENCIES), "batch": "Batch1",
               "createddate": self.ts(created_ago), "synctonetsuite__ns": sync_to_netsuite}
        row["updateddate"] = row["createddate"]
        ns_id = None
        if synced:
            ns_id = self.ns_id("customer")
            when = self.ts(max(0, created_ago - 1))
            row.update(integrationid__ns=str(ns_id), integrationstatus__ns=SYNC_COMPLETE, syncdate__ns=when)
            self.sink.ns("customer", {"id": ns_id, "entityid": row["accountnumber"], "companyname": row["name"],
                                      "currency": netsuite_currency or row["currency"], "custentityzuoraid": row["id"],
                                      "custentityzuorasyncdate": when})
        return Account(row, ns_id)

    def _record(self, acct: Account, obj: ZuoraObject, ago: int, values: dict[str, Any], *, synced: bool,
                tta: str | None, status: str | None) -> dict[str, Any]:
        row = {"id": self.zid(), obj.number_field.lower(): self.number(obj), "accountid": acct.row["id"],
               "createddate": self.ts(ago), **values}
        row["updateddate"] = row["createddate"]
        row["transferredtoaccounting"] = "Yes" if synced else tta
        row["integrationstatus__ns"] = SYNC_COMPLETE if synced else status
        row["_synced"] = synced
        row["_ago"] = ago
        acct.records.append((obj, row))
        return row

    def invoice(self, acct: Account, amount: float, ago: int, *, synced: bool, status: str = "Posted",
                balance: float | None = None, tta: str | None = None, istatus: str | None = None,
                ns_written: bool = False) -> dict[str, Any]:
        inv = self._record(acct, INVOICE, ago, {
            "amount": amount, "balance": amount if balance is None else balance, "status": status,
            "invoicedate": day(ago), "posteddate": day(ago) if status == "Posted" else None,
            "currency": acct.row["currency"],
        }, synced=synced, tta=tta, status=istatus)
        # What NetSuite still shows open: the whole invoice until a synced payment or credit applies.
        inv["_ns_remaining"] = abs(amount) if amount >= 0 else abs(inv["balance"])
        if synced or ns_written:
            inv["_ns_id"] = self.ns_id("transaction")
        return inv

    def adjustment(self, acct: Account, inv: dict, amount: float, ago: int, *, synced: bool, tta: str | None = None,
                   istatus: str | None = None, status: str = "Processed") -> dict[str, Any]:
        iia = self._record(acct, INVOICE_ITEM_ADJUSTMENT, ago, {
            "invoiceid": inv["id"], "invoicenumber": inv["invoicenumber"], "amount": amount, "type": "Credit",
            "status": status, "reasoncode": "Standard Adjustment", "adjustmentdate": day(ago),
        }, synced=synced, tta=tta, status=istatus)
        if status == "Processed":
            inv["balance"] = round(inv["balance"] - amount, 2)
        if synced:
            self._ns_applied(iia, inv, amount)
        return iia

    def payment(self, acct: Account, inv: dict | None, amount: float, ago: int, *, synced: bool,
                method: str = "CreditCard", status: str = "Processed", tta: str | None = None,
                istatus: str | None = None, from_netsuite: bool = False) -> dict[str, Any]:
        applied = min(amount, max(inv["balance"], 0.0)) if inv and status == "Processed" else 0.0
        pay = self._record(acct, PAYMENT, ago, {
            "invoiceid": inv["id"] if inv else None, "amount": amount, "appliedamount": applied,
            "unappliedamount": round(amount - applied, 2), "effectivedate": day(ago), "status": status,
            "type": "External" if from_netsuite else "Electronic", "paymentmethodtype": method,
            "currency": acct.row["currency"],
        }, synced=synced, tta=tta, status=istatus)
        if inv:
            inv["balance"] = round(inv["balance"] - applied, 2)
        if synced:
            pay["origin__ns"] = "NETSUITE" if from_netsuite else "ZUORA"
            pay["_from_netsuite"] = from_netsuite
            self._ns_applied(pay, inv, applied)
        return pay

    def refund(self, acct: Account, pay: dict, amount: float, ago: int, *, synced: bool,
               tta: str | None = None) -> dict[str, Any]:
        ref = self._record(acct, REFUND, ago, {
            "paymentid": pay["id"], "amount": amount, "refunddate": day(ago), "status": "Processed",
            "sourcetype": "Payment", "methodtype": pay["paymentmethodtype"], "type": "Electronic",
        }, synced=synced, tta=tta, status=None)
        if synced:
            ref["origin__ns"] = "ZUORA"
            self._ns_applied(ref, pay, amount)
        return ref

    def _ns_applied(self, rec: dict, target: dict | None, amount: float) -> None:
        rec["_ns_id"] = self.ns_id("transaction")
        rec["_applied_to"] = (target, amount) if target is not None and target.get("_ns_id") else None
        if rec["_applied_to"] and target.get("_ns_remaining") is not None and "invoicedate" in target:
            target["_ns_remaining"] = round(max(0.0, target["_ns_remaining"] - amount), 2)

    # ---- NetSuite-made records ------------------------------------------------------------------------------
    def netsuite_payment(self, acct: Account, inv: dict, ago: int, *, method: str = "Check",
                         sync_updates: str | None = None, istatus: str | None = None) -> dict[str, Any]:
        """A customer payment entered in NetSuite that the connector has not synced (yet)."""
        amount = inv["_ns_remaining"]
        row = entered_payment(entity=acct.ns_id, zuora_account_id=acct.row["id"], amount=amount,
                              trandate=day(ago), method=method, currency=acct.row["currency"],
                              sync_updates=sync_updates)
        row[NS_FIELD_IDS["zuora_integration_status"]] = istatus
        return self._ns_document(acct, row, inv, amount, ago)

    def netsuite_credit_memo(self, acct: Account, inv: dict, amount: float, ago: int) -> dict[str, Any]:
        """A standard NetSuite credit memo (Zuora Type empty) fully applied to one Zuora invoice."""
        row = {"type": "CustCred", "trandate": day(ago), "entity": acct.ns_id, "currency": acct.row["currency"],
               "foreigntotal": amount, "foreignamountremaining": 0.0, "memo": "Goodwill credit"}
        return self._ns_document(acct, row, inv, amount, ago)

    def _ns_document(self, acct, row, inv, amount, ago) -> dict[str, Any]:
        row["id"] = self.ns_id("transaction")
        row["tranid"] = ns_tranid(row["type"], row["id"])
        row["createddate"] = row["lastmodifieddate"] = self.ts(ago)
        inv["_ns_remaining"] = round(max(0.0, inv["_ns_remaining"] - amount), 2)
        acct.ns_rows.append(("transaction", row))
        acct.ns_rows.append(("link", {"previousdoc": inv["_ns_id"], "nextdoc": row["id"],
                                      "linktype": link_type(row["type"]), "foreignamount": amount}))
        return row

    # ---- writing --------------------------------------------------------------------------------------------
    def close(self, acct: Account) -> None:
        """Write the account and everything made on it (balances are final now)."""
        acct.row["balance"] = round(sum(r["balance"] for o, r in acct.records
                                        if o is INVOICE and r["status"] == "Posted"), 2)
        self.sink.zuora(ACCOUNT, acct.row)
        for obj, rec in acct.records:
            if rec.get("_ns_id"):
                self._write_netsuite_copy(acct, obj, rec)
            self.sink.zuora(obj, rec)
        for table, row in acct.ns_rows:
            if table == "link":
                row["id"] = self.ns_id("nexttransactionlinelink")
                self.sink.ns("nexttransactionlinelink", row)
            else:
                self.sink.ns(table, row)

    def _write_netsuite_copy(self, acct: Account, obj: ZuoraObject, rec: dict[str, Any]) -> None:
        synced_at = self.ts(max(0, rec["_ago"] - 1))
        copy = netsuite_copy(obj, rec, entity=acct.ns_id, currency=acct.row["currency"], synced_at=synced_at,
                             remaining=rec.get("_ns_remaining", abs(rec["balance"]) if obj is INVOICE else None))
        if rec.get("_from_netsuite"):  # made in NetSuite, then synced to Zuora
            copy[NS_FIELD_IDS["zuora_origin"]] = "NETSUITE"
            copy[NS_FIELD_IDS["zuora_type"]] = None
        if obj is INVOICE_ITEM_ADJUSTMENT or obj is REFUND:
            copy["foreignamountremaining"] = 0.0
        copy["id"] = rec["_ns_id"]
        copy["tranid"] = ns_tranid(copy["type"], copy["id"])
        copy["createddate"] = copy["lastmodifieddate"] = synced_at
        if rec["_synced"]:
            rec.update(integrationid__ns=str(copy["id"]), syncdate__ns=synced_at)
            if rec.get("_from_netsuite"):
                rec["transaction__ns"] = copy["tranid"]
        else:  # an interrupted run wrote NetSuite but not the Zuora side
            copy[NS_FIELD_IDS["zuora_integration_status"]] = rec["integrationstatus__ns"]
        self.sink.ns("transaction", copy)
        applied = rec.get("_applied_to")
        if applied:
            target, amount = applied
            self.sink.ns("nexttransactionlinelink", {"id": self.ns_id("nexttransactionlinelink"),
                                                     "previousdoc": target["_ns_id"], "nextdoc": copy["id"],
                                                     "linktype": link_type(copy["type"]), "foreignamount": amount})


def bulk_account(b: TenantBuilder, invoices: int) -> None:
    """One ordinary account with its invoices, adjustments, payments and refunds."""
    rng = b.rng
    new = rng.random() < 0.01  # opened in the last days: not synced yet
    created_ago = rng.randint(1, SYNC_LAG_DAYS) if new else rng.randint(60, SPAN_DAYS)
    acct = b.open_account(created_ago=created_ago, synced=not new,
                          sync_to_netsuite="Yes" if rng.random() < 0.9 else None,
                          credit_balance=b.money(5, 500) if rng.random() < 0.03 else 0.0)
    for _ in range(invoices):
        ago = rng.randint(0, created_ago)
        synced = b.synced_after(ago, acct.ns_id is not None)
        if rng.random() < 0.03:  # a negative invoice, mostly still open
            amount = -b.money(10, 800)
            b.invoice(acct, amount, ago, synced=synced, balance=amount if rng.random() < 0.8 else 0.0)
            continue
        if rng.random() < 0.01:
            b.invoice(acct, b.money(20, 5000), ago, synced=False, status="Draft")
            continue
        inv = b.invoice(acct, b.money(20, 5000), ago, synced=synced)
        if ago > 1 and rng.random() < 0.04:
            iia_ago = max(0, ago - rng.randint(1, 15))
            b.adjustment(acct, inv, round(inv["amount"] * rng.uniform(0.05, 0.3), 2), iia_ago,
                         synced=b.synced_after(iia_ago, synced))
        if ago > 3 and rng.random() < 0.85:
            pay_ago = max(0, ago - rng.randint(0, 20))
            pay_synced = b.synced_after(pay_ago, synced)
            pay = b.payment(acct, inv, inv["balance"], pay_ago, synced=pay_synced, method=rng.choice(METHODS),
                            from_netsuite=pay_synced and rng.random() < 0.05)
            if pay_ago > 1 and rng.random() < 0.01 and not pay.get("_from_netsuite"):
                ref_ago = max(0, pay_ago - rng.randint(1, 10))
                b.refund(acct, pay, round(pay["amount"] * rng.uniform(0.1, 1.0), 2), ref_ago,
                         synced=b.synced_after(ref_ago, pay_synced))
    b.close(acct)


def accounting_periods(b: TenantBuilder, years_ahead: int = 5) -> None:
    """Zuora Finance's monthly periods: two years back to five ahead. The month before AS_OF is still Open
    (its close is pending), older months are Closed, so a migration from then on posts into an Open period."""
    year, month = AS_OF.year - 2, AS_OF.month
    last_closed = (AS_OF.replace(day=1) - timedelta(days=1)).replace(day=1) - timedelta(days=1)
    while (year, month) <= (AS_OF.year + years_ahead, AS_OF.month):
        start = date(year, month, 1)
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        b.sink.zuora(ACCOUNTING_PERIOD, {
            "id": b.zid(), "name": start.strftime("%b %Y"), "startdate": start.isoformat(),
            "enddate": end.isoformat(), "status": "Closed" if end <= last_closed else "Open",
            "fiscalyear": year, "fiscalquarter": (month - 1) // 3 + 1,
            "createddate": f"{start.isoformat()} 00:00:00", "updateddate": f"{start.isoformat()} 00:00:00"})
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
