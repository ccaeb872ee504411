"""API secrets in the OS keyring (textual-practice.md §3.5), with CUTOVER_* environment variables for CI.

One keyring entry per secret and profile: service `cutover`, username `<profile>/<secret name>`. There is no
plaintext fallback: when no trustworthy backend exists the store says so and how to fix it, and refuses to write.
Every call blocks (D-Bus, unlock prompts), so the TUI runs these in thread workers.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import keyring
import keyring.core
from keyring.errors import InitError, KeyringLocked, PasswordDeleteError
from pydantic import BaseModel, ConfigDict, SecretStr

from core.errors import CredentialsError
from core.secret_names import SECRET_LABELS, SECRET_NAMES, SYSTEM_SECRETS, env_var  # noqa: F401 (re-exported)

SERVICE = "cutover"
# What to do when no secure backend answers, in the platform's own terms: keyring picks the OS store by itself, and
# PYTHON_KEYRING_BACKEND names one when several are installed or the pick is wrong.
_PLATFORM_FIX = {
    "darwin": ("unlock the login Keychain (Keychain Access, or `security unlock-keychain`) and allow cutover when "
               "macOS asks; to choose it explicitly, set PYTHON_KEYRING_BACKEND=keyring.backends.macOS.Keyring"),
    "win32": ("use Windows Credential Manager (signed in as yourself, not as a service account); to choose it "
              "explicitly, set PYTHON_KEYRING_BACKEND=keyring.backends.Windows.WinVaultKeyring"),
    "linux": ("install and unlock a Secret Service keyring such as gnome-keyring or KeePassXC (on a headless box "
              "run the tool inside `dbus-run-session` after `echo -n PASSWORD | gnome-keyring-daemon --unlock "
              "--components=secrets`); to choose it explicitly, set "
              "PYTHON_KEYRING_BACKEND=keyring.backends.SecretService.Keyring"),
}
_CI_FIX = ("or, for CI, set the secrets in the environment variables "
           + ", ".join(f"CUTOVER_{n.upper()}" for n in SECRET_NAMES))


def keyring_fix(platform: str | None = None) -> str:
    """How to get a secure keyring on this platform (sys.platform), or the CI alternative."""
    platform = sys.platform if platform is None else platform
    key = "win32" if platform.startswith(("win", "cygwin")) else "darwin" if platform == "darwin" else "linux"
    return f"{_PLATFORM_FIX[key]}, {_CI_FIX}"


KEYRING_FIX = keyring_fix()
_PROFILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
T = TypeVar("T")


class Credentials(BaseModel):
    """The six API secrets of one profile; any may be missing. Reprs and dumps show only asterisks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    zuora_client_id: SecretStr | None = None
    zuora_client_secret: SecretStr | None = None
    netsuite_consumer_key: SecretStr | None = None
    netsuite_consumer_secret: SecretStr | None = None
    netsuite_token_id: SecretStr | None = None
    netsuite_token_secret: SecretStr | None = None

    @classmethod
    def from_values(cls, values: Mapping[str, str | None]) -> Credentials:
        """From plain strings; empty values count as missing."""
        return cls(**{k: SecretStr(v) for k, v in values.items() if k in SECRET_NAMES and v})

    def missing(self, names: tuple[str, ...] = SECRET_NAMES) -> list[str]:
        return [n for n in names if getattr(self, n) is None]

    def present(self) -> list[str]:
        return [n for n in SECRET_NAMES if getattr(self, n) is not None]

    def value(self, name: str) -> str:
        secret = getattr(self, name)
        if secret is None:
            raise CredentialsError(f"the {SECRET_LABELS[name]} is not set")
        return secret.get_secret_value()

    def merged_over(self, base: Credentials) -> Credentials:
        """These values where set, else base's."""
        return Credentials(**{n: getattr(self, n) or getattr(base, n) for n in SECRET_NAMES})

    def secret_values(self) -> list[str]:
        """The plain values, for scrubbing text before it is shown; never print these."""
        return [getattr(self, n).get_secret_value() for n in self.present()]


def credentials_from_env(environ: Mapping[str, str] | None = None) -> Credentials:
    env = os.environ if environ is None else environ
    return Credentials.from_values({n: env.get(env_var(n)) for n in SECRET_NAMES})


@dataclass(frozen=True)
class BackendStatus:
    usable: bool
    backend: str  # e.g. "keyring.backends.SecretService.Keyring"
    message: str = ""  # when unusable: why, and how to fix it


def _backend_name(kr) -> str:
    cls = type(kr)
    return f"{cls.__module__}.{cls.__name__}"


