"""Zuora REST base URLs by data center (apis.md A1), by our names and by the official SDK's enum names."""

from __future__ import annotations

from urllib.parse import urlsplit

from core.errors import ConfigError

# Our names first; the SDK's `ZuoraEnvironment` names follow as aliases for people who know those.
_ENVIRONMENTS: tuple[tuple[str, str, str], ...] = (
    ("us-cloud1-production", "PROD_NA", "https://rest.na.zuora.com"),
    ("us-cloud2-production", "PROD", "https://rest.zuora.com"),
    ("us-cloud1-api-sandbox", "SBX_NA", "https://rest.sandbox.na.zuora.com"),
    ("us-cloud2-api-sandbox", "SBX", "https://rest.apisandbox.zuora.com"),
    ("us-central-sandbox", "CSBX", "https://rest.test.zuora.com"),
    ("eu-production", "PROD_EU", "https://rest.eu.zuora.com"),
    ("eu-api-sandbox", "SBX_EU", "https://rest.sandbox.eu.zuora.com"),
    ("eu-central-sandbox", "CSBX_EU", "https://rest.test.eu.zuora.com"),
    ("apac-production", "PROD_AP", "https://rest.ap.zuora.com"),
    ("apac-central-sandbox", "CSBX_AP", "https://rest.test.ap.zuora.com"),
)

ZUORA_ENVIRONMENTS: dict[str, str] = {
    **{name: url for name, _, url in _ENVIRONMENTS},
    **{sdk: url for _, sdk, url in _ENVIRONMENTS},
}
ENVIRONMENT_NAMES: tuple[str, ...] = tuple(name for name, _, _ in _ENVIRONMENTS)


def resolve_zuora_base_url(env: str | None, base_url: str | None) -> str:
    """The REST base URL from a named environment, or an explicit URL (which wins when both are given)."""
    if base_url:
        parts = urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"the Zuora base URL {base_url!r} is not an http(s) URL",
                              hint="use e.g. https://rest.na.zuora.com, or name an environment instead")
        return base_url.strip().rstrip("/")
    if not env:
        raise ConfigError("no Zuora environment or base URL is set",
                          hint=f"set one of: {', '.join(ENVIRONMENT_NAMES)}")
    key = env.strip()
    url = ZUORA_ENVIRONMENTS.get(key) or ZUORA_ENVIRONMENTS.get(key.lower()) or ZUORA_ENVIRONMENTS.get(key.upper())
    if url is None:
        raise ConfigError(f"unknown Zuora environment {env!r}",
                          hint=f"use one of: {', '.join(ENVIRONMENT_NAMES)} (or the SDK names "
                               f"{', '.join(sdk for _, sdk, _ in _ENVIRONMENTS)}), or give a base URL")
    return url
