"""The NetSuite customerPayment record as the REST record API shows it, read from and written to the store.

Payments are `transaction` rows of type CustPymt. The record API spells fields in camelCase, gives references
as `{"id", "refName"}`, leaves empty fields out and puts custom body fields at the top level under their
script ids. Updates touch `memo` and custom body fields only; each changed field is logged in the same
transaction, and a value equal to the current one writes nothing.
"""

from __future__ import annotations

from typing import Any

from core.objects import NS_CUSTOMER_PAYMENT
from core.sim.catalog import NS_TABLES
from core.sim.store import Store, now_ts

RECORD = "customerPayment"
CUSTOM_FIELDS = tuple(c for c, _ in NS_TABLES["transaction"] if c.startswith("custbody"))
UPDATABLE = ("memo", *CUSTOM_FIELDS)

_SELECT = ('SELECT t.*, c.companyname AS customer_name, c.entityid AS customer_entityid '
           'FROM ns."transaction" t LEFT JOIN ns.customer c ON c.id = t.entity WHERE t.id = ? AND t.type = ?')


def _datetime(ts: str | None) -> str | None:
    """The store's 'YYYY-MM-DD HH:MM:SS' (UTC) as the record API's ISO 8601."""
    return None if ts is None else ts.replace(" ", "T") + "Z"


def read_customer_payment(store: Store, payment_id: int, base_url: str) -> dict[str, Any] | None:
    """The record, or None when no customer payment has this internal id."""
    row = store.query_one(_SELECT, (payment_id, NS_CUSTOMER_PAYMENT))
    if row is None:
        return None
    record_url = f"{base_url}/services/rest/record/v1/{RECORD}/{payment_id}"
    total, remaining = row["foreigntotal"], row["foreignamountremaining"]
    customer = None
    if row["entity"] is not None:
        customer = {"links": [{"rel": "self", "href": f"{base_url}/services/rest/record/v1/customer/{row['entity']}"}],
                    "id": str(row["entity"]), "refName": row["customer_name"] or row["customer_entityid"]}
    record: dict[str, Any] = {
        "links": [{"rel": "self", "href": record_url}],
        "id": str(row["id"]),
        "tranId": row["tranid"],
        "tranDate": row["trandate"],
        "createdDate": _datetime(row["createddate"]),
        "lastModifiedDate": _datetime(row["lastmodifieddate"]),
        "customer": customer,
        "currency": {"refName": row["currency"]} if row["currency"] else None,
        "paymentMethod": {"refName": row["paymentmethod"]} if row["paymentmethod"] else None,
        "payment": total,
        "unapplied": remaining,
        "applied": None if total is None or remaining is None else round(total - remaining, 2),
        "memo": row["memo"],
        **{f: row[f] for f in CUSTOM_FIELDS},
    }
    return {k: v for k, v in record.items() if v is not None}


def payment_changes(body: Any) -> dict[str, str | None]:
    """Validate a PATCH body into column -> new text value. Raises ValueError naming the bad field."""
    if not isinstance(body, dict) or not body:
        raise ValueError("the body must be a JSON object with the fields to change, "
                         'e.g. {"memo": "synced"}')
    changes: dict[str, str | None] = {}
    for field, value in body.items():
        if field not in UPDATABLE:
            raise ValueError(f"field '{field}' cannot be changed on {RECORD} here: send memo or custom body "
                             f"fields by script id ({', '.join(CUSTOM_FIELDS)})")
        if isinstance(value, (dict, list)):
            raise ValueError(f"field '{field}' takes a plain value (text, number, true/false or null)")
        if isinstance(value, bool):
            value = "T" if value else "F"
        # NetSuite keeps no difference between an empty field and a cleared one.
        changes[field] = None if value is None or value == "" else str(value)
    return changes


def update_customer_payment(store: Store, payment_id: int, changes: dict[str, str | None], *,
                            request_id: str | None = None) -> list[str] | None:
    """Apply the changes; returns the fields that really changed, or None when the payment does not exist."""
    with store.transaction() as conn:
        row = conn.execute('SELECT * FROM ns."transaction" WHERE id = ? AND type = ?',
                           (payment_id, NS_CUSTOMER_PAYMENT)).fetchone()
        if row is None:
            return None
        changed = [f for f, new in changes.items() if row[f] != new]
        if not changed:
            return []
        assignments = ", ".join(f"{f} = ?" for f in changed)  # names come from UPDATABLE only
        conn.execute(f'UPDATE ns."transaction" SET {assignments}, lastmodifieddate = ? WHERE id = ?',
                     (*(changes[f] for f in changed), now_ts(), payment_id))
        for f in changed:
            store.log_write(conn, source="api", system="netsuite", object=RECORD, record_id=str(payment_id),
                            field=f, old=row[f], new=changes[f], request_id=request_id)
        return changed
