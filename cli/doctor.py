"""`cutover doctor [--profile P | --demo] [--json] [--bundle FILE]`: one line per check, each with its fix (core.doctor).

Exit 0 when nothing fails (warnings included), 1 when a check fails, 2 on bad input. `--bundle FILE` also writes
the redacted support bundle (a zip) to attach to a support request.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack

from cli.target import add_target

DEFAULT_TIMEOUT_S = 10.0  # per request: the doctor answers within seconds, not minutes


def cmd_doctor(args: argparse.Namespace) -> int:
    import json

    from core import doctor
    from core.errors import CredentialsError

    with ExitStack() as stack:
        profile = credentials = problem = None
        if args.demo:
            from cli.target import resolve_target

            profile, credentials = resolve_target(args, stack)
        else:
            from cli.target import chosen_profile
            from core.errors import ConfigError

            try:
                name = chosen_profile(args)
            except ConfigError:
                if getattr(args, "profile", None):
                    raise
                name = None  # a config that cannot be read is the config check's finding, not the doctor's end
            if name is not None:
                from core.config import get_profile
                from core.secrets import CredentialStore

                profile = get_profile(name)
                try:
                    credentials = CredentialStore().load(profile.name)
                except CredentialsError as exc:  # a finding of its own, not the end of the doctor's round
                    problem = exc
        if args.demo:
            from core.journal import Journal

            Journal(profile.data_dir / "journal.db").close()  # the demo's journal, begun as its first command would
        findings = doctor.run_checks(profile, credentials, demo=args.demo, credentials_error=problem,
                                     timeout=args.timeout or DEFAULT_TIMEOUT_S)
        bundle = doctor.support_bundle(args.bundle, findings, profile) if args.bundle else None
    if args.json:
        print(json.dumps({**doctor.to_dict(findings, profile.name if profile else None),
                          **({"bundle": str(bundle)} if bundle else {})}, ensure_ascii=False, indent=1))
    else:
        print("\n".join(f.line() for f in findings))
        if bundle:
            print(f"support bundle written to {bundle} (redacted: no secrets, no record data)", file=sys.stderr)
    return 0 if doctor.passed(findings) else 1


def register(sub) -> None:
    p = sub.add_parser("doctor", help="check this machine: version, keyring, folders, both systems, the journal",
                       description=__doc__.splitlines()[0] + " --profile (or the default profile) also tries Zuora "
                                   "and NetSuite and reads the journal; --demo does so on a fresh simulated tenant.")
    add_target(p)
    p.add_argument("--json", action="store_true", help="one JSON object: ok, profile and each check")
    p.add_argument("--bundle", metavar="FILE", help="also write a redacted support bundle (zip) to FILE")
    p.set_defaults(func=cmd_doctor)
