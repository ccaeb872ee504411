"""`cutover undo STEP [--run N]`: take back an apply of E1, E2 or G2, each record to the value the journal kept.

A write like any other: the undo plan is sealed and shown, confirmed (typed on production), then applied with the
same re-check, journal and resume as `cutover apply`. A record changed since the apply is skipped and listed.
Exit codes as `cutover apply`: 0 done, 1 not done (declined, skipped, failed), 2 an error.
"""

from __future__ import annotations

from cli.target import add_target


def register(subparsers) -> None:
    text = "take back an apply (E1, E2, G2): each record it wrote back to its value before; asks first, resumes"
    p = subparsers.add_parser("undo", help=text, description=text)
    add_target(p)
    p.add_argument("step", metavar="STEP", help="the step whose apply to take back: E1, E2 or G2")
    p.add_argument("--run", type=int, metavar="N", dest="run_id",
                   help="undo the apply that apply run N belongs to (default: the step's latest apply; an undo's "
                        "run N: undo that undo, which restores the apply)")
    p.add_argument("--dry-run", action="store_true", help="show the undo plan and write nothing")
    p.add_argument("--yes", action="store_true", help="do not ask (for scripts); production still needs it")
    p.add_argument("--seal", metavar="HEX", help="the seal of the undo plan you reviewed: any other is refused")
    p.add_argument("--override-reason", metavar="TEXT",
                   help="undo E1/E2 even though H1 (the new connector's first run) is recorded: why (recorded in "
                        "the journal and the report)")
    p.add_argument("--json", action="store_true", help="one JSON object: the plan, and the outcome if applied")
    p.set_defaults(func=_run, needs_clients=True)


def _run(args) -> int:
    import asyncio

    return asyncio.run(_undo(args))


async def _undo(args) -> int:
    from cli.runbook import EXIT_ATTENTION, EXIT_OK, _agreed, _plan_lines, _Progress, _runbook, _say
    from core.runbook.actions import fix_for
    from core.runbook.failures import failure_lines
    from core.runbook.undo import apply_undo, plan_undo
    from core.words import plural

    step = fix_for(args.step).step_id  # an unknown step, or one with nothing to write, fails before connecting
    async with _runbook(args) as runbook:
        journal = runbook.journal
        plan = await plan_undo(runbook, step, run_id=args.run_id, override_reason=args.override_reason)
        undone = journal.plan(plan.undoes)
        head = (f"Undo of plan {undone.plan_id} ({'an undo' if undone.undoes else 'the apply'} of {step} by "
                f"{undone.created_by or 'unknown'}, {undone.created_at}): each record back to its value before")
        shown = [head, *_plan_lines(runbook, plan)]
        if plan.override_reason:
            shown.append(f"Override (H1 is recorded): {plan.override_reason}")
        if args.dry_run:
            _show(args, shown, plan)
            return EXIT_OK
        if not args.json:
            _say(*shown)
        if not plan.remaining:
            _say("Nothing to write.") if not args.json else None
        elif not _agreed(args, runbook.profile, plan):
            _say("Not undone.")
            return EXIT_ATTENTION
        outcome = await apply_undo(runbook, step, plan_id=plan.plan_id, seal=args.seal or plan.seal,
                                   on_progress=None if args.json else _Progress())
        skipped = [(i["number"] or i["record_id"], i["error"]) for i in
                   journal.iter_plan_items(plan.plan_id, ("skipped",), limit=50)]
        failed = failure_lines(journal, plan.plan_id) if outcome.plan.counts.get("failed") else []
    if args.json:
        _show(args, shown, outcome.plan, outcome=outcome, skipped=skipped, failed=failed)
    else:
        more = outcome.plan.counts.get("skipped", 0) - len(skipped)
        _say(f"{outcome.written:,} written back, {outcome.already_set:,} found written by an earlier run, "
             f"{outcome.failed:,} failed, {outcome.skipped:,} skipped (changed since the apply), in "
             + plural(outcome.write_calls, "write call"), *(f"  skipped {n}: {why}" for n, why in skipped),
             *([f"  … and {more:,} more (the sign-off report lists them all: cutover report)"] if more > 0 else []),
             *(f"  {line}" for line in failed),
             f"Re-check {outcome.recheck.step_id}: {outcome.recheck.status}: {outcome.recheck.summary}")
    clean = outcome.plan.status == "done" and not outcome.plan.counts.get("skipped")
    return EXIT_OK if clean else EXIT_ATTENTION


def _show(args, lines: list[str], plan, *, outcome=None, skipped=(), failed=()) -> None:
    from cli.runbook import _say

    if not args.json:
        _say(*lines)
        return
    import json

    body = {"plan": {k: getattr(plan, k) for k in ("plan_id", "step_id", "undoes", "system", "object", "field",
                                                   "new_value", "total", "calls", "status", "seal",
                                                   "override_reason", "counts")}}
    if outcome is not None:
        body["outcome"] = {"written": outcome.written, "found_written": outcome.already_set,
                           "failed": outcome.failed, "skipped": outcome.skipped, "write_calls": outcome.write_calls,
                           "skipped_records": [{"record": n, "why": why} for n, why in skipped],
                           "failures": list(failed),
                           "recheck": {"step": outcome.recheck.step_id, "status": str(outcome.recheck.status),
                                       "summary": outcome.recheck.summary}}
    print(json.dumps(body, indent=1, default=str))
