"""No secret ever leaves memory: run the real `cutover` in subprocesses against a live simulator with planted
secrets, right and wrong, then look for every one of them in stdout, stderr and every file the runs could write."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import save_profile, validate_profile
from core.demo import DemoTenant
from core.secrets import SECRET_NAMES, env_var

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
WRONG = {"zuora_client_secret": "planted-wrong-zuora-secret-7f3a9c", "netsuite_token_secret": "9e" * 32,
         "netsuite_consumer_secret": "c4" * 32}

# One process: store the secrets in the (in-memory) keyring through the CLI, drop them from the environment, then
# test the connection and show the profile from the keyring, with HTTP logging on.
KEYRING_RUN = """
import json, os, sys
from cli import main
codes = [main(["-v", "credentials", "set", "leak", "--from-env"])]
for name in [k for k in os.environ if k.startswith("CUTOVER_") and k != "CUTOVER_CONFIG_FILE"]:
    del os.environ[name]
codes += [main(["-v", "credentials", "test", "leak"]), main(["profile", "show", "leak"]),
          main(["profile", "show", "leak", "--json"]), main(["credentials", "test", "leak", "--json"])]
print("exit codes", json.dumps(codes))
"""


@pytest.fixture
def demo():
    with DemoTenant(scale=1) as d:
        yield d


def _env(tmp_path: Path, secrets: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUTOVER_")}
    (tmp_path / "home").mkdir(exist_ok=True)
    (tmp_path / "tmp").mkdir(exist_ok=True)
    env.update({
        "PYTHON_KEYRING_BACKEND": "memkeyring.MemoryKeyring",  # file-less, so the keyring itself holds no file
        "PYTHONPATH": os.pathsep.join([str(TESTS), str(ROOT)]),
        "HOME": str(tmp_path / "home"), "TMPDIR": str(tmp_path / "tmp"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
    })
    env.update({env_var(n): v for n, v in secrets.items()})
    return env


def _cutover(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def _leaks(tmp_path: Path, texts: list[str], secrets: list[str]) -> list[str]:
    found = [f"output #{i}" for i, text in enumerate(texts) for s in secrets if s in text]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "config.toml" for p in files)  # the scan saw the files the runs wrote
    for path in files:
        data = path.read_bytes()
        found += [str(path) for s in secrets if s.encode() in data]
    return found


def test_no_secret_in_output_or_files_on_success_and_failure(tmp_path, demo):
    p = demo.profile
    save_profile(validate_profile("leak", {"zuora_base_url": p.zuora_url(), "netsuite_base_url": p.netsuite_url(),
                                           "netsuite_account_id": p.netsuite_account_id}))
    right = {n: demo.credentials.value(n) for n in SECRET_NAMES}
    outputs = []

    via_keyring = _cutover(_env(tmp_path, right), "-c", KEYRING_RUN)
    outputs += [via_keyring.stdout, via_keyring.stderr]
    assert "exit codes [0, 0, 0, 0, 0]" in via_keyring.stdout, via_keyring.stderr
    assert "memkeyring.MemoryKeyring" in via_keyring.stdout and "in the keyring" in via_keyring.stdout
    # -v logged the calls to the log file, never the terminal, and the scan below covers that file
    assert "HTTP Request" not in via_keyring.stderr
    assert "HTTP Request: POST" in (tmp_path / "state" / "cutover" / "log" / "cutover.log").read_text()

    via_env = _cutover(_env(tmp_path, right), "-m", "cli", "-v", "credentials", "test", "leak")
    outputs += [via_env.stdout, via_env.stderr]
    assert via_env.returncode == 0, via_env.stderr

    wrong = _cutover(_env(tmp_path, {**right, **WRONG}), "-m", "cli", "-v", "credentials", "test", "leak")
    outputs += [wrong.stdout, wrong.stderr]
    assert wrong.returncode == 1
    assert "credentials refused" in wrong.stdout and "INVALID_LOGIN" in wrong.stdout
    assert "Traceback" not in wrong.stderr

    tokens = list(demo.sim.tokens)  # the bearer tokens Zuora issued to these runs are secrets too
    assert tokens
    assert len(_leaks(tmp_path, outputs, [p.netsuite_account_id])) > 1  # the scan does find what is there
    assert _leaks(tmp_path, outputs, [*right.values(), *WRONG.values(), *tokens]) == []


def test_a_failing_keyring_message_carries_no_secret(tmp_path, demo):
    p = demo.profile
    save_profile(validate_profile("leak", {"zuora_base_url": p.zuora_url(), "netsuite_base_url": p.netsuite_url(),
                                           "netsuite_account_id": p.netsuite_account_id}))
    partial = {"zuora_client_secret": demo.credentials.value("zuora_client_secret")}
    env = {**_env(tmp_path, partial), "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    run = _cutover(env, "-m", "cli", "credentials", "set", "leak", "--from-env")
    assert run.returncode == 2 and "gnome-keyring" in run.stderr
    run2 = _cutover(env, "-m", "cli", "credentials", "test", "leak")
    assert run2.returncode == 2 and "Traceback" not in run2.stderr
    assert _leaks(tmp_path, [run.stdout, run.stderr, run2.stdout, run2.stderr], list(partial.values())) == []
    assert json.dumps(partial) not in run.stderr
