"""NetSuite account ids, hosts and realms (apis.md B1).

The host is the account id slugified (`1234567_SB1` -> `1234567-sb1`), while the OAuth realm keeps the id's own
form in upper case (`1234567_SB1`). Mixing the two up is the usual cause of a sandbox INVALID_LOGIN.
"""

from __future__ import annotations

from core.loopback import is_loopback_url  # noqa: F401  (re-exported: callers import it from here)

import re
from urllib.parse import urlsplit

from core.errors import ConfigError

_ACCOUNT_ID = re.compile(r"^[A-Za-z0-9]+(?:_[A-Za-z0-9]+)?$")
_ACCOUNT_HINT = ("use the account id from Setup > Company > Company Information, e.g. 1234567 for production "
                 "or 1234567_SB1 for a sandbox")


def check_account_id(account_id: str) -> str:
    """The id, trimmed; ConfigError when it cannot be a NetSuite account id."""
    value = (account_id or "").strip()
    if not _ACCOUNT_ID.match(value):
        raise ConfigError(f"{value!r} is not a NetSuite account id", hint=_ACCOUNT_HINT)
    return value


def netsuite_realm(account_id: str) -> str:
    """The OAuth 1.0a realm: the account id in upper case, underscore kept."""
    return check_account_id(account_id).upper()


def netsuite_host(account_id: str) -> str:
    """`1234567_SB1` -> `1234567-sb1.suitetalk.api.netsuite.com`."""
    slug = check_account_id(account_id).lower().replace("_", "-")
    return f"{slug}.suitetalk.api.netsuite.com"


def netsuite_base_url(account_id: str, base_url: str | None = None) -> str:
    """`https://<host>` for the account, or the custom URL (the simulator), without a trailing slash.

    A custom URL must be https unless it points at this machine: TLS is never optional for a real account.
    """
    if not base_url:
        return f"https://{netsuite_host(account_id)}"
    url = base_url.strip().rstrip("/")
    url = url.removesuffix("/services/rest")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{base_url!r} is not a usable NetSuite base URL",
                          hint="give a full URL such as https://1234567.suitetalk.api.netsuite.com")
    if parts.scheme != "https" and not is_loopback_url(url):
        raise ConfigError(f"refusing plain http for NetSuite at {parts.hostname}",
                          hint="use the https URL; plain http is only for the simulator on this machine")
    return url
