"""`cutover demo`, `cutover open --profile NAME` and `cutover profiles`: the commands that open the Textual app.

The one module of `cli` that imports the app (`tui`), inside the functions that start it, so the rest of the
command line never loads Textual (an import contract in pyproject.toml holds this).
"""

from __future__ import annotations

import argparse

from cli.target import add_profile_name, chosen_profile


def _scale(text: str) -> int:
    from core.sim.config import parse_scale

    try:
        return parse_scale(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _run_app(backend) -> int:
    from tui.app import CutoverApp

    app = CutoverApp(backend, exit_on_bad_profile=True)
    app.run()
    if app.startup_error is not None:  # the profile did not load: one line on stderr once the terminal is back
        raise app.startup_error
    return app.return_code or 0  # tui.hangup's code when the terminal went away


def _demo_tenant(args: argparse.Namespace):
    from core.demo import DemoTenant  # the simulator: loaded in the app's worker, after its first frame

    return DemoTenant(seed=args.seed, scale=args.scale, connector_pace_s=args.connector_pace)


def cmd_demo(args: argparse.Namespace) -> int:
    from functools import partial

    from tui.backend import Backend

    return _run_app(Backend(make_demo=partial(_demo_tenant, args), monitor_interval=args.interval,
                            timeout=args.timeout))


def cmd_open(args: argparse.Namespace) -> int:
    from core.config_file import names_profile
    from tui.backend import Backend

    name = chosen_profile(args)
    if not names_profile(name):  # a typo in the name is said here, before the app takes over the terminal
        from core.config import get_profile

        get_profile(name)  # (or it is set through CUTOVER_PROFILES__… variables only: found there)
    return _run_app(Backend(profile_name=name, monitor_interval=args.interval, timeout=args.timeout))


def cmd_profiles(args: argparse.Namespace) -> int:
    """The Profiles screen with no profile open (create one, store its credentials, test it), then the checklist on
    the profile a person opens."""
    from tui.backend import Backend
    from tui.profiles_app import ProfilesApp

    app = ProfilesApp()
    chosen = app.run()
    if not chosen:
        return app.return_code or 0
    return _run_app(Backend(profile_name=chosen, monitor_interval=args.interval, timeout=args.timeout))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="open the tool on a fresh simulated tenant (no keyring, no network)",
                       description="Open the checklist on a fresh simulated Zuora + NetSuite tenant, served in "
                                   "process on loopback with throwaway credentials.")
    p.add_argument("--seed", type=int, default=1, help="tenant generator seed (default 1)")
    p.add_argument("--scale", type=_scale, default="small",
                   help="small (default, ~2,000 invoices), medium, or a number of invoices")
    p.add_argument("--interval", type=float, default=2.0, help="monitor poll interval in seconds (default 2)")
    p.add_argument("--connector-pace", type=float, default=0.3,
                   help="seconds the simulated connector pauses between batches, so runs can be watched")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("open", help="open the checklist on a profile (credentials from the keyring)")
    add_profile_name(p)
    p.add_argument("--interval", type=float, default=5.0, help="monitor poll interval in seconds (default 5)")
    p.set_defaults(func=cmd_open)

    p = sub.add_parser("profiles", help="manage profiles and their credentials in the app, then open one",
                       description="Open the Profiles screen without a profile: create or edit profiles, store "
                                   "and test their credentials; Open starts the checklist on the chosen one.")
    p.add_argument("--interval", type=float, default=5.0, help="monitor poll interval in seconds (default 5)")
    p.set_defaults(func=cmd_profiles)
