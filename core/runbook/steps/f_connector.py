"""Phase F: connector re-provisioning (runbook.md F1-F7; F3a/F3b/F3c by the A3 path)."""

from __future__ import annotations

from datetime import date, timedelta

from core.runbook import sources as src
from core.runbook.model import Check, Kind, Phase, Step, TicketTemplate
from core.runbook.probes import oauth_token
from core.runbook.stand_ins import Mistake, Rehearsing, StandIn, checked, confirmed

LOGIN = "cutover-rehearsal-oauth"


async def _new_oauth_client(r: Rehearsing) -> None:
    client = await r.world.create_oauth_client("NetSuite connector after Invoice Settlement")
    r.set(new_oauth_client_id=client.client_id)
    r.keep_secret("new_oauth_client_secret", client.client_secret)  # in memory only, as a person types it
    r.say("F1", f"OAuth client {client.client_id} created in Administration > Manage Users")


async def _connect_login(r: Rehearsing) -> None:
    r.set(connect_login_name=LOGIN)
    r.confirm("F2", f"Connect tenant login {LOGIN} holds the new client")


async def _edit_instance(r: Rehearsing) -> None:
    v = r.variables()
    await r.world.update_instance(v.old_instance_id, oauth_client_id=v.new_oauth_client_id)
    r.register("update", v.old_instance_id, oauth_client_id=v.new_oauth_client_id)
    r.say("F3a", f"instance {v.old_instance_id} now signs in with the new OAuth client")


async def _new_instance(r: Rehearsing) -> None:
    client_id = r.variables().new_oauth_client_id
    new = await r.world.create_instance(client_id)
    r.set(new_instance_id=new["id"])  # recorded in the instances register
    r.register("update", new["id"], oauth_client_id=client_id, notes="created in Connect")
    r.say("F3b", f"instance {new['id']} created on the new OAuth client")


async def _support_reprovisions(r: Rehearsing) -> None:
    """F4, Support's part: the payment sync's stored credentials, and (new instance) the new ids."""
    v = r.variables()
    await r.world.update_boomi_credentials(v.new_oauth_client_id)
    r.say("F4", "Support pointed the NetSuite-to-Zuora payment sync's stored (Boomi) credentials at the new client")
    if v.provisioning_path == "new-instance":
        new = await r.world.current_instance()
        r.set(new_account_id=new["account_id"], new_environment_id=new["environment_id"])  # into the register
        r.say("F4", f"Support's ids recorded: account {new['account_id']}")


async def _ticket_f4(r: Rehearsing) -> None:
    r.ticket("F4")


async def _memo_cutover(r: Rehearsing) -> None:
    day = r.variables().migration_date.isoformat()
    await r.world.set_cutover_dates(memo=day)
    r.set(new_memo_cutover=day)  # recorded with the act, as A2, F3b and F4 record theirs (the demo's panel too)
    current = await r.world.current_instance()
    if current is not None:  # off by default on a new instance (R8.7): on, as the old instance had it
        await r.world.update_instance(current["id"], netsuite_payment_sync=True)
    r.say("F6", f"Debit/Credit Memos cutover set to {day} and recorded, NetSuite Payment and Refund Sync on; the "
                "other cutovers kept")


async def _record_memo_cutover(r: Rehearsing) -> None:
    day = r.variables().migration_date.isoformat()
    r.set(new_memo_cutover=day)
    r.confirm("F6", f"Debit/Credit Memos cutover {day}; the other cutovers kept from A2")


def _days_after_today(r: Rehearsing, days: int) -> str:
    return (date.fromisoformat(str(r.today())) + timedelta(days=days)).isoformat()


async def _late_cutovers(r: Rehearsing) -> None:
    day = _days_after_today(r, 1)
    await r.world.set_cutover_dates(invoice=day, payment=day, refund=day)
    r.say("F6", f"Zuora invoice, payment and refund cutovers set to {day}, later than the freeze")


async def _late_memo_cutover(r: Rehearsing) -> None:
    day = _days_after_today(r, 7)
    await r.world.set_cutover_dates(memo=day)
    r.set(new_memo_cutover=day)  # what the person did, recorded as done
    r.say("F6", f"Debit/Credit Memos cutover set to {day}, a week after IS, and recorded so")


_F6_MISTAKES = (
    Mistake("late-cutovers", "the Zuora invoice, payment and refund cutovers later than the freeze (R8.8)",
            _late_cutovers),
    Mistake("late-memo-cutover", "the memo cutover a week after IS instead of empty or the IS date",
            _late_memo_cutover),
)

