"""Drill-down: one sync error's record as each system holds it, found through the connector's own links, and
the connector's own reason for the error where it can be read.

Zuora→NS records are matched in NetSuite by the Zuora ID body field (customer accounts by the NetSuite id the
connector wrote back, IntegrationId__NS); NS→Zuora records in Zuora by the id the connector wrote back
(NetSuite's Zuora ID), or by `Transaction__NS` = the NetSuite tranId before that.

The reason: the real connector writes it only to its Warning log, which no API serves (Connect: Logs > Download
Logs), so on a real tenant the drill-down says where to look. The simulated connector keeps the latest message
per failed record and serves it under /_sim/connector/errors (`SimControl.connector_errors`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from core.monitor.model import ZUORA_TO_NS, SyncError
from core.monitor.queries import ZUORA_ROWS
from core.sql_literals import quote
from core.objects import ACCOUNT, INVOICE_ITEM_ADJUSTMENT, PAYMENT, REFUND

# What a NetSuite record becomes in Zuora (runbook R4.2): credit memos sync to IIAs, and only without IS.
NS_TO_ZUORA_TABLE = {"Customer payments": PAYMENT.table, "Customer refunds": REFUND.table,
                     "Credit memos": INVOICE_ITEM_ADJUSTMENT.table}
CUSTOMER_ACCOUNTS = next(r.label for r in ZUORA_ROWS if r.obj is ACCOUNT)


@dataclass(frozen=True)
class RecordView:
    error: SyncError
    zuora: dict[str, Any] | None
    netsuite: dict[str, Any] | None
    queries: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ErrorReason:
    """The connector's own text for a failed record, and where it comes from."""

    source: str  # whose log: the real connector's Warning log, or the simulated connector's log
    message: str | None  # the connector's words; None where they cannot be read from here
    note: str  # where the text came from, or where to find it
    logged_at: str | None = None  # UTC, when the connector logged it


class ConnectorErrorLog(Protocol):
    """What reads the simulated connector's error log: `core.sim.control.SimControl`."""

    async def connector_errors(self, record_id: str | None = None) -> list[dict[str, Any]]: ...


REAL_LOG = "Connector's Warning log"
SIMULATED_LOG = "Simulated connector's log"


def _reference(error: SyncError) -> str:
    return f"{error.number} (id {error.record_id})" if error.number else error.record_id


def real_tenant_reason(error: SyncError) -> ErrorReason:
    """A real connector gives its reason to no API: say plainly where an operator reads it."""
    return ErrorReason(REAL_LOG, None, (
        f"The connector writes why it failed a record only to its Warning log, which no API serves. In Zuora "
        f"Connect open the connector instance, then Logs > Download Logs, and search the Warning log for "
        f"{_reference(error)}."))


async def simulated_reason(log: ConnectorErrorLog, error: SyncError) -> ErrorReason:
    """The demo's connector logs each failure: the latest message for this record, from GET
    /_sim/connector/errors."""
    entries = await log.connector_errors(record_id=error.record_id)
    entry = entries[0] if entries else None
    if entry is None or not entry.get("message"):
        return ErrorReason(SIMULATED_LOG, None, (
            f"The simulated connector has logged no failure for {_reference(error)}: the demo seeded it as "
            f"'{error.status}', no run has failed it yet. Run the connector (R on the monitor) and open it "
            f"again to read why it fails."))
    run = f", run {entry['run_id']}" if entry.get("run_id") is not None else ""
    step = f" ({entry['step']} sync{run})" if entry.get("step") else ""
    return ErrorReason(SIMULATED_LOG, entry["message"],
                       f"Logged by the simulated connector at {entry.get('ts')} UTC{step}. On a real tenant this "
                       f"text is only in the connector's Warning log (Logs > Download Logs).",
                       logged_at=entry.get("ts"))


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
        if error.object == CUSTOMER_ACCOUNTS:  # a NetSuite customer, not a transaction: the id written back
            if z is not None and z.get("integrationid__ns"):
                n = await one_netsuite(f"SELECT * FROM customer WHERE id = {quote(z['integrationid__ns'])}")
        elif zuora_id_field:
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
