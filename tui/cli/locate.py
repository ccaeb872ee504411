"""`cutover locate config|data [PROFILE]`: print where the tool keeps things, for scripts and support."""

from __future__ import annotations

import argparse

from core.config import config_path, data_root, get_profile


def cmd_locate(args: argparse.Namespace) -> int:
    if args.what == "config":
        print(config_path())
    elif args.profile:
        print(get_profile(args.profile).data_dir)
    else:
        print(data_root())
    return 0


def register(sub) -> None:
    p = sub.add_parser("locate", help="print the config file's path, or the data folder (of a profile)")
    p.add_argument("what", choices=("config", "data"))
    p.add_argument("profile", nargs="?", help="with `data`: that profile's data folder")
    p.set_defaults(func=cmd_locate)
