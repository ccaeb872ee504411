"""What a person does in the simulated NetSuite account: enter customer payments, change a field's default.

A body field's default applies when a record is created (runbook G2): payments entered before the Zuora Sync
Updates default is set keep an empty value, those entered afterwards take it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from core.objects import NS_CUSTOMER_PAYMENT, NS_INVOICE
from core.sim.catalog import NS_FIELD_IDS
from core.sim.records import RecordWriter, sim_today
from core.sim.store import Store
from core.sim.sync_rules import apply_to_netsuite

SYNC_UPDATES_DEFAULT = "netsuite.sync_updates_default"
SYNC_UPDATES_VALUES = ("Yes", "No")


def entered_payment(*, entity: int, zuora_account_id: str | None, amount: float, trandate: str, method: str,
                    currency: str | None, sync_updates: str | None,
                    fields: dict[str, str] = NS_FIELD_IDS) -> dict[str, Any]:
    """A customer payment typed into NetSuite, fully applied; the connector has not touched it yet."""
    return {"type": NS_CUSTOMER_PAYMENT, "trandate": trandate, "entity": entity, "currency": currency,
            "foreigntotal": amount, "foreignamountremaining": 0.0, "foreignamountpaid": amount,
            "paymentmethod": method, fields["zuora_customer_id_payment"]: zuora_account_id,
            fields["zuora_sync_updates"]: sync_updates}


def enter_payments(store: Store, count: int, *, method: str = "Check", backdate_days: int = 0
                   ) -> list[dict[str, Any]]:
    """Enter up to `count` payments now, each paying off one open NetSuite invoice that came from Zuora.
    `backdate_days` dates them (trandate) that many days back, as a clerk catching up does: they are still
    created now."""
    if not 1 <= count <= 1000:
        raise ValueError("count must be between 1 and 1000 payments")
    if not 0 <= backdate_days <= 366:
        raise ValueError("backdate_days must be between 0 and 366")
    f = NS_FIELD_IDS
    default = store.setting(SYNC_UPDATES_DEFAULT)
    today = (date.fromisoformat(sim_today(store)) - timedelta(days=backdate_days)).isoformat()
    made = []
    with store.transaction() as conn:
        w = RecordWriter(store, conn, source="netsuite-user")
        open_invoices = conn.execute(
            f'SELECT t.*, c.custentityzuoraid AS _account FROM ns."transaction" t JOIN ns.customer c '
            f'ON c.id = t.entity WHERE t.type = ? AND t.{f["zuora_type"]} = \'INVOICE\' AND t.{f["zuora_id"]} '
            f'IS NOT NULL AND t.foreignamountremaining > 0 AND c.custentityzuoraid IS NOT NULL '
            f'ORDER BY t.id DESC LIMIT ?', (NS_INVOICE, count)).fetchall()
        for inv in map(dict, open_invoices):
            amount = inv["foreignamountremaining"]
            pid = w.insert_ns("transaction", entered_payment(
                entity=inv["entity"], zuora_account_id=inv["_account"], amount=amount, trandate=today,
                method=method, currency=inv["currency"], sync_updates=default))
            apply_to_netsuite(w, inv, pid, amount, "Payment")
            tranid = conn.execute('SELECT tranid FROM ns."transaction" WHERE id = ?', (pid,)).fetchone()[0]
            made.append({"id": pid, "tranid": tranid, "trandate": today, "amount": amount,
                         "applied_to": inv["tranid"], f["zuora_sync_updates"]: default})
    return made


def set_field_default(store: Store, field: str, value: str | None) -> dict[str, Any]:
    """Customization > Transaction Body Fields > Zuora Sync Updates > Validation & Defaulting (runbook G1)."""
    if field not in ("zuora_sync_updates", NS_FIELD_IDS["zuora_sync_updates"]):
        raise ValueError("only the Zuora Sync Updates default can be changed here: send "
                         '{"field": "zuora_sync_updates", "value": "Yes"}')
    if value is not None and value not in SYNC_UPDATES_VALUES:
        raise ValueError('value must be "Yes", "No" or null (no default)')
    scriptid = NS_FIELD_IDS["zuora_sync_updates"]
    with store.transaction() as conn:
        row = conn.execute("SELECT * FROM ns.customfield WHERE scriptid = ?", (scriptid,)).fetchone()
        if row is None:
            raise ValueError(f"this NetSuite account has no custom field {scriptid}: seed the tenant first")
        RecordWriter(store, conn, source="netsuite-user").update_ns("customfield", dict(row), {"defaultvalue": value})
    store.set_setting(SYNC_UPDATES_DEFAULT, value)
    return {"field": "zuora_sync_updates", "scriptid": scriptid, "defaultvalue": value}
