"""The monitor's queries: which records each sync row counts, how a record's fields map to a sync state, and
the server-side aggregates that read them (one Data Query job for Zuora, two SuiteQL queries for NetSuite).

Zuora→NS rows read `TransferredToAccounting` (what the connector selects on, runbook R3.1); accounts have no
TTA and read `IntegrationStatus__NS`. NS→Zuora rows read the Zuora Integration Status of NetSuite records that
did not come from Zuora (Zuora Origin ≠ ZUORA). Each row only counts records the connector could ever pick
(e.g. posted invoices): a draft would otherwise sit in "pending" for ever and spoil the ETA.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from core.errors import ConfigError
from core.sql_literals import netsuite_date, quote, zuora_date
from core.objects import (
    ACCOUNT, CREDIT_MEMO, DEBIT_MEMO, INVOICE, INVOICE_ITEM_ADJUSTMENT, NS_CREDIT_MEMO, NS_CUSTOMER_PAYMENT,
    NS_REFUND, PAYMENT, REFUND, ZuoraObject,
)

ERROR_SAMPLE_ROWS = 20  # latest errors kept per sample (per system, merged to this many)


@dataclass(frozen=True)
class ZuoraRow:
    label: str
    obj: ZuoraObject
    syncable: str  # Trino condition: records the connector could pick at all
    invoice_settlement: bool | None = None  # None: synced both with and without IS
    dated_by: str | None = None  # the date the connector compares with its cutover date for this object
    cutover: str | None = None  # which cutover date: a key of RunVariables.connector_cutovers()

    @property
    def has_origin(self) -> bool:
        return self.obj.field_by_name("Origin__NS") is not None


# In the connector's sync order (runbook R4.3).
ZUORA_ROWS = (
    ZuoraRow("Customer accounts", ACCOUNT, "status = 'Active' AND COALESCE(synctonetsuite__ns, 'Yes') = 'Yes'"),
    ZuoraRow("Invoices", INVOICE, "status = 'Posted'", invoice_settlement=False, dated_by="invoicedate",
             cutover="invoice"),
    ZuoraRow("Invoices", INVOICE, "status = 'Posted' AND amount >= 0", invoice_settlement=True,  # IS: no negatives
             dated_by="invoicedate", cutover="invoice"),
    ZuoraRow("Debit memos", DEBIT_MEMO, "status = 'Posted'", invoice_settlement=True, dated_by="memodate",
             cutover="memo"),
    ZuoraRow("Credit memos", CREDIT_MEMO, "status = 'Posted'", invoice_settlement=True, dated_by="memodate",
             cutover="memo"),
    ZuoraRow("Payments", PAYMENT, "status = 'Processed'", dated_by="effectivedate", cutover="payment"),
    ZuoraRow("Refunds", REFUND, "sourcetype = 'Payment' AND status IN ('Processed', 'Posted')",  # payment refunds
             dated_by="refunddate", cutover="refund"),
    ZuoraRow("Invoice item adjustments", INVOICE_ITEM_ADJUSTMENT, "status = 'Processed'",
             invoice_settlement=False, dated_by="adjustmentdate", cutover="iia"),
)

# NetSuite record types that sync to Zuora, with the IS setting they sync under (runbook R4.2).
NS_ROWS = (
    ("Customer payments", NS_CUSTOMER_PAYMENT, None),
    ("Customer refunds", NS_REFUND, None),
    ("Credit memos", NS_CREDIT_MEMO, False),  # the NetSuite→Zuora credit memo syncs exist without IS only
)

_TTA_STATE = ("CASE transferredtoaccounting WHEN 'Yes' THEN 'done' WHEN 'Processing' THEN 'processing' "
              "WHEN 'Error' THEN 'error' WHEN 'Ignore' THEN 'ignored' ELSE 'pending' END")
_TTA_ERROR = "transferredtoaccounting = 'Error'"


def _status_state(column: str, waiting: str | None = None, before_cutover: str | None = None) -> str:
    """A state from an integration status text. For a record that was never tried: `before_cutover`, the
    condition under which the connector will never pick it (ignored); `waiting`, the one under which it is not
    eligible yet. LENGTH(TRIM()) rather than `<> ''`: in NetSuite's Oracle an empty string is NULL, and a
    comparison with NULL is never true."""
    out_of_scope = f"WHEN {before_cutover} THEN 'ignored' " if before_cutover else ""
    not_eligible = f"WHEN {waiting} THEN 'waiting' " if waiting else ""
    return (f"CASE WHEN {column} = 'Sync Complete' THEN 'done' WHEN {column} = 'Ignore' THEN 'ignored' "
            f"WHEN {column} LIKE 'Error%' THEN 'error' WHEN LENGTH(TRIM({column})) > 0 THEN 'processing' "
            f"{out_of_scope}{not_eligible}ELSE 'pending' END")


# A record of an account set not to sync (Sync To NetSuite = No) is never picked either (C3 leaves them out too).
_NOT_SYNCED_ACCOUNT = "accountid IN (SELECT id FROM account WHERE synctonetsuite__ns = 'No')"


def _tta_state(row: ZuoraRow, cutovers: Mapping[str, date]) -> str:
    """TransferredToAccounting as a state; a record never sent and dated before the connector's cutover date, or of
    an account that does not sync, is one the connector will never pick (runbook R4.1), so it is ignored rather than
    a backlog without end (a "stalled" row nobody can clear)."""
    cutover = cutovers.get(row.cutover) if row.cutover else None
    never = [_NOT_SYNCED_ACCOUNT]
    if cutover is not None and row.dated_by is not None:
        never.append(f"{row.dated_by} < {zuora_date(cutover)}")
    return (f"CASE WHEN COALESCE(transferredtoaccounting, 'No') = 'No' AND ({' OR '.join(never)}) "
            f"THEN 'ignored' ELSE {_TTA_STATE} END")


def zuora_rows(invoice_settlement: bool) -> list[ZuoraRow]:
    return [r for r in ZUORA_ROWS if r.invoice_settlement in (None, invoice_settlement)]


def ns_rows(invoice_settlement: bool) -> list[tuple[str, str]]:
    return [(label, code) for label, code, flag in NS_ROWS if flag in (None, invoice_settlement)]


# ---- Zuora: one Data Query job -----------------------------------------------------------------------------
def _where(row: ZuoraRow) -> str:
    cond = row.syncable
    if row.has_origin:  # records made in NetSuite are the other direction's results
        cond += " AND COALESCE(origin__ns, '') <> 'NETSUITE'"
    return cond


def zuora_sql(invoice_settlement: bool, cutovers: Mapping[str, date] | None = None) -> str:
    """Trino SQL for Data Query: per-table GROUP BY state counts, then the latest error records, in one
    UNION ALL so a sample costs one job (a tenant may run only five at once, and the connector needs them).
    `cutovers`: the connector's cutover dates by object, those known (RunVariables.connector_cutovers)."""
    null = "CAST(NULL AS varchar)"
    parts, errors = [], []
    for row in zuora_rows(invoice_settlement):
        t = row.obj.table
        state = _status_state("integrationstatus__ns") if row.obj is ACCOUNT else _tta_state(row, cutovers or {})
        parts.append(
            f"SELECT '{t}' AS object_type, 'count' AS kind, {state} AS state, COUNT(*) AS n, {null} AS id, "
            f"{null} AS record_number, {null} AS status, {null} AS sync_date FROM {t} WHERE {_where(row)} "
            f"GROUP BY {state}")
        is_error = "integrationstatus__ns LIKE 'Error%'" if row.obj is ACCOUNT else _TTA_ERROR
        errors.append(
            f"SELECT '{t}' AS object_type, id, CAST({row.obj.number_field.lower()} AS varchar) AS record_number, "
            "integrationstatus__ns AS status, CAST(COALESCE(syncdate__ns, updateddate) AS varchar) AS sync_date "
            f"FROM {t} WHERE {_where(row)} AND {is_error}")
    latest = (f"SELECT object_type, 'error' AS kind, 'error' AS state, CAST(NULL AS bigint) AS n, id, "
              f"record_number, status, sync_date FROM ({' UNION ALL '.join(errors)} "
              f"ORDER BY sync_date DESC LIMIT {ERROR_SAMPLE_ROWS}) latest")
    return " UNION ALL ".join([*parts, latest])


