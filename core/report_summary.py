"""The sign-off report's first page, in the words a client reads: the verdict, the tenant and path, the dates,
the counts that matter (memos marked, payments back-filled, duplicates, payments missing), each phase's status with
its waivers, and who signs.

Every figure comes from the journal: the audit log's writes and the latest check results. Nothing is assumed: a
check that never ran reads "not checked", never 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.loopback import is_loopback_url
from core.report_blocks import Tone
from core.runbook.model import Phase, Status, StepState
from core.runbook.steps.h_go_live import DUPLICATES, MISSING_IN_ZUORA, SENT_TWICE
from core.words import plural

if TYPE_CHECKING:
    from core.profile import Profile
    from core.journal import Journal

# The rehearsal records everything in this name (core.rehearsal.REHEARSAL_OPERATOR; a test holds them equal):
# its report is marked as a rehearsal on every page.
REHEARSAL_EMAIL = "rehearsal@cutover.invalid"
PATH_WORDS = {"new-instance": "Path 2: a new connector instance",
              "edit-instance": "Path 1: the existing connector instance, edited",
              "new-tenant": "Path 3: a new Invoice Settlement tenant"}
MARKED_STEPS = ("E1", "E2")  # memos marked Transferred to Accounting
BACKFILL_STEP = "G2"  # NetSuite payments back-filled for the connector
_LOOPBACK = re.compile(r"https?://(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?[^\s)\"'<>|]*")
_REHEARSAL_NOTE = re.compile(r"(^|: |\")rehearsal: ")


def marking(profile: Profile) -> str | None:
    """What every page says when this is not a client's real run: a rehearsal, or a simulated tenant."""
    if profile.operator is not None and profile.operator.email == REHEARSAL_EMAIL:
        return "Rehearsal"
    try:
        simulated = is_loopback_url(profile.zuora_url())
    except Exception:  # an unresolvable URL is a real profile with a typo, not a simulator
        simulated = False
    return "Simulated tenant" if simulated else None


def field_words(key: str) -> str:
    """A NetSuite field by the name its form shows (zuora_sync_updates -> Zuora Sync Updates), not its script id."""
    return " ".join("ID" if w == "id" else w.capitalize() for w in key.split("_"))


def scrubber(profile: Profile, journal: Journal, *, rehearsal: bool, script_ids: bool = True) -> Any:
    """The function that takes internals out of a text a client reads: the journal's folder, loopback URLs (the
    simulator's), NetSuite's field script ids (named as the form shows them; script_ids=False keeps them, for the
    JSON's queries), and in a rehearsal the 'rehearsal: ' each of its notes starts with (every page says it)."""
    folders = sorted({str(journal.path), str(journal.path.parent)}, key=len, reverse=True)
    ids = profile.netsuite_fields.script_ids() if script_ids else {}
    named = re.compile(r"\b(" + "|".join(map(re.escape, sorted(ids.values(), key=len, reverse=True))) + r")\b") \
        if ids else None
    words = {v: field_words(k) for k, v in ids.items()}

    def scrub(text: str) -> str:
        for folder in folders:
            text = text.replace(folder, "the profile's data folder")
        text = _LOOPBACK.sub("the simulated tenant", text)
        if named is not None:
            text = named.sub(lambda m: words[m[1]], text)
        return _REHEARSAL_NOTE.sub(r"\1", text) if rehearsal else text

    return scrub


@dataclass(frozen=True)
class PhaseLine:
    letter: str
    title: str
    status: Tone
    steps: str  # "5 of 7 done"
    waivers: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Summary:
    headline: Tone
    tenant: str
    profile: str
    path: str
    case2: str
    decisions: str  # E1's and E2's recorded decisions, in words
    dates: dict[str, str]
    counts: dict[str, str]
    phases: list[PhaseLine]
    consultant: str
    marking: str | None
    open_steps: list[str]


def tenant_words(profile: Profile) -> str:
    try:
        url = profile.zuora_url()
    except Exception:
        url = ""
    zuora = "a simulated Zuora tenant" if url and is_loopback_url(url) else f"Zuora {profile.zuora_env or url}"
    return f"{zuora} · NetSuite account {profile.netsuite_account_id}"


def written_counts(journal: Journal) -> dict[str, int]:
    """Records the tool wrote, by step: distinct records with a write in the audit log (a resumed apply's
    found-written record counts once)."""
    rows = journal.query("SELECT step_id, count(DISTINCT record_id) AS n FROM audit WHERE coalesce(outcome, "
                         "'written') IN ('written', 'found-written') GROUP BY step_id")
    return {r["step_id"]: r["n"] for r in rows}


