"""NetSuite token-based authentication (OAuth 1.0a, HMAC-SHA256), verified as the real service does.

The signature is recomputed with oauthlib's RFC 5849 helpers: every URL query parameter is in the base string,
the JSON body is not, and the realm (the account id) is checked but never signed. A refusal carries the reason
NetSuite writes to its Login Audit Trail; the client only ever sees 401 INVALID_LOGIN.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import OrderedDict

from oauthlib.oauth1.rfc5849 import signature, utils

SIGNATURE_METHOD = "HMAC-SHA256"
TIMESTAMP_WINDOW_S = 300
MIN_NONCE_LENGTH = 6
REQUIRED = ("oauth_consumer_key", "oauth_token", "oauth_signature_method", "oauth_timestamp", "oauth_nonce",
            "oauth_signature")


def _same(given: str, known: str) -> bool:
    """Constant-time comparison; bytes, so a non-ASCII header value is a mismatch rather than a TypeError."""
    return hmac.compare_digest(given.encode(), known.encode())


class _SigningKeys:
    """The two secrets, in the shape oauthlib's signer reads them; never shown in a repr."""

    __slots__ = ("client_secret", "resource_owner_secret")

    def __init__(self, client_secret: str, resource_owner_secret: str):
        self.client_secret = client_secret
        self.resource_owner_secret = resource_owner_secret

    def __repr__(self) -> str:
        return "_SigningKeys(***)"


class NonceCache:
    """Nonces seen per token, forgotten once their timestamp window has passed; bounded so memory stays flat."""

    def __init__(self, max_entries: int = 100_000, ttl_s: float = 2 * TIMESTAMP_WINDOW_S):
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, token: str, nonce: str) -> bool:
        """Remember the nonce; False when it was already used."""
        now = time.monotonic()
        with self._lock:
            while self._seen and (len(self._seen) >= self.max_entries or next(iter(self._seen.values())) < now):
                self._seen.popitem(last=False)
            key = (token, nonce)
            if key in self._seen:
                return False
            self._seen[key] = now + self.ttl_s
            return True


class TbaVerifier:
    """Checks one request's `Authorization: OAuth ...` header against the account's integration and token."""

    def __init__(self, realm: str, consumer_key: str, consumer_secret: str, token_id: str, token_secret: str,
                 nonces: NonceCache | None = None):
        self.realm = realm
        self._consumer_key = consumer_key
        self._token_id = token_id
        self.nonces = nonces or NonceCache()
        self._signing_keys = _SigningKeys(consumer_secret, token_secret)

    def __repr__(self) -> str:  # the secrets stay out of reprs and tracebacks
        return f"TbaVerifier(realm={self.realm!r})"

    def refusal(self, method: str, url: str, host: str, query: str, authorization: str | None) -> str | None:
        """None when the request is authentic, else the Login Audit Trail reason for refusing it."""
        if not authorization:
            return "missing_authorization"
        try:
            params = {k: utils.unescape(v) for k, v in utils.parse_authorization_header(authorization)}
            signed = signature.collect_parameters(uri_query=query, headers={"Authorization": authorization},
                                                  exclude_oauth_signature=True, with_realm=False)
        except ValueError:
            return "malformed_authorization"
        if any(not params.get(k) for k in REQUIRED):
            return "parameter_absent"
        if params.get("realm") != self.realm:
            return "realm_refused"
        if params["oauth_signature_method"] != SIGNATURE_METHOD:
            return "signature_method_rejected"
        if params.get("oauth_version", "1.0") != "1.0":
            return "version_rejected"
        if not _same(params["oauth_consumer_key"], self._consumer_key):
            return "consumer_key_unknown"
        if not _same(params["oauth_token"], self._token_id):
            return "token_rejected"
        try:
            stamp = int(params["oauth_timestamp"])
        except ValueError:
            return "timestamp_refused"
        if abs(time.time() - stamp) > TIMESTAMP_WINDOW_S:
            return "timestamp_refused"
        if len(params["oauth_nonce"]) < MIN_NONCE_LENGTH:
            return "nonce_rejected"
        base = signature.signature_base_string(
            method.upper(), signature.base_string_uri(url, host=host), signature.normalize_parameters(signed))
        expected = signature.sign_hmac_sha256_with_client(base, self._signing_keys)
        if not _same(params["oauth_signature"], expected):
            return "InvalidSignature"
        # Only an authentic request spends its nonce, so a forged one cannot lock the real client out.
        if not self.nonces.add(params["oauth_token"], params["oauth_nonce"]):
            return "nonce_used"
        return None
