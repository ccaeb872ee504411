"""What a person fixes at the source so that a step's check can pass: the stand-ins for V1-V6, B3 and C2-C5.

Each fix finds the records its step lists, by the same rules the step's check uses, and removes the cause the
connector or the migration stops at, the way a consultant would in the vendors' UIs:
- V1-V4: activate the draft or canceled accounts; V5: cancel the draft negative invoices; V6: cancel the drafts;
- B3: create (or refresh) the one-time migration charge of each currency that needs one;
- C2-C5: rename accounts whose name the connector refuses (R8.15), add the customer's currency in NetSuite
  (R8.14), add a payment method name on the side that lacks it (R8.12).
A fix never syncs anything itself: the next Run Now does. Each one is scoped to its own step's records, so a
rehearsal that skips one step leaves exactly that step's harm in place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.objects import ACCOUNT, INVOICE, PAYMENT, PRODUCT_RATE_PLAN_CHARGE
from core.sim.catalog import NS_FIELD_IDS
from core.sim.migration import ONE_TIME_CHARGE, VALIDATIONS, needed_currencies, valid_charge_currencies
from core.sim.records import RecordWriter, sim_today
from core.sim.store import Store
from core.sim.sync_rules import (
    EXTRA_NETSUITE_METHODS, EXTRA_ZUORA_METHODS, PAYMENT_METHODS, SYNC_COMPLETE, TTA_PICKED,
)

SOURCE = "person"  # in the write log: a person's edit in a vendor UI
_ALLOWED = str.maketrans("", "", '",')
_PENDING = f"{TTA_PICKED} AND (a.synctonetsuite__ns IS NULL OR a.synctonetsuite__ns = 'Yes')"
_IN_ERROR = ("(t.integrationstatus__ns LIKE 'Error%' OR t.integrationstatus__ns LIKE 'Creating%' "
             "OR t.transferredtoaccounting IN ('Error', 'Processing'))")


def _cutover(store: Store, key: str, column: str) -> tuple[str, list[Any]]:
    value = store.setting(f"cutover.{key}")
    return (f" AND t.{column} >= ?", [value]) if value else ("", [])


# ---- B2 rows and B3 ------------------------------------------------------------------------------------------------
def _activate(store: Store, row: str) -> list[str]:
    """V1-V4: the listed accounts (or the accounts of the listed invoices) made Active."""
    sql = VALIDATIONS[row][1]
    if "invoice i" in sql:
        sql = sql.replace("SELECT i.invoicenumber", "SELECT DISTINCT a.accountnumber")
    numbers = [r["accountnumber"] for r in store.query(sql)]
    return _set_status(store, ACCOUNT, "accountnumber", numbers, "Active")


def _cancel(store: Store, row: str) -> list[str]:
    """V5, V6: the listed drafts canceled."""
    obj, column = (INVOICE, "invoicenumber") if row == "V5" else (PAYMENT, "paymentnumber")
    numbers = [r[column] for r in store.query(VALIDATIONS[row][1])]
    return _set_status(store, obj, column, numbers, "Canceled")


def _set_status(store: Store, obj, column: str, numbers: list[str], status: str) -> list[str]:
    with store.transaction() as conn:
        w = RecordWriter(store, conn, source=SOURCE)
        for number in numbers:
            row = dict(conn.execute(f"SELECT * FROM main.{obj.table} WHERE {column} = ?", (number,)).fetchone())
            w.update_zuora(obj, row, {"status": status})
    return [f"{n} {status.lower()}" for n in numbers]


def _migration_charges(store: Store) -> list[str]:
    """B3: one valid charge per currency that needs one, created or updated today (C-PRPC)."""
    today = sim_today(store)
    year = today[:4]
    done = []
    with store.transaction() as conn:
        w = RecordWriter(store, conn, source=SOURCE)
        for currency in needed_currencies(store):
            if currency in valid_charge_currencies(store, today):
                continue
            name = ONE_TIME_CHARGE.format(currency=currency)
            values = {"name": name, "chargetype": "OneTime", "chargemodel": "Flat Fee Pricing", "currency": currency,
                      "amount": -10.0, "taxable": 0, "effectivestartdate": f"{year}-01-01",
                      "effectiveenddate": f"{year}-12-31", "accountingcode": "Deferred Revenue"}
            found = conn.execute("SELECT * FROM main.productrateplancharge WHERE name = ?", (name,)).fetchone()
            if found is None:
                w.insert_zuora(PRODUCT_RATE_PLAN_CHARGE, values)
                done.append(f"{name} created")
            elif not w.update_zuora(PRODUCT_RATE_PLAN_CHARGE, dict(found), values):
                conn.execute("UPDATE main.productrateplancharge SET updateddate = datetime('now') WHERE id = ?",
                             (found["id"],))  # saved again unchanged: updated within the two days all the same
                done.append(f"{name} saved again")
            else:
                done.append(f"{name} corrected")
    return done


# ---- C2-C5: the causes the connector stops at ---------------------------------------------------------------------
def _rename_accounts(w: RecordWriter, account_ids: set[str]) -> list[str]:
    done = []
    for acct in (dict(r) for r in w.conn.execute(
            f"SELECT * FROM main.account WHERE id IN ({', '.join('?' * len(account_ids))})", list(account_ids))):
        name = acct["name"] or ""
        if name != name.translate(_ALLOWED):
            w.update_zuora(ACCOUNT, acct, {"name": " ".join(name.translate(_ALLOWED).split())})
            done.append(f"account {acct['accountnumber']} renamed (no quotes or commas)")
    return done


def _add_currencies(w: RecordWriter, records: list[dict]) -> list[str]:
    """The NetSuite customer of each record takes the record's currency too."""
    done = []
    for rec in records:
        customer = w.conn.execute("SELECT * FROM ns.customer WHERE custentityzuoraid = ?",
                                  (rec["accountid"],)).fetchone()
        currency = rec.get("currency")
        if customer is None or currency in (None, customer["currency"]):
            continue
        have = [c for c in (customer["currencies"] or "").split(",") if c]
        if currency not in have:
            w.update_ns("customer", dict(customer), {"currencies": ",".join([*have, currency])})
            done.append(f"NetSuite customer {customer['entityid']} takes {currency}")
    return done


