"""core/ never imports textual (nor the TUI): checked by import-linter, as Harlequin does."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "core never imports textual KEPT" in result.stdout
    assert "the headless command line never imports Textual or the app" in result.stdout
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert f"Contracts: {len(contracts)} kept, 0 broken." in result.stdout


def test_every_core_module_is_kept_out_of_the_simulator():
    """A new core module must join the contract, or be one of the two that start a simulator on purpose."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    guarded = next(set(c["source_modules"]) for c in config if c["forbidden_modules"] == ["core.sim"])
    modules = {f"core.{p.stem}" for p in (ROOT / "core").iterdir()
               if (p.suffix == ".py" or (p / "__init__.py").exists()) and p.stem != "__init__"}
    # core.twin: its capture, mask, scope and snapshot are guarded; its forecast and demo side start a simulator.
    assert modules - guarded == {"core.demo", "core.rehearsal", "core.sim", "core.twin"}


def test_core_imports_without_textual():
    code = "import sys, core.sim.app, core.errors; assert 'textual' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_no_undefined_names_or_unused_imports():
    """pyflakes-class errors only (F, E9): real mistakes, not style."""
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run([str(ruff), "check", "--select", "F,E9", "--no-cache", "core", "cli", "tui", "tests",
                             "scripts", "benchmarks"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# Cycles later issues remove (issue 9 lists them); any other cycle fails, late and TYPE_CHECKING imports included.
KNOWN_CYCLES = [
]


def import_cycles() -> list[set[str]]:
    """Strongly connected groups of the project's modules (Tarjan over grimp's graph)."""
    import grimp

    graph = grimp.build_graph("core", "tui")  # function-level and TYPE_CHECKING imports count
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    counter = 0

    def visit(root: str) -> None:  # iterative: the graph is deep enough to hit Python's recursion limit
        nonlocal counter
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(group)

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return groups


def test_no_import_cycles_beyond_the_known_ones():
    unknown = [sorted(g) for g in import_cycles() if not any(g <= known for known in KNOWN_CYCLES)]
    assert unknown == [], f"import cycles: {unknown}"


def test_the_cycle_finder_finds_a_cycle(tmp_path, monkeypatch):
    """The test above would pass on a finder that finds nothing: show it finds one."""
    import grimp

    pkg = tmp_path / "cyc"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from cyc import b\n")  # a late import
    (pkg / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from cyc import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    real = grimp.build_graph
    monkeypatch.setattr(grimp, "build_graph", lambda *names, **kw: real("cyc", **kw))
    assert import_cycles() == [{"cyc.a", "cyc.b"}]
