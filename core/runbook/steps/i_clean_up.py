"""Phase I: clean-up (runbook.md I1-I2)."""

from __future__ import annotations

from core.runbook import sources as src
from core.runbook.model import Check, Kind, Phase, Step

STEPS = (
    Step(
        "I1", Phase.I, "Retire the old instance", Kind.HUMAN,
        why="When the new connector is live, stop using the old one; keep its logs until Support confirms.",
        doc_url=src.P_MIG, confirm=True, gates=("H4",),
        instructions=("Check the old instance {old_instance_id}'s scheduler is off and stays off.",
                      "Download and keep its logs; do not delete it until Support confirms."),
    ),
    Step(
        "I2", Phase.I, "Final report", Kind.AUTO,
        why="The sign-off record: every query result with its time, the ids changed (E1, G2), the decisions "
            "(A3, E2) and the ticket numbers, all from the journal.",
        doc_url=src.P_PARENT,
        check=Check(ok="Every step passes", probe="journal_complete"),
    ),
)