def _add_methods(store: Store, key: str, methods: set[str | None]) -> list[str]:
    """Create the missing payment method names on one side (a setting of the simulated account)."""
    have = set(store.setting(key) or ())
    new = sorted(m for m in methods if m and m not in PAYMENT_METHODS and m not in have)
    if new:
        store.set_setting(key, sorted(have | set(new)))
    side = "NetSuite" if key == EXTRA_NETSUITE_METHODS else "Zuora"
    return [f"payment method {m} created in {side}" for m in new]


def _pending(store: Store, table: str, where: str, params: list[Any] | None = None) -> list[dict]:
    return store.query(f"SELECT t.* FROM main.{table} t JOIN main.account a ON a.id = t.accountid "
                       f"WHERE {_PENDING} AND {where}", params or [])


def _negative_invoices(store: Store) -> list[str]:
    """C2: what keeps the negative invoices the old connector would pick out of NetSuite."""
    since, params = _cutover(store, "invoice", "invoicedate")
    records = _pending(store, "invoice", "t.status = 'Posted' AND t.amount < 0" + since, params)
    with store.transaction() as conn:
        w = RecordWriter(store, conn, source=SOURCE)
        return _rename_accounts(w, {r["accountid"] for r in records}) + _add_currencies(w, records)


def _other_pending(store: Store) -> list[str]:
    """C3: what keeps pending invoices, payments and refunds out of NetSuite."""
    records: list[dict] = []
    for table, where, key, column in (("invoice", "t.status = 'Posted' AND t.amount >= 0", "invoice", "invoicedate"),
                                      ("payment", "t.status = 'Processed'", "payment", "effectivedate"),
                                      ("refund", "t.sourcetype = 'Payment'", "refund", "refunddate")):
        since, params = _cutover(store, key, column)
        records += _pending(store, table, where + since, params)
    methods = {r.get("paymentmethodtype") for r in records}
    with store.transaction() as conn:
        w = RecordWriter(store, conn, source=SOURCE)
        done = _rename_accounts(w, {r["accountid"] for r in records}) + _add_currencies(w, records)
    return done + _add_methods(store, EXTRA_NETSUITE_METHODS, methods)


def _netsuite_pending(store: Store) -> list[str]:
    """C4: NetSuite customer payments whose method Zuora does not know."""
    f = NS_FIELD_IDS
    rows = store.query(f'SELECT paymentmethod FROM ns."transaction" WHERE type = \'CustPymt\' AND '
                       f"coalesce({f['zuora_integration_status']}, '') <> '{SYNC_COMPLETE}' AND "
                       f"coalesce({f['zuora_origin']}, '') <> 'ZUORA'")
    return _add_methods(store, EXTRA_ZUORA_METHODS, {r["paymentmethod"] for r in rows})


def _stuck(store: Store) -> list[str]:
    """C5: the accounts and payments in error (the interrupted `Creating …` ones need only the next run)."""
    f = NS_FIELD_IDS
    accounts = store.query("SELECT id FROM main.account t WHERE t.integrationstatus__ns LIKE 'Error%'")
    payments = store.query(f"SELECT paymentmethodtype FROM main.payment t WHERE {_IN_ERROR}")
    ns = store.query(f'SELECT paymentmethod FROM ns."transaction" WHERE type = \'CustPymt\' AND '
                     f"{f['zuora_integration_status']} LIKE 'Error%'")
    with store.transaction() as conn:
        done = _rename_accounts(RecordWriter(store, conn, source=SOURCE), {a["id"] for a in accounts})
    return (done + _add_methods(store, EXTRA_NETSUITE_METHODS, {p["paymentmethodtype"] for p in payments})
            + _add_methods(store, EXTRA_ZUORA_METHODS, {p["paymentmethod"] for p in ns}))


FIXES: dict[str, tuple[str, Callable[[Store], list[str]]]] = {
    **{row: ("activate the accounts", lambda s, r=row: _activate(s, r)) for row in ("V1", "V2", "V3", "V4")},
    "V5": ("cancel the draft invoices", lambda s: _cancel(s, "V5")),
    "V6": ("cancel the draft payments", lambda s: _cancel(s, "V6")),
    "B3": ("create the one-time migration charges", _migration_charges),
    "C2": ("fix what keeps the negative invoices out of NetSuite", _negative_invoices),
    "C3": ("fix what keeps invoices, payments and refunds out of NetSuite", _other_pending),
    "C4": ("add the NetSuite payments' methods in Zuora", _netsuite_pending),
    "C5": ("fix the accounts and payments in error", _stuck),
}


def fix_at_source(store: Store, step: str) -> dict[str, Any]:
    """Run one step's fix; `step` is its id, with or without the B2/ prefix. Answers what was changed."""
    key = step.strip().upper().removeprefix("B2/")
    if key not in FIXES:
        raise ValueError(f"no stand-in fixes {step!r} at the source: one of {', '.join(FIXES)}")
    what, fix = FIXES[key]
    changes = fix(store)
    return {"step": key, "what": what, "changed": changes, "count": len(changes)}
