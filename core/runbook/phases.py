"""The whole runbook, in order, and the lookups every caller uses: by id, by alias, by phase."""

from __future__ import annotations

from collections.abc import Iterable

from core.errors import ConfigError
from core.runbook.model import Phase, Step
from core.runbook.steps import (
    a_discovery,
    b_readiness,
    c_freeze,
    d_migration,
    e_data_fixes,
    f_connector,
    g_payments,
    h_go_live,
    i_clean_up,
)

RUNBOOK: tuple[Step, ...] = (
    *a_discovery.STEPS, *b_readiness.STEPS, *c_freeze.STEPS, *d_migration.STEPS, *e_data_fixes.STEPS,
    *f_connector.STEPS, *g_payments.STEPS, *h_go_live.STEPS, *i_clean_up.STEPS,
)
_BY_ID: dict[str, Step] = {}
for _step in RUNBOOK:
    for _key in (_step.id, *_step.aliases):
        _BY_ID[_key.upper()] = _step


def find_step(step_id: str) -> Step:
    """"E1", "e1", "B2/V1" or its alias "V1". ConfigError naming the phase's steps when unknown."""
    step = _BY_ID.get(step_id.strip().upper())
    if step is None:
        letter = step_id.strip()[:1].upper()
        known = [s.id for s in RUNBOOK if s.phase.letter == letter] or [p.letter for p in Phase]
        raise ConfigError(f"no runbook step {step_id!r}", hint=f"known here: {', '.join(known)}")
    return step


def phase_steps(phase: Phase) -> list[Step]:
    return [s for s in RUNBOOK if s.phase is phase]


def select_steps(selectors: Iterable[str]) -> list[Step]:
    """Phases ("C") and steps ("E1", "V3") in runbook order, each once; none given = the whole runbook.
    A parent (B2) brings its rows."""
    wanted: set[str] = set()
    for text in selectors:
        key = text.strip().upper()
        if key in Phase.__members__:
            wanted.update(s.id for s in phase_steps(Phase[key]))
            continue
        step = find_step(key)
        wanted.update((step.id, *step.children))
    return [s for s in RUNBOOK if not wanted or s.id in wanted]
