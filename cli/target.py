"""`--profile NAME | --demo`, shared by every headless command that talks to a tenant (not a command itself).

`--profile` itself is one of `cutover`'s global flags (cli.add_global_flags): it is accepted before or after the
subcommand, so only `--demo` is added here, and the choice between the two is checked when the target is resolved.
"""

from __future__ import annotations

import argparse
from contextlib import ExitStack

from core.errors import ConfigError


def add_target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--demo", action="store_true", help="a fresh simulated tenant on loopback (or --profile NAME)")


def add_profile_name(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    """The older positional NAME, kept as an alias of --profile NAME."""
    parser.add_argument("name", nargs="?", metavar="NAME",
                        help="profile name, the same as --profile NAME" + ("" if required else " (optional)"))
    parser.set_defaults(profile_required=required)


def chosen_profile(args: argparse.Namespace) -> str | None:
    """The profile a command works on: NAME or --profile NAME (both only when they agree), else CUTOVER_PROFILE,
    else the config's default_profile (`cutover profile default NAME`). Commands that create or remove a profile
    set `use_default_profile=False`: they act only on a profile named on their own command line."""
    positional, flag = getattr(args, "name", None), getattr(args, "profile", None)
    if positional and flag and positional != flag:
        raise ConfigError(f"two profiles given: {positional!r} and --profile {flag!r}", hint="name one of them")
    name = positional or flag
    if name is None and getattr(args, "use_default_profile", True):
        name = _default_profile()
    if name is None and getattr(args, "profile_required", False):
        raise ConfigError("which profile?", hint="add --profile NAME (`cutover profile list` shows them), or set "
                                                 "one for every command with `cutover profile default NAME`")
    return name


def _default_profile() -> str | None:
    """CUTOVER_PROFILE or the config's default_profile. One that names no profile says where it came from, so the
    person knows what to correct."""
    from core.config import default_profile, scan_profiles

    default = default_profile()
    if default is None:
        return None
    name, source = default
    if name not in scan_profiles():
        raise ConfigError(f"the default profile {name!r} (from {source}) does not exist",
                          hint="name another with --profile NAME or `cutover profile default NAME`, or unset "
                               "CUTOVER_PROFILE (`cutover profile list` shows the profiles)")
    return name


def resolve_target(args: argparse.Namespace, stack: ExitStack, *, credentials: bool = True):
    """(profile, credentials) of a fresh demo tenant (kept alive by `stack`), or of a saved profile with its
    keyring / CUTOVER_* secrets. `credentials=False` skips the keyring for journal-only commands (None)."""
    if args.demo and getattr(args, "profile", None):
        raise ConfigError("give --profile NAME or --demo, not both")
    if args.demo:  # beats a default profile: only a named one conflicts
        from core.demo import DemoTenant

        demo = stack.enter_context(DemoTenant())
        return demo.profile, demo.credentials
    profile_name = getattr(args, "profile", None) or _default_profile()  # (a positional here is not a profile)
    if not profile_name:
        raise ConfigError("which tenant?", hint="add --profile NAME (`cutover profile list` shows them; `cutover "
                                                "profile default NAME` sets one for every command), or --demo for "
                                                "a simulated one")
    from core.config import get_profile

    profile = get_profile(profile_name)
    if not credentials:
        return profile, None
    from core.secrets import CredentialStore

    return profile, CredentialStore().load(profile.name)  # the session names any missing secret
