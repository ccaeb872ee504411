"""`cutover help [TOPIC|COMMAND]`, the help topics (environment, exit-codes), and the examples and exit codes at the
foot of `cutover --help`. Standard library only: it is part of building the parser.
"""

from __future__ import annotations

import argparse
import sys

from core.secret_names import SECRET_LABELS, SECRET_NAMES, env_var

# What main() really returns (cli/__init__.py, and each command's own EXIT_* constants).
EXIT_CODES = (
    (0, "done: every check passes, the command did what it said"),
    (1, "a check does not pass or a step needs action (check, apply, rehearse, doctor, credentials test/status)"),
    (2, "usage error or failure: one line on stderr says what to do (also: output cut short by a closed pipe)"),
    (130, "interrupted (Ctrl+C)"),
)

EXAMPLES = (
    ("cutover demo", "open the app on a fresh simulated tenant"),
    ("cutover profile add acme-sbx --zuora-env us-cloud1-api-sandbox --netsuite-account-id 1234567_SB1",
     "a profile for a sandbox tenant (secrets: `cutover credentials set acme-sbx`)"),
    ("cutover profile default acme-sbx", "later commands work on acme-sbx unless told --profile"),
    ("cutover check C --json", "phase C's checks, one JSON array"),
    ("cutover plan E1 --json", "the records E1 would change, and the plan's seal"),
    ("cutover doctor", "is this machine ready? one line per check, with the fix"),
    ("cutover completion bash > ~/.local/share/bash-completion/completions/cutover",
     "tab completion for bash (zsh and fish: `cutover completion --help`)"),
)


def environment_lines() -> list[tuple[str, str]]:
    secrets = [(env_var(n), f"the {SECRET_LABELS[n]}, instead of the keyring (CI)") for n in SECRET_NAMES]
    return [
        ("CUTOVER_PROFILE", "the profile to use when no --profile is given (beats `cutover profile default`)"),
        ("CUTOVER_CONFIG_FILE", "the config file to use instead of config.toml in the user config folder"),
        ("CUTOVER_OPERATOR", "who records, as 'Ada Lovelace <ada@example.com>', when the profile names nobody"),
        ("CUTOVER_PROFILES__NAME__KEY", "overrides one setting of profile NAME, e.g. "
                                        "CUTOVER_PROFILES__ACME__READ_ONLY=true"),
        *secrets,
        ("PYTHON_KEYRING_BACKEND", "the keyring backend to use, e.g. keyring.backends.SecretService.Keyring"),
        ("TEXTUAL_THEME", "the app's colour theme, e.g. textual-light"),
        ("NO_COLOR", "the app draws without colour"),
        ("XDG_CONFIG_HOME, XDG_DATA_HOME, XDG_STATE_HOME", "where config, journals and the log live (Linux; "
                                                           "`cutover locate` prints them)"),
    ]


def _rows(rows, cap: int = 34) -> str:
    """Two columns; a first column longer than `cap` puts its text on the next line, under the second column."""
    width = min(cap, max(len(str(k)) for k, _ in rows))
    return "\n".join(f"  {k!s:<{width}}  {v}".rstrip() if len(str(k)) <= width or not v else
                     f"  {k}\n  {'':<{width}}  {v}" for k, v in rows)


def epilog() -> str:
    return (f"examples:\n{_rows(EXAMPLES)}\n\nexit codes:\n{_rows(EXIT_CODES)}\n\n"
            "environment variables: `cutover help environment`; exit codes in detail: `cutover help exit-codes`")


TOPICS = {
    "environment": lambda: "Environment variables cutover reads:\n" + _rows(environment_lines()),
    "exit-codes": lambda: (
        "Exit codes:\n" + _rows(EXIT_CODES) + "\n\nA usage error (an unknown flag, a missing argument) and every "
        "failure end in one line on stderr that says what to do, never a traceback; details of anything unforeseen "
        "go to the log file (`cutover locate log`)."),
}


def cmd_help(args: argparse.Namespace) -> int:
    from cli import EXIT_ERROR, build_parser

    parser = build_parser()
    if args.topic is None:
        parser.print_help()
        return 0
    if args.topic in TOPICS:
        print(TOPICS[args.topic]())
        return 0
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    if args.topic in commands:
        commands[args.topic].print_help()
        return 0
    print(f"cutover: no help topic {args.topic!r} (topics: {', '.join(TOPICS)}, or a command such as check)",
          file=sys.stderr)
    return EXIT_ERROR


def register(sub) -> None:
    p = sub.add_parser("help", help="help on a topic (environment, exit-codes) or a command; alone, --help",
                       description="`cutover help` is `cutover --help`; `cutover help environment` lists the "
                                   "environment variables, `cutover help exit-codes` the exit codes, and "
                                   "`cutover help COMMAND` is `cutover COMMAND --help`.")
    p.add_argument("topic", nargs="?", metavar="TOPIC", help="environment, exit-codes, or a command")
    p.set_defaults(func=cmd_help)
