"""`cutover check|plan|apply|confirm|ticket|set|vars`: the runbook without the TUI (core only).

Every command works on a saved profile (`--profile P`, secrets from the keyring or CUTOVER_* variables) or on a
fresh simulated tenant (`--demo`). Exit codes: 0 everything passes / done, 1 something fails or needs action,
2 an error (one clear line on stderr, never a traceback).
"""

from __future__ import annotations

import sys
import time
from contextlib import ExitStack, asynccontextmanager
from dataclasses import asdict
from pathlib import Path

from cli.target import add_target, resolve_target
from core.errors import ConfigError

EXIT_OK, EXIT_ATTENTION, EXIT_ERROR = 0, 1, 2


def register(subparsers) -> None:
    def command(name: str, help: str, func, *, clients: bool = True):
        p = subparsers.add_parser(name, help=help, description=help)
        add_target(p)
        p.set_defaults(func=lambda args: _run(func, args), needs_clients=clients)
        return p

    p = command("check", "run the checks of runbook phases or steps and show each step's state", _check)
    p.add_argument("steps", nargs="*", metavar="PHASE|STEP", help="e.g. C, E1, V3 (default: the whole runbook)")
    p.add_argument("--json", action="store_true", help="one JSON array of step objects")
    p.add_argument("--oauth-secret", action="store_true", help="F1: type the new OAuth client's secret (no echo)")
    p = command("plan", "plan a fix (E1, E2, G2): the exact records, their current and new values", _plan)
    p.add_argument("step", metavar="STEP", help="the step whose fix to plan: E1, E2 or G2")
    p.add_argument("-o", "--output", "--export", dest="export", metavar="FILE",
                   help="also write the plan's records to FILE (.csv or .json; its folder is made if need be)")
    _json_flag(p, "the plan, its seal and its first records")
    p = command("apply", "apply a fix's plan: asks first, records every outcome, resumes after a crash", _apply)
    p.add_argument("step", metavar="STEP", help="the step whose plan to apply: E1, E2 or G2")
    p.add_argument("--yes", action="store_true", help="do not ask (for scripts); production still needs it")
    p.add_argument("--plan", type=int, metavar="N", dest="plan_id",
                   help="apply exactly plan N (refused if it is another step's or changed since it was made)")
    p.add_argument("--seal", metavar="HEX", help="the seal of the plan you reviewed (its first digits will do): "
                                                 "any other plan is refused")
    _json_flag(p, "the plan and the outcome (a question, if any, goes to stderr)")
    p = command("waive", "accept what a step's check found, on purpose, with a reason (or --withdraw it)", _waive,
                clients=False)
    p.add_argument("step", metavar="STEP", help="the checked step to accept as it is, e.g. C3 or V7")
    p.add_argument("--reason", help="why this is accepted (goes in the sign-off report)")
    p.add_argument("--withdraw", action="store_true", help="withdraw the step's standing waiver")
    _json_flag(p, "the waiver and the step's state")
    p = command("confirm", "record that a person did a HUMAN step (or --withdraw that)", _confirm, clients=False)
    p.add_argument("step", metavar="STEP", help="the HUMAN (or mixed) step a person did, e.g. A2 or F5")
    note = p.add_mutually_exclusive_group(required=True)
    note.add_argument("--note", help="what was done (kept in the journal)")
    note.add_argument("--withdraw", action="store_true", help="take back the step's confirmation")
    p.add_argument("--replace", action="store_true", help="replace a confirmation recorded before (asked on a "
                                                          "terminal)")
    _json_flag(p, "the confirmation and the step's state")
    p = command("ticket", "draft a TICKET step's Support ticket, or record its number", _ticket, clients=False)
    p.add_argument("step", metavar="STEP", help="the TICKET step: B1, D1, D2, E2 or F4")
    p.add_argument("--number", help="the ticket number Support gave")
    p.add_argument("--replace", action="store_true", help="replace a number recorded before (asked on a terminal)")
    p.add_argument("-o", "--output", "--save", dest="save", metavar="FILE",
                   help="also write the draft to FILE (its folder is made if need be)")
    _json_flag(p, "the draft's text, or the number recorded")
    p = command("set", "record a run variable (an empty VALUE clears it)", _set, clients=False)
    p.add_argument("name", metavar="VAR", help="the variable's name, as `cutover vars` lists it")
    p.add_argument("value", metavar="VALUE", help="its value: a date is YYYY-MM-DD, a time YYYY-MM-DDTHH:MMZ")
    _json_flag(p, "the variable's name and stored value")
    p = command("vars", "show the run variables", _vars, clients=False)
    p.add_argument("--json", action="store_true")