def _found(journal: Journal, step_id: str, label: str) -> str:
    result = journal.latest_result(step_id)
    if result is None or label not in result.details:
        return f"not checked ({step_id} has not run)"
    return f"{result.details[label]:,} (found by {step_id}, {result.checked_at})"


def _when(value: Any) -> str:
    if value is None:
        return "not recorded"
    return value.strftime("%Y-%m-%d %H:%M UTC") if hasattr(value, "hour") else value.isoformat()


def phase_tone(states: list[StepState]) -> Tone:
    if all(st.status.done for st in states):
        waived = sum(st.status is Status.WAIVED for st in states)
        return Tone("Done" + (f" ({waived} waived)" if waived else ""), "good")
    failing = [st.step.id for st in states if st.status in (Status.FAIL, Status.ERROR)]
    if failing:
        return Tone("Failing: " + ", ".join(failing), "bad")
    return Tone("Open", "open")


def summarize(profile: Profile, journal: Journal, states: list[StepState]) -> Summary:
    leaves = [st for st in states if not st.step.children]
    # I2 is the sign-off itself: it is done when everything else is, so it is never one of the open steps.
    open_steps = [st.step.id for st in leaves if not st.status.done and st.step.id != "I2"]
    if open_steps:
        n = len(open_steps)
        listed = ", ".join(open_steps[:8]) + (", …" if n > 8 else "")
        headline = Tone(f"Not ready to sign: {plural(n, 'step')} still open ({listed})", "bad")
    else:
        headline = Tone("Ready to sign: every step passed, was waived on purpose or is not needed", "good")
    v = journal.variables()
    written = written_counts(journal)
    marked = {s: written.get(s, 0) for s in MARKED_STEPS}
    waivers = journal.waivers()
    phases = []
    for phase in Phase:
        in_phase = [st for st in leaves if st.step.phase is phase]
        if not in_phase:
            continue
        # Counted as the app's phase list counts: its step rows (B2 once, not its V rows), those on the chosen path.
        rows = [st for st in states if st.step.phase is phase and st.step.parent is None and st.applicable]
        done = sum(st.status.done for st in rows)
        phases.append(PhaseLine(
            phase.letter, phase.title, phase_tone(in_phase), f"{done} of {len(rows)} done",
            [{"step": w.step_id, "who": w.who, "at": w.at, "reason": w.reason}
             # A waiver a later passing check made moot is history (Appendix B), not a waived step.
             for st in in_phase if st.status is Status.WAIVED and (w := waivers.get(st.step.id)) is not None]))
    c2 = journal.latest_result("C2")
    case2 = ("not checked yet" if c2 is None else
             "not used: every negative invoice reached NetSuite before the migration" if c2.status is Status.PASS
             else f"used: {c2.summary}")
    # E1's decision is asked only for Case 2 memos: when C2 passed there is nothing to decide
    e1 = v.e1_decision or ("none needed (no Case 2 memos)" if c2 is not None and c2.status is Status.PASS
                           else "not recorded")
    return Summary(
        headline=headline, tenant=tenant_words(profile), profile=f"{profile.name} ({profile.environment})",
        path=PATH_WORDS.get(v.provisioning_path or "", "not chosen yet (A3)"), case2=case2,
        decisions=f"E1 {e1}, E2 {v.e2_decision or 'not recorded'}",
        dates={"Freeze (old connector stopped)": _when(v.freeze_ts),
               "Migration (Zuora's IS data migration)": _when(v.migration_date or v.target_migration_date)
               + ("" if v.migration_date or not v.target_migration_date else " (agreed target)"),
               "Go-live (new connector's schedule on)": _when(v.go_live_ts)},
        counts={"Memos marked Transferred to Accounting": f"{sum(marked.values()):,} (E1 {marked['E1']:,}, "
                                                          f"E2 {marked['E2']:,})",
                "NetSuite payments back-filled": f"{written.get(BACKFILL_STEP, 0):,} (G2)",
                "Duplicate credit memos in NetSuite": _found(journal, "H2", DUPLICATES),
                "Zuora records sent to NetSuite twice (NetSuite copies)": _found(journal, "H2", SENT_TWICE),
                "NetSuite payments missing in Zuora": _found(journal, "H3", MISSING_IN_ZUORA)},
        phases=phases, consultant=profile.operator.name if profile.operator else (journal.operator or ""),
        marking=marking(profile), open_steps=open_steps)
