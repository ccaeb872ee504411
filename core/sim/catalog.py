"""The simulated tenant's storage vocabulary: NetSuite's custom-field ids and SuiteQL tables.

The Zuora objects come from core.objects. Their SQLite column is always the Data Query name, so Data Query SQL
runs on the store after dialect translation only.
"""

from __future__ import annotations

# The simulated NetSuite account's custom-field script ids. Real accounts differ; the tool reads them from the
# profile's [netsuite.fields] table. Zuora Sync Updates has no documented id (runbook R11.4), so the simulator
# gives it one off the naming pattern on purpose: code that hard-codes the pattern fails here.
NS_FIELD_IDS: dict[str, str] = {
    "zuora_id": "custbodyzuoraid",
    "zuora_integration_status": "custbodyzuoraintegrationstatus",
    "zuora_type": "custbodyzuoratype",
    "zuora_origin": "custbodyzuoraorigin",
    "zuora_sync_date": "custbodyzuorasyncdate",
    "zuora_reference_number": "custbodyzuorareferencenumber",
    "zuora_customer_id_payment": "custbodyzuoracustomeridpayment",
    "zuora_sync_updates": "custbody_zuora_sync_updates",
}
NS_FIELD_LABELS: dict[str, str] = {
    "zuora_id": "Zuora ID",
    "zuora_integration_status": "Zuora Integration Status",
    "zuora_type": "Zuora Type",
    "zuora_origin": "Zuora Origin",
    "zuora_sync_date": "Zuora Sync Date",
    "zuora_reference_number": "Zuora Reference Number",
    "zuora_customer_id_payment": "Zuora Customer ID (Payment)",
    "zuora_sync_updates": "Zuora Sync Updates",
}

# SuiteQL tables: name -> (column, sqlite type). Lower-case, as SuiteQL returns them.
NS_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "transaction": (
        ("id", "INTEGER PRIMARY KEY"), ("tranid", "TEXT"), ("type", "TEXT"), ("trandate", "TEXT"),
        ("entity", "INTEGER"), ("currency", "TEXT"), ("foreigntotal", "REAL"),
        ("foreignamountremaining", "REAL"), ("foreignamountpaid", "REAL"), ("paymentmethod", "TEXT"),
        ("memo", "TEXT"), ("createddate", "TEXT"), ("lastmodifieddate", "TEXT"),
        *((sid, "TEXT") for sid in NS_FIELD_IDS.values()),
    ),
    # `currencies`: the other currencies a multi-currency customer takes, comma-separated (its `currency` is the
    # primary one). A transaction in any other currency is refused (runbook R8.14).
    "customer": (
        ("id", "INTEGER PRIMARY KEY"), ("entityid", "TEXT"), ("companyname", "TEXT"), ("currency", "TEXT"),
        ("custentityzuoraid", "TEXT"), ("custentityzuorasyncdate", "TEXT"), ("currencies", "TEXT"),
    ),
    # Payment and credit applications: previousdoc = the invoice, nextdoc = the payment/credit.
    "nexttransactionlinelink": (
        ("id", "INTEGER PRIMARY KEY"), ("previousdoc", "INTEGER"), ("nextdoc", "INTEGER"),
        ("linktype", "TEXT"), ("foreignamount", "REAL"),
    ),
    # Custom field metadata, for field discovery and the G1 default check.
    "customfield": (
        ("scriptid", "TEXT PRIMARY KEY"), ("name", "TEXT"), ("fieldtype", "TEXT"),
        ("fieldvaluetype", "TEXT"), ("defaultvalue", "TEXT"),
    ),
}
