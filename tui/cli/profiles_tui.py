"""`cutover profiles`: the Profiles screen with no profile open (create one, store its credentials, test it), then
the checklist on the profile a person opens. Textual is imported only when it runs."""

from __future__ import annotations

import argparse


def cmd_profiles(args: argparse.Namespace) -> int:
    from tui.backend import Backend
    from tui.cli.interactive import _run_app
    from tui.profiles_app import ProfilesApp

    chosen = ProfilesApp().run()
    if not chosen:
        return 0
    return _run_app(Backend(profile_name=chosen, monitor_interval=args.interval, timeout=args.timeout))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("profiles", help="manage profiles and their credentials in the app, then open one",
                       description="Open the Profiles screen without a profile: create or edit profiles, store "
                                   "and test their credentials; Open starts the checklist on the chosen one.")
    p.add_argument("--interval", type=float, default=5.0, help="monitor poll interval in seconds (default 5)")
    p.set_defaults(func=cmd_profiles)