def _json_flag(parser, what: str) -> None:
    parser.add_argument("--json", action="store_true", help=f"one JSON object on stdout: {what}")


def _emit(obj) -> None:
    import json

    print(json.dumps(obj, ensure_ascii=False, default=str, indent=1), flush=True)


def _run(func, args) -> int:
    import asyncio

    return asyncio.run(func(args))


# ---- the runbook for a profile --------------------------------------------------------------------------------
@asynccontextmanager
async def _runbook(args, *, secrets=None):
    """The profile's Run (journal, register, runbook; clients for the commands that talk to the systems)."""
    from core.run import Run

    with ExitStack() as stack:
        profile, credentials = resolve_target(args, stack, credentials=args.needs_clients)
        async with Run(ask_operator_once(profile), credentials, secrets=secrets, timeout=args.timeout) as run:
            yield run.runbook


def ask_operator_once(profile):
    """A profile with nobody named to record under: on a terminal, ask once and save it in the profile; elsewhere
    leave it, and the first record says how to name one."""
    if profile.operator_label is not None or not sys.stdin.isatty():
        return profile
    from pydantic import ValidationError

    from core.config import save_profile, validate_profile
    from core.profile import Operator, validation_message

    print(f"Who is working on {profile.name}? Asked once; recorded with every confirmation, waiver, ticket and "
          f"write.", file=sys.stderr)
    while True:
        name, email = input("Your name: ").strip(), input("Your email: ").strip()
        try:
            operator = Operator(name=name, email=email)
        except ValidationError as exc:
            print(f"  {validation_message(exc)}", file=sys.stderr)
            continue
        break
    if profile.name == "demo":  # the demo's profile lives in memory only
        return profile.model_copy(update={"operator": operator})
    updated = validate_profile(profile.name, {**profile.model_dump(exclude={"name"}, exclude_none=True),
                                              "operator": operator.model_dump()})
    save_profile(updated)
    return updated


def _say(*lines: str) -> None:
    print("\n".join(lines), flush=True)


# ---- check ----------------------------------------------------------------------------------------------------
async def _check(args) -> int:
    from core.runbook.model import Status
    from core.runbook.phases import select_steps

    select_steps(args.steps)  # unknown ids fail before anything connects
    secrets = {}
    if args.oauth_secret:
        import getpass

        from pydantic import SecretStr

        secrets["new_oauth_client_secret"] = SecretStr(getpass.getpass("New OAuth client secret: "))
    async with _runbook(args, secrets=secrets) as runbook:
        states = await runbook.check(args.steps)
    if args.json:
        import json

        print(json.dumps([s.to_dict() for s in states], ensure_ascii=False, default=str, indent=1))
    else:
        _say(*_table(states))
    statuses = {s.status for s in states}
    if Status.ERROR in statuses:
        return EXIT_ERROR
    return EXIT_OK if statuses <= {Status.PASS} else EXIT_ATTENTION


def _table(states) -> list[str]:
    lines = [f"{'St':<3}{'Id':<7}{'Kind':<15}{'Count':>7}  {'Checked':<21}Summary"]
    for s in states:
        count = "–" if s.result is None or s.result.count is None else f"{s.result.count:,}"
        checked = s.result.checked_at if s.result else "–"
        lines.append(f"{s.status.glyph:<3}{s.step.id:<7}{s.step.kinds:<15}{count:>7}  {checked:<21}{s.summary}")
    return lines


