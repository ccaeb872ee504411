"""`cutover completion bash|zsh|fish`: the shell completion script for the parser, written by shtab.

shtab is imported only here, when the script is asked for, so the parser stays light. Profile names complete from
the config (`cutover profile list --names`), asked of cutover only when a profile is being completed.
"""

from __future__ import annotations

import argparse

SHELLS = ("bash", "zsh", "fish")
_NAMES = "command cutover profile list --names 2>/dev/null"
# How each shell asks for profile names: shtab calls the bash and zsh functions by name, fish runs the command.
PROFILES = {"bash": "_cutover_profiles", "zsh": "_cutover_profiles", "fish": f"({_NAMES})"}
PREAMBLE = {
    "bash": f'_cutover_profiles() {{\n  compgen -W "$({_NAMES})" -- "$1"\n}}\n',
    "zsh": f'_cutover_profiles() {{\n  compadd -- ${{(f)"$({_NAMES})"}}\n}}\n',
}


def _profile_actions(parser: argparse.ArgumentParser):
    """Every --profile flag and positional profile NAME, in every subcommand at any depth."""
    for action in parser._actions:
        if action.dest == "profile" or (action.dest == "name" and action.metavar == "NAME"):
            yield action
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):  # aliases share one parser
                yield from _profile_actions(sub)


def cmd_completion(args: argparse.Namespace) -> int:
    import shtab

    from cli import build_parser

    parser = build_parser()
    for action in _profile_actions(parser):
        action.complete = PROFILES
    print(shtab.complete(parser, shell=args.shell, preamble=PREAMBLE))
    return 0


def register(sub) -> None:
    p = sub.add_parser("completion", help="print the shell completion script (bash, zsh or fish)",
                       description="Print cutover's completion script for a shell. Install it with one of:\n"
                                   "  cutover completion bash > ~/.local/share/bash-completion/completions/cutover\n"
                                   "  cutover completion zsh > ~/.zfunc/_cutover   (with fpath=(~/.zfunc $fpath) "
                                   "before compinit in ~/.zshrc)\n"
                                   "  cutover completion fish > ~/.config/fish/completions/cutover.fish\n"
                                   "(make the folder first if need be), then open a new shell.",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("shell", choices=SHELLS, help="the shell to complete for: " + ", ".join(SHELLS))
    p.set_defaults(func=cmd_completion)
