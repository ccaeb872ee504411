"""Phase I: clean-up (runbook.md I1-I2)."""

from __future__ import annotations

from core.runbook import sources as src
from core.runbook.model import Check, Kind, Phase, Step
from core.runbook.probes import journal_complete
from core.runbook.stand_ins import Rehearsing, StandIn, checked


async def _retire(r: Rehearsing) -> None:
    v = r.variables()
    if v.provisioning_path != "new-instance":
        r.say("I1", f"nothing to retire: instance {v.old_instance_id} was re-pointed and is the live one")
        return
    await r.world.update_instance(v.old_instance_id, status="retired")
    r.register("retire", v.old_instance_id, "the new instance is live (H2/H3 pass)")
    r.say("I1", f"old instance {v.old_instance_id} retired; its logs kept")


async def _confirm_retired(r: Rehearsing) -> None:
    r.confirm("I1", "old instance retired (or re-pointed and live); its logs kept")

STEPS = (
    Step(
        "I1", Phase.I, "Retire the old instance", Kind.HUMAN,
        why="When the new connector is live, stop using the old one; keep its logs until Support confirms.",
        doc_url=src.P_MIG, confirm=True, gates=("H4",),
        instructions=("[new-instance] Check the old instance {old_instance_id}'s scheduler is off and stays off.",
                      "[new-instance] Download and keep its logs; do not delete it until Support confirms.",
                      "[new-instance] Mark it retired in the instances register (cutover instances retire "
                      "{old_instance_id}; in the app, Instances (i), then x), so the licence count is right.",
                      "[new-tenant] Check the old tenant's instance {old_instance_id}'s scheduler is off and stays "
                      "off.",
                      "[new-tenant] Download and keep its logs; do not delete it until Support confirms.",
                      # F3a re-pointed the old instance: it is the live one H4 scheduled, nothing is retired.
                      "[edit-instance] Nothing to retire: instance {old_instance_id} was re-pointed (F3a) and is "
                      "the live one; keep the schedule H4 turned on.",
                      "[edit-instance] Keep its logs from before the cutover until Support confirms, then confirm "
                      "here."),
        stand_in=StandIn("the consultant retires the old instance", act=_retire, after=_confirm_retired),
    ),
    Step(
        "I2", Phase.I, "Final report", Kind.AUTO,
        why="The sign-off record: every query result with its time, the ids changed (E1, G2), the decisions "
            "(A3, E2) and the ticket numbers, all from the journal.",
        doc_url=src.P_PARENT,
        # The guards whose harm can still arrive after their own check (R8.3, R8.4, memos the decision kept out,
        # duplicates, stranded flows):
        # looked at again, so the sign-off is never a verdict the world has moved past.
        check=Check(ok="Every step is done", probe=journal_complete,
                    refreshes=("C6", "C7", "E2", "E3", "H2", "H3")),
        stand_in=StandIn("the tool checks the whole run", after=checked("I2")),
    ),
)
