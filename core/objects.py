"""Zuora's objects and fields as the vendor's APIs name them, and NetSuite's record type codes.

Zuora spells a field three ways: PascalCase in ZOQL and describe (`TransferredToAccounting`), lower case in
Data Query (`transferredtoaccounting`), camelCase in REST and Object Query (`transferredToAccounting`).
The `__NS` connector fields keep their spelling in REST. The checks, the monitor and the simulator all read
the same vocabulary from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Field:
    name: str  # PascalCase, as ZOQL and describe spell it
    type: str = "text"  # text | decimal | integer | date | datetime | picklist | boolean
    custom: bool = False  # the __NS connector fields

    @property
    def column(self) -> str:
        return self.name.lower()

    @property
    def rest(self) -> str:
        if self.custom:
            return self.name
        return self.name[0].lower() + self.name[1:]

    @property
    def sql_type(self) -> str:
        return {"decimal": "REAL", "integer": "INTEGER", "boolean": "INTEGER"}.get(self.type, "TEXT")


def _ns(*extra: str) -> tuple[Field, ...]:
    names = ("IntegrationId__NS", "IntegrationStatus__NS", "SyncDate__NS", *extra)
    return tuple(Field(n, "datetime" if n == "SyncDate__NS" else "text", custom=True) for n in names)


_AUDIT = (Field("CreatedDate", "datetime"), Field("UpdatedDate", "datetime"))


@dataclass(frozen=True)
class ZuoraObject:
    name: str  # ZOQL / describe name, e.g. "CreditMemo"
    table: str  # Data Query table, e.g. "creditmemo"
    fields: tuple[Field, ...]
    invoice_settlement_only: bool = False  # CreditMemo/DebitMemo exist only with IS (or ISH on the way to it)
    full_settlement_only: bool = False  # PaymentPart: IS proper, not Invoice Settlement Harmonization
    zoql: bool = True  # Actions query cannot read IS objects
    number_field: str | None = None
    connector_fields: tuple[Field, ...] = field(default=())

    @property
    def all_fields(self) -> tuple[Field, ...]:
        return self.fields + _AUDIT + self.connector_fields

    def field_by_name(self, name: str) -> Field | None:
        low = name.lower()
        for f in self.all_fields:
            if f.column == low:
                return f
        return None

    def columns(self) -> list[str]:
        return [f.column for f in self.all_fields]


F = Field

ACCOUNT = ZuoraObject(
    "Account", "account",
    (F("Id"), F("AccountNumber"), F("Name"), F("Status", "picklist"), F("Balance", "decimal"),
     F("CreditBalance", "decimal"), F("Currency"), F("Batch")),
    number_field="AccountNumber",
    connector_fields=_ns("SynctoNetSuite__NS"),
)
INVOICE = ZuoraObject(
    "Invoice", "invoice",
    (F("Id"), F("InvoiceNumber"), F("AccountId"), F("Amount", "decimal"), F("Balance", "decimal"),
     F("Status", "picklist"), F("InvoiceDate", "date"), F("PostedDate", "date"),
     F("TransferredToAccounting", "picklist"), F("Currency")),
    number_field="InvoiceNumber",
    connector_fields=_ns(),
)
INVOICE_ITEM_ADJUSTMENT = ZuoraObject(
    "InvoiceItemAdjustment", "invoiceitemadjustment",
    (F("Id"), F("AdjustmentNumber"), F("AccountId"), F("InvoiceId"), F("InvoiceNumber"),
     F("Amount", "decimal"), F("Type", "picklist"), F("Status", "picklist"), F("ReasonCode"),
     F("AdjustmentDate", "date"), F("TransferredToAccounting", "picklist")),
    number_field="AdjustmentNumber",
    connector_fields=_ns("Origin__NS", "Transaction__NS"),
)
PAYMENT = ZuoraObject(
    "Payment", "payment",
    (F("Id"), F("PaymentNumber"), F("AccountId"), F("InvoiceId"), F("Amount", "decimal"),
     F("AppliedAmount", "decimal"), F("UnappliedAmount", "decimal"), F("EffectiveDate", "date"),
     F("Status", "picklist"), F("Type", "picklist"), F("PaymentMethodType"),
     F("TransferredToAccounting", "picklist"), F("Currency")),
    number_field="PaymentNumber",
    connector_fields=_ns("Origin__NS", "Transaction__NS"),
)
REFUND = ZuoraObject(
    "Refund", "refund",
    (F("Id"), F("RefundNumber"), F("AccountId"), F("PaymentId"), F("Amount", "decimal"),
     F("RefundDate", "date"), F("Status", "picklist"), F("SourceType", "picklist"), F("MethodType"),
     F("Type", "picklist"), F("TransferredToAccounting", "picklist")),
    number_field="RefundNumber",
    connector_fields=_ns("Origin__NS", "Transaction__NS"),
)
CREDIT_MEMO = ZuoraObject(
    "CreditMemo", "creditmemo",
    (F("Id"), F("MemoNumber"), F("AccountId"), F("TotalAmount", "decimal"), F("Balance", "decimal"),
     F("Status", "picklist"), F("ReasonCode"), F("MemoDate", "date"), F("Source"),
     F("SourceType", "picklist"), F("ReferredInvoiceId"), F("ExcludeFromAutoApplyRules", "boolean"),
     F("TransferredToAccounting", "picklist"), F("Comment"), F("Currency")),
    invoice_settlement_only=True, zoql=False, number_field="MemoNumber",
    connector_fields=_ns("Origin__NS", "Transaction__NS"),
)
DEBIT_MEMO = ZuoraObject(
    "DebitMemo", "debitmemo",
    (F("Id"), F("MemoNumber"), F("AccountId"), F("TotalAmount", "decimal"), F("Balance", "decimal"),
     F("Status", "picklist"), F("ReasonCode"), F("MemoDate", "date"),
     F("TransferredToAccounting", "picklist"), F("Currency")),
    invoice_settlement_only=True, zoql=False, number_field="MemoNumber",
    connector_fields=_ns("Origin__NS", "Transaction__NS"),
)
# Payment parts: the IS migration splits payments into parts; an ISH tenant has memos but no parts yet (R12).
PAYMENT_PART = ZuoraObject(
    "PaymentPart", "paymentpart",
    (F("Id"), F("PaymentId"), F("InvoiceId"), F("DebitMemoId"), F("Amount", "decimal")),
    invoice_settlement_only=True, full_settlement_only=True, zoql=False,
)
PRODUCT_RATE_PLAN_CHARGE = ZuoraObject(
    "ProductRatePlanCharge", "productrateplancharge",
    (F("Id"), F("Name"), F("ChargeType", "picklist"), F("ChargeModel", "picklist"), F("Currency"),
     F("Amount", "decimal"), F("Taxable", "boolean"), F("EffectiveStartDate", "date"),
     F("EffectiveEndDate", "date"), F("AccountingCode")),
    connector_fields=_ns("ItemType__NS"),
)
# Zuora Finance's periods (runbook B4): the migration posts into the period of its date, which must be Open.
ACCOUNTING_PERIOD = ZuoraObject(
    "AccountingPeriod", "accountingperiod",
    (F("Id"), F("Name"), F("StartDate", "date"), F("EndDate", "date"), F("Status", "picklist"),
     F("FiscalYear", "integer"), F("FiscalQuarter", "integer")),
)

ZUORA_OBJECTS: dict[str, ZuoraObject] = {
    o.name: o
    for o in (ACCOUNT, INVOICE, INVOICE_ITEM_ADJUSTMENT, PAYMENT, REFUND, CREDIT_MEMO, DEBIT_MEMO, PAYMENT_PART,
              PRODUCT_RATE_PLAN_CHARGE, ACCOUNTING_PERIOD)
}
ZUORA_TABLES: dict[str, ZuoraObject] = {o.table: o for o in ZUORA_OBJECTS.values()}


def zuora_object(name: str) -> ZuoraObject | None:
    """Case-insensitive lookup by ZOQL name or Data Query table."""
    low = name.lower().replace("-", "").replace("_", "")
    return ZUORA_TABLES.get(low) or next((o for o in ZUORA_OBJECTS.values() if o.name.lower() == low), None)


# NetSuite record type codes used by the connector.
NS_CUSTOMER_PAYMENT = "CustPymt"
NS_INVOICE = "CustInvc"
NS_CREDIT_MEMO = "CustCred"
NS_REFUND = "CustRfnd"
NS_JOURNAL = "Journal"
