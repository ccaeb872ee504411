"""How much faster `cutover check --demo --json` and `cutover rehearse --json` run on this tree than on an older commit
(by default 13fd2a2, the commit before issue 12), with the same interpreter and the same installed libraries.

    .venv/bin/python benchmarks/cli_speed.py [--base 13fd2a2] [--rounds 5] [--json]

The base commit is checked out once as a git worktree (under the system's temp folder, kept for later runs) and run
with PYTHONPATH pointing at it, so that its `core`, `tui` (and `cli`) shadow this checkout's editable install. A
library the base needs that this venv no longer has (authlib, before 8afe95b) is installed next to the worktree
with `pip install --no-deps --target`. Each tree runs its own `[project.scripts] cutover` entry point.

Each tree keeps one home folder across rounds (the data a user's second run finds), after a warm-up run that is
not counted and that also compiles the bytecode, as an installed tool has it. Runs alternate (base, this, base,
this ...) so a busy machine slows both alike; the figures are medians of wall time. Both trees must exit alike
(check exits 1 on the demo: it has failing checks on purpose). Prints one JSON object; makes no assertion.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
BASE_COMMIT = "13fd2a2"
COMMANDS = {"check_demo": ["check", "--demo", "--json"], "rehearse": ["rehearse", "--json"]}
LIMIT_S = 300.0


class Tree:
    """One checkout of cutover, run as its `cutover` command from its own folder and its own home."""

    def __init__(self, name: str, root: Path, extra_path: list[Path], home: Path):
        self.name, self.root, self.home = name, root, home
        self.pythonpath = os.pathsep.join(str(p) for p in [root, *extra_path])
        scripts = tomllib.loads((root / "pyproject.toml").read_text())["project"]["scripts"]
        module, _, func = scripts["cutover"].partition(":")
        self.entry = f"import sys; from {module} import {func}; sys.exit({func}())"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CUTOVER_", "XDG_"))}
        env.update(PYTHONPATH=self.pythonpath, HOME=str(self.home), XDG_CONFIG_HOME=str(self.home / "config"),
                   XDG_DATA_HOME=str(self.home / "data"), XDG_STATE_HOME=str(self.home / "state"),
                   XDG_CACHE_HOME=str(self.home / "cache"))
        return env

    def run(self, args: list[str]) -> tuple[float, int]:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", self.entry, *args], cwd=self.root, env=self.env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=LIMIT_S)
        elapsed = time.perf_counter() - started
        if done.returncode not in (0, 1):
            sys.exit(f"cli_speed: `cutover {' '.join(args)}` on {self.name} ended with exit {done.returncode}: "
                     f"{done.stderr.decode(errors='replace').strip().splitlines()[-1:]}")
        return elapsed, done.returncode


def base_worktree(commit: str) -> Path:
    """The base commit's worktree, added once and kept (git worktree add --detach)."""
    sha = subprocess.run(["git", "rev-parse", "--verify", f"{commit}^{{commit}}"], cwd=ROOT, capture_output=True,
                         text=True)
    if sha.returncode != 0:
        sys.exit(f"cli_speed: {commit} is not a commit of {ROOT} (pass --base with one that is)")
    where = Path(tempfile.gettempdir()) / f"cutover-base-{sha.stdout.strip()[:12]}"
    if not (where / "pyproject.toml").exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(where), sha.stdout.strip()], cwd=ROOT, check=True,
                       capture_output=True)
    return where


def missing_libraries(root: Path) -> list[str]:
    """The base's dependencies this interpreter does not have installed (markers evaluated here)."""
    wanted = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    missing = []
    for line in wanted:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        try:
            importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(line)
    return missing


def base_libraries(root: Path) -> Path:
    """A folder with what the base needs beyond this venv (pip --target, once)."""
    target = root / ".cli-speed-libs"
    missing = missing_libraries(root)
    if missing and not (target / ".done").exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
                        *missing], check=True)
        (target / ".done").write_text("\n".join(missing))
    return target


def measure(base: Tree, this: Tree, rounds: int) -> dict:
    result = {}
    for name, args in COMMANDS.items():
        exits = {}
        for tree in (base, this):  # warm-up: bytecode compiled, the home's first-run work done
            exits[tree.name] = tree.run(args)[1]
        if exits["base"] != exits["this"]:
            sys.exit(f"cli_speed: `cutover {' '.join(args)}` exits {exits['base']} on the base and {exits['this']} "
                     f"here: they do not do the same work, so their times do not compare")
        times: dict[str, list[float]] = {"base": [], "this": []}
        for _ in range(rounds):
            for tree in (base, this):
                times[tree.name].append(tree.run(args)[0])
        base_s, this_s = statistics.median(times["base"]), statistics.median(times["this"])
        result[name] = {"command": "cutover " + " ".join(args), "base_s": round(base_s, 3),
                        "this_s": round(this_s, 3), "speedup": round(base_s / this_s, 2),
                        "base_runs_s": [round(t, 3) for t in times["base"]],
                        "this_runs_s": [round(t, 3) for t in times["this"]]}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=BASE_COMMIT, help=f"the commit to compare with (default {BASE_COMMIT})")
    parser.add_argument("--rounds", type=int, default=5, help="timed runs of each command on each tree")
    parser.add_argument("--json", action="store_true", help="print only the JSON object")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    root = base_worktree(args.base)
    with tempfile.TemporaryDirectory(prefix="cli-speed-") as homes:
        base = Tree("base", root, [base_libraries(root)], Path(homes) / "base")
        this = Tree("this", ROOT, [], Path(homes) / "this")
        result = {"base": args.base, "rounds": args.rounds, **measure(base, this, args.rounds)}
    if not args.json:
        for name in COMMANDS:
            r = result[name]
            print(f"{r['command']}: {r['base_s']} s on {args.base}, {r['this_s']} s here: {r['speedup']}x",
                  file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