def zuora_label(table: str) -> str:
    return next(r.label for r in ZUORA_ROWS if r.obj.table == table)


# ---- NetSuite: two SuiteQL queries --------------------------------------------------------------------------
_SCRIPT_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
REQUIRED_FIELDS = ("zuora_integration_status", "zuora_origin")


@dataclass(frozen=True)
class NetSuiteFieldIds:
    """The custom field script ids the NetSuite queries need, taken from the profile (never literals)."""

    integration_status: str
    origin: str
    sync_date: str | None
    sync_updates: str | None
    sync_updates_yes: str = "Yes"

    @classmethod
    def from_profile(cls, fields: Any) -> NetSuiteFieldIds:
        """`fields`: the profile's NetSuiteFields model or a plain mapping of the same keys."""
        if hasattr(fields, "model_dump"):
            fields = fields.model_dump()
        if not isinstance(fields, Mapping):
            raise ConfigError(f"netsuite fields must be a table of script ids, not {type(fields).__name__}")
        missing = [k for k in REQUIRED_FIELDS if not fields.get(k)]
        if missing:
            raise ConfigError(f"the profile maps no NetSuite script id for {', '.join(missing)}",
                              hint="map them with `cutover profile fields PROFILE --apply`")
        for key, sid in fields.items():
            if key.startswith("zuora_") and sid and not _SCRIPT_ID.match(str(sid)):
                raise ConfigError(f"netsuite field {key} = {sid!r} is not a NetSuite script id",
                                  hint="script ids are letters, digits and underscores, e.g. custbodyzuoraid")
        return cls(integration_status=fields["zuora_integration_status"], origin=fields["zuora_origin"],
                   sync_date=fields.get("zuora_sync_date") or None,
                   sync_updates=fields.get("zuora_sync_updates") or None,
                   sync_updates_yes=str(fields.get("sync_updates_yes") or "Yes"))

    def require_sync_updates(self) -> str:
        if not self.sync_updates:
            raise ConfigError(
                "with Invoice Settlement on, the monitor needs the Zuora Sync Updates field's script id to tell "
                "pending NetSuite payments from waiting ones, and the profile maps none",
                hint="find and map it with `cutover profile fields PROFILE --apply`")
        return self.sync_updates


