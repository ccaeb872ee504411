"""SQL fragments in the runbook's words, shared by the steps' checks, fixes and probes so each exists once.

Zuora Data Query (Trino) unless the name says NetSuite. Aliases are passed with their dot ("m.").
"""

from __future__ import annotations

AR_MIG = "'AR Mig - negative invoice'"


def not_transferred(alias: str = "") -> str:
    """The connector still picks it: TTA No (or null, shown as No), Error or Processing; not Yes or Ignore."""
    return f"coalesce({alias}transferredtoaccounting, 'No') NOT IN ('Yes', 'Ignore')"


def picked(alias: str = "", account: str = "a.") -> str:
    """The connector still has to send it: not transferred, on an account that syncs to NetSuite (Sync To NetSuite
    empty or Yes; R4.1). `account` is the joined account's alias."""
    return f"{not_transferred(alias)} AND coalesce({account}synctonetsuite__ns, 'Yes') = 'Yes'"


def ar_mig_memos(alias: str = "") -> str:
    """The credit memos the migration made from negative invoices (runbook E1)."""
    return f"{alias}reasoncode = {AR_MIG}"


def in_netsuite(memo: str) -> str:
    """The AR Mig memo's negative invoice reached NetSuite (as a NEGATIVE_INVOICE credit memo). The memo names it
    as its referred invoice; where a migration made the memo from the one-time charge instead (the docs disagree,
    runbook D1), the invoice is the one its write-off IIA (same account, amount and day) adjusted [INFERRED]."""
    return (f"EXISTS (SELECT 1 FROM invoice ni WHERE ni.integrationid__ns IS NOT NULL AND (ni.id = "
            f"{memo}referredinvoiceid OR ({memo}referredinvoiceid IS NULL AND EXISTS (SELECT 1 FROM "
            f"invoiceitemadjustment wj WHERE wj.invoiceid = ni.id AND wj.accountid = {memo}accountid AND wj.amount = "
            f"{memo}totalamount AND wj.adjustmentdate = {memo}memodate))))")


def migration_write_off(iia: str) -> str:
    """An IIA the migration made to write off a negative invoice: on an invoice an AR Mig memo comes from, dated
    the memo's day (runbook D1)."""
    return (f"EXISTS (SELECT 1 FROM creditmemo wm WHERE wm.reasoncode = {AR_MIG} AND wm.memodate = "
            f"{iia}adjustmentdate AND (wm.referredinvoiceid = {iia}invoiceid OR (wm.referredinvoiceid IS NULL AND "
            f"wm.accountid = {iia}accountid AND wm.totalamount = {iia}amount)))")
