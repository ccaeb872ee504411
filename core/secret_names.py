"""The names of a profile's six API secrets, their labels, and their CUTOVER_* variables.

Standard library only: `cutover --help` lists the variables without loading the keyring or pydantic.
"""

from __future__ import annotations

SECRET_NAMES: tuple[str, ...] = (
    "zuora_client_id", "zuora_client_secret",
    "netsuite_consumer_key", "netsuite_consumer_secret", "netsuite_token_id", "netsuite_token_secret",
)
SECRET_LABELS: dict[str, str] = {
    "zuora_client_id": "Zuora OAuth client id",
    "zuora_client_secret": "Zuora OAuth client secret",
    "netsuite_consumer_key": "NetSuite consumer key",
    "netsuite_consumer_secret": "NetSuite consumer secret",
    "netsuite_token_id": "NetSuite token id",
    "netsuite_token_secret": "NetSuite token secret",
}
SYSTEM_SECRETS: dict[str, tuple[str, ...]] = {
    "Zuora": SECRET_NAMES[:2],
    "NetSuite": SECRET_NAMES[2:],
}


def env_var(name: str) -> str:
    """`zuora_client_secret` -> `CUTOVER_ZUORA_CLIENT_SECRET`."""
    return f"CUTOVER_{name.upper()}"
