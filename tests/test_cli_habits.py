"""The habits of gh and terraform: --version, a default profile, help with examples, exit codes and environment
variables, help topics, bare `cutover`, and shell completion that works in a real bash."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from cli_support import run, simulated_profile

import cli
from cli import main
from cli.help import EXIT_CODES
from core.secret_names import SECRET_NAMES, env_var

ADD = ("--zuora-env", "us-cloud1-api-sandbox", "--netsuite-account-id")


def _profiles(capsys, *names: str) -> None:
    for i, name in enumerate(names):
        code, _, err = run(capsys, "profile", "add", name, *ADD, f"123456{i}_SB1")
        assert code == 0, err


def test_version_is_the_distributions(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"cutover {version('zuora-is-cutover')}"


def test_default_profile_then_the_variable_then_the_flag(capsys, monkeypatch, tmp_path):
    _profiles(capsys, "acme", "beta")
    journal = {n: f"{tmp_path}/data/cutover/{n}/journal.db" for n in ("acme", "beta")}
    code, out, _ = run(capsys, "profile", "default")
    assert code == 1 and "no default profile" in out
    code, out, _ = run(capsys, "locate", "journal")
    assert code == 2  # none yet: whose journal?

    assert run(capsys, "profile", "default", "acme")[0] == 0
    assert run(capsys, "locate", "journal")[1].strip() == journal["acme"]
    assert "acme (default)" in run(capsys, "profile", "list")[1]
    monkeypatch.setenv("CUTOVER_PROFILE", "beta")
    assert run(capsys, "locate", "journal")[1].strip() == journal["beta"]
    assert run(capsys, "profile", "default")[1].strip() == "beta (from CUTOVER_PROFILE)"
    assert run(capsys, "locate", "journal", "--profile", "acme")[1].strip() == journal["acme"]

    # the runbook commands resolve their target the same way (their positional VAR is never taken for a profile)
    code, out, err = run(capsys, "set", "f4_ticket", "00123")
    assert code == 0, err
    monkeypatch.delenv("CUTOVER_PROFILE")
    assert "00123" not in run(capsys, "vars", "--json")[1]  # acme's journal
    assert "00123" in json.dumps(json.loads(run(capsys, "vars", "--json", "--profile", "beta")[1])["f4_ticket"])


def test_a_default_that_names_nothing_says_where_it_came_from(capsys, monkeypatch):
    _profiles(capsys, "acme")
    monkeypatch.setenv("CUTOVER_PROFILE", "acne")
    code, out, err = run(capsys, "vars")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "'acne' (from CUTOVER_PROFILE) does not exist" in err
    # --demo beats a default: only a named profile conflicts with it
    code, out, err = run(capsys, "vars", "--demo", "--json")
    assert code == 0 and "freeze_ts" in json.loads(out), err


def test_removing_or_adding_never_falls_back_to_the_default(capsys):
    _profiles(capsys, "acme")
    assert run(capsys, "profile", "default", "acme")[0] == 0
    code, _, err = run(capsys, "profile", "remove")
    assert code == 2 and "which profile?" in err
    assert run(capsys, "profile", "remove", "acme")[0] == 0
    code, out, _ = run(capsys, "profile", "default")  # the default went with it
    assert code == 1 and "no default profile" in out


def test_help_has_examples_exit_codes_and_topics(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    helped = capsys.readouterr().out
    assert "examples:" in helped and "cutover doctor" in helped and "cutover help environment" in helped
    for code, _ in EXIT_CODES:
        assert f"\n  {code} " in helped
    # the documented codes are the ones the code returns
    assert {c for c, _ in EXIT_CODES} == {0, 1, cli.EXIT_ERROR, cli.EXIT_INTERRUPTED}

    assert run(capsys, "help")[1] == helped
    code, out, _ = run(capsys, "help", "environment")
    assert code == 0
    for name in ("CUTOVER_PROFILE", "CUTOVER_CONFIG_FILE", "CUTOVER_OPERATOR", "PYTHON_KEYRING_BACKEND",
                 "TEXTUAL_THEME", *(env_var(n) for n in SECRET_NAMES)):
        assert f"\n  {name} " in out
    assert "130" in run(capsys, "help", "exit-codes")[1]
    code, _, err = run(capsys, "help", "nope")
    assert code == 2 and "environment, exit-codes" in err


def test_help_for_a_command_is_its_own_help(capsys):
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    direct = capsys.readouterr().out
    assert run(capsys, "help", "check")[1] == direct and "PHASE|STEP" in direct


def test_bare_cutover_shows_help_or_opens_the_default_profile(capsys, monkeypatch):
    code, out, _ = run(capsys)
    assert code == 0 and out.startswith("usage: cutover") and "exit codes:" in out

    opened = []
    monkeypatch.setattr("cli.launch._run_app", lambda backend: opened.append(backend) or 0)
    _profiles(capsys, "acme")
    run(capsys, "profile", "default", "acme")
    assert run(capsys)[0] == 0
    assert [b.profile_name for b in opened] == ["acme"]


def _venv_bin() -> Path:
    return Path(sys.executable).parent


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completion_completes_commands_and_profile_names(capsys, tmp_path):
    _profiles(capsys, "acme", "beta")
    script = tmp_path / "cutover.bash"
    code, out, _ = run(capsys, "completion", "bash")
    assert code == 0
    script.write_text(out)

    def complete(line: str) -> list[str]:
        words = line.split(" ")
        probe = (f"source {script}; COMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}; "
                 f"COMP_LINE={line!r}; COMP_POINT={len(line)}; _shtab_cutover; printf '%s\\n' \"${{COMPREPLY[@]}}\"")
        env = {**os.environ, "PATH": f"{_venv_bin()}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
        done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert complete("cutover doc") == ["doctor"]
    assert complete("cutover completion ") == ["bash", "zsh", "fish"]
    assert complete("cutover check --profile ") == ["acme", "beta"]  # asked of `cutover profile list --names`
    assert complete("cutover credentials test b") == ["beta"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_cover_every_command_and_profiles(capsys, shell):
    code, out, _ = run(capsys, "completion", shell)
    assert code == 0
    for command in ("doctor", "completion", "check", "rehearse"):
        assert command in out
    assert ("_cutover_profiles" if shell == "zsh" else "cutover profile list --names") in out


def test_json_from_every_command_that_reports(capsys, monkeypatch):
    """plan, apply, set, confirm, waive, credentials status and locate: one JSON object on stdout each."""
    from sim_tenant import add_credit_memos, add_invoices

    def as_json(*args: str) -> dict:
        code, out, err = run(capsys, *args, "--json")
        assert code == 0, err
        return json.loads(out)  # the whole of stdout is one object

    with simulated_profile(capsys, monkeypatch, "acme") as demo:
        store = demo.sim.store
        account = store.scalar("SELECT id FROM account LIMIT 1")
        add_credit_memos(demo.sim, 12, account=account, start=10_000,
                         invoices=add_invoices(demo.sim, 12, account=account, amount=-1.0))
        store.set_setting("invoice_settlement", True)
        run(capsys, "profile", "default", "acme")

        planned = as_json("plan", "E1")
        plan = planned["plan"]
        assert plan["step_id"] == "E1" and plan["total"] == plan["remaining"] == 12 and len(planned["records"]) == 10
        assert plan["short_seal"] == plan["seal"][:8]
        code, out, err = run(capsys, "apply", "E1", "--json")  # a question on no terminal: one line, no stdout
        assert code == 2 and out == "" and err.count("\n") == 1 and "--yes" in err
        applied = as_json("apply", "E1", "--yes", "--seal", plan["seal"][:6])
        assert applied["applied"] and applied["done"] and applied["written"] == 12 and applied["failed"] == 0
        assert applied["plan"]["plan_id"] == plan["plan_id"] and applied["recheck"]["status"] == "pass"

        assert as_json("set", "freeze_ts", "2026-10-28 18:00") == {"name": "freeze_ts",
                                                                   "value": "2026-10-28T18:00:00Z"}
        confirmed = as_json("confirm", "C7", "--note", "scheduler off in Connect")
        assert confirmed["confirmed"]["step_id"] == "C7" and confirmed["confirmed"]["note"] == \
            "scheduler off in Connect"
        assert confirmed["state"]["id"] == "C7" and confirmed["confirmed"]["who"].startswith("Test Operator")
        run(capsys, "check", "V6")  # a waiver accepts what a check found
        waived = as_json("waive", "V6", "--reason", "Support's test drafts")
        assert waived["waived"]["reason"] == "Support's test drafts" and waived["state"]["status"] == "waived"

    status = as_json("credentials", "status")
    assert set(status) == {"backend", "usable", "message"} and status["usable"] is True
    located = as_json("locate", "journal")
    assert located["profile"] == "acme" and located["path"].endswith("/acme/journal.db") and located["exists"]
