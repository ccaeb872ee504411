"""`cutover instances list|add|update|retire|test-oauth`: the connector instances register. Headless, core only.

The register lives in the profile's journal. Only OAuth client ids are recorded; `test-oauth` prompts for the new
client's id and secret without echo (never as arguments: they would show in `ps` and shell history).
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack

from cli.profile import table
from cli.target import add_target, resolve_target
from core.errors import CredentialsError
from core.instance_terms import ENVIRONMENTS, KINDS, ROLES, STATUSES

_FIELDS = ("environment", "role", "kind", "instance_id", "account_id", "environment_id", "oauth_client_id",
           "netsuite_account_id", "status", "notes", "provisioned_on")


def _register(args, stack: ExitStack, *, credentials: bool = False):
    """(register, credentials) on the target profile's journal."""
    from core.run import Run

    profile, secrets = resolve_target(args, stack, credentials=credentials)
    return stack.enter_context(Run(profile)).register, secrets


def _given(args) -> dict[str, str]:
    return {f: getattr(args, f) for f in _FIELDS if getattr(args, f, None) is not None}


def _notes(register, instances) -> None:
    """Under any listing: whether each new instance keeps the NetSuite login, then the licence warnings."""
    for i in instances:
        if i.role == "new":
            print(f"{i.ref}: {register.netsuite_note(i)}")
    for w in register.warnings():
        print(f"warning: {w}")


def cmd_list(args: argparse.Namespace) -> int:
    import json

    with ExitStack() as stack:
        register, _ = _register(args, stack)
        instances = register.list(live_only=not args.all)
        if args.json:
            print(json.dumps({"instances": [{**i.model_dump(mode="json"), "netsuite_note": register.netsuite_note(i)}
                                            for i in instances], "warnings": register.warnings()}, indent=1))
            return 0
        if not instances:
            print("no connector instances recorded yet: `cutover instances add --environment production --role old "
                  "--instance-id ID --account-id ID ...` (the ids are on the connector's Logs tab)")
        else:
            rows = [[f"#{i.key}", i.environment, register.role_words(i), i.kind, i.instance_id or "–", i.account_id or "–",
                     i.environment_id or "–", i.oauth_client_id or "–", i.netsuite_account_id or "–", i.status]
                    for i in instances]
            print(table(["#", "ENV", "ROLE", "KIND", "INSTANCE", "ACCOUNT ID", "ENVIRONMENT ID", "OAUTH CLIENT",
                         "NETSUITE", "STATUS"], rows))
        _notes(register, instances)
    return 0


def _change(args: argparse.Namespace, done: str, change) -> int:
    from core.connector_instance import describe

    with ExitStack() as stack:
        register, _ = _register(args, stack)
        instance = change(register)
        print(f"{done} #{instance.key}: {describe(instance)}")
        _notes(register, [instance])
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    return _change(args, "recorded", lambda register: register.add(**_given(args)))


def cmd_update(args: argparse.Namespace) -> int:
    return _change(args, "updated", lambda register: register.update(args.ref, **_given(args)))


def cmd_retire(args: argparse.Namespace) -> int:
    return _change(args, "retired", lambda register: register.retire(args.ref, note=args.note or ""))


