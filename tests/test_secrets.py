"""CredentialStore over the keyring: entries, environment overrides, no plaintext fallback, errors as messages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keyring
import pytest
from keyring.backends import chainer, fail, null
from keyring.errors import KeyringLocked
from memkeyring import MemoryKeyring
from pydantic import SecretStr

from core.errors import CredentialsError
from core.secrets import SECRET_NAMES, SERVICE, Credentials, CredentialStore, env_var

ROOT = Path(__file__).resolve().parents[1]
VALUES = {n: f"value-of-{n}-{i}" for i, n in enumerate(SECRET_NAMES)}


def test_save_writes_one_entry_per_secret_and_profile(memory_keyring):
    saved = CredentialStore().save("acme", Credentials.from_values(VALUES))
    assert saved == list(SECRET_NAMES)
    assert memory_keyring.store == {(SERVICE, f"acme/{n}"): v for n, v in VALUES.items()}
    loaded = CredentialStore().load("acme")
    assert {n: loaded.value(n) for n in SECRET_NAMES} == VALUES
    assert loaded.missing() == []


def test_profiles_are_kept_apart_and_partial_saves_keep_the_rest():
    store = CredentialStore()
    store.save("acme", Credentials.from_values(VALUES))
    store.save("acme", Credentials.from_values({"zuora_client_secret": "rotated"}))
    assert store.load("acme").value("zuora_client_secret") == "rotated"
    assert store.load("acme").value("netsuite_token_id") == VALUES["netsuite_token_id"]
    assert store.load("other").missing() == list(SECRET_NAMES)


def test_each_environment_variable_overrides_its_own_secret(monkeypatch):
    CredentialStore().save("acme", Credentials.from_values(VALUES))
    monkeypatch.setenv("CUTOVER_ZUORA_CLIENT_SECRET", "from-env")
    monkeypatch.setenv("CUTOVER_NETSUITE_TOKEN_ID", "token-from-env")
    creds = CredentialStore().load("acme")
    assert creds.value("zuora_client_secret") == "from-env"
    assert creds.value("netsuite_token_id") == "token-from-env"
    assert creds.value("zuora_client_id") == VALUES["zuora_client_id"]  # the others still come from the keyring
    assert CredentialStore().load_stored("acme").value("zuora_client_secret") == VALUES["zuora_client_secret"]


def test_all_six_in_the_environment_need_no_keyring(monkeypatch):
    keyring.set_keyring(fail.Keyring())  # the conftest fixture restores the previous one
    for n, v in VALUES.items():
        monkeypatch.setenv(env_var(n), v)
    creds = CredentialStore().load("ci")
    assert {n: creds.value(n) for n in SECRET_NAMES} == VALUES


def test_secrets_never_show_in_reprs_or_dumps():
    creds = Credentials.from_values(VALUES)
    shown = repr(creds) + str(creds) + creds.model_dump_json() + str(creds.model_dump())
    assert not any(v in shown for v in VALUES.values())
    assert isinstance(creds.zuora_client_secret, SecretStr)


def test_missing_lists_unset_secrets():
    creds = Credentials.from_values({"zuora_client_id": "x", "netsuite_token_secret": ""})
    assert creds.missing() == [n for n in SECRET_NAMES if n != "zuora_client_id"]
    with pytest.raises(CredentialsError, match="Zuora OAuth client secret"):
        creds.value("zuora_client_secret")


def test_delete_removes_every_entry_and_reports_what_was_there(memory_keyring):
    store = CredentialStore()
    store.save("acme", Credentials.from_values({"zuora_client_id": "a", "zuora_client_secret": "b"}))
    store.save("keep", Credentials.from_values(VALUES))
    assert store.delete("acme") == ["zuora_client_id", "zuora_client_secret"]
    assert store.delete("acme") == []
    assert all(user.startswith("keep/") for _, user in memory_keyring.store)


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()], ids=["fail", "null"])
def test_no_secure_backend_refuses_with_the_fix(backend):
    keyring.set_keyring(backend)
    store = CredentialStore()
    status = store.backend_status()
    assert not status.usable and status.backend.endswith(".Keyring")
    for needle in ("gnome-keyring", "dbus-run-session", "gnome-keyring-daemon --unlock", "CUTOVER_ZUORA_CLIENT_ID"):
        assert needle in status.message
    for call in (lambda: store.load("acme"), lambda: store.save("acme", Credentials.from_values(VALUES)),
                 lambda: store.delete("acme")):
        with pytest.raises(CredentialsError, match="gnome-keyring") as info:
            call()
        assert "keyrings.alt" not in str(info.value)  # keyring's own text would suggest plaintext files


class _WeakKeyring(MemoryKeyring):
    priority = 0.5  # type: ignore[assignment]  # what keyrings.alt's PlaintextKeyring reports


def test_a_plaintext_grade_backend_is_never_used_even_if_selected(memory_keyring):
    keyring.set_keyring(_WeakKeyring())
    with pytest.raises(CredentialsError, match="no secure keyring backend"):
        CredentialStore().save("acme", Credentials.from_values(VALUES))
    assert keyring.get_keyring().store == {}


class _LockedKeyring(MemoryKeyring):
    def get_password(self, service, username):
        raise KeyringLocked("Failed to unlock the collection!")

    set_password = get_password


def test_a_locked_keyring_becomes_a_credentials_error():
    keyring.set_keyring(_LockedKeyring())
    store = CredentialStore()
    assert not store.backend_status().usable
    assert "locked" in store.backend_status().message
    with pytest.raises(CredentialsError, match="locked"):
        store.load("acme")


def test_bad_profile_names_are_refused():
    with pytest.raises(CredentialsError, match="profile name"):
        CredentialStore().load("../etc")


def test_no_backend_in_a_subprocess_gives_a_message_and_exit_2_without_traceback(tmp_path):
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
           "CUTOVER_CONFIG_FILE": str(tmp_path / "c.toml")}
    (tmp_path / "c.toml").write_text('[profiles.acme]\nzuora_env = "SBX_NA"\nnetsuite_account_id = "1234567_SB1"\n')
    for args in (["credentials", "test", "acme"], ["credentials", "delete", "acme"]):
        run = subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=60)
        assert run.returncode == 2, run.stderr
        assert "Traceback" not in run.stderr + run.stdout
        assert "no secure keyring backend" in run.stderr and "gnome-keyring" in run.stderr
    status = subprocess.run([sys.executable, "-m", "cli", "credentials", "status"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert status.returncode == 1 and "usable: no" in status.stdout


# ---- platform advice and chained backends -------------------------------------------------------------------------
@pytest.mark.parametrize("platform,names", [
    ("darwin", ("Keychain", "keyring.backends.macOS.Keyring")),
    ("win32", ("Credential Manager", "keyring.backends.Windows.WinVaultKeyring")),
    ("linux", ("Secret Service", "keyring.backends.SecretService.Keyring")),
])
def test_the_advice_names_the_platforms_own_backend_and_python_keyring_backend(platform, names):
    from core.secrets import keyring_fix

    advice = keyring_fix(platform)
    for needle in (*names, "PYTHON_KEYRING_BACKEND", "CUTOVER_ZUORA_CLIENT_ID"):
        assert needle in advice
    others = {"darwin": "Keychain", "win32": "Credential Manager", "linux": "gnome-keyring"}
    assert all(word not in advice for p, word in others.items() if p != platform)


def _chain(monkeypatch, *backends):
    """keyring's own chainer over these backends, in this order (as on a Mac with keyrings.alt installed beside the
    Keychain: the Keychain first, the plaintext file behind it)."""
    monkeypatch.setattr(chainer.ChainerBackend, "backends", list(backends))
    keyring.set_keyring(chainer.ChainerBackend())


def test_a_chain_whose_first_backend_is_secure_is_used_and_the_plaintext_one_behind_it_never_written(monkeypatch):
    secure, plaintext = MemoryKeyring(), _WeakKeyring()
    _chain(monkeypatch, secure, plaintext)
    store = CredentialStore()
    assert store.backend_status().usable
    store.save("acme", Credentials.from_values(VALUES))
    assert len(secure.store) == len(VALUES) and plaintext.store == {}
    plaintext.store[("cutover", "acme/zuora_client_id")] = "planted in plaintext"
    secure.store.pop(("cutover", "acme/zuora_client_id"))
    assert store.load("acme").zuora_client_id is None  # never read back from the plaintext backend


def test_a_chain_whose_first_backend_is_plaintext_is_refused(monkeypatch):
    _chain(monkeypatch, _WeakKeyring(), MemoryKeyring())
    with pytest.raises(CredentialsError, match="no secure keyring backend"):
        CredentialStore().save("acme", Credentials.from_values(VALUES))
