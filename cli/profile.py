"""`cutover profile add|list|show|remove|fields`: the profiles in config.toml. Headless, core only.

Profiles hold no secrets, so no flag here takes one: secrets go in with `cutover credentials set NAME`.
"""

from __future__ import annotations

import argparse

from cli.target import add_profile_name, chosen_profile
from core.errors import ConfigError
from core.zuora.environments import ENVIRONMENT_NAMES


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Plain aligned columns, for terminals and logs alike."""
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    lines = [headers, *rows]
    return "\n".join("  ".join(str(v).ljust(w) for v, w in zip(line, widths)).rstrip() for line in lines)


def parse_fields(pairs: list[str]) -> dict[str, str]:
    from core.profile import NetSuiteFields

    keys = NetSuiteFields.model_fields
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or key not in keys or not value.strip():
            raise ConfigError(f"bad --field {pair!r}",
                              hint=f"use KEY=SCRIPTID with KEY one of {', '.join(keys)}, "
                                   f"e.g. --field zuora_sync_updates=custbody_zuora_sync_updates")
        out[key] = value.strip()
    return out


# ---- add -------------------------------------------------------------------------------------------------------
def cmd_add(args: argparse.Namespace) -> int:
    from core.config import get_profile, save_profile, scan_profiles, validate_profile
    from core.profile import Operator

    fields: dict = {}
    operator = None
    if args.name in scan_profiles():
        if not args.replace:
            raise ConfigError(f"profile {args.name!r} already exists",
                              hint="pass --replace to overwrite it, or pick another name")
        try:  # keep the field mapping already made for this account, and who works on it
            kept = get_profile(args.name)
            fields, operator = kept.netsuite_fields.model_dump(exclude_none=True), kept.operator
        except ConfigError:
            fields = {}
    if (args.operator_name is None) != (args.operator_email is None):
        raise ConfigError("give both --operator-name and --operator-email, or neither (asked at the first record)")
    if args.operator_name is not None:
        operator = {"name": args.operator_name, "email": args.operator_email}
    fields.update(parse_fields(args.field))
    data = {
        "zuora_env": args.zuora_env, "zuora_base_url": args.zuora_base_url,
        "netsuite_account_id": args.netsuite_account_id, "netsuite_base_url": args.netsuite_base_url,
        "environment": "production" if args.production else "sandbox", "read_only": args.read_only,
        "data_dir": args.data_dir, "netsuite_fields": fields,
        "operator": operator.model_dump() if isinstance(operator, Operator) else operator,
    }
    profile = validate_profile(args.name, {k: v for k, v in data.items() if v is not None},
                               hint="correct that option and run the command again")
    path = save_profile(profile)
    print(f"saved profile {profile.name!r} in {path}")
    print(f"next: `cutover credentials set {profile.name}`, then `cutover credentials test {profile.name}`")
    if profile.netsuite_fields.unmapped():
        print(f"unmapped NetSuite fields: {', '.join(profile.netsuite_fields.unmapped())}; "
              f"`cutover profile fields {profile.name}` finds them in the account")
    return 0


# ---- list / show / remove --------------------------------------------------------------------------------------
def cmd_list(args: argparse.Namespace) -> int:
    import json

    from core.config import config_path, scan_profiles
    from core.profile import Profile

    profiles = scan_profiles()
    if args.names:  # one a line, for scripts and shell completion
        print("\n".join(profiles))
        return 0
    if args.json:
        print(json.dumps({n: (p.model_dump(mode="json") if isinstance(p, Profile) else {"error": str(p)})
                          for n, p in profiles.items()}, indent=2))
        return 0
    if not profiles:
        print(f"no profiles yet in {config_path()}; add one with `cutover profile add NAME ...`")
        return 0
    rows = []
    from core.config import default_profile

    default = default_profile()
    for name, p in profiles.items():
        if default and name == default[0]:
            name += " (default)"
        if isinstance(p, Profile):
            rows.append([name, p.environment + (" read-only" if p.read_only else ""), p.zuora_env or p.zuora_url(),
                         p.netsuite_account_id])
        else:
            rows.append([name, "BROKEN", str(p), ""])
    print(table(["PROFILE", "ENVIRONMENT", "ZUORA", "NETSUITE"], rows))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from core.config import get_profile
    from core.profile import NetSuiteFields
    from core.secret_sources import credential_sources

    p = get_profile(args.name)
    if args.json:
        print(p.model_dump_json(indent=2))
        return 0
    rows = [["name", p.name], ["environment", p.environment], ["read only", "yes" if p.read_only else "no"],
            ["zuora", f"{p.zuora_env or 'custom URL'}: {p.zuora_url()}"],
            ["netsuite account", p.netsuite_account_id], ["netsuite", p.netsuite_url()],
            ["data dir", str(p.data_dir)], ["operator", p.operator.label if p.operator else "(asked at the first "
                                                                                             "record)"]]
    rows += [[f"field {k}", getattr(p.netsuite_fields, k) or "(not mapped)"] for k in NetSuiteFields.keys()]
    rows.append(["sync updates yes", p.netsuite_fields.sync_updates_yes])
    sources, problem = credential_sources(p.name)
    rows += [[f"secret {n}", where] for n, where in sources.items()]
    print(table(["SETTING", "VALUE"], rows))
    if problem:
        print(f"keyring: {problem}")
    return 0


def cmd_operator(args: argparse.Namespace) -> int:
    """Who works on this profile: named with every confirmation, waiver, ticket and write in its journal."""
    from core.config import get_profile, save_profile, validate_profile

    profile = get_profile(args.name)
    if args.operator_name is None and args.operator_email is None:
        print(profile.operator.label if profile.operator else
              f"no operator recorded: `cutover profile operator {profile.name} --name NAME --email EMAIL`")
        return 0 if profile.operator else 1
    name = args.operator_name or (profile.operator.name if profile.operator else None)
    email = args.operator_email or (profile.operator.email if profile.operator else None)
    if not name or not email:
        raise ConfigError("give the operator's --name and --email (the first time, both)")
    updated = validate_profile(profile.name, {**profile.model_dump(exclude={"name"}, exclude_none=True),
                                              "operator": {"name": name, "email": email}},
                               hint="correct that option and run the command again")
    save_profile(updated)
    print(f"profile {profile.name!r}: operator {updated.operator.label}")
    return 0


def cmd_default(args: argparse.Namespace) -> int:
    """Show, set (NAME) or clear (--clear) the profile every command uses when none is named."""
    from core.config import PROFILE_ENV, default_profile, get_profile, save_default_profile

    args.name = args.name or getattr(args, "profile", None)
    if args.clear:
        path = save_default_profile(None)
        print(f"no default profile now in {path}")
    elif args.name:
        get_profile(args.name)  # only a profile that exists (and loads) can be the default
        path = save_default_profile(args.name)
        print(f"default profile: {args.name} (in {path}); --profile NAME or {PROFILE_ENV} still win")
    else:
        default = default_profile()
        if default is None:
            print("no default profile: `cutover profile default NAME` sets one")
            return 1
        print(f"{default[0]} (from {default[1]})")
        return 0
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from core.config import remove_profile

    path = remove_profile(args.name)
    print(f"removed profile {args.name!r} from {path}")
    print(f"its secrets stay in the keyring until `cutover credentials delete {args.name}`")
    return 0


# ---- fields ----------------------------------------------------------------------------------------------------
async def _discover(profile, timeout: float | None) -> list:
    from core.secrets import CredentialStore
    from core.session import netsuite_client

    credentials = CredentialStore().load(profile.name)
    async with netsuite_client(profile, credentials, **({"timeout": timeout} if timeout else {})) as client:
        return await client.discover_zuora_fields()


def cmd_fields(args: argparse.Namespace) -> int:
    import asyncio

    from core.config import get_profile, save_profile, validate_profile
    from core.netsuite.fields import proposed_mapping

    profile = get_profile(args.name)
    candidates = asyncio.run(_discover(profile, args.timeout))
    current = profile.netsuite_fields.script_ids()
    mapped_ids = set(current.values())
    rows = [[c.script_id, c.label, c.field_type or "", c.profile_key or "", c.matched_by or "",
             "yes" if c.script_id in mapped_ids else ""] for c in candidates]
    print(table(["SCRIPT ID", "LABEL", "TYPE", "PROFILE KEY", "MATCHED BY", "IN PROFILE"], rows)
          if rows else "no Zuora custom fields found in the account")
    proposal = proposed_mapping(candidates)
    changes = {k: v for k, v in proposal.items() if current.get(k) != v}
    claimed = [c.profile_key for c in candidates if c.profile_key]
    ambiguous = sorted({k for k in claimed if claimed.count(k) > 1})
    for key in ambiguous:
        print(f"several fields could be {key}: map it by hand with "
              f"`cutover profile add {profile.name} ... --field {key}=SCRIPTID --replace`")
    if not changes:
        print("the profile's mapping already matches the account")
        return 0
    for key, new in changes.items():
        print(f"{key}: {current.get(key) or '(not mapped)'} -> {new}")
    if not args.apply:
        print(f"run `cutover profile fields {profile.name} --apply` to save this mapping")
        return 0
    fields = profile.netsuite_fields.model_copy(update=changes)
    save_profile(validate_profile(profile.name, {**profile.model_dump(exclude={"name"}, exclude_none=True),
                                                 "netsuite_fields": fields.model_dump()}))
    print(f"saved {len(changes)} field mapping(s) in profile {profile.name!r}")
    return 0


def subcommand(actions, name: str, func, help: str, *, profile: bool = True) -> argparse.ArgumentParser:
    """One ACTION under `cutover profile|credentials`, taking the profile as --profile NAME (or the older positional
    NAME) unless told otherwise; `args.name` holds it when the action runs."""
    parser = actions.add_parser(name, help=help, description=help)
    if profile:
        add_profile_name(parser)

        def with_name(args: argparse.Namespace) -> int:
            args.name = chosen_profile(args)
            return func(args)

        parser.set_defaults(func=with_name)
    else:
        parser.set_defaults(func=func)
    return parser


def register(sub) -> None:
    p = sub.add_parser("profile", help="add, list, show and remove profiles; map the account's NetSuite fields")
    ps = p.add_subparsers(dest="profile_command", metavar="ACTION", required=True)

    add = subcommand(ps, "add", cmd_add, "add a profile (no secrets: see `cutover credentials set`)")
    add.set_defaults(use_default_profile=False)  # a new profile is named, never the default
    where = add.add_mutually_exclusive_group(required=True)
    where.add_argument("--zuora-env", metavar="ENV", help="one of: " + ", ".join(ENVIRONMENT_NAMES))
    where.add_argument("--zuora-base-url", metavar="URL", help="explicit Zuora REST base URL (https)")
    add.add_argument("--netsuite-account-id", metavar="ID", required=True, help="e.g. 1234567 or 1234567_SB1")
    add.add_argument("--netsuite-base-url", metavar="URL", help="only for a non-standard host or the simulator")
    add.add_argument("--production", action="store_true", help="a production tenant: writes need typed consent")
    add.add_argument("--read-only", action="store_true", help="plans only; applying is refused")
    add.add_argument("--data-dir", metavar="DIR", help="where the run's journal lives (default: user data dir)")
    add.add_argument("--field", action="append", default=[], metavar="KEY=SCRIPTID",
                     help="NetSuite script id for a field key, e.g. zuora_sync_updates=custbody_zuora_sync_updates")
    add.add_argument("--replace", action="store_true", help="overwrite an existing profile (its field map stays)")
    add.add_argument("--operator-name", metavar="NAME", help="who works on it (recorded with every confirmation, "
                                                             "waiver, ticket and write)")
    add.add_argument("--operator-email", metavar="EMAIL", help="their email")

    op = subcommand(ps, "operator", cmd_operator, "show or record who works on a profile (name and email)")
    op.add_argument("--name", dest="operator_name", metavar="NAME")
    op.add_argument("--email", dest="operator_email", metavar="EMAIL")

    listing = subcommand(ps, "list", cmd_list, "list the profiles", profile=False)
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--names", action="store_true", help="only the names, one a line")
    subcommand(ps, "show", cmd_show, "show one profile and where its secrets come from").add_argument(
        "--json", action="store_true", help="the profile's settings as JSON (never secrets)")
    subcommand(ps, "remove", cmd_remove, "remove a profile from the config file").set_defaults(
        use_default_profile=False)  # removing is said out loud: never the default by omission
    default = ps.add_parser("default", help="show, set or clear the profile used when a command names none",
                            description="The profile every command uses when it is given no --profile: "
                                        "CUTOVER_PROFILE, else this one. `cutover profile default NAME` sets it, "
                                        "--clear removes it, no argument shows it (exit 1 when there is none).")
    default.add_argument("name", nargs="?", metavar="NAME", help="the profile to use by default")
    default.add_argument("--clear", action="store_true", help="remove the default")
    default.set_defaults(func=cmd_default)
    subcommand(ps, "fields", cmd_fields, "find the connector's custom fields in the NetSuite account").add_argument(
        "--apply", action="store_true", help="save the proposed mapping in the profile")
