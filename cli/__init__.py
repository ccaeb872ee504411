"""The `cutover` command. Each module in this package adds its subcommands through `register(subparsers)`.

Building the parser loads argparse, core.errors and a few standard-library constants, nothing else: each command
imports what it needs when it runs, so `cutover --help` and a bad flag answer at once. Headless commands import
core only; the Textual app is reached through cli.launch alone (`demo`, `open`, `profiles`), so `cutover check
--json` works on a box with no terminal and no keyring. tests/test_cli_imports.py holds both.

Whatever goes wrong ends in one line on stderr and exit 2 (130 for Ctrl+C), never a traceback: a CutoverError says
what to do, a file the tool cannot write names the path and the fix, and anything unforeseen points at the log file
(`cutover locate log`), where the details are. Logging goes to that file only, never the terminal.
"""

from __future__ import annotations

import argparse
import os
import sys

from core.errors import CutoverError, first_cause

EXIT_ERROR, EXIT_INTERRUPTED = 2, 130


# ---- arguments ---------------------------------------------------------------------------------------------------
def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 3600:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0 and up to 3600: give one "
                                         f"such as --timeout 30")
    return value


def add_global_flags(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """-v, --debug, --timeout and --profile. On the top parser they carry the defaults; on each subcommand they are
    SUPPRESSed, so a value given after the subcommand wins and an absent one leaves the top parser's in place."""
    given = {} if top else {"default": argparse.SUPPRESS}
    parser.add_argument("-v", "--verbose", action="store_true", **given,
                        help="record HTTP calls in the log file (`cutover locate log`; secrets redacted)")
    parser.add_argument("--debug", action="store_true", **given, help="record everything in the log file")
    parser.add_argument("--timeout", type=_seconds, metavar="SECONDS", **given,
                        help="give up on a request to Zuora or NetSuite after this long (default: the client's)")
    parser.add_argument("--profile", metavar="NAME", **given, help="the profile to work on (`cutover profile list`)")


class _Subcommands(argparse._SubParsersAction):
    def add_parser(self, name, **kwargs):
        # A fresh copy per subcommand: a subcommand that defines one of these flags itself replaces only its own.
        flags = argparse.ArgumentParser(add_help=False)
        add_global_flags(flags, top=False)
        kwargs["parents"] = [*kwargs.get("parents", ()), flags]
        return super().add_parser(name, **kwargs)


class Parser(argparse.ArgumentParser):
    """One line on a bad argument (not a usage block), and the global flags on every subcommand at any depth."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("conflict_handler", "resolve")
        super().__init__(*args, **kwargs)
        self.register("action", "parsers", _Subcommands)

    def error(self, message: str):
        self.exit(EXIT_ERROR, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


class _Version(argparse.Action):
    """`--version`: the installed distribution's version, looked up only when asked (importlib.metadata is not
    cheap enough for every parse)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from core.about import version

        print(f"cutover {version()}")  # on stdout, as argparse's own version action and gh do
        parser.exit(0)


# The commands that open the app, registered by cli.launch. A line that starts with one (or `cutover` alone) builds
# only their parsers: the app's first frame does not wait for every other subcommand's parser and module.
LAUNCHERS = frozenset({"demo", "open", "profiles"})


