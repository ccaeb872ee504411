"""Every positional argument of every command says what it is in --help (a bare STEP or VAR leaves a consultant
guessing what goes there)."""

from __future__ import annotations

import argparse

from cli import build_parser


def _parsers(parser: argparse.ArgumentParser, path: str = "cutover"):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{path} {name}")


def test_every_positional_has_a_help_string():
    bare = [f"{path} {a.metavar or a.dest}" for path, p in _parsers(build_parser()) for a in p._actions
            if not a.option_strings and not isinstance(a, argparse._SubParsersAction) and not a.help]
    assert bare == []


def test_undo_help_describes_step(capsys):
    try:
        build_parser().parse_args(["undo", "--help"])
    except SystemExit:
        pass
    out = capsys.readouterr().out
    assert "E1, E2 or G2" in out.split("positional arguments:")[1].split("options:")[0]
