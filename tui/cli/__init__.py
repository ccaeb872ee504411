"""The `cutover` command. Each module in this package adds its subcommands through `register(subparsers)`.

Headless commands import core only; the Textual app is imported lazily by the commands that open it, so
`cutover check --json` works on a box with no terminal and no keyring.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from core.errors import CutoverError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cutover",
        description="Guided, verified move of a Zuora + NetSuite Connector tenant to Invoice Settlement.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log HTTP calls (never secrets)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except CutoverError as exc:
        print(f"cutover: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cutover: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
