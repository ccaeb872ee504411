"""`cutover rehearse`: the whole runbook against a fresh simulated tenant over loopback, nobody at the keyboard.

Each step's stand-in acts where a person or Zuora Support would; every check queries both systems for real.
Exit 0 when every step is pass, waived or not-needed; 1 when one is not (e.g. `--skip E1` leaves duplicates that
H2 counts in NetSuite); 2 on an error (one line on stderr).
"""

from __future__ import annotations

from cli.sim import FAULTS_HELP, fault_spec

EXIT_OK, EXIT_ATTENTION, EXIT_ERROR = 0, 1, 2
_MARKS = {"act": "·", "confirm": "✓ confirmed", "ticket": "✓ ticket", "open": "! open", "skip": "– skipped",
          "blocked": "■ blocked", "stop": "■ stopped", "mistake": "✗ mistake"}
# The stand-ins' mistakes (core.runbook: each step names how it is commonly done wrong); listed for --help only.
MISTAKES = ("late-cutovers", "late-memo-cutover", "old-connector-restarted", "integration-status-cleared")


def _played_on(args, outcome) -> str:
    """What the rehearsal played on: a twin's folder, or the seeded tenant (a twin has no seed or scale)."""
    twin = getattr(args, "twin", None)
    return f"twin {twin}" if twin else f"seed {outcome.seed}, scale {outcome.scale}"


def register(subparsers) -> None:
    p = subparsers.add_parser("rehearse", help="run the whole runbook unattended against a fresh simulated tenant",
                              description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=1, help="seed of the simulated tenant (same seed, same data)")
    p.add_argument("--scale", default="small", help="tiny|small|medium|large or a number of invoices")
    p.add_argument("--skip", nargs="+", action="extend", default=[], metavar="STEP",
                   help="leave out what the rehearsal does for these steps (the person still ticks the box), e.g. "
                        "--skip E1: the first connector run then pushes duplicates, and H2 counts them")
    p.add_argument("--mistake", nargs="+", action="extend", default=[], metavar="NAME",
                   help="make these mistakes on purpose, as people do (runbook R8); the tool's checks must then "
                        "catch them: " + ", ".join(MISTAKES))
    p.add_argument("--path", choices=("new-instance", "edit-instance"), default="new-instance",
                   help="A3 provisioning path to rehearse")
    p.add_argument("--e2", choices=("mark-yes", "ignore", "sync"), default="mark-yes", help="the E2 decision")
    p.add_argument("--e1", choices=("sync", "mark-yes"), default="sync",
                   help="the E1 decision on Case 2 memos (negative invoice never in NetSuite), if any")
    p.add_argument("-o", "--output", "--report", dest="report", action="append", default=[], metavar="FILE",
                   help="also write the run's sign-off report (.md, .html or .json; repeat for several)")
    p.add_argument("--json", action="store_true", help="one JSON object at the end instead of a line per step")
    p.add_argument("--faults", type=fault_spec, default=None, metavar="SPEC",
                   help="faults the simulator injects, the same SPEC as `cutover sim serve --faults` (the dice "
                        "follow --seed unless SPEC sets seed=N): " + FAULTS_HELP)
    p.add_argument("--twin", metavar="DIR", default=None,
                   help="rehearse on a twin of your own tenant (`cutover twin capture`) instead of a seeded one")
    p.set_defaults(func=_rehearse)


def _line(event) -> str:
    mark = event.status if event.what == "check" else _MARKS.get(event.what, event.what)
    return f"{event.step_id:<6} {mark:<13} {event.text}"


def _rehearse(args) -> int:
    import asyncio
    import json

    from core.rehearsal import Rehearsal, report_writer

    on_event = None if args.json else (lambda e: print(_line(e), flush=True))
    rehearsal = Rehearsal(seed=args.seed, scale=args.scale, skip=args.skip, mistakes=args.mistake,
                          provisioning_path=args.path,
                          e2_decision=args.e2, e1_decision=args.e1, on_event=on_event,
                          before_close=report_writer(args.report) if args.report else None,
                          faults=args.faults, timeout=getattr(args, "timeout", None), twin=args.twin)
    # An error ends in `cutover`'s one line (exit 2; a bug's details in the log file), a closed stdout quietly.
    outcome = asyncio.run(rehearsal.run())
    if args.json:
        print(json.dumps(outcome.to_dict(), ensure_ascii=False, default=str, indent=1))
    else:
        dup = outcome.duplicates_in_netsuite
        open_steps = outcome.open_steps
        if outcome.passed:
            verdict = "passed: every step done" + (f" ({len(outcome.waived)} waived)" if outcome.waived else "")
        else:
            verdict = (f"FAILED: {len(open_steps)} steps not done ("
                       + ", ".join(f"{s.step.id} {s.status}" for s in open_steps[:6])
                       + (", …" if len(open_steps) > 6 else "") + ")")
        print(f"rehearsal {verdict}; {'?' if dup is None else dup} duplicate credit memos in NetSuite; "
              f"{outcome.elapsed_s:.1f} s ({_played_on(args, outcome)})")
        if outcome.faults_injected:
            print("faults injected: "
                  + ", ".join(f"{kind} ×{n:,}" for kind, n in outcome.faults_injected.items()))
        if outcome.stopped:
            print(f"stopped at {outcome.stopped}")
        for path in args.report:
            print(f"sign-off report written to {path}")
    return EXIT_OK if outcome.passed else EXIT_ATTENTION
