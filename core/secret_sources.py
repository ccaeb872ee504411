"""Where each of a profile's API secrets comes from: a CUTOVER_* variable, the keyring, or nowhere.

`cutover profile show` and the app's Credentials screen both say it, in the same words.
"""

from __future__ import annotations

from core.errors import CredentialsError
from core.secrets import SECRET_NAMES, CredentialStore, credentials_from_env, env_var


def credential_sources(name: str) -> tuple[dict[str, str], str]:
    """Secret name -> where it comes from ("from CUTOVER_...", "in the keyring", "missing"), and the keyring's
    problem if it cannot be read."""
    env = credentials_from_env()
    try:
        stored, problem = CredentialStore().load_stored(name), ""
    except CredentialsError as exc:
        stored, problem = None, str(exc)
    out = {}
    for n in SECRET_NAMES:
        if getattr(env, n) is not None:
            out[n] = f"from {env_var(n)}"
        elif stored is None:
            out[n] = "unknown (keyring unusable, see below)"
        else:
            out[n] = "in the keyring" if getattr(stored, n) is not None else "missing"
    return out, problem
