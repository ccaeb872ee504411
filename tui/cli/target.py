"""`--profile P | --demo`, shared by every headless command that talks to a tenant (not a command itself)."""

from __future__ import annotations

import argparse
from contextlib import ExitStack


def add_target(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--profile", metavar="P", help="a profile from `cutover profile list`")
    target.add_argument("--demo", action="store_true", help="a fresh simulated tenant on loopback")


def resolve_target(args: argparse.Namespace, stack: ExitStack, *, credentials: bool = True):
    """(profile, credentials) of a fresh demo tenant (kept alive by `stack`), or of a saved profile with its
    keyring / CUTOVER_* secrets. `credentials=False` skips the keyring for journal-only commands (None)."""
    if args.demo:
        from core.demo import DemoTenant

        demo = stack.enter_context(DemoTenant())
        return demo.profile, demo.credentials
    from core.config import get_profile

    profile = get_profile(args.profile)
    if not credentials:
        return profile, None
    from core.secrets import CredentialStore

    return profile, CredentialStore().load(profile.name)  # the session names any missing secret
