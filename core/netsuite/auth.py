"""Token-based authentication (OAuth 1.0a, HMAC-SHA256) for NetSuite REST, as an httpx Auth (apis.md B2).

oauthlib's RFC 5849 client signs it, HMAC-SHA256 and realm included: every URL query parameter (SuiteQL's limit
and offset) goes into the base string and none into the header, and the JSON body is never signed (oauthlib signs a
body only when it is form-encoded).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator

import httpx
from oauthlib.common import generate_token
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_AUTH_HEADER, Client
from pydantic import SecretStr

from core.netsuite.hosts import netsuite_realm

HMAC_SHA256 = SIGNATURE_HMAC_SHA256


def _secret(value: str | SecretStr) -> SecretStr:
    return value if isinstance(value, SecretStr) else SecretStr(str(value))


class TbaAuth(httpx.Auth):
    """Signs each request; the four credentials stay SecretStr until the moment of signing."""

    def __init__(self, account_id: str, consumer_key: str | SecretStr, consumer_secret: str | SecretStr,
                 token_id: str | SecretStr, token_secret: str | SecretStr, *,
                 nonce_factory: Callable[[], str] | None = None, clock: Callable[[], float] | None = None):
        self.realm = netsuite_realm(account_id)
        self._consumer_key = _secret(consumer_key)
        self._consumer_secret = _secret(consumer_secret)
        self._token_id = _secret(token_id)
        self._token_secret = _secret(token_secret)
        self._nonce = nonce_factory or (lambda: generate_token(20))  # NetSuite wants >= 6 chars; 20 is ideal
        self._clock = clock or time.time

    def __repr__(self) -> str:
        return f"TbaAuth(realm={self.realm!r})"

    def authorization(self, method: str, url: str) -> str:
        """The `Authorization` header value for one request."""
        signer = Client(
            self._consumer_key.get_secret_value(),
            client_secret=self._consumer_secret.get_secret_value(),
            resource_owner_key=self._token_id.get_secret_value(),
            resource_owner_secret=self._token_secret.get_secret_value(),
            signature_method=SIGNATURE_HMAC_SHA256, signature_type=SIGNATURE_TYPE_AUTH_HEADER,
            realm=self.realm, nonce=self._nonce(), timestamp=str(int(self._clock())),
        )
        # No body: oauthlib then signs only the URL (query included) and the oauth_* parameters.
        _, headers, _ = signer.sign(url, method.upper())
        return headers["Authorization"]

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self.authorization(request.method, str(request.url))
        yield request
