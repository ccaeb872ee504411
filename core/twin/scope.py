"""What a twin holds, in one place: the Zuora objects and NetSuite tables the runbook's checks and the connector's
rules read, with the filter that keeps each to what the cutover touches, and what no API exposes (out of scope).

Capture reads exactly this list; `cutover twin forecast` prints the out-of-scope list; tests/test_twin.py holds
that every table a check's SQL names is here (tables_the_checks_read), so a new check cannot silently read data
a twin lacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.objects import (
    ACCOUNT,
    ACCOUNTING_PERIOD,
    CREDIT_MEMO,
    DEBIT_MEMO,
    INVOICE,
    INVOICE_ITEM_ADJUSTMENT,
    PAYMENT,
    PRODUCT_RATE_PLAN_CHARGE,
    REFUND,
    ZuoraObject,
)

# Data Query returns at most 500,000 rows per job (apis.md A5.3): one keyset slice is one job.
ZUORA_SLICE_ROWS = 500_000
# SuiteQL pages hold 1,000 rows and one query returns at most 100,000 (apis.md B4): keyset pages on the id.
NETSUITE_PAGE_ROWS = 1_000
NETSUITE_FILE_ROWS = 50_000  # NetSuite rows per snapshot file: the unit a resumed capture starts again from


@dataclass(frozen=True)
class ZuoraScope:
    obj: ZuoraObject
    where: str  # Data Query condition; "1=1" for every row
    why: str
    invoice_settlement_only: bool = False  # the table exists only once IS (or ISH) is on

    @property
    def table(self) -> str:
        return self.obj.table

    @property
    def columns(self) -> list[str]:
        return self.obj.columns()


ZUORA: tuple[ZuoraScope, ...] = (
    ZuoraScope(ACCOUNT, "1=1", "B2, C2, C3, C5, C7, D2 and the connector's customer sync"),
    ZuoraScope(INVOICE, "1=1", "B2, B3, C2, C3, C5, C6, C7, D2 and the invoice sync"),
    ZuoraScope(INVOICE_ITEM_ADJUSTMENT, "1=1", "C1, C5, C6, C7, E3 and the IIA sync"),
    ZuoraScope(PAYMENT, "1=1", "B2/V6, B2/V7, C3, C5, C7, H3 and the payment sync"),
    ZuoraScope(REFUND, "1=1", "C3, C5, C7 and the refund sync"),
    ZuoraScope(CREDIT_MEMO, "1=1", "D2, E1, E2, H2, H3 (after IS)", invoice_settlement_only=True),
    ZuoraScope(DEBIT_MEMO, "1=1", "H3 (after IS)", invoice_settlement_only=True),
    ZuoraScope(PRODUCT_RATE_PLAN_CHARGE, "name LIKE 'Special one time charge for migration - %'",
               "B3: the migration charge's catalog rows only"),
    ZuoraScope(ACCOUNTING_PERIOD, "1=1", "B4: the periods the migration posts into"),
)

# NetSuite's custom body fields are named by the profile (NetSuiteFields); a snapshot keys them by meaning
# (`zuora_id`), so a twin loads into any account's script ids.
NS_TRANSACTION_COLUMNS = ("id", "tranid", "type", "trandate", "entity", "currency", "foreigntotal",
                          "foreignamountremaining", "foreignamountpaid", "paymentmethod", "memo", "createddate",
                          "lastmodifieddate")
NS_CUSTOMER_COLUMNS = ("id", "entityid", "companyname", "currency", "custentityzuoraid", "custentityzuorasyncdate",
                       "currencies")
NS_LINK_COLUMNS = ("id", "previousdoc", "nextdoc", "linktype", "foreignamount")
NS_CUSTOMFIELD_COLUMNS = ("scriptid", "name", "fieldtype", "fieldvaluetype", "defaultvalue")

_ZUORA_CUSTOMER = "custentityzuoraid IS NOT NULL"


def ns_transaction_where(zuora_id: str) -> str:
    """Zuora-linked transactions, and those NetSuite made for a Zuora customer (payments typed in NetSuite, the
    credit memos not linked to Zuora that C4 counts)."""
    return (f"(t.{zuora_id} IS NOT NULL OR t.entity IN (SELECT c.id FROM customer c WHERE c.{_ZUORA_CUSTOMER}))")


@dataclass(frozen=True)
class NetSuiteScope:
    table: str
    alias: str
    columns: tuple[str, ...]
    why: str
    keyset: bool = True  # paged on the integer id; customfield has none (and holds a handful of rows)

    def select(self, custom: dict[str, str]) -> str:
        """`t.id, …, t.custbodyzuoraid AS zuora_id FROM transaction t`: custom fields renamed to their meaning."""
        cols = [f"{self.alias}.{c}" for c in self.columns]
        cols += [f"{self.alias}.{sid} AS {key}" for key, sid in custom.items()]
        return f"{', '.join(cols)} FROM {self.table} {self.alias}"

    def where(self, fields: dict[str, str]) -> str:
        if self.table == "transaction":
            return ns_transaction_where(fields["zuora_id"])
        if self.table == "customer":
            return f"k.{_ZUORA_CUSTOMER}"
        if self.table == "nexttransactionlinelink":
            # A link whose either end is a captured transaction. EXISTS looks each link's two ends up by id; an
            # IN (SELECT ...) list would build the whole set of captured transactions again for every page.
            inner = ns_transaction_where(fields["zuora_id"])
            return f"EXISTS (SELECT 1 FROM transaction t WHERE t.id IN (l.previousdoc, l.nextdoc) AND {inner})"
        ids = ", ".join(f"'{sid.lower()}'" for sid in fields.values())
        return f"LOWER(f.scriptid) IN ({ids})"


NETSUITE: tuple[NetSuiteScope, ...] = (
    NetSuiteScope("customer", "k", NS_CUSTOMER_COLUMNS, "the Zuora-linked customers (the customer sync, R12)"),
    NetSuiteScope("transaction", "t", NS_TRANSACTION_COLUMNS,
                  "C4, C5, G2, G3, H2, H3: Zuora-linked transactions and NetSuite's own for Zuora customers"),
    NetSuiteScope("nexttransactionlinelink", "l", NS_LINK_COLUMNS, "C4, G3: what applies to what"),
    NetSuiteScope("customfield", "f", NS_CUSTOMFIELD_COLUMNS, "G1: the mapped fields' defaults", keyset=False),
)

# What the checks or the rehearsal read that no API exposes: a twin cannot know it, and the tool says so.
OUT_OF_SCOPE: dict[str, str] = {
    "A1": "Invoice Settlement's and the connector's menus are read by an API probe of the live tenant, not data; "
          "the twin carries only whether IS was on at capture",
    "A2": "the old connector's free-text settings are shown from the journal, not simulated",
    "F1": "the API user and OAuth clients: Zuora exposes no API that lists them with their roles",
    "F5-F7": "the connector's Sync Preferences, Advanced Settings and Scheduler: no API reads them",
    "R11.3": "the connector's saved searches and mappings inside NetSuite: not readable through SuiteQL",
}

_TABLE = re.compile(r"\b(?:FROM|JOIN)\s+([a-z_]+)\b", re.IGNORECASE)


def captured_tables() -> set[str]:
    return {s.table for s in ZUORA} | {s.table for s in NETSUITE}


def tables_the_checks_read() -> dict[str, set[str]]:
    """Every table named in a check's SQL, with the steps that read it (the list above must cover it)."""
    from core.profile import NetSuiteFields
    from core.runbook.model import MissingInput, QueryContext, resolve
    from core.runbook.phases import RUNBOOK
    from core.runbook.variables import RunVariables

    variables = RunVariables().set("freeze_ts", "2026-10-27 18:00").set("is_enabled_ts", "2026-11-02 09:00") \
        .set("go_live_ts", "2026-11-03 09:00").set("target_migration_date", "2026-11-02")
    for key in ("invoice", "payment", "refund", "iia", "ns_payment"):
        variables = variables.set(f"old_cutover_dates.{key}", "2024-11-01")
    fields = NetSuiteFields(zuora_sync_updates="custbody_zuora_sync_updates").model_dump()
    ctx = QueryContext(variables=variables, fields=fields, invoice_settlement=True)
    found: dict[str, set[str]] = {}
    for step in RUNBOOK:
        for part in step.check.parts if step.check else ():
            texts = [f"FROM {part.source}"]
            for where in (part.where, part.ids_from):
                try:
                    texts.append(resolve(where, ctx) if where is not None else "")
                except MissingInput:  # a variable this scan did not set: the FROM clause is still read
                    continue
            for text in texts:
                for table in _TABLE.findall(text):
                    found.setdefault(table.lower(), set()).add(step.id)
    return found
