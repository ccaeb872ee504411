"""Phase A: discovery (runbook.md A1-A3)."""

from __future__ import annotations

from core.runbook import sources as src
from core.runbook.model import Check, Kind, Phase, Step
from core.runbook.probes import invoice_settlement_off
from core.runbook.stand_ins import Rehearsing, StandIn, checked, confirmed

_DATES = ("invoice", "payment", "refund", "iia", "ns_payment")


async def _capture_old_instance(r: Rehearsing) -> None:
    """A2: the consultant reads the old instance's ids (Logs tab) and cutover dates (Advanced Settings)."""
    old = await r.world.current_instance()
    dates = await r.world.cutover_dates()
    r.set(old_instance_id=old["id"], old_account_id=old["account_id"], tenant_env="simulator",
          **{f"old_cutover_dates__{k}": dates.get(k) for k in _DATES})  # the ids go to the instances register
    r.register("update", old["id"], environment_id=old["environment_id"], oauth_client_id=old["oauth_client_id"],
               notes="read from the Logs tab")
    r.say("A2", f"read the old instance {old['id']} (account {old['account_id']}) and its cutover dates from the "
                "connector's Logs tab and Advanced Settings; recorded in the instances register")


async def _choose_path(r: Rehearsing) -> None:
    r.set(provisioning_path=r.provisioning_path)
    r.confirm("A3", f"provisioning path {r.provisioning_path} (the rehearsal's option)")

STEPS = (
    Step(
        "A1", Phase.A, "Invoice Settlement is off and the connector is installed", Kind.AUTO,
        why="The runbook starts on a tenant without IS that runs the NetSuite connector. With IS already on, the "
            "Billing menu shows Credit/Debit Memos and the migration has happened; without IntegrationId__NS on "
            "Invoice, Payment and InvoiceItemAdjustment there is no connector to move.",
        doc_url=src.IS_OVERVIEW,
        check=Check(ok="Invoice Settlement is off and the connector is installed", probe=invoice_settlement_off),
        stand_in=StandIn("the tool probes the tenant", after=checked("A1")),
    ),
    Step(
        "A2", Phase.A, "Capture the old connector configuration", Kind.HUMAN,
        why="No public API reads the connector's settings. The new or edited instance must get the same Sync "
            "Preferences, Advanced Settings and Scheduler (F5-F7), and the old ids go into the Support tickets.",
        doc_url=src.NSC_CUSTOM_FIELD_SYNC,
        instructions=(
            "Open Zuora Connector for NetSuite > Logs and note the Account ID and Instance ID: "
            "cutover set old_account_id ID, cutover set old_instance_id ID.",
            "Open Settings > Advanced Settings and record each cutover date, e.g. "
            "cutover set old_cutover_dates.invoice 2024-01-01 (also payment, refund, iia, ns_payment).",
            "Note the disabled syncs, Use Standard Invoice Sync, and the NetSuite Error Limit.",
            "Note every Sync Preference (currency, tax, classifications, customer, unassigned payments, catalog).",
            "Note the Scheduler (type and interval), and whether custom field sync is used (Billing settings > "
            "Manage Netsuite Billing Connector Custom Field Settings).",
        ),
        confirm=True, needs=("old_instance_id", "old_account_id"),
        stand_in=StandIn("the consultant reads the old instance's ids and settings", act=_capture_old_instance,
                         after=confirmed("A2", "old instance ids and cutover dates read from the connector")),
    ),
    Step(
        "A3", Phase.A, "Choose the re-provisioning path", Kind.HUMAN,
        why="The docs describe three ways to re-point the connector at the IS tenant and do not say when to pick "
            "which. The choice decides Phase F; ask Support in the B1 ticket and follow the path they name.",
        doc_url=src.P_PARENT,
        instructions=(
            "edit-instance: after IS, give the existing instance a new OAuth client (P-PREP steps 5-7).",
            "new-instance: create a new instance; Support returns a new Account ID and Environment ID (P-MIG).",
            "new-tenant: the tenant itself is replaced; re-use the AccountId and EnvironmentId (P-PARENT).",
            "Record the choice: cutover set provisioning_path edit-instance|new-instance|new-tenant.",
        ),
        confirm=True, needs=("provisioning_path",),
        stand_in=StandIn("the consultant records the path Support named", after=_choose_path),
    ),
)