_F4_TICKET = TicketTemplate(
    subject="NetSuite connector re-provisioning after Invoice Settlement for {profile}",
    body="""Hello Zuora Global Support,

Invoice Settlement is now on for this tenant (since {is_enabled_ts}; migration on {migration_date}).
Re-provisioning path: {provisioning_path}.
Old connector instance {old_instance_id} (Account ID {old_account_id}).
Its Environment ID: {old_environment_id}.
New instance: {new_instance_id}.
New Zuora OAuth client: {new_oauth_client_id} (Connect login: {connect_login_name}).
{netsuite_credentials}

Connector instances on record:
{instances}

Please:
1. New instance only: provision it and send us the new Account ID and Environment ID.
2. Update the Boomi credentials of the NetSuite-to-Zuora payment sync to the new OAuth client
   (we will provide the secret through a secure channel; it never goes in this ticket).
3. Payment Sync Behaviour: keep "Sync New and Modified Records" (the default) unless we ask otherwise.
4. Custom field sync (if used): move the settings to the new instance (Account ID / Instance ID above).
5. Credit-balance migration memos: {r[E2].line}
   Our decision: {e2_decision}. Please confirm how these should reach NetSuite.

AR Mig memos already marked transferred: {r[E1].line}

Thank you.""",
    variable="f4_ticket", optional=("new_instance_id",),
)

