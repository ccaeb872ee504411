"""`cutover credentials set|test|delete|status`: real HTTP over loopback to the simulator, per-system outcomes."""

from __future__ import annotations

import getpass
import json
import socket

import pytest
from cli_support import run, simulated_profile

from core.secrets import SECRET_LABELS, SECRET_NAMES, SERVICE, Credentials, CredentialStore, env_var
from cli import credentials as credentials_cli
from cli import main


@pytest.fixture
def sim_profile(capsys, monkeypatch):
    with simulated_profile(capsys, monkeypatch) as demo:
        yield demo


def lines(out: str) -> dict[str, str]:
    return {line.split()[0]: line for line in out.splitlines() if line.strip()}


def test_good_credentials_pass_on_both_systems(capsys, sim_profile):
    code, out, err = run(capsys, "credentials", "test", "sim")
    assert code == 0, err
    got = lines(out)
    assert "ok" in got["Zuora"].split() and "ok" in got["NetSuite"].split()
    assert sim_profile.base_url in got["Zuora"]


def test_wrong_zuora_secret_fails_zuora_only(capsys, sim_profile):
    CredentialStore().save("sim", Credentials.from_values({"zuora_client_secret": "not-the-secret"}))
    code, out, _ = run(capsys, "credentials", "test", "sim")
    got = lines(out)
    assert code == 1
    assert "FAILED" in got["Zuora"] and "credentials refused" in got["Zuora"]
    assert "ok" in got["NetSuite"].split()


def test_wrong_netsuite_token_secret_fails_netsuite_only(capsys, sim_profile):
    CredentialStore().save("sim", Credentials.from_values({"netsuite_token_secret": "f" * 64}))
    code, out, _ = run(capsys, "credentials", "test", "sim", "--json")
    report = json.loads(out)  # one object, as every --json
    checks = {c["system"]: c for c in report["checks"]}
    assert code == 1 and report["profile"] == "sim" and report["ok"] is False
    assert checks["Zuora"]["ok"] is True
    assert checks["NetSuite"]["ok"] is False and checks["NetSuite"]["reason"] == "credentials"
    assert "INVALID_LOGIN" in checks["NetSuite"]["detail"]