# ---- plan and apply ---------------------------------------------------------------------------------------------
def _plan_lines(runbook, plan) -> list[str]:
    from core.words import plural

    head = (f"Plan {plan.plan_id} for {plan.step_id} (seal {plan.short_seal}): {plan.total:,} {plan.system} "
            f"{plan.object} records, "
            f"{plan.field} -> {plan.new_value}; {plural(plan.calls, 'write call')}, est. {plan.estimate_s:,.0f} s at the "
            f"tenant's limit of {plan.limit}")
    if plan.remaining != plan.total:
        head += f" ({plan.remaining:,} still to do, {plan.counts.get('done', 0):,} done)"
    rows = [f"  {i['number'] or i['record_id']}  {i['current'] or '(empty)'} -> {i['new']}"
            for i in runbook.journal.iter_plan_items(plan.plan_id, limit=10)]
    return [head, *rows, *(["  …"] if plan.total > len(rows) else [])]


def _output_file(path: str, suffixes: tuple[str, ...] = ()) -> Path:
    """The file a command will write, checked before anything is asked of the systems or the journal: a suffix it
    can write, and its folder made (as `report -o` does). A folder that cannot be made is said by `cutover`."""
    out = Path(path)
    if suffixes and out.suffix.lower() not in suffixes:
        raise ConfigError(f"cannot write {out.name}: the file name must end in {' or '.join(suffixes)}",
                          hint=f"e.g. -o {out.with_suffix(suffixes[0])}")
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


async def _plan(args) -> int:
    from core.runbook.actions import export_plan, make_plan

    if args.export:
        _output_file(args.export, (".csv", ".json"))
    async with _runbook(args) as runbook:
        plan = await make_plan(runbook, args.step)
        exported = export_plan(runbook.journal, plan.plan_id, args.export) if args.export else None
        if args.json:
            _emit({"plan": _plan_dict(plan), "records": list(runbook.journal.iter_plan_items(plan.plan_id, limit=10)),
                   **({"exported": {"path": args.export, "records": exported}} if args.export else {})})
            return EXIT_OK
        _say(*_plan_lines(runbook, plan))
        if args.export:
            _say(f"exported {exported:,} records to {args.export}")
    return EXIT_OK


def _plan_dict(plan) -> dict:
    from dataclasses import asdict

    return {**asdict(plan), "remaining": plan.remaining, "short_seal": plan.short_seal}


async def _apply(args) -> int:
    import asyncio
    import signal
    import threading

    from core.runbook.actions import apply, check_plan, fix_for, prepare
    from core.runbook.failures import failure_lines
    from core.words import plural

    async with _runbook(args) as runbook:
        profile = runbook.profile
        if profile.read_only:
            raise ConfigError(f"profile {profile.name} is read-only: apply is refused (plans still work)",
                              hint="use a profile with write access")
        plan = runbook.journal.plan(args.plan_id) if args.plan_id else await prepare(runbook, args.step)
        check_plan(runbook.journal, plan, fix_for(args.step).step_id, args.seal)  # refused before it is offered
        if not args.json:
            _say(*_plan_lines(runbook, plan))
            if not plan.remaining:
                _say("Nothing to write.")
        if plan.remaining and not _agreed(args, profile, plan):
            if args.json:
                _emit({"plan": _plan_dict(plan), "applied": False})
            else:
                _say("Not applied.")
            return EXIT_ATTENTION
        cancel = threading.Event()
        loop = asyncio.get_running_loop()

        def stop_softly() -> None:  # first Ctrl+C: finish what is in flight, then stop; a second one interrupts
            cancel.set()
            loop.remove_signal_handler(signal.SIGINT)
            print("\nstopping after the calls in flight (Ctrl+C again to interrupt)", file=sys.stderr)

        loop.add_signal_handler(signal.SIGINT, stop_softly)
        try:
            outcome = await apply(runbook, args.step, plan_id=plan.plan_id, seal=args.seal or plan.seal,
                                  on_progress=_Progress(), cancel=cancel)
        finally:
            loop.remove_signal_handler(signal.SIGINT)
        skipped = [f"  skipped {i['number'] or i['record_id']}: {i['error']}" for i in
                   runbook.journal.iter_plan_items(outcome.plan.plan_id, ("skipped",), limit=10)]
        failed = [f"  {line}" for line in failure_lines(runbook.journal, outcome.plan.plan_id)] \
            if outcome.failed else []  # what stayed failed after the apply's own retries: why, and what to do
    done = outcome.plan.status == "done" and outcome.recheck.status == "pass"
    if args.json:
        _emit({"plan": _plan_dict(outcome.plan), "applied": True, "written": outcome.written,
               "already_set": outcome.already_set, "failed": outcome.failed, "skipped": outcome.skipped,
               "write_calls": outcome.write_calls, "cancelled": outcome.cancelled, "done": done,
               "skipped_records": [line.strip() for line in skipped], "failures": [line.strip() for line in failed],
               "recheck": outcome.recheck.to_dict()})
        return EXIT_OK if done else EXIT_ATTENTION
    more = outcome.plan.counts.get("skipped", 0) - len(skipped)
    if more > 0:
        skipped.append(f"  … and {more:,} more (the sign-off report lists them all: cutover report)")
    _say(f"{outcome.written:,} written, {outcome.already_set:,} found written by an earlier run, "
         f"{outcome.failed:,} failed, {outcome.skipped:,} skipped (no longer selected or changed since the plan), "
         f"in {plural(outcome.write_calls, 'write call')}"
         + (" (cancelled: run the same command to finish)" if outcome.cancelled else ""),
         *skipped, *failed,
         f"Re-check {outcome.recheck.step_id}: {outcome.recheck.status}: {outcome.recheck.summary}")
    return EXIT_OK if done else EXIT_ATTENTION


