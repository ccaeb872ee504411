"""Drill-down: one sync error's record as each system holds it, found through the connector's own links.

Zuora→NS records are matched in NetSuite by the Zuora ID body field; NS→Zuora records in Zuora by the id the
connector wrote back (NetSuite's Zuora ID), or by `Transaction__NS` = the NetSuite tranId before that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.monitor.model import ZUORA_TO_NS, SyncError
from core.monitor.queries import ZUORA_ROWS
from core.sql_literals import quote
from core.objects import INVOICE_ITEM_ADJUSTMENT, PAYMENT, REFUND

# What a NetSuite record becomes in Zuora (runbook R4.2): credit memos sync to IIAs, and only without IS.
NS_TO_ZUORA_TABLE = {"Customer payments": PAYMENT.table, "Customer refunds": REFUND.table,
                     "Credit memos": INVOICE_ITEM_ADJUSTMENT.table}


@dataclass(frozen=True)
class RecordView:
    error: SyncError
    zuora: dict[str, Any] | None
    netsuite: dict[str, Any] | None
    queries: list[str] = field(default_factory=list)


def _zuora_table(label: str) -> str:
    return next(r.obj.table for r in ZUORA_ROWS if r.label == label)


async def record_in_both_systems(zuora: Any, netsuite: Any, fields: Any, error: SyncError) -> RecordView:
    """`fields`: the profile's netsuite_fields (needs `zuora_id`)."""
    data = fields.model_dump() if hasattr(fields, "model_dump") else dict(fields)
    zuora_id_field = data.get("zuora_id")
    queries: list[str] = []

    async def one_zuora(sql: str) -> dict | None:
        queries.append(sql)
        rows = await zuora.data_query_rows(sql, limit=1)
        return rows[0] if rows else None

    async def one_netsuite(sql: str) -> dict | None:
        queries.append(sql)
        rows = await netsuite.suiteql_rows(sql, limit=1)
        return rows[0] if rows else None

    if error.side == ZUORA_TO_NS:
        z = await one_zuora(f"SELECT * FROM {_zuora_table(error.object)} WHERE id = {quote(error.record_id)}")
        n = None
        if zuora_id_field:
            n = await one_netsuite(
                f"SELECT * FROM transaction WHERE {zuora_id_field} = {quote(error.record_id)} ORDER BY id")
        return RecordView(error, z, n, queries)

    n = await one_netsuite(f"SELECT * FROM transaction WHERE id = {quote(error.record_id)}")
    table = NS_TO_ZUORA_TABLE.get(error.object, PAYMENT.table)
    z = None
    if n is not None and zuora_id_field and n.get(zuora_id_field):
        z = await one_zuora(f"SELECT * FROM {table} WHERE id = {quote(n[zuora_id_field])}")
    elif n is not None and n.get("tranid"):
        z = await one_zuora(f"SELECT * FROM {table} WHERE transaction__ns = {quote(n['tranid'])}")
    return RecordView(error, z, n, queries)
