"""A person's hand edit of the connector's own fields, the mistake runbook R8.9 warns of.

To "force a resync", someone clears the Integration Status, Integration Id and Transferred to Accounting of records
the connector had already sent. The connector then no longer knows their NetSuite copies, and its next run creates
each of them a second time: an invoice billed twice, a payment received twice. H2 must find those.
"""

from __future__ import annotations

from typing import Any

from core.objects import INVOICE, PAYMENT
from core.sim.records import RecordWriter
from core.sim.store import Store
from core.sim.sync_rules import SYNC_COMPLETE

SOURCE = "person"
_CLEARED = {"integrationstatus__ns": None, "integrationid__ns": None, "syncdate__ns": None,
            "transferredtoaccounting": "No"}
# (object, its number, its date and the cutover date the connector compares it with, what else it must be)
_TARGETS = ((INVOICE, "invoicenumber", "invoicedate", "invoice", "t.status = 'Posted' AND t.amount > 0"),
            (PAYMENT, "paymentnumber", "effectivedate", "payment",
             "t.status = 'Processed' AND coalesce(t.origin__ns, 'ZUORA') = 'ZUORA'"))  # not one NetSuite sent


def clear_integration_status(store: Store, count: int) -> dict[str, Any]:
    """Clear the connector's fields on the `count` newest synced invoices and payments of each kind, among those
    the connector would pick again (on or after its cutover dates, on accounts that sync)."""
    if not 1 <= count <= 20:
        raise ValueError("count must be between 1 and 20 records of each kind")
    cleared: list[str] = []
    with store.transaction() as conn:
        w = RecordWriter(store, conn, source=SOURCE)
        for obj, number, day, cutover_key, where in _TARGETS:
            cutover = store.setting(f"cutover.{cutover_key}")
            rows = conn.execute(
                f"SELECT t.* FROM main.{obj.table} t JOIN main.account a ON a.id = t.accountid WHERE {where} "
                f"AND t.transferredtoaccounting = 'Yes' AND t.integrationstatus__ns = '{SYNC_COMPLETE}' "
                f"AND t.integrationid__ns IS NOT NULL "
                f"AND coalesce(a.synctonetsuite__ns, 'Yes') = 'Yes' AND t.{day} >= ? "
                f"ORDER BY t.{day} DESC, t.id LIMIT ?", (cutover or "", count)).fetchall()
            for row in rows:
                w.update_zuora(obj, dict(row), _CLEARED)
                cleared.append(row[number])
    return {"cleared": cleared, "count": len(cleared)}
