"""What the command line loads. `cutover --help` and a bad flag must answer at once, so building the parser loads
no HTTP client, settings library, keyring, database or UI; a headless command never loads Textual. Each case runs in
a fresh interpreter, because this test process has long since imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Heavy or out-of-place for a parser: each costs tens of milliseconds or drags in a tree of its own.
HEAVY = ("textual", "rich", "httpx", "httpcore", "anyio", "pydantic", "pydantic_settings", "keyring", "sqlite3",
         "oauthlib", "platformdirs", "filelock", "starlette", "uvicorn", "markdown_it", "tui", "core.sim",
         "core.demo", "core.zuora.client", "core.netsuite.client", "core.runbook.engine")


def _loaded(argv: list[str], tmp_path: Path) -> set[str]:
    script = ("import json, sys\nimport cli\ntry:\n    cli.main(json.loads(sys.argv[1]))\nexcept SystemExit:\n"
              "    pass\nprint(json.dumps(sorted(sys.modules)), file=sys.stderr)\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_STATE_HOME": str(tmp_path / "state"),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    run = subprocess.run([sys.executable, "-c", script, json.dumps(argv)], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120, check=False)
    return set(json.loads(run.stderr.strip().splitlines()[-1]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(h for h in HEAVY if h in modules)


@pytest.mark.parametrize("argv", [["--help"], ["check", "--help"], ["--no-such-flag"], ["apply"], ["--version"]],
                         ids=["help", "subcommand-help", "bad-flag", "missing-argument", "version"])
def test_the_parser_loads_nothing_heavy(argv, tmp_path):
    modules = _loaded(argv, tmp_path)
    assert "cli" in modules and "argparse" in modules  # it did run
    assert _heavy(modules) == []


def test_a_headless_command_never_loads_the_app(tmp_path):
    modules = _loaded(["check", "--demo", "--json"], tmp_path)
    assert "core.runbook.engine" in modules and "httpx" in modules  # it did check, over HTTP
    assert not {m for m in modules if m == "textual" or m.startswith(("textual.", "tui"))}


# What the app's first frame must not wait for: the simulator and its server, the Help screen's Markdown parser, the
# HTTP client, the keyring, the settings library and pydantic itself; they load in the app's worker after it.
APP_FIRST_FRAME_HEAVY = ("core.sim", "core.demo", "starlette", "uvicorn", "markdown_it", "httpx", "keyring",
                         "pydantic", "pydantic_settings", "sqlite3", "core.config", "core.profile", "core.runbook.model",
                         "core.runbook.phases")


def test_the_app_module_loads_only_what_the_first_frame_draws(tmp_path):
    script = ("import json, sys\nimport tui.app, tui.backend, cli.launch\n"
              "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n")
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={"PATH": "/usr/bin:/bin",
                         "HOME": str(tmp_path)}, capture_output=True, text=True, timeout=120, check=True)
    modules = set(json.loads(run.stderr.strip().splitlines()[-1]))
    assert "textual.app" in modules and "tui.screens.runbook" in modules  # it did load the app
    assert sorted(h for h in APP_FIRST_FRAME_HEAVY if h in modules) == []
