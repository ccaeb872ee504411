"""A profile plus its credentials, turned into the two clients; and the connection test behind
`cutover credentials test`.

Clients are built on first use, so a step that only reads Zuora works while the NetSuite secrets are still missing.
Messages are scrubbed of every secret value before they leave, even though the clients never put one in.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import httpx

from core.profile import Profile
from core.errors import ApiError, AuthError, ConfigError, CredentialsError, CutoverError
from core.netsuite import NetSuiteClient
from core.secrets import SECRET_LABELS, SYSTEM_SECRETS, Credentials
from core.zuora import ZuoraClient

# SuiteQL needs a FROM; `transaction` is the table every later check reads, so its permission is tested too.
NETSUITE_PROBE = "SELECT id FROM transaction"

Reason = Literal["ok", "missing", "credentials", "unreachable", "tls", "timeout", "config", "error"]


def _require(profile: Profile, credentials: Credentials, system: str) -> None:
    missing = credentials.missing(SYSTEM_SECRETS[system])
    if missing:
        raise CredentialsError(f"{system}: no {', '.join(SECRET_LABELS[n] for n in missing)} for profile "
                               f"{profile.name!r}",
                               hint=f"run `cutover credentials set {profile.name}` or set the CUTOVER_* variables")


def zuora_client(profile: Profile, credentials: Credentials, **options) -> ZuoraClient:
    _require(profile, credentials, "Zuora")
    return ZuoraClient(profile.zuora_url(), credentials.zuora_client_id, credentials.zuora_client_secret, **options)


def netsuite_client(profile: Profile, credentials: Credentials, **options) -> NetSuiteClient:
    _require(profile, credentials, "NetSuite")
    c = credentials
    return NetSuiteClient(profile.netsuite_account_id, c.netsuite_consumer_key, c.netsuite_consumer_secret,
                          c.netsuite_token_id, c.netsuite_token_secret, base_url=profile.netsuite_base_url,
                          **options)


class Session:
    """`async with Session(profile, creds) as s:` then `s.zuora` and `s.netsuite`; both closed at the end.

    `timeout` (seconds, e.g. from `--timeout`) bounds each call's wait for an answer on both clients; None keeps
    the clients' own default."""

    def __init__(self, profile: Profile, credentials: Credentials, *, timeout: float | None = None,
                 zuora_options: dict | None = None, netsuite_options: dict | None = None):
        self.profile = profile
        self._credentials = credentials
        self._zuora_options = dict(zuora_options or {})
        self._netsuite_options = dict(netsuite_options or {})
        if timeout is not None:
            self._zuora_options.setdefault("timeout", timeout)
            self._netsuite_options.setdefault("timeout", timeout)
        self._zuora: ZuoraClient | None = None
        self._netsuite: NetSuiteClient | None = None

    def __repr__(self) -> str:
        return f"Session(profile={self.profile.name!r})"

    @property
    def zuora(self) -> ZuoraClient:
        if self._zuora is None:
            self._zuora = zuora_client(self.profile, self._credentials, **self._zuora_options)
        return self._zuora

    @property
    def netsuite(self) -> NetSuiteClient:
        if self._netsuite is None:
            self._netsuite = netsuite_client(self.profile, self._credentials, **self._netsuite_options)
        return self._netsuite

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for client in (self._zuora, self._netsuite):
            if client is not None:
                await client.aclose()
        self._zuora = self._netsuite = None


# ---- connection test -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SystemCheck:
    system: str  # "Zuora" | "NetSuite"
    ok: bool
    reason: Reason
    detail: str  # what was reached, or why not and what to do; never a secret
    elapsed_s: float


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    node: BaseException | None = exc
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        yield node
        node = node.__cause__ or node.__context__  # the clients raise `from None`; the context still tells


def _reason(exc: BaseException) -> Reason:
    chain = list(_chain(exc))
    if any(isinstance(e, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(e) or getattr(e, "code", None) == "TLS"
           for e in chain):
        return "tls"
    if any(isinstance(e, (httpx.TimeoutException, asyncio.TimeoutError, TimeoutError))
           or getattr(e, "timed_out", False) for e in chain):
        return "timeout"
    if isinstance(exc, AuthError):
        return "credentials"
    if isinstance(exc, CredentialsError):
        return "missing"
    if isinstance(exc, ConfigError):
        return "config"
    if any(isinstance(e, (httpx.TransportError, OSError)) for e in chain) or (
            isinstance(exc, ApiError) and exc.status is None):
        return "unreachable"
    return "error"


_ADVICE: dict[str, str] = {
    "credentials": "credentials refused",
    "unreachable": "host unreachable",
    "tls": "TLS handshake failed",
    "timeout": "no answer in time",
    "missing": "credentials missing",
    "config": "profile setting wrong",
    "error": "unexpected answer",
}


def _ssl_reason(exc: BaseException) -> str:
    for e in _chain(exc):
        if isinstance(e, ssl.SSLError):
            return e.reason or type(e).__name__
    return "certificate not verified"


def scrub(text: str, credentials: Credentials) -> str:
    """The text with every secret value replaced by asterisks."""
    for value in sorted(credentials.secret_values(), key=len, reverse=True):
        if value:
            text = text.replace(value, "********")
    return text


async def _check(system: str, url: str, probe, credentials: Credentials, timeout: float) -> SystemCheck:
    started = time.monotonic()
    try:
        # The clients' own timeouts should fire first (their messages say more); this bounds the retries.
        await asyncio.wait_for(probe(), 2 * timeout + 5)
    except Exception as exc:  # every failure becomes a line in the report, never a traceback
        reason = _reason(exc)
        text = str(exc) if isinstance(exc, CutoverError) else f"{type(exc).__name__} {exc}".strip()
        if isinstance(exc, (asyncio.TimeoutError, TimeoutError)) and not str(exc):
            text = f"{url} did not answer within {2 * timeout + 5:g} s"
        elif reason == "tls":
            text = (f"{url} ({_ssl_reason(exc)}): check the base URL and the machine's CA certificates; "
                    f"certificate checks are never turned off")
        detail = scrub(f"{_ADVICE[reason]}: {text}", credentials)
        return SystemCheck(system, False, reason, detail, time.monotonic() - started)
    return SystemCheck(system, True, "ok", f"connected to {url}", time.monotonic() - started)


async def test_connection(profile: Profile, credentials: Credentials, *, timeout: float = 20.0) -> list[SystemCheck]:
    """Zuora: fetch an OAuth token. NetSuite: one signed SuiteQL query. Both at once, each reported on its own."""
    fast = {"timeout": timeout, "retry_attempts": 2}

    async def zuora() -> None:
        async with zuora_client(profile, credentials, **fast, backoff_base=0.2) as client:
            await client.token()

    async def netsuite() -> None:
        async with netsuite_client(profile, credentials, **fast, retry_wait_initial=0.2) as client:
            await client.suiteql_rows(NETSUITE_PROBE, limit=1)

    return list(await asyncio.gather(
        _check("Zuora", _safe_url(profile.zuora_url), zuora, credentials, timeout),
        _check("NetSuite", _safe_url(profile.netsuite_url), netsuite, credentials, timeout),
    ))


test_connection.__test__ = False  # type: ignore[attr-defined]  # pytest: not a test despite the name


def _safe_url(fn) -> str:
    try:
        return fn()
    except CutoverError:
        return "(no usable URL)"
