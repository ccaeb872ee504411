"""`cutover sim serve` as a person (or the rehearsal) runs it: a subprocess, a JSON first line, loopback only."""

from __future__ import annotations

import json
import signal

import httpx
import pytest
from cli_support import served



def serving(*args: str):
    return served("sim", "serve", "--port", "0", "--scale", "tiny", *args)


def first_line(proc) -> dict:
    line = proc.stdout.readline()
    assert line, proc.stderr.read()
    return json.loads(line)


def test_serve_prints_connection_info_first_serves_and_stops_on_sigint():
    with serving() as proc:
        info = first_line(proc)
        assert info["zuora_base_url"].startswith("http://127.0.0.1:")
        token = httpx.post(f"{info['zuora_base_url']}/oauth/token", data={
            "grant_type": "client_credentials", "client_id": info["zuora_client_id"],
            "client_secret": info["zuora_client_secret"]})
        assert token.status_code == 200
        status = httpx.get(f"{info['zuora_base_url']}/_sim/connector/status",
                           headers={"Authorization": f"Bearer {token.json()['access_token']}"})
        assert status.json()["state"] == "running"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0
        assert "Traceback" not in proc.stderr.read()


def test_sigterm_stops_it_cleanly_and_credentials_differ_between_starts():
    seen = []
    for _ in range(2):
        with serving() as proc:
            seen.append(first_line(proc))
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(15) == 0
    secrets = ("zuora_client_id", "zuora_client_secret", "netsuite_consumer_key", "netsuite_consumer_secret",
               "netsuite_token_id", "netsuite_token_secret")
    for key in secrets:
        assert seen[0][key] != seen[1][key]


@pytest.mark.parametrize("args, says", [
    (["--host", "0.0.0.0"], "loopback"),
    (["--host", "192.168.1.10"], "--allow-remote"),
    (["--scale", "huge"], "scale must be one of"),
    (["--faults", "5xx=3"], "between 0 and 1"),
    (["--port", "seventy"], "invalid int value"),
    (["--latency-ms", "-5"], "cannot be negative"),
])
def test_bad_arguments_get_one_clear_line_and_exit_2(args, says, capsys):
    from cli import main

    try:
        code = main(["sim", "serve", *args])
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and "Traceback" not in err