STEPS = (
    Step(
        "F1", Phase.F, "Create a Zuora API user and an OAuth client", Kind.HUMAN, also=Kind.AUTO,
        why="The connector must reach the IS tenant with a new OAuth client. Its secret is shown once: the "
            "consultant needs it again for F2 and for the Boomi update in F4, and the tool never stores it.",
        doc_url=src.IH_OAUTH, needs=("new_oauth_client_id",),
        instructions=("Zuora: Profile menu > Administration > Manage Users > create an API-only user.",
                      "Open the user and create an OAuth client; copy the client id and the secret (shown once).",
                      "Record the client id: cutover set new_oauth_client_id ID. Then test it with the secret: in the "
                      "app, Instances (i) > "
                      "t Test new OAuth client; on the command line, cutover check F1 --oauth-secret."),
        check=Check(ok="The new OAuth client gets a token", probe=oauth_token),
        stand_in=StandIn("the consultant creates the OAuth client", act=_new_oauth_client, after=checked("F1")),
    ),
    Step(
        "F2", Phase.F, "Create the OAuth tenant login in Zuora Connect", Kind.HUMAN,
        why="The connector instance authenticates to Zuora through a Connect tenant login holding the new client.",
        doc_url=src.IH_OAUTH, confirm=True, needs=("connect_login_name",),
        instructions=("Zuora Connect > My Connect > Tenants > New Login > Zuora.",
                      "Pick the data center and environment ({tenant_env}), choose OAUTH, enter the client id "
                      "{new_oauth_client_id} and its secret, save.",
                      "The tile shows a token after the account name. Record the login: "
                      "cutover set connect_login_name NAME."),
        stand_in=StandIn("the consultant makes the Connect login", after=_connect_login),
    ),
    Step(
        "F3a", Phase.F, "Point the existing instance at the new OAuth (path edit-instance)", Kind.HUMAN,
        why="Path 1: the existing instance keeps its ids; only its Zuora credentials change.",
        doc_url=src.P_PREP, confirm=True, paths=("edit-instance",),
        instructions=("Connect > NetSuite connector instance {old_instance_id} > Edit.",
                      "Put the OAuth login {connect_login_name} in the Target field and save.",
                      "Open the settings: the Debit/Credit Memos cutover and \"Disable Zuora Credit/Debit Memo "
                      "Sync\" now show, and the IIA cutover is gone."),
        stand_in=StandIn("the consultant edits the instance", act=_edit_instance,
                         after=confirmed("F3a", "instance edited: Target = the new OAuth login")),
    ),
    Step(
        "F3b", Phase.F, "Create a new connector instance (path new-instance)", Kind.HUMAN,
        why="Path 2: a new instance; Support then provisions its Account ID and Environment ID (F4).",
        doc_url=src.NSC_NEW_INSTANCE, confirm=True, paths=("new-instance",), needs=("new_instance_id",),
        instructions=("Click + and choose Zuora Connector For NetSuite; enter the credentials in the pop-up.",
                      "Name auto-filled; Execution External; Build Name \"Production - US\"; Source/Target = the "
                      "OAuth login {connect_login_name}; the NetSuite login can be re-used.",
                      "Launch it, note the Instance ID on the Logs tab: cutover set new_instance_id ID."),
        stand_in=StandIn("the consultant creates the new instance", act=_new_instance,
                         after=confirmed("F3b", "new instance created and launched")),
    ),
    Step(
        "F3c", Phase.F, "Re-use the ids on the new IS tenant (path new-tenant)", Kind.HUMAN,
        why="Path 3: the tenant is replaced; the existing AccountId and EnvironmentId move to it. How they are "
            "entered is not documented, so do it through Support.",
        doc_url=src.P_PARENT, confirm=True, paths=("new-tenant",),
        instructions=("Ask Support (F4 ticket) to move AccountId {old_account_id} to the new tenant.",
                      "Create the new tenant's OAuth (F1) and Connect login (F2); keep the NetSuite login."),
    ),
    Step(
        "F4", Phase.F, "Support ticket for the connector", Kind.TICKET,
        why="Support provisions new ids (path new-instance), updates the Boomi credentials of the NetSuite-to-"
            "Zuora payment sync (it fails until then), sets Payment Sync Behaviour and moves custom field sync.",
        doc_url=src.NSC_IS_NS_PAYMENT_RULES, ticket=_F4_TICKET,
        needs=("new_account_id@new-instance", "new_environment_id@new-instance"),
        instructions=("Send the drafted ticket: cutover ticket F4 --number N.",
                      "[new-instance] Record the ids Support returns: cutover set new_account_id ID, "
                      "cutover set new_environment_id ID."),
        stand_in=StandIn("Support re-provisions the connector", before=_ticket_f4, act=_support_reprovisions),
    ),
    Step(
        "F5", Phase.F, "Configure Sync Preferences", Kind.HUMAN,
        why="The new or edited instance must behave like the old one (A2), plus the IS-only Unassigned Payments "
            "customer.",
        doc_url=src.NSC_SYNC_PREFS, confirm=True,
        instructions=("Copy every Sync Preference captured in A2 (currency, tax, classifications, customer, "
                      "product catalog, transaction number mapping).",
                      "Set Unassigned Payments to the internal id of the NetSuite customer kept for Zuora "
                      "unassigned payments.",
                      "Submit, and confirm with any differences in the note."),
        stand_in=StandIn("the consultant copies the sync preferences",
                         after=confirmed("F5", "sync preferences copied from A2 (simulator defaults)")),
    ),
    Step(
        "F6", Phase.F, "Configure Advanced Settings", Kind.HUMAN,
        why="Cutover dates later than the freeze skip the freeze window's transactions for good; NetSuite "
            "Payment and Refund Sync are off by default on a new instance.",
        doc_url=src.NSC_ADVANCED, confirm=True,
        instructions=("Zuora Invoices / Payments / Payment Refunds cutover: keep {old_cutover_dates.invoice} / "
                      "{old_cutover_dates.payment} / {old_cutover_dates.refund}; never later than {freeze_ts}.",
                      "Zuora Debit/Credit Memos cutover: empty or the IS date {is_enabled_ts}; record it: "
                      "cutover set new_memo_cutover YYYY-MM-DD.",
                      "NetSuite Payments cutover: no later than {freeze_ts} (old: {old_cutover_dates.ns_payment}).",
                      "Turn on NetSuite Payment Sync and Refund Sync if the old instance had them.",
                      "Use Standard Invoice Sync as before; choose \"Avoid zero amount invoice items\"."),
        stand_in=StandIn("the consultant sets the memo cutover", act=_memo_cutover, after=_record_memo_cutover,
                         mistakes=_F6_MISTAKES),
    ),
    Step(
        "F7", Phase.F, "Configure the Scheduler (leave it off)", Kind.HUMAN,
        why="Set the schedule now but leave it off until E1, G1 and G2 are done and H1-H3 pass: an early run "
            "would push the AR Mig memos as duplicates.",
        doc_url=src.NSC_SCHEDULER, confirm=True, gates=("E1",),
        instructions=("Scheduler: Minute 1-30, Hour 1-12 or Day 1-14 (UTC); keep at least 30 minutes between "
                      "runs.",
                      "Save it disabled; H4 turns it on."),
        stand_in=StandIn("the consultant saves the schedule, off",
                         after=confirmed("F7", "schedule set and left off until H4")),
    ),
)
