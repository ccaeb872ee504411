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
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_every_core_module_is_kept_out_of_the_simulator():
    """A new core module must join the contract, or be one of the two that start a simulator on purpose."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    guarded = next(set(c["source_modules"]) for c in config if c["forbidden_modules"] == ["core.sim"])
    modules = {f"core.{p.stem}" for p in (ROOT / "core").iterdir()
               if (p.suffix == ".py" or (p / "__init__.py").exists()) and p.stem != "__init__"}
    assert modules - guarded == {"core.demo", "core.rehearsal", "core.sim"}


def test_core_imports_without_textual():
    code = "import sys, core.sim.app, core.errors; assert 'textual' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_no_undefined_names_or_unused_imports():
    """pyflakes-class errors only (F, E9): real mistakes, not style."""
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run([str(ruff), "check", "--select", "F,E9", "--no-cache", "core", "tui", "tests",
                             "scripts", "benchmarks"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
