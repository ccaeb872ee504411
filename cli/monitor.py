"""`cutover monitor`: the live sync monitor without the TUI. A compact table per sample, or `--json` for one
JSON object per sample (JSON Lines), flushed per line so it can feed other tools."""

from __future__ import annotations

import argparse
import os
import sys

from cli.target import add_target, resolve_target


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "monitor", help="watch both systems' sync state (headless)",
        description="Sample Zuora's and NetSuite's sync state per object type every few seconds, with "
                    "server-side counts (a handful of API calls per sample). Ctrl+C stops.")
    add_target(p)
    p.add_argument("--interval", type=_interval, default=None, metavar="S",
                   help="seconds between samples (default 5)")
    p.add_argument("--once", action="store_true", help="take one sample and exit")
    p.add_argument("--json", action="store_true", help="one JSON object per sample (JSON Lines)")
    p.add_argument("--replay", metavar="TWIN_DIR", default=None,
                   help="play back the samples the latest `cutover rehearse --twin TWIN_DIR` kept, one per phase "
                        "(--interval seconds apart, default 1)")
    p.set_defaults(func=run)


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0.1 <= value <= 3600:
        raise argparse.ArgumentTypeError("give between 0.1 and 3600 seconds")
    return value


def run(args) -> int:
    """Ctrl+C reaches `cutover`'s entry point, which says so and exits 130."""
    import asyncio

    try:
        asyncio.run(_replay(args) if args.replay else _monitor(args))
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, no flush error at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


async def _monitor(args) -> None:
    import json
    from contextlib import ExitStack

    from core.monitor import DEFAULT_INTERVAL_S, Sampler, watch
    from core.monitor.keeping import keeper
    from core.run import Run

    with ExitStack() as stack:
        profile, credentials = resolve_target(args, stack)
        async with Run(profile, credentials, timeout=args.timeout) as run:
            cutovers = run.journal.variables().connector_cutovers()  # the recorded cutover dates, read once
            sampler = Sampler(run.session.zuora, run.session.netsuite, profile.netsuite_fields, cutovers=cutovers,
                              keep=keeper(run.journal))  # the report's sync chart
            async for sample in watch(sampler, args.interval or DEFAULT_INTERVAL_S):
                print(json.dumps(sample.to_dict(), ensure_ascii=False) if args.json else render(sample),
                      flush=True)
                if args.once:
                    return


async def _replay(args) -> None:
    import asyncio
    import json

    from core.twin.replay import render_kept, replay_samples

    samples = replay_samples(args.replay)
    delay = 1.0 if args.interval is None else args.interval
    for n, sample in enumerate(samples, 1):
        print(json.dumps(sample, ensure_ascii=False) if args.json else render_kept(sample, n, len(samples)),
              flush=True)
        if args.once:
            return
        if n < len(samples):
            await asyncio.sleep(delay)


def render(sample) -> str:
    """A compact text table of one sample."""
    from core.monitor import format_eta

    head = (f"{sample.taken_at:%Y-%m-%d %H:%M:%S} UTC  IS {'on' if sample.invoice_settlement else 'off'}  "
            f"{sample.api_calls} calls  {sample.duration_s:.2f} s")
    cols = ("Pending", "Processing", "Done", "Error", "Ignored", "Waiting", "Rate/min", "ETA")
    lines = [head, f"{'Object':<26}{'Side':<10}" + "".join(f"{c:>12}" for c in cols)]
    for r in sample.rows:
        rate = "–" if r.rate_per_min is None else f"{r.rate_per_min:,.0f}"
        cells = (*(f"{n:,}" for n in (r.pending, r.processing, r.done, r.error, r.ignored, r.waiting)), rate,
                 format_eta(r.eta_s))
        lines.append(f"{r.object:<26}{r.side:<10}" + "".join(f"{c:>12}" for c in cells))
    if sample.errors:
        lines.append(f"Latest errors ({len(sample.errors)}):")
        lines += [f"  {e.sync_date or '–':<20} {e.number or e.record_id:<14} {e.side:<9} {e.object:<26} {e.status}"
                  for e in sample.errors[:5]]
    return "\n".join(lines) + "\n"
