"""The public documentation each step cites (runbook.md "Source keys"), as full URLs."""

from __future__ import annotations

_DOCS = "https://docs.zuora.com/en"
_IS = f"{_DOCS}/zuora-billing/bill-your-customer/invoice-settlement/get-started-with-invoice-settlement"
_NSC = f"{_DOCS}/zuora-platform/integration/integration-hub/billing-connector-for-netsuite-gl/"
_SYNC = f"{_NSC}integration-between-zuora-and-netsuite/"

P_PARENT = f"{_IS}/enable-invoice-settlement-to-support-netsuite-connector"
P_PREP = f"{P_PARENT}/prepare-data-for-migration"
P_MIG = f"{P_PARENT}/migrate-invoice-settlement-data"
P_PAY = f"{P_PARENT}/synchronize-netsuite-payments-with-zuora-post-upgrade"
C_GUIDE = f"{_IS}/invoice-settlement-migration-checklist-and-guide"
C_VALID = f"{C_GUIDE}/validate-transactions"
C_PRPC = f"{C_GUIDE}/prepare-one-time-product-rate-plan-charge"
C_ENABLE = f"{C_GUIDE}/enable-invoice-settlement"
C_API = f"{C_GUIDE}/api-integration"
C_BILLCFG = f"{C_GUIDE}/billing-configurations"
IS_OVERVIEW = f"{_IS}/get-started-with-invoice-settlement/invoice-settlement-overview"
IH_OAUTH = (f"{_DOCS}/zuora-platform/integration/integration-hub/get-started-with-integration-hub/"
            "create-an-oauth-tenant-login-in-zuora-connect")

NSC_CUSTOM_FIELD_SYNC = f"{_SYNC}zuora-netsuite-custom-field-sync"
NSC_ADVANCED = f"{_NSC}install-netsuite-connector/configure-advanced-settings"
NSC_SYNC_PREFS = f"{_NSC}install-netsuite-connector/configure-sync-preferences"
NSC_SCHEDULER = f"{_NSC}install-netsuite-connector/configure-scheduler"
NSC_NEW_INSTANCE = f"{_NSC}install-netsuite-connector/create-a-new-instance-of-zuora-connector-for-netsuite"
NSC_RUN_SYNC = f"{_NSC}using-netsuite-connector/run-an-integration-sync"
NSC_IIA_SYNC = f"{_SYNC}invoice-item-adjustment-transaction-sync"
NSC_INVOICE_RULES = f"{_SYNC}invoice-transaction-sync/invoice-transaction-sync-rules"
NSC_PAYMENT_RULES = f"{_SYNC}payment-transaction-sync/payment-transaction-sync-rules-zuora-to-netsuite"
NSC_IS_NS_PAYMENT_RULES = (f"{_SYNC}payment-transaction-sync-invoice-settlement-enabled/"
                           "payment-transaction-sync-rules-netsuite-to-zuora")
NSC_IS_CREDIT_MEMO = f"{_SYNC}credit-memo-transaction-sync-invoice-settlement-enabled"
NSC_SEQUENCE = f"{_SYNC}netsuite-connector-sync-sequence"
NSC_STATUS = f"{_SYNC}netsuite-connector-sync-concepts/integration-status-and-error-recovery"