def _agreed(args, profile, plan) -> bool:
    """--yes, or a y on a terminal; a production profile asks for its name typed out."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise ConfigError("not on a terminal, so nobody can confirm the plan", hint="pass --yes to apply as shown")
    what = (f"{plan.remaining:,} {plan.object} records in {plan.system} ({plan.field} -> {plan.new_value}; plan "
            f"{plan.plan_id}, seal {plan.short_seal})")
    ask = _ask_on_stderr if args.json else input  # with --json, stdout carries the one JSON object only
    if profile.is_production:
        return ask(f"Production! Type the profile name ({profile.name}) to write {what}: ").strip() == profile.name
    return ask(f"Write {what}? [y/N] ").strip().lower() in ("y", "yes")


def _ask_on_stderr(prompt: str) -> str:
    print(prompt, end="", file=sys.stderr, flush=True)
    return input()


class _Progress:
    """A status line on stderr (done/total, rate, ETA, failures): redrawn a few times a second on a terminal,
    one line a second otherwise."""

    def __init__(self):
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, p) -> None:
        now = time.monotonic()
        final = p.eta_s == 0
        if not final and now - self.last < (0.2 if self.tty else 1.0):
            return
        self.last = now
        eta = "–" if p.eta_s is None else f"{p.eta_s:,.0f} s"
        print(f"{p.done:,}/{p.total:,}  {p.rate_per_s:,.1f}/s  ETA {eta}  failed {p.failed:,}"
              + (f"  skipped {p.skipped:,}" if p.skipped else ""),
              end="\r" if self.tty and not final else "\n", file=sys.stderr, flush=True)


# ---- the person's part ------------------------------------------------------------------------------------------
async def _confirm(args) -> int:
    async with _runbook(args) as runbook:
        if args.withdraw:
            gone = runbook.withdraw_confirmation(args.step)
            if args.json:
                _emit({"withdrawn": asdict(gone), "state": _state(runbook, gone.step_id)})
                return EXIT_OK
            _say(f"{gone.step_id}: confirmation by {gone.who} of {gone.at} withdrawn",
                 f"Now: {runbook.state(gone.step_id).status}: {runbook.state(gone.step_id).summary}")
            return EXIT_OK
        done = _on_purpose(lambda replace: runbook.confirm(args.step, args.note, replace=replace), args.replace,
                           "replace it with this note?")
        if args.json:
            _emit({"confirmed": asdict(done), "state": _state(runbook, done.step_id)})
            return EXIT_OK
        _say(f"{done.step_id} confirmed by {done.who} at {done.at}", f"Now: {runbook.state(done.step_id).summary}")
    return EXIT_OK


def _on_purpose(record, replace: bool, question: str):
    """`record(replace)`; when a person's record stands already, a terminal is asked before it is replaced (a script
    gets the one-line refusal, which names --replace)."""
    from core.runbook.engine import RecordStands

    try:
        return record(replace)
    except RecordStands as exc:
        if not sys.stdin.isatty() or input(f"{exc.message}: {question} [y/N] ").strip().lower() not in ("y", "yes"):
            raise
        return record(True)


def _state(runbook, step_id: str) -> dict:
    state = runbook.state(step_id)
    return {"id": step_id, "status": str(state.status), "summary": state.summary}


async def _waive(args) -> int:
    async with _runbook(args) as runbook:
        if args.withdraw:
            gone = runbook.withdraw_waiver(args.step, args.reason or "")
            if args.json:
                _emit({"withdrawn": asdict(gone), "state": _state(runbook, gone.step_id)})
                return EXIT_OK
            _say(f"{gone.step_id}: waiver by {gone.who} withdrawn", f"Now: {runbook.state(gone.step_id).status}: "
                 f"{runbook.state(gone.step_id).summary}")
            return EXIT_OK
        if not args.reason:
            raise ConfigError("say why the step is accepted", hint=f'cutover waive {args.step} --reason "…"')
        from core.runbook.engine import waiver_caution

        caution = waiver_caution(args.step)
        if caution:  # said before the waiver is recorded; asked on a terminal, as replacing a ticket is
            print(f"cutover: {caution}", file=sys.stderr, flush=True)
            if sys.stdin.isatty() and input("Waive anyway? [y/N] ").strip().lower() not in ("y", "yes"):
                _say(f"{args.step}: not waived")
                return EXIT_ATTENTION
        waiver = runbook.waive(args.step, args.reason)
        if args.json:
            _emit({"waived": asdict(waiver), "caution": caution, "state": _state(runbook, waiver.step_id)})
            return EXIT_OK
        _say(f"{waiver.step_id} waived by {waiver.who} at {waiver.at}: {waiver.reason}")
    return EXIT_OK


async def _ticket(args) -> int:
    if args.save:
        _output_file(args.save)
    async with _runbook(args) as runbook:
        if args.number:
            record = _on_purpose(lambda replace: runbook.record_ticket(args.step, args.number, replace=replace),
                                 args.replace, f"replace it with {args.number}?")
            if args.json:
                _emit({"ticket": asdict(record)})
                return EXIT_OK
            _say(f"{record.step_id}: ticket {record.number} recorded by {record.who} at {record.at}")
            return EXIT_OK
        draft = runbook.ticket(args.step)
        if args.save:
            Path(args.save).write_text(draft.text, encoding="utf-8")
        if args.json:
            _emit({"step": args.step, "draft": draft.text, **({"saved": args.save} if args.save else {})})
            return EXIT_OK
        _say(draft.text)
        if args.save:
            _say(f"saved to {args.save}")
    return EXIT_OK


async def _set(args) -> int:
    async with _runbook(args) as runbook:
        values = runbook.set_variable(args.name, args.value).dump()
    from core.runbook.variables import RunVariables

    name = RunVariables.canonical(args.name)
    if args.json:
        _emit({"name": name, "value": values[name] or None})
        return EXIT_OK
    _say(f"{name} = {values[name] or '(cleared)'}")
    return EXIT_OK


async def _vars(args) -> int:
    from core.runbook.variables import RunVariables

    async with _runbook(args) as runbook:
        variables = runbook.journal.variables()
    values, unreadable = variables.dump(), variables.unreadable  # an unreadable value: its raw text, marked here
    if args.json:
        import json

        # One entry per variable, so a script tells "not recorded" from "unreadable" without parsing text
        print(json.dumps({n: {"value": None if n in unreadable else (v or None),
                              "state": "unreadable" if n in unreadable else "recorded" if v else "not recorded",
                              **({"raw": v, "fix": f"cutover set {n} VALUE"} if n in unreadable else {})}
                          for n, v in values.items()}, indent=1))
        return EXIT_OK
    width = max(len(n) for n in values)
    _say(*(f"{n:<{width}}  ✗ unreadable: {v!r} (repair it: cutover set {n} VALUE)" if n in unreadable else
           f"{n:<{width}}  {v or '–':<22}  {RunVariables.describe(n)}" for n, v in values.items()))
    return EXIT_OK