def cmd_test_oauth(args: argparse.Namespace) -> int:
    import asyncio
    import getpass
    import json
    from dataclasses import asdict

    from pydantic import SecretStr

    if not sys.stdin.isatty():
        raise CredentialsError("cannot prompt for the new OAuth client: standard input is not a terminal",
                               hint="run it in a terminal; the secret is never taken from arguments")
    with ExitStack() as stack:
        register, credentials = _register(args, stack, credentials=True)
        instance = register.get(args.instance) if args.instance else register.new_instance(
            register.profile.environment)
        known = instance.oauth_client_id if instance else None
        typed = getpass.getpass(f"New OAuth client id{f' (Enter keeps {known})' if known else ''}: ").strip()
        secret = SecretStr(getpass.getpass("New OAuth client secret: ").strip())
        checks = asyncio.run(register.test_oauth_client(typed or known or "", secret, credentials,
                                                        ref=instance.key if instance else None,
                                                        timeout=args.timeout or 20.0))
    if args.json:
        # ok is the token check alone (checks[0]), as the exit code; recorded: whether the register keeps it
        print(json.dumps({"profile": register.profile.name, "instance": instance.ref if instance else None,
                          "recorded": instance is not None, "checks": [asdict(c) for c in checks],
                          "ok": checks[0].ok}))
    else:
        for c in checks:
            print(f"{c.system:<9} {'ok' if c.ok else 'FAILED':<6} {c.detail} ({c.elapsed_s:.2f} s)")
        if instance is None:
            print("no new instance recorded yet, so the result is not kept: `cutover instances add --role new ...`")
    return 0 if checks[0].ok else 1


def _fields(parser: argparse.ArgumentParser, *, adding: bool) -> None:
    parser.add_argument("--environment", choices=ENVIRONMENTS, required=adding, help="the instance's environment")
    parser.add_argument("--role", choices=ROLES, required=adding,
                        help="old: the connector running before IS; new: the one for Invoice Settlement")
    parser.add_argument("--kind", choices=KINDS, help="permanent (default) or a temporary test instance (120 days)")
    parser.add_argument("--instance-id", metavar="ID", help="Instance ID (connector > Logs tab)")
    parser.add_argument("--account-id", metavar="ID", help="Account ID (Logs tab; from Support for a new instance)")
    parser.add_argument("--environment-id", metavar="ID", help="Environment ID (from Support)")
    parser.add_argument("--oauth-client-id", metavar="ID", help="the Zuora OAuth client id it uses (never a secret)")
    parser.add_argument("--netsuite-account-id", metavar="ID", help="its NetSuite account (default: the profile's)")
    parser.add_argument("--status", choices=STATUSES, help="active (default), stopped or retired")
    parser.add_argument("--notes", help="free text kept with the record")
    parser.add_argument("--provisioned-on", metavar="DATE", help="when it was provisioned (temporary instances)")


def register(sub) -> None:
    p = sub.add_parser("instances", help="the connector instances register: old and new, ids, OAuth client, licence",
                       description="Record the Zuora Connector for NetSuite instances of the profile (A2, F3, F4): "
                                   "their ids, the OAuth client id they use and their state.")
    ps = p.add_subparsers(dest="instances_command", metavar="ACTION", required=True)

    def action(name: str, func, help: str) -> argparse.ArgumentParser:
        parser = ps.add_parser(name, help=help, description=help)
        add_target(parser)
        parser.set_defaults(func=func)
        return parser

    action("list", cmd_list, "list the instances, the NetSuite login notes and the licence warnings").add_argument(
        "--all", action="store_true", help="include retired instances")
    ps.choices["list"].add_argument("--json", action="store_true")
    _fields(action("add", cmd_add, "record an instance (environment and role are required)"), adding=True)
    update = action("update", cmd_update, "change an instance's fields (an empty value clears one)")
    update.add_argument("ref", metavar="REF", help="its Instance ID or #number from `list`")
    _fields(update, adding=False)
    retire = action("retire", cmd_retire, "mark an instance retired (it stays in the record)")
    retire.add_argument("ref", metavar="REF", help="its Instance ID or #number from `list`")
    retire.add_argument("--note", help="why, e.g. 'replaced by 48213 after go-live'")
    test = action("test-oauth", cmd_test_oauth, "F1: does the new OAuth client get a token? (prompts, no echo; "
                                                "--timeout SECONDS per request, default 20)")
    test.add_argument("--instance", metavar="REF", help="the instance to record the result on (default: the new one)")
    test.add_argument("--json", action="store_true",
                      help="one JSON object: profile, instance, recorded, checks, ok")
