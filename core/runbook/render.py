"""Plain-text views of steps, checks and plans, shared by the TUI's panes and the CLI. No I/O, no textual.

Nothing here hides what the tool is about to run or write: the check pane shows the exact SQL, and a plan shows
records with their current and new values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core.errors import CutoverError
from core.runbook.checks import active_parts
from core.runbook.model import Part, PlanSummary, QueryContext, Step, StepState, resolve
from core.runbook.tickets import instructions
from core.words import plural

SYSTEM_NAMES = {"zuora": "Zuora", "netsuite": "NetSuite", "journal": "journal"}


def part_sql(part: Part, ctx: QueryContext) -> str:
    """The count query of one part as it will run (or why it cannot run yet)."""
    try:
        where = resolve(part.where, ctx)
    except CutoverError as exc:
        return f"-- cannot build yet: {exc}"
    engine = "Data Query" if part.system == "zuora" else "SuiteQL"
    return f"{engine}: SELECT count(*) FROM {part.source} WHERE {where}"


def check_text(state: StepState, ctx: QueryContext) -> str:
    step = state.step
    if step.children:
        found = state.result.summary if state.result else "no row checked yet"
        return (f"Check  none of its own: each row ({step.children[0]} … {step.children[-1]}) has its check or "
                f"confirmation; this step is done when every row is.\nFound   {found}")
    if step.check is None:
        kind = "a person's confirmation" if step.kind in ("HUMAN",) or step.confirm else "a recorded ticket number"
        return f"Check  none by API: this step passes on {kind}."
    if step.check.probe:
        # the docstring's first paragraph, whole: its first line alone stops mid-sentence
        what = " ".join((step.check.probe.__doc__ or step.check.probe.__name__).strip().split("\n\n")[0].split())
        head = f"Check  API probe: {what.split(': ', 1)[-1]}"
    else:
        parts = active_parts(step.check, ctx.invoice_settlement)
        built = [(p.label, part_sql(p, ctx)) for p in parts]
        lines = [f"{label}:\n  {sql}" for label, sql in built if not sql.startswith("-- cannot build")]
        # Parts that wait for the same missing variable say so once, not once per query (C7 has five).
        for reason in dict.fromkeys(sql for _, sql in built if sql.startswith("-- cannot build")):
            labels = [label for label, sql in built if sql == reason]
            lines.append(f"{', '.join(labels)}:\n  {reason}")
        head = "Check  " + "\n       ".join(lines) if lines else "Check  (no part applies with IS in this state)"
    r = state.result
    if r is None:
        return head + "\nResult  not run yet (r to run it)"
    found = "–" if r.count is None else f"{r.count:,}"
    said = str(r.status).replace("-", " ")  # "needs action", as the legend says it
    tail = f"\nResult  {r.status.glyph} {said} · {found} · {r.summary} · checked {r.checked_at}"
    if r.status.done and not state.status.done and state.step.confirm and state.confirmation is None:
        # the check passed, the step waits for a person's word: the header's "!" says the same
        tail += f"\n        the step is done once confirmed (cutover confirm {step.id} --note ...)"
    if r.details:
        tail += "\n        " + " · ".join(f"{k}: {v:,}" for k, v in r.details.items())
    if r.error:
        tail += f"\nError   {r.error}"
    return head + tail


def instructions_text(step: Step, ctx: QueryContext) -> str:
    lines = instructions(step, ctx.variables, ctx.profile_name)
    return "What to do\n" + "\n".join(f"  {i}. {line}" for i, line in enumerate(lines, 1)) if lines else ""


def detail_text(state: StepState, ctx: QueryContext, width: int = 100) -> str:
    """The main screen's pane under the table: the step's findings at a glance, as many columns as fit."""
    step = state.step
    lines = [f"{step.kinds} · {state.summary}"]
    if state.missing:
        lines.append(f"Needs: {', '.join(state.missing)} (cutover set VAR VALUE)")
    if state.blocked_by:
        lines.append(f"Waits for: {', '.join(state.blocked_by)}")
    r = state.result
    if r is not None and r.sample:
        rows = r.sample[:5]
        one_part = len({row.get("part") for row in r.sample}) == 1
        cols = [c for c in r.sample[0] if not (one_part and c == "part")]
        cols = [c for c in cols if c != "id"] + (["id"] if "id" in cols else [])  # numbers first: people know them
        cell = {c: ["" if row.get(c) is None else str(row.get(c)) for row in rows] for c in cols}
        widths = {c: min(24, max(len(c), *(len(v) for v in cell[c]))) for c in cols}
        shown: list[str] = []
        for c in cols:
            if shown and sum(widths[k] + 2 for k in shown) + widths[c] > width:
                break
            shown.append(c)
        lines.append("  ".join(_fit(c, widths[c]) for c in shown).rstrip())
        for i in range(len(rows)):
            lines.append("  ".join(_fit(cell[c][i], widths[c]) for c in shown).rstrip())
        if (r.count or 0) > 5:
            lines.append(f"… {r.count - 5:,} more (Enter opens the step)")
    elif not step.check:
        lines.append(step.why)
    return "\n".join(lines)


def _fit(text: str, width: int) -> str:
    return f"{text:<{width}}" if len(text) <= width else text[: width - 1] + "…"


def plan_text(plan: PlanSummary, items: Iterable[Mapping[str, Any]]) -> str:
    system = SYSTEM_NAMES.get(plan.system, plan.system)
    head = (f"Plan #{plan.plan_id} · seal {plan.short_seal} · {plan.total:,} {plan.object} records · {system} field "
            f"{plan.field} → "
            f"{plan.new_value}\n       {plural(plan.calls, 'write call')} · est. {plan.estimate_s:,.0f} s at the "
            f"tenant's limit of {plan.limit} · status {plan.status}")
    if plan.counts:
        head += " · " + ", ".join(f"{k} {v:,}" for k, v in sorted(plan.counts.items()))
    shown = [f"       {i.get('number') or i.get('record_id')}  {i.get('current') or 'empty'} → {i.get('new')}"
             f"  [{i.get('status')}]" for i in items]
    more = plan.total - len(shown)
    return "\n".join([head, *shown] + ([f"       … and {more:,} more (export the plan to see all)"]
                                       if more > 0 else []))


def confirm_text(plan: PlanSummary, profile_label: str) -> str:
    system = SYSTEM_NAMES.get(plan.system, plan.system)
    remaining = plan.remaining if plan.status != "planned" else plan.total
    return (f"Plan #{plan.plan_id} · seal {plan.short_seal} · {plan.total:,} {plan.object} records\n"
            f"Write {remaining:,} {plan.object} records in {system} ({profile_label}):\n"
            f"set {plan.field} = {plan.new_value}.\n\n"
            f"{plural(plan.calls, 'write call')}, about {plan.estimate_s:,.0f} s. Each record is re-read just before it is "
            "written: one the step no longer selects, or changed since the plan, is skipped and reported. Each outcome "
            "is journaled as it happens; Esc cancels safely and Apply again resumes without repeating a confirmed "
            "write.")