def _why(exc: Exception) -> str:
    # Our words only: keyring's own NoKeyringError text recommends keyrings.alt, i.e. plaintext files.
    if isinstance(exc, (KeyringLocked, InitError)):
        return (f"the keyring is locked or could not be unlocked ({type(exc).__name__}; on a machine without a "
                f"desktop, no unlock prompt can be shown)")
    return f"the OS keyring is not usable ({type(exc).__name__})"


def _keyring_error(exc: Exception, doing: str) -> CredentialsError:
    return CredentialsError(f"cannot {doing}: {_why(exc)}", hint=KEYRING_FIX)


def _check_profile(profile: str) -> str:
    if not _PROFILE_NAME.match(profile or ""):
        raise CredentialsError(f"{profile!r} is not a profile name",
                               hint="profile names use lower-case letters, digits, '-' and '_'")
    return profile


class CredentialStore:
    """Load, save and delete a profile's secrets. Environment variables win over the keyring, one by one."""

    def __init__(self, service: str = SERVICE, environ: Mapping[str, str] | None = None):
        self.service = service
        self._environ = environ

    def __repr__(self) -> str:
        return f"CredentialStore(service={self.service!r})"

    # ---- backend ----------------------------------------------------------------------------------------------
    def backend_status(self) -> BackendStatus:
        """Usable when keyring picked a recommended backend (never a plaintext one) and a probe read works."""
        try:
            kr = keyring.get_keyring()
        except Exception as exc:  # a broken keyringrc or backend import
            return BackendStatus(False, "unknown", f"{_why(exc)}; to fix it, {KEYRING_FIX}")
        name = _backend_name(kr)
        # A chain (e.g. macOS Keychain with a plaintext backend behind it) writes to its first backend and reads it
        # first: that one must be secure; what sits behind it is never written while the first one works.
        chained = list(getattr(kr, "backends", None) or [kr])
        first = chained[0] if chained else kr
        if not keyring.core.recommended(first):
            return BackendStatus(False, name, f"no secure keyring backend is available (found "
                                              f"{_backend_name(first)}); to fix it, {KEYRING_FIX}")
        try:
            kr.get_password(self.service, "__probe__")
        except Exception as exc:
            return BackendStatus(False, name, f"{_why(exc)}; to fix it, {KEYRING_FIX}")
        return BackendStatus(True, name)

    def _require_backend(self, doing: str):
        status = self.backend_status()
        if not status.usable:
            raise CredentialsError(f"cannot {doing}: {status.message}")
        return _secure_front(keyring.get_keyring())

    def _call(self, doing: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except Exception as exc:  # KeyringError, and D-Bus or backend-specific failures alike
            raise _keyring_error(exc, doing) from None

    def _username(self, profile: str, name: str) -> str:
        return f"{_check_profile(profile)}/{name}"

    # ---- operations -------------------------------------------------------------------------------------------
    def load(self, profile: str) -> Credentials:
        """Each secret from its CUTOVER_* variable if set, else from the keyring (untouched if env has all six)."""
        _check_profile(profile)
        from_env = credentials_from_env(self._environ)
        wanted = from_env.missing()
        if not wanted:
            return from_env
        doing = f"read the credentials of profile {profile!r}"
        kr = self._require_backend(doing)
        stored = {n: self._call(doing, lambda n=n: kr.get_password(self.service, self._username(profile, n)))
                  for n in wanted}
        return from_env.merged_over(Credentials.from_values(stored))

    def load_stored(self, profile: str) -> Credentials:
        """The keyring's values only, ignoring the environment."""
        return CredentialStore(self.service, environ={}).load(profile)

    def save(self, profile: str, creds: Credentials) -> list[str]:
        """Store every secret that is set in creds; returns their names. Unset ones are left as they are."""
        doing = f"save the credentials of profile {profile!r}"
        _check_profile(profile)
        kr = self._require_backend(doing)
        names = creds.present()
        for n in names:
            value = creds.value(n)
            self._call(doing, lambda n=n, value=value: kr.set_password(self.service, self._username(profile, n),
                                                                       value))
        return names

    def delete(self, profile: str) -> list[str]:
        """Remove the profile's secrets from the keyring; returns the names that were there."""
        doing = f"delete the credentials of profile {profile!r}"
        _check_profile(profile)
        kr = self._require_backend(doing)
        return [n for n in SECRET_NAMES
                if self._call(doing, lambda n=n: _delete(kr, self.service, self._username(profile, n)))]


def _secure_front(kr):
    """The backend to talk to: a chain's first (secure) one, so a failing write never falls through to a plaintext
    backend behind it, and a read never finds what someone left there."""
    chained = getattr(kr, "backends", None)
    return chained[0] if chained else kr


def _delete(kr, service: str, username: str) -> bool:
    """True when the entry existed and is gone."""
    try:
        kr.delete_password(service, username)
    except PasswordDeleteError:
        return False
    return True
