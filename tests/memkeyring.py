"""An in-memory keyring backend (a dict; nothing touches disk). The autouse fixture in conftest installs it in
every test; subprocess tests select it with PYTHON_KEYRING_BACKEND=memkeyring.MemoryKeyring plus PYTHONPATH=tests.
"""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]  # "recommended", like a real OS keyring
    # Never auto-discovered: importing this module must not change which backend keyring picks on its own
    # (it would chain itself behind the Secret Service in the keyring_real test). Selected by name or set_keyring.
    viable = False

    def __init__(self):
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError("not found")
