"""A wheel built from this tree installs with `uv tool install` into a fresh place and runs as a user would run it
(issue 13's "in a fresh venv: cutover --version, cutover doctor --demo --json and cutover serve --help work").

The wheel is built with `pip wheel --no-deps` (setuptools from the build-system table, in an isolated build), then
`uv tool install` puts it and its dependencies, resolved from the package index, into a tool folder and a bin
folder of the test's own, with a cache of its own: nothing of the development venv is reused. HOME and the XDG
folders point into the test's folder, and the keyring is the null backend, as on a fresh server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.wheel, pytest.mark.timeout(240)]


def _uv() -> str:
    from uv import find_uv_bin  # the uv wheel from the test extra: one binary, no other dependency

    return find_uv_bin()


def test_the_wheel_installs_as_a_uv_tool_and_runs(tmp_path):
    dist = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
                           capture_output=True, text=True, timeout=180)
    assert build.returncode == 0, build.stderr
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    wheel = dist / f"zuora_is_cutover-{version}-py3-none-any.whl"
    assert wheel.is_file(), sorted(p.name for p in dist.iterdir())

    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / ".local/share"),
           "XDG_STATE_HOME": str(home / ".local/state"), "XDG_CACHE_HOME": str(home / ".cache"),
           "UV_TOOL_DIR": str(tmp_path / "tools"), "UV_TOOL_BIN_DIR": str(tmp_path / "bin"),
           "UV_CACHE_DIR": str(tmp_path / "uv-cache"), "UV_NO_CONFIG": "1", "UV_PYTHON_DOWNLOADS": "never",
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    for passed_on in ("SSL_CERT_FILE", "UV_INDEX_URL", "UV_DEFAULT_INDEX", "HTTPS_PROXY", "https_proxy"):
        if passed_on in os.environ:  # how this machine reaches the package index, if it says
            env[passed_on] = os.environ[passed_on]
    install = subprocess.run([_uv(), "tool", "install", "--python", sys.executable, str(wheel)], env=env,
                             capture_output=True, text=True, timeout=180)
    assert install.returncode == 0, install.stderr
    cutover = tmp_path / "bin" / "cutover"
    assert cutover.is_file(), install.stderr

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(cutover), *args], env=env, capture_output=True, text=True, timeout=120,
                              cwd=home)

    done = run("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"cutover {version}", done.stderr
    done = run("demo", "--help")
    assert done.returncode == 0 and done.stdout.startswith("usage: cutover demo"), done.stderr
    done = run("serve", "--help")
    assert done.returncode == 0 and done.stdout.startswith("usage: cutover serve"), done.stderr
    done = run("doctor", "--demo", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    doctor = json.loads(done.stdout)
    assert doctor["ok"] and {c["check"]: c["status"] for c in doctor["checks"]}["zuora"] == "ok"
    assert f"cutover {version}" in doctor["checks"][0]["detail"]  # the installed distribution's metadata
    done = run("rehearse", "--scale", "small", "--json")
    assert done.returncode == 0, done.stderr
    rehearsal = json.loads(done.stdout)
    assert rehearsal["passed"] and rehearsal["scale"] == 2000
