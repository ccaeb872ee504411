"""`cutover credentials set|test|delete|status`: a profile's API secrets in the OS keyring. Headless, core only.

Secrets are never accepted as arguments (they would show in `ps` and shell history): they are typed at a no-echo
prompt, or read from the CUTOVER_* variables with --from-env.
"""

from __future__ import annotations

import argparse
import sys

from cli.profile import subcommand
from core.errors import CredentialsError
from core.secret_names import SECRET_LABELS, SECRET_NAMES, SYSTEM_SECRETS, env_var

DEFAULT_TIMEOUT_S = 20.0  # per request, unless --timeout says otherwise


def _wanted(only: str | None) -> tuple[str, ...]:
    return SYSTEM_SECRETS[{"zuora": "Zuora", "netsuite": "NetSuite"}[only]] if only else SECRET_NAMES


def _prompt(names: tuple[str, ...], stored):
    import getpass

    from core.secrets import Credentials

    if not sys.stdin.isatty():
        raise CredentialsError("cannot prompt for secrets: standard input is not a terminal",
                               hint="set the CUTOVER_* variables and use `--from-env`")
    values = {}
    for n in names:
        have = getattr(stored, n) is not None
        value = getpass.getpass(f"{SECRET_LABELS[n]}{' (Enter keeps the stored one)' if have else ''}: ")
        values[n] = value.strip()
    return Credentials.from_values(values)


def cmd_set(args: argparse.Namespace) -> int:
    from core.config import get_profile
    from core.secrets import Credentials, CredentialStore, credentials_from_env

    profile = get_profile(args.name)
    store = CredentialStore()
    status = store.backend_status()
    if not status.usable:
        raise CredentialsError(f"cannot store secrets: {status.message}")
    names = _wanted(args.only)
    if args.from_env:
        env = credentials_from_env()
        given = Credentials(**{n: getattr(env, n) for n in names})
        if not given.present():
            raise CredentialsError("none of the variables " + ", ".join(env_var(n) for n in names) + " is set",
                                   hint="export them first, or run without --from-env to be prompted")
    else:
        given = _prompt(names, store.load_stored(profile.name))
    saved = store.save(profile.name, given)
    print(f"stored {len(saved)} secret(s) for profile {profile.name!r} in {status.backend}")
    missing = store.load_stored(profile.name).missing()
    if missing:
        print(f"still missing: {', '.join(missing)}")
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    import asyncio
    import json
    from dataclasses import asdict

    from core.config import get_profile
    from core.secrets import CredentialStore
    from core.session import test_connection

    profile = get_profile(args.name)
    credentials = CredentialStore().load(profile.name)
    checks = asyncio.run(test_connection(profile, credentials, timeout=args.timeout or DEFAULT_TIMEOUT_S))
    if args.json:
        print(json.dumps({"profile": profile.name, "checks": [asdict(c) for c in checks],
                          "ok": all(c.ok for c in checks)}))
    else:
        for c in checks:
            print(f"{c.system:<9} {'ok' if c.ok else 'FAILED':<6} {c.detail} ({c.elapsed_s:.2f} s)")
    return 0 if all(c.ok for c in checks) else 1


def cmd_delete(args: argparse.Namespace) -> int:
    from core.secrets import CredentialStore

    removed = CredentialStore().delete(args.name)
    if removed:
        print(f"deleted {len(removed)} secret(s) of profile {args.name!r} from the keyring")
    else:
        print(f"the keyring held no secrets for profile {args.name!r}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from core.secrets import CredentialStore

    status = CredentialStore().backend_status()
    if args.json:
        import json

        print(json.dumps({"backend": status.backend, "usable": status.usable, "message": status.message}))
        return 0 if status.usable else 1
    print(f"keyring backend: {status.backend}")
    print("usable: yes" if status.usable else f"usable: no: {status.message}")
    return 0 if status.usable else 1


def register(sub) -> None:
    p = sub.add_parser("credentials", help="store, test and delete a profile's API secrets (OS keyring)")
    ps = p.add_subparsers(dest="credentials_command", metavar="ACTION", required=True)

    s = subcommand(ps, "set", cmd_set, "store the secrets: prompted without echo, or --from-env")
    s.add_argument("--from-env", action="store_true",
                   help="take them from " + ", ".join(env_var(n) for n in SECRET_NAMES))
    s.add_argument("--only", choices=("zuora", "netsuite"), help="set one system's secrets only")

    t = subcommand(ps, "test", cmd_test, "connect to both systems; exit 0 only when both work (--timeout SECONDS: "
                                         "per request, default 20)")
    t.add_argument("--json", action="store_true", help="one JSON object: profile, checks, ok")

    subcommand(ps, "delete", cmd_delete, "remove the profile's secrets from the keyring")
    subcommand(ps, "status", cmd_status, "which keyring backend is in use, and whether it is safe to use",
               profile=False).add_argument("--json", action="store_true",
                                           help="one JSON object: backend, usable, and why not")