def build_parser(*, launchers_only: bool = False) -> argparse.ArgumentParser:
    """The whole command line; `launchers_only`: the top parser and cli.launch's commands, for a line that names one
    first (its help and errors are the same: the top parser's help, the only one that lists the others, is not
    asked for on such a line)."""
    parser = Parser(
        prog="cutover",
        description="Guided, verified move of a Zuora + NetSuite Connector tenant to Invoice Settlement. "
                    "Alone, `cutover` opens the app on the default profile (or shows this help when none is set).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    add_global_flags(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    if launchers_only:
        from cli import launch

        launch.register(sub)
        return parser
    from cli import (completion, credentials, doctor, help, instances, launch, locate, monitor, profile, rehearse,
                     report, runbook, serve, sim, twin, undo)

    parser.epilog = help.epilog()
    for commands in (credentials, instances, launch, locate, monitor, profile, rehearse, report, runbook, serve, sim,
                     twin, undo, doctor, completion, help):
        commands.register(sub)
    return parser


def _bare(args: argparse.Namespace) -> int:
    """`cutover` alone: the app on the default profile (or --profile NAME), else the help, exit 0 either way."""
    from cli.launch import cmd_open
    from cli.target import chosen_profile

    if chosen_profile(args) is None:
        build_parser().print_help()
        return 0
    args.interval, args.name = 5.0, None
    return cmd_open(args)


# ---- running one command -----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    line = sys.argv[1:] if argv is None else argv
    args = build_parser(launchers_only=not line or line[0] in LAUNCHERS).parse_args(argv)
    import logging  # after parsing: --help and a bad flag never load logging

    from core.logs import start_log, stop_log

    logfile = start_log(logging.DEBUG if args.debug else logging.INFO if args.verbose else logging.WARNING)
    func = args.func if args.command else _bare
    try:
        try:
            code = int(func(args) or 0)
        except BaseException as exc:  # noqa: BLE001 - SystemExit passes through _outcome untouched
            code = _outcome(exc, logfile)
        return code if _flush_stdout() else _pipe_closed()
    finally:
        stop_log(logfile)


def _outcome(exc: BaseException, logfile) -> int:
    """The exit code for an exception that ended a command, after its one line on stderr."""
    import logging

    log = logging.getLogger("cutover")
    cause = first_cause(exc)  # out of a task group's ExceptionGroup, the one a person should hear about
    if isinstance(cause, SystemExit):
        raise exc
    if isinstance(cause, KeyboardInterrupt):
        _say("interrupted")
        return EXIT_INTERRUPTED
    if isinstance(cause, BrokenPipeError) and _stdout_gone():
        return _pipe_closed()
    if isinstance(cause, CutoverError):
        log.info("stopped: %s", cause)
        _say(str(cause))
        return EXIT_ERROR
    from core.config import file_problem

    known = file_problem(cause) if isinstance(cause, OSError) else _journal_problem(cause)
    if known is not None:
        log.error("stopped: %s", known, exc_info=exc)
        _say(str(known))
        return EXIT_ERROR
    if not isinstance(exc, Exception):
        raise exc
    log.error("unexpected failure", exc_info=exc)
    where = logfile.baseFilename
    if logfile.written:
        _say(f"something went wrong that cutover cannot explain ({type(cause).__name__}); the details are in "
             f"{where}: attach that file when you report it")
    else:
        from core.logs import redact

        reason = logfile.failed.strerror if logfile.failed and logfile.failed.strerror else "it could not be written"
        _say(f"something went wrong that cutover cannot explain ({type(cause).__name__}: {redact(str(cause))}); "
             f"the log file {where} could not be written ({reason}), so run it again once that folder is writable")
    return EXIT_ERROR


def _journal_problem(exc: BaseException) -> CutoverError | None:
    """SQLite's own words for a journal the disk or the folder will not let it write, with what to do."""
    import sqlite3

    if not isinstance(exc, sqlite3.Error):
        return None
    text = str(exc)
    where = "the profile's data folder (`cutover locate data --profile NAME`)"
    if "disk is full" in text or "disk I/O error" in text:
        return CutoverError(f"the journal could not be written: {text}",
                            hint=f"free some space on the disk that holds {where}, then run the command again")
    if "readonly" in text or "unable to open" in text or "permission" in text.lower():
        return CutoverError(f"the journal could not be written: {text}",
                            hint=f"make {where} writable, or give the profile another --data-dir")
    if "locked" in text or "busy" in text:
        return CutoverError(f"the journal is in use by another cutover: {text}",
                            hint="wait for the other command to finish, then run this one again")
    return None


def _say(line: str) -> None:
    print(f"cutover: {line}", file=sys.stderr, flush=True)


def _stdout_gone() -> bool:
    """Is our stdout a pipe whose reader has left? (A BrokenPipeError can also come from a socket.)"""
    try:
        import select

        poller = select.poll()
        poller.register(sys.stdout.fileno(), 0)
        return any(event & (select.POLLERR | select.POLLHUP) for _, event in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll (Windows), or no real stdout (tests capture it)
        return True


def _silence_stdout() -> None:
    """Point stdout at devnull, so the interpreter's last flush has nowhere to fail (the recipe in the Python docs,
    "Note on SIGPIPE")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):
        pass


def _flush_stdout() -> bool:
    """False when the reader of our stdout has gone (what was left unwritten is lost)."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return False
    except (OSError, ValueError):
        pass
    return True


def _pipe_closed() -> int:
    """`cutover rehearse | head -1`: the reader left before cutover finished writing. Like `cat: write error`, say so
    once on stderr and exit non-zero, so a script with pipefail knows the output is cut; no 'Exception ignored'."""
    _silence_stdout()
    _say("output cut short: the program reading it closed the pipe (e.g. `| head`); to keep all of it, write it "
         "to a file (`> FILE`, or -o FILE where the command has it)")
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
