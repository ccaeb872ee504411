"""`cutover locate config|data|journal|log [--profile NAME]`: print where the tool keeps things, for scripts and
support."""

from __future__ import annotations

import argparse

from cli.target import add_profile_name, chosen_profile


def cmd_locate(args: argparse.Namespace) -> int:
    from core.config import config_path, get_profile
    from core.profile import data_root

    name = chosen_profile(args)
    if args.what == "config":
        path = config_path()
    elif args.what == "log":
        from core.logs import log_path

        path = log_path()
    elif args.what == "journal":
        if name is None:
            from core.errors import ConfigError

            raise ConfigError("whose journal?", hint="add --profile NAME (`cutover profile list` shows them)")
        path = get_profile(name).data_dir / "journal.db"
    elif name:
        path = get_profile(name).data_dir
    else:
        path = data_root()
    if args.json:
        import json

        print(json.dumps({"what": args.what, "profile": name, "path": str(path), "exists": path.exists()}))
    else:
        print(path)
    return 0


def register(sub) -> None:
    p = sub.add_parser("locate", help="print where the config file, the data, a journal or the log file is",
                       description="Print the config file's path, the data folder (of a profile), a profile's "
                                   "journal, or the log file that -v, --debug and unexpected failures write.")
    p.add_argument("what", choices=("config", "data", "journal", "log"),
                   help="config: the config file; data: the data folder; journal: a profile's journal; log: the log")
    add_profile_name(p, required=False)
    p.add_argument("--json", action="store_true", help="one JSON object: what, profile, path, and whether it exists")
    p.set_defaults(func=cmd_locate)
