"""`cutover twin`: a read-only twin of your own tenant, to rehearse the cutover on before production.

  cutover twin capture --profile P [-o DIR] [--mask]   snapshot what the runbook reads (folder mode 0700)
  cutover twin serve DIR [--port N]                    the simulator on loopback, serving the twin
  cutover twin forecast DIR [--json]                   what the checks will find, E1/E2 sizes and times, …
  cutover rehearse --twin DIR                          the whole runbook on the twin
"""

from __future__ import annotations

import sys

from core.errors import ConfigError


def register(subparsers) -> None:
    twin = subparsers.add_parser("twin", help="capture a read-only twin of a tenant, serve it, forecast the cutover",
                                 description=__doc__.splitlines()[0])
    sub = twin.add_subparsers(dest="twin_command", metavar="SUBCOMMAND", required=True)
    p = sub.add_parser("capture", help="snapshot what the runbook reads from Zuora and NetSuite (read-only)")
    p.add_argument("--demo", action="store_true", help="capture a fresh simulated tenant (or --profile NAME)")
    p.add_argument("-o", "--output", metavar="DIR", default=None,
                   help="the twin's folder (default: ./twin-PROFILE-YYYYmmdd-HHMMSS); an unfinished one resumes")
    p.add_argument("--mask", action="store_true",
                   help="replace names, emails and addresses with stable pseudonyms (ids, amounts, dates stay)")
    p.add_argument("--json", action="store_true", help="one JSON object at the end instead of lines")
    p.set_defaults(func=_capture)
    s = sub.add_parser("serve", help="serve the twin as a simulated tenant on loopback")
    s.add_argument("dir", metavar="DIR", help="the twin's folder")
    s.add_argument("--port", type=int, default=0, help="port (0: any free port; the JSON line tells which)")
    s.set_defaults(func=_serve)
    f = sub.add_parser("forecast", help="what each check will find on the twin, E1/E2 sizes and apply times, "
                                        "what a skipped step would strand or duplicate, the first connector run")
    f.add_argument("dir", metavar="DIR", help="the twin's folder")
    f.add_argument("--json", action="store_true", help="one JSON object")
    f.set_defaults(func=_forecast)


def _default_dir(name: str):
    from datetime import datetime
    from pathlib import Path

    return Path.cwd() / f"twin-{name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def _capture(args) -> int:
    import asyncio
    import json
    from contextlib import ExitStack
    from pathlib import Path

    from core.twin.capture import capture_tenant
    from core.twin.demo import demo_cutover_dates

    profile_name = getattr(args, "profile", None)
    if args.demo and profile_name:
        raise ConfigError("give --profile NAME or --demo, not both")
    with ExitStack() as stack:
        dates = None
        if args.demo:
            from core.demo import DemoTenant

            demo = stack.enter_context(DemoTenant())
            profile, credentials, dates = demo.profile, demo.credentials, demo_cutover_dates(demo)
        else:
            from cli.target import resolve_target

            profile, credentials = resolve_target(args, stack)
        root = Path(args.output) if args.output else _default_dir(profile.name)
        shown: dict[str, int] = {}

        def progress(key: str, done: int, total: int) -> None:
            if args.json or not sys.stderr.isatty() or shown.get(key) == done:
                return
            shown[key] = done
            print(f"\r{key:<36} {done:>10,} / {total:,}", end="" if done < total else "\n", file=sys.stderr,
                  flush=True)

        report = asyncio.run(capture_tenant(profile, credentials, root, mask=args.mask, old_cutover_dates=dates,
                                            progress=progress, timeout=getattr(args, "timeout", None)))
    if args.json:
        print(json.dumps(report.to_dict(), indent=1))
    else:
        print("\n".join(report.lines()))
        print(f"next: cutover twin forecast {root}   or   cutover rehearse --twin {root}")
    return 0


def _serve(args) -> int:
    from cli.sim import serve_simulator
    from core.twin.snapshot import Snapshot

    if not 0 <= args.port <= 65535:
        raise ConfigError("--port must be between 0 and 65535")
    Snapshot.open(args.dir).require_complete()

    def make():
        from core.sim.app import Simulator
        from core.sim.config import SimConfig

        return Simulator(SimConfig(twin=str(args.dir)))

    return serve_simulator(make, "127.0.0.1", args.port, f"twin {args.dir}")


def _forecast(args) -> int:
    import asyncio
    import json

    from core.twin.forecast import forecast

    result = asyncio.run(forecast(args.dir, timeout=getattr(args, "timeout", None)))
    print(json.dumps(result.to_dict(), indent=1, default=str) if args.json else "\n".join(result.lines()))
    return 0
