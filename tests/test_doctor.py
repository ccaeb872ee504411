"""`cutover doctor`: one line per check with its fix, exit 1 when one fails; `--bundle` leaks no secret and no record.

Real HTTP to the simulator on loopback; the journal and the apply lock are the real files.
"""

from __future__ import annotations

import json
import zipfile

from cli_support import run, simulated_profile

from core.config import get_profile
from core.locking import apply_lock
from core.logs import log_path

EVERY_CHECK = ["version", "keyring", "config", "data", "log", "zuora", "netsuite", "journal"]


def _doctor(capsys, *args: str) -> tuple[int, dict]:
    code, out, err = run(capsys, "doctor", "--json", *args)
    assert err == "" or code != 2, err
    return code, json.loads(out)


def _by_check(report: dict) -> dict[str, dict]:
    return {c["check"]: c for c in report["checks"]}


def test_demo_passes_every_check(capsys):
    code, report = _doctor(capsys, "--demo")
    assert code == 0 and report["ok"] and report["profile"] == "demo"
    checks = _by_check(report)
    assert list(checks) == EVERY_CHECK
    assert checks["zuora"]["status"] == checks["netsuite"]["status"] == "ok"
    assert "integrity ok, schema" in checks["journal"]["detail"]
    assert checks["version"]["detail"].startswith("cutover 0.") and "Python 3." in checks["version"]["detail"]


def test_text_lines_each_with_a_fix_and_exit_1_when_a_system_refuses(capsys, monkeypatch):
    with simulated_profile(capsys, monkeypatch, "acme"):
        monkeypatch.setenv("CUTOVER_ZUORA_CLIENT_SECRET", "not-the-secret")
        code, out, _ = run(capsys, "doctor", "--profile", "acme")
    assert code == 1
    lines = {line.split()[1]: line for line in out.splitlines()}
    assert set(EVERY_CHECK) <= set(lines)
    assert lines["zuora"].startswith("✗") and "fix: store the right ones: `cutover credentials set acme`" in \
        lines["zuora"]
    assert lines["netsuite"].startswith("✓") and lines["journal"].startswith("✓")
    assert "not-the-secret" not in out


def test_a_damaged_journal_and_a_held_apply_lock_are_named(capsys, monkeypatch):
    with simulated_profile(capsys, monkeypatch, "acme"):
        data_dir = get_profile("acme").data_dir
        assert run(capsys, "set", "f4_ticket", "00123", "--profile", "acme")[0] == 0
        with apply_lock(data_dir, "acme", "E1"):
            code, report = _doctor(capsys, "--profile", "acme")
        journal = _by_check(report)["journal"]
        assert code == 0 and journal["status"] == "ok"
        assert "apply running: pid" in journal["detail"] and "step E1" in journal["detail"]

        db = data_dir / "journal.db"
        raw = bytearray(db.read_bytes())
        for page in range(4096, len(raw), 4096):  # every b-tree page's header overwritten; the file header kept
            raw[page: page + 12] = b"\xff" * 12
        db.write_bytes(bytes(raw))
        for side in ("-wal", "-shm"):
            db.with_name(db.name + side).unlink(missing_ok=True)
        code, report = _doctor(capsys, "--profile", "acme")
    journal = _by_check(report)["journal"]
    assert code == 1 and not report["ok"] and journal["status"] == "fail"
    assert journal["fix"]


def test_the_bundle_carries_versions_config_log_and_integrity_but_no_secret_and_no_record(capsys, monkeypatch,
                                                                                          tmp_path):
    token, secret, signature = "tok-PLANTED-7f3a", "sec-PLANTED-91bd", "sig-PLANTED-c0de"
    signed_url = f"https://eu.files.example.com/export/q1.csv?X-Amz-Signature={signature}&X-Amz-Expires=604800"
    with simulated_profile(capsys, monkeypatch, "acme"):
        assert run(capsys, "set", "f4_ticket", "RECORD-MARKER-4242", "--profile", "acme")[0] == 0
        config = get_profile("acme")
        path = tmp_path / "config" / "cutover" / "config.toml"
        text = path.read_text()
        path.write_text(f"# pasted by mistake: {secret} and {signed_url}\n{text}")
        assert get_profile("acme") == config  # the comment changes nothing the tool reads
        log_path().parent.mkdir(parents=True, exist_ok=True)
        with log_path().open("a", encoding="utf-8") as log:
            log.write(f"2026-11-02 10:00:00 INFO httpx: GET {signed_url}\n"
                      f"2026-11-02 10:00:01 DEBUG cutover: Authorization: Bearer {token}\n"
                      f"2026-11-02 10:00:02 DEBUG cutover: unforeseen text {secret} near the end\n"
                      f"2026-11-02 10:00:03 INFO cutover: LOG-MARKER survived\n")
        monkeypatch.setenv("CUTOVER_ZUORA_CLIENT_SECRET", secret)  # the secret as the environment holds it
        monkeypatch.setenv("CUTOVER_PROFILES__ACME__READ_ONLY", "true")
        code, report = _doctor(capsys, "--profile", "acme", "--bundle", str(tmp_path / "out" / "support.zip"))
    assert report["bundle"] == str(tmp_path / "out" / "support.zip")
    with zipfile.ZipFile(tmp_path / "out" / "support.zip") as bundle:
        members = {n: bundle.read(n).decode() for n in bundle.namelist()}
    assert sorted(members) == ["about.json", "config.toml", "cutover.log", "journal.json"]
    everything = "\n".join(members.values())
    for planted in (token, secret, signature, "RECORD-MARKER-4242"):
        assert planted not in everything, planted
    assert "LOG-MARKER survived" in members["cutover.log"]
    assert "[profiles.acme]" in members["config.toml"] and "eu.files.example.com/export/q1.csv" in members[
        "config.toml"]
    about = json.loads(members["about.json"])
    assert about["versions"]["cutover"].startswith("0.") and "textual" in about["versions"]
    assert "CUTOVER_PROFILES__ACME__READ_ONLY" in about["environment_variables_set"]
    assert [c["check"] for c in about["doctor"]["checks"]] == EVERY_CHECK
    journal = json.loads(members["journal.json"])
    assert journal["integrity"] == "ok" and journal["schema_version"] == journal["expected_version"]


def test_a_config_that_cannot_be_read_is_a_finding_not_the_end(capsys, tmp_path):
    path = tmp_path / "config" / "cutover" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text("default_profile = 'acme'\n[profiles.acme\n")
    code, report = _doctor(capsys)
    config = _by_check(report)["config"]
    assert code == 1 and config["status"] == "fail" and "is not valid TOML" in config["fix"]
    assert report["profile"] is None and _by_check(report)["version"]["status"] == "ok"