def test_missing_secrets_are_named_per_system(capsys, sim_profile):
    CredentialStore().delete("sim")
    CredentialStore().save("sim", Credentials.from_values({n: sim_profile.credentials.value(n)
                                                           for n in SECRET_NAMES[:2]}))
    code, out, _ = run(capsys, "credentials", "test", "sim")
    got = lines(out)
    assert code == 1 and "ok" in got["Zuora"].split()
    assert "credentials missing" in got["NetSuite"] and "NetSuite consumer key" in got["NetSuite"]
    assert "cutover credentials set sim" in got["NetSuite"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("scheme, reason", [("http", "host unreachable"), ("https", "TLS handshake failed")])
def test_unreachable_and_tls_failures_are_told_apart(capsys, sim_profile, scheme, reason):
    port = _closed_port() if scheme == "http" else sim_profile.base_url.rsplit(":", 1)[1]  # https to a plain port
    url = f"{scheme}://127.0.0.1:{port}"
    p = sim_profile.profile
    assert run(capsys, "profile", "add", "sim", "--zuora-base-url", url, "--netsuite-base-url", url,
               "--netsuite-account-id", p.netsuite_account_id, "--replace")[0] == 0
    code, out, _ = run(capsys, "credentials", "test", "sim", "--timeout", "5")
    got = lines(out)
    assert code == 1
    assert reason in got["Zuora"] and reason in got["NetSuite"]


def test_a_slow_host_is_reported_as_a_timeout(capsys, monkeypatch):
    with simulated_profile(capsys, monkeypatch, latency_ms=600):
        code, out, _ = run(capsys, "credentials", "test", "sim", "--timeout", "0.15")
    got = lines(out)
    assert code == 1
    assert "no answer in time" in got["Zuora"] and "no answer in time" in got["NetSuite"]


def test_unknown_profile_is_a_config_error(capsys):
    code, _, err = run(capsys, "credentials", "test", "nope")
    assert code == 2 and "no profile named 'nope'" in err
    code, out, err = run(capsys, "open", "nope")  # said before the TUI takes over the terminal
    assert code == 2 and "no profile named 'nope'" in err and out == ""


def test_set_from_env_stores_what_is_given_and_names_what_is_missing(capsys, monkeypatch, memory_keyring):
    run(capsys, "profile", "add", "acme", "--zuora-env", "SBX", "--netsuite-account-id", "1_SB1")
    monkeypatch.setenv("CUTOVER_ZUORA_CLIENT_ID", "zid")
    monkeypatch.setenv("CUTOVER_ZUORA_CLIENT_SECRET", "zsecret")
    code, out, _ = run(capsys, "credentials", "set", "acme", "--from-env")
    assert code == 0 and "stored 2 secret(s)" in out and "still missing: netsuite_consumer_key" in out
    assert memory_keyring.store[("cutover", "acme/zuora_client_secret")] == "zsecret"
    assert "zsecret" not in out


def test_set_from_env_with_nothing_set_says_which_variables(capsys):
    run(capsys, "profile", "add", "acme", "--zuora-env", "SBX", "--netsuite-account-id", "1_SB1")
    code, _, err = run(capsys, "credentials", "set", "acme", "--from-env", "--only", "netsuite")
    assert code == 2 and "CUTOVER_NETSUITE_TOKEN_SECRET" in err and "CUTOVER_ZUORA" not in err


def test_set_prompts_without_echo_and_enter_keeps_a_stored_secret(capsys, monkeypatch, memory_keyring):
    run(capsys, "profile", "add", "acme", "--zuora-env", "SBX", "--netsuite-account-id", "1_SB1")
    CredentialStore().save("acme", Credentials.from_values({"zuora_client_id": "kept"}))
    answers = {SECRET_LABELS[n]: ("" if n == "zuora_client_id" else f"typed-{n}") for n in SECRET_NAMES}
    prompts = []

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return answers[prompt.split(" (")[0].rstrip(": ")]

    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    monkeypatch.setattr(credentials_cli.sys, "stdin", type("Tty", (), {"isatty": lambda self: True})())
    code, out, _ = run(capsys, "credentials", "set", "acme")
    assert code == 0 and "still missing" not in out
    assert len(prompts) == 6 and "Enter keeps the stored one" in prompts[0]
    stored = CredentialStore().load("acme")
    assert stored.value("zuora_client_id") == "kept"
    assert stored.value("netsuite_token_secret") == "typed-netsuite_token_secret"


def test_set_without_a_terminal_points_to_from_env(capsys, monkeypatch):
    run(capsys, "profile", "add", "acme", "--zuora-env", "SBX", "--netsuite-account-id", "1_SB1")
    monkeypatch.setattr(credentials_cli.sys, "stdin", type("Pipe", (), {"isatty": lambda self: False})())
    code, _, err = run(capsys, "credentials", "set", "acme")
    assert code == 2 and "--from-env" in err


def test_secrets_are_never_accepted_as_arguments(capsys):
    for flag in ("--zuora-client-secret", "--secret", "--password"):
        with pytest.raises(SystemExit) as info:
            main(["credentials", "set", "acme", flag, "x"])
        assert info.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_delete_and_status(capsys, memory_keyring):
    CredentialStore().save("acme", Credentials.from_values({n: "v" for n in SECRET_NAMES}))
    code, out, _ = run(capsys, "credentials", "delete", "acme")
    assert code == 0 and "deleted 6 secret(s)" in out and memory_keyring.store == {}
    assert "held no secrets" in run(capsys, "credentials", "delete", "acme")[1]
    code, out, _ = run(capsys, "credentials", "status")
    assert code == 0 and "memkeyring.MemoryKeyring" in out and "usable: yes" in out


def test_environment_names_match_the_documented_variables():
    assert [env_var(n) for n in SECRET_NAMES] == [
        "CUTOVER_ZUORA_CLIENT_ID", "CUTOVER_ZUORA_CLIENT_SECRET", "CUTOVER_NETSUITE_CONSUMER_KEY",
        "CUTOVER_NETSUITE_CONSUMER_SECRET", "CUTOVER_NETSUITE_TOKEN_ID", "CUTOVER_NETSUITE_TOKEN_SECRET"]
    assert SERVICE == "cutover"
