"""The real OS keyring: Secret Service (gnome-keyring) over D-Bus, as .ci/run sets it up:

    dbus-run-session -- bash -c 'echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null;
                                 python -m pytest -m keyring_real tests/test_keyring_real.py'

Secrets stored by this process are read back by a NEW process, which proves they live in the keyring daemon and
not in this interpreter; then they are deleted and a third process confirms they are gone.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import keyring
import pytest

from core.secrets import SECRET_NAMES, SERVICE, Credentials, CredentialStore

pytestmark = pytest.mark.keyring_real
ROOT = Path(__file__).resolve().parents[1]

READ_BACK = """
import json, sys
from core.secrets import CredentialStore
store = CredentialStore()
creds = store.load(sys.argv[1])
print(json.dumps({"backend": store.backend_status().backend,
                  "values": {n: creds.value(n) for n in creds.present()}}))
"""


def _read_in_new_process(profile: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUTOVER_") and k != "PYTHON_KEYRING_BACKEND"}
    run = subprocess.run([sys.executable, "-c", READ_BACK, profile], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.fixture
def secret_service():
    kr = keyring.get_keyring()
    if "SecretService" not in type(kr).__module__:
        pytest.fail(f"keyring chose {type(kr).__module__}.{type(kr).__name__}, not the Secret Service; run this "
                    f"under dbus-run-session with gnome-keyring-daemon unlocked (see the module docstring)")
    profile = f"keyring-real-{secrets.token_hex(4)}"
    yield profile
    CredentialStore().delete(profile)


def test_store_read_back_from_a_new_process_then_delete(secret_service):
    profile = secret_service
    store = CredentialStore()
    assert store.backend_status().usable, store.backend_status().message
    values = {n: f"{n}-{secrets.token_urlsafe(12)}" for n in SECRET_NAMES}
    assert store.save(profile, Credentials.from_values(values)) == list(SECRET_NAMES)
    assert keyring.get_password(SERVICE, f"{profile}/zuora_client_secret") == values["zuora_client_secret"]

    seen = _read_in_new_process(profile)
    assert "SecretService" in seen["backend"]
    assert seen["values"] == values

    assert store.delete(profile) == list(SECRET_NAMES)
    assert _read_in_new_process(profile)["values"] == {}
    assert keyring.get_password(SERVICE, f"{profile}/zuora_client_secret") is None