def _ns_scope(ids: NetSuiteFieldIds, invoice_settlement: bool) -> str:
    types = ", ".join(quote(code) for _, code in ns_rows(invoice_settlement))
    return f"type IN ({types}) AND COALESCE({ids.origin}, '-') <> 'ZUORA'"


def ns_state(ids: NetSuiteFieldIds, invoice_settlement: bool, payment_cutover: date | None = None) -> str:
    # Payments dated before the NetSuite Payments cutover are never picked (runbook R4.2).
    before = (f"type = {quote(NS_CUSTOMER_PAYMENT)} AND trandate < {netsuite_date(payment_cutover)}"
              if payment_cutover else None)
    if not invoice_settlement:
        return _status_state(ids.integration_status, before_cutover=before)
    # An IS payment syncs only once its Zuora Sync Updates says Yes (runbook R4.2, step G2).
    return _status_state(ids.integration_status, before_cutover=before, waiting=(
        f"type = {quote(NS_CUSTOMER_PAYMENT)} AND "
        f"COALESCE({ids.require_sync_updates()}, '-') <> {quote(ids.sync_updates_yes)}"))


def ns_counts_sql(ids: NetSuiteFieldIds, invoice_settlement: bool, payment_cutover: date | None = None) -> str:
    state = ns_state(ids, invoice_settlement, payment_cutover)
    return (f"SELECT type, {state} AS state, COUNT(*) AS n FROM transaction "
            f"WHERE {_ns_scope(ids, invoice_settlement)} GROUP BY type, {state}")


def ns_errors_sql(ids: NetSuiteFieldIds, invoice_settlement: bool) -> str:
    sync_date = f"{ids.sync_date} AS sync_date, " if ids.sync_date else ""
    return (f"SELECT id, tranid, type, {ids.integration_status} AS status, {sync_date}lastmodifieddate "
            f"FROM transaction WHERE {_ns_scope(ids, invoice_settlement)} "
            f"AND {ids.integration_status} LIKE 'Error%' ORDER BY lastmodifieddate DESC, id DESC")


def ns_label(code: str) -> str:
    return next(label for label, c, _ in NS_ROWS if c == code)
