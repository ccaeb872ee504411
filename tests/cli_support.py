"""Helpers for the CLI tests: run `cutover` in process, and a profile registered against a live simulator."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.demo import DemoTenant
from core.secrets import SECRET_NAMES, env_var
from cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    """`cutover ARGS` in this process: (exit code, stdout, stderr)."""
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@contextmanager
def simulated_profile(capsys, monkeypatch, name: str = "sim", **sim_options) -> Iterator[DemoTenant]:
    """A live simulator, and a profile `name` pointing at it whose secrets went in with
    `cutover credentials set NAME --from-env`, as a consultant would do it."""
    with DemoTenant(scale=1, **sim_options) as demo:
        p = demo.profile
        code, _, err = run(capsys, "profile", "add", name, "--zuora-base-url", p.zuora_url(), "--netsuite-base-url",
                           p.netsuite_url(), "--netsuite-account-id", p.netsuite_account_id)
        assert code == 0, err
        with monkeypatch.context() as env:
            for n in SECRET_NAMES:
                env.setenv(env_var(n), demo.credentials.value(n))
            code, _, err = run(capsys, "credentials", "set", name, "--from-env")
            assert code == 0, err
        yield demo


@contextmanager
def served(*args: str) -> Iterator[subprocess.Popen]:
    """`cutover ARGS` as a real subprocess (a server: `sim serve`, `twin serve`), text pipes; killed if still up."""
    proc = subprocess.Popen([str(Path(sys.executable).with_name("cutover")), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
