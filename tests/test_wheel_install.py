"""A wheel built from this tree installs with `uv tool install` and with `pipx install` into fresh places and runs as
a user would run it (issue 13's "in a fresh venv: cutover --version, cutover doctor --demo --json and cutover serve
--help work"; the README shows both installers).

The wheel is built once with `pip wheel --no-deps` (setuptools from the build-system table, in an isolated build).
Each installer puts it and its dependencies, resolved from the package index, into a tool folder and a bin folder of
the test's own, with a cache of its own: nothing of the development venv is reused. HOME and the XDG folders point
into the test's folder, and the keyring is the null backend, as on a fresh server.

pipx runs on its pip backend: pipx (1.18) switches to uv by itself when it finds one beside it, as it would
here (the test extra's), and that would only repeat the uv install. The pip backend is what a pipx user without uv
gets (~12 s here).
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
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
pytestmark = [pytest.mark.wheel, pytest.mark.timeout(240)]
# how this machine reaches the package index, if it says: passed on to the installers
INDEX_SETTINGS = ("SSL_CERT_FILE", "HTTPS_PROXY", "https_proxy", "UV_INDEX_URL", "UV_DEFAULT_INDEX", "PIP_INDEX_URL",
                  "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CERT", "PIP_CONFIG_FILE", "PIP_DEFAULT_TIMEOUT")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
                           capture_output=True, text=True, timeout=180)
    assert build.returncode == 0, build.stderr
    built = dist / f"zuora_is_cutover-{VERSION}-py3-none-any.whl"
    assert built.is_file(), sorted(p.name for p in dist.iterdir())
    return built


def fresh_env(tmp_path: Path, **installer: str) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / ".local/share"),
           "XDG_STATE_HOME": str(home / ".local/state"), "XDG_CACHE_HOME": str(home / ".cache"),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", **installer}
    env.update({name: os.environ[name] for name in INDEX_SETTINGS if name in os.environ})
    return env


def runner(cutover: Path, env: dict[str, str]):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(cutover), *args], env=env, capture_output=True, text=True, timeout=120,
                              cwd=env["HOME"])

    return run


def assert_runs_as_installed(run) -> None:
    """What the issue asks of an install: the version, the demo's help and a small rehearsal."""
    done = run("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"cutover {VERSION}", done.stderr
    done = run("demo", "--help")
    assert done.returncode == 0 and done.stdout.startswith("usage: cutover demo"), done.stderr
    done = run("rehearse", "--scale", "small", "--json")
    assert done.returncode == 0, done.stderr
    rehearsal = json.loads(done.stdout)
    assert rehearsal["passed"] and rehearsal["scale"] == 2000


def _uv() -> str:
    from uv import find_uv_bin  # the uv wheel from the test extra: one binary, no other dependency

    return find_uv_bin()


def test_the_wheel_installs_as_a_uv_tool_and_runs(tmp_path, wheel):
    env = fresh_env(tmp_path, UV_TOOL_DIR=str(tmp_path / "tools"), UV_TOOL_BIN_DIR=str(tmp_path / "bin"),
                    UV_CACHE_DIR=str(tmp_path / "uv-cache"), UV_NO_CONFIG="1", UV_PYTHON_DOWNLOADS="never")
    install = subprocess.run([_uv(), "tool", "install", "--python", sys.executable, str(wheel)], env=env,
                             capture_output=True, text=True, timeout=180)
    assert install.returncode == 0, install.stderr
    cutover = tmp_path / "bin" / "cutover"
    assert cutover.is_file(), install.stderr
    run = runner(cutover, env)

    assert_runs_as_installed(run)
    done = run("serve", "--help")
    assert done.returncode == 0 and done.stdout.startswith("usage: cutover serve"), done.stderr
    done = run("doctor", "--demo", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    doctor = json.loads(done.stdout)
    assert doctor["ok"] and {c["check"]: c["status"] for c in doctor["checks"]}["zuora"] == "ok"
    assert f"cutover {VERSION}" in doctor["checks"][0]["detail"]  # the installed distribution's metadata


def test_the_wheel_installs_with_pipx_and_runs(tmp_path, wheel):
    env = fresh_env(tmp_path, PIPX_HOME=str(tmp_path / "pipx"), PIPX_BIN_DIR=str(tmp_path / "bin"),
                    PIPX_MAN_DIR=str(tmp_path / "man"), PIPX_DEFAULT_BACKEND="pip",
                    PIP_DISABLE_PIP_VERSION_CHECK="1")
    install = subprocess.run([sys.executable, "-m", "pipx", "install", "--python", sys.executable, str(wheel)],
                             env=env, capture_output=True, text=True, timeout=180)
    assert install.returncode == 0, install.stdout + install.stderr
    kept = json.loads((tmp_path / "pipx" / "venvs" / "zuora-is-cutover" / "pipx_metadata.json").read_text())
    assert kept["backend"] == "pip" and kept["main_package"]["package"] == "zuora-is-cutover"
    cutover = tmp_path / "bin" / "cutover"
    assert cutover.is_file(), install.stdout

    assert_runs_as_installed(runner(cutover, env))
