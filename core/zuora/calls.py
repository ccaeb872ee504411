"""Zuora calls: one keep-alive connection pool, OAuth, retries, adaptive concurrency and error mapping.

Every Zuora call of the tool goes through `ZuoraCalls.call`. The operations (queries, dataquery, memos, describe)
are written against this class and `core.zuora.client.ZuoraClient` adds them on top, so the imports run one way:
client -> operations -> calls.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any, Self
from urllib.parse import urlsplit

import httpx
import orjson
from pydantic import SecretStr

from core.errors import AuthError, ConfigError
from core.zuora.auth import TokenProvider
from core.zuora.concurrency import AdaptiveLimiter
from core.zuora.environments import resolve_zuora_base_url
from core.zuora.errors import SYSTEM, Failure, Unanswered, html_page, not_the_api, read_failure, to_error
from core.zuora.poll_pace import PollPace
from core.zuora.retry import TokenRejected, with_retries
from core.zuora.transport import ShardedTransport

DEFAULT_ZUORA_VERSION = "2025-08-12"  # errors carry their real HTTP status from 2024-05-20 on
_TRACK_FORBIDDEN = re.compile(r"[:;\"'\s]|[^\x21-\x7e]")
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
_HTTPX_LOG = logging.getLogger("httpx")  # the -v log's call lines: written as httpx's own send writes them


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _body(response: httpx.Response, headers: Mapping[str, str]) -> Any:
    """JSON when it parses, else the text (describe answers XML; proxies answer HTML)."""
    content = response.content
    if content[:1] in (b"{", b"[") or "json" in headers.get("content-type", ""):
        try:
            return orjson.loads(content)  # a tenth of json.loads' time on a 50-memo bulk answer
        except orjson.JSONDecodeError:
            pass
    return response.text


def _check_not_a_page(request: httpx.Request, status: int, headers: Mapping[str, str], body: Any) -> None:
    """A web page is never Zuora's answer. On 429 and 5xx a proxy or gateway in between may answer with one, and
    those are retried as their status says; any other page means the URL is not the API."""
    if status != 429 and status < 500 and html_page(headers.get("content-type", ""), body):
        raise not_the_api(str(request.url.copy_with(query=None, fragment=None)))


class ZuoraCalls:
    """`async with ZuoraCalls(base_url, client_id, client_secret) as zuora:` then `await zuora.call(...)`.

    `max_concurrency` caps calls in flight (the limiter then follows Zuora's advertised limit below it);
    `on_request(request)` sees each httpx.Request before it is sent, bearer header included, so never log it;
    `memo_path` is `credit-memos` or the legacy `creditmemos`; `backoff_base`/`backoff_cap` shape the
    full-jitter retry waits in seconds.
    """

    def __init__(self, base_url: str, client_id: SecretStr | str, client_secret: SecretStr | str, *,
                 timeout: float = 60.0, max_concurrency: int = 40, track_id: str | None = None,
                 verify: bool = True, retry_attempts: int = 8, on_request: Callable | None = None,
                 object_query_concurrency: int = 80, data_query_concurrency: int = 5,
                 zuora_version: str | None = DEFAULT_ZUORA_VERSION, memo_path: str = "credit-memos",
                 backoff_base: float = 0.5, backoff_cap: float = 30.0,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.base_url = resolve_zuora_base_url(None, base_url)
        parts = urlsplit(self.base_url)
        local = (parts.hostname or "") in _LOOPBACK_HOSTS
        if not local and (parts.scheme != "https" or not verify):
            raise ConfigError(f"{self.base_url} must be reached over https with TLS verification on",
                              hint="plain http and verify=False are only for a local simulator on 127.0.0.1")
        client_id = client_id.get_secret_value() if isinstance(client_id, SecretStr) else client_id
        if not client_id or not client_id.strip():
            raise ConfigError("the Zuora OAuth client id is empty", hint="set the profile's Zuora client id")
        if max_concurrency < 1 or retry_attempts < 1:
            raise ConfigError("max_concurrency and retry_attempts must be at least 1")
        if memo_path not in ("credit-memos", "creditmemos"):
            raise ConfigError(f"unknown credit memo path {memo_path!r}", hint="use credit-memos or creditmemos")
        self._client_id = SecretStr(client_id.strip())  # the OAuth client id is a credential too
        self._client_secret = client_secret if isinstance(client_secret, SecretStr) else SecretStr(client_secret)
        self._run_id = self._check_track_id(track_id) if track_id else f"cutover-{uuid.uuid4().hex[:12]}"
        self._calls = itertools.count(1)
        self.timeout = timeout
        self.max_concurrency = max_concurrency
        self.retry_attempts = retry_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.zuora_version = zuora_version
        self.memo_path = memo_path
        self._on_request = on_request
        self.limiter = AdaptiveLimiter(max_concurrency)
        self.object_query_limiter = AdaptiveLimiter(object_query_concurrency)
        self.data_query_slots = asyncio.Semaphore(data_query_concurrency)
        self.data_query_pace = PollPace()
        self._tokens = TokenProvider(self._fetch_token)
        # One pool for the whole run: keep-alive connections enough for every slot, so no request ever waits
        # on a TCP/TLS handshake once the run is warm.
        pool = max_concurrency + object_query_concurrency + data_query_concurrency
        self._transport = transport or ShardedTransport(pool, verify=verify)
        self._http = httpx.AsyncClient(
            base_url=self.base_url, timeout=timeout, follow_redirects=False, transport=self._transport,
            headers={"Accept": "application/json", "User-Agent": "cutover"})
        # What build_request would merge into every API call (the pool's headers, its timeouts), merged once.
        self._headers = {name.decode("ascii"): value.decode("ascii") for name, value in self._http.headers.raw}
        self._timeouts = self._http.timeout.as_dict()
        self._urls: dict[str, httpx.URL] = {}
        self.request_count = 0
        self.http_429_count = 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"

    @staticmethod
    def _check_track_id(track_id: str) -> str:
        if len(track_id) > 40 or _TRACK_FORBIDDEN.search(track_id):
            raise ConfigError(f"the track id {track_id!r} is not usable in Zuora-Track-Id",
                              hint="use at most 40 printable ASCII characters without : ; \" ' or spaces")
        return track_id

    def track_id(self) -> str:
        """A fresh Zuora-Track-Id: the run's id and a call counter (at most 64 characters)."""
        return f"{self._run_id}-{next(self._calls)}"

    def _url(self, path: str) -> httpx.URL:
        """The absolute URL of an API path, parsed once: httpx's per-request URL merge is a hot spot in bulk runs."""
        url = self._urls.get(path)
        if url is None:
            url = httpx.URL(self.base_url + path)
            if len(self._urls) < 1024:  # the bulk and paging paths repeat; one-off memo keys need not stay
                self._urls[path] = url
        return url

    # ---- lifecycle ------------------------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ---- transport ------------------------------------------------------------------------------------------
    async def _send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        self.request_count += 1
        if self._on_request is not None:
            seen = self._on_request(request)
            if inspect.isawaitable(seen):
                await seen
        # Straight to the pool: AsyncClient.send adds auth and redirect handling this client turns off, and a
        # cookie jar that parsed every answer's headers (Zuora's API authenticates by bearer token, not cookies):
        # together about a tenth of the CPU of a bulk call.
        try:
            response = await self._transport.handle_async_request(request)
            response.request = request
            if _HTTPX_LOG.isEnabledFor(logging.INFO):
                _HTTPX_LOG.info('HTTP Request: %s %s "%s %d %s"', request.method, request.url,
                                response.http_version, response.status_code, response.reason_phrase)
            if not stream:
                try:
                    await response.aread()
                except BaseException:
                    await response.aclose()
                    raise
            return response
        except httpx.TimeoutException:
            raise Unanswered(f"Zuora did not answer {request.method} {request.url.path} within {self.timeout:g} s",
                             timed_out=True) from None
        except httpx.TransportError as exc:
            raise Unanswered(f"Zuora gave no answer to {request.method} {request.url.path} (the connection "
                             f"failed: {type(exc).__name__})", timed_out=False) from None

    async def _fetch_token(self) -> dict[str, Any]:
        """One POST /oauth/token. No retry here: the operation that needed the token retries as a whole."""
        form = {"client_id": self._client_id.get_secret_value(),
                "client_secret": self._client_secret.get_secret_value(), "grant_type": "client_credentials"}
        request = self._http.build_request("POST", "/oauth/token", data=form,
                                           headers={"Zuora-Track-Id": self.track_id()})
        response = await self._send(request)
        headers = response.headers
        body = _body(response, headers)
        _check_not_a_page(request, response.status_code, headers, body)
        if response.status_code == 200 and isinstance(body, dict):
            return body
        if response.status_code == 429:
            self.http_429_count += 1
        failure = read_failure(response.status_code, body, headers.get("zuora-request-id"))
        failure = failure or Failure(None, f"HTTP {response.status_code}", None)
        if response.status_code in (400, 401, 403):
            raise AuthError(failure.code, f"the OAuth client credentials were refused ({failure.message})",
                            failure.request_id, status=response.status_code, system=SYSTEM)
        raise to_error(response.status_code, failure, retry_after=_retry_after(headers))

    async def token(self) -> str:
        """The current bearer token, fetched or renewed as needed (retried like any call). AuthError when the
        credentials are refused."""
        return await with_retries(self._tokens.get, attempts=self.retry_attempts, base=self.backoff_base,
                                  cap=self.backoff_cap)

    async def _attempt(self, method: str, path: str, params: Any, body: Any,
                       idempotency_key: str | None, accept: str | None = None) -> tuple[Any, str | None]:
        token = await self._tokens.get()
        sent = {"Authorization": f"Bearer {token}", "Zuora-Track-Id": self.track_id()}
        if accept:
            sent["Accept"] = accept  # the pool's default is application/json
        if idempotency_key:
            sent["Idempotency-Key"] = idempotency_key
        if self.zuora_version and path.startswith(("/v1/", "/object-query/")):
            sent["Zuora-Version"] = self.zuora_version
        content = None
        if body is not None:
            content = orjson.dumps(body)
            sent["Content-Type"] = "application/json"
        request = httpx.Request(method, self._url(path), params=params, content=content,
                                headers={**self._headers, **sent}, extensions={"timeout": self._timeouts})
        limiter = self.object_query_limiter if path.startswith("/object-query/") else self.limiter
        async with limiter:
            response = await self._send(request)
            headers = dict(response.headers.items())  # decoded once: httpx decodes every header on each lookup
            limiter.observe(headers)
            if response.status_code == 429:
                self.http_429_count += 1
                limiter.rate_limited()
        status = response.status_code
        request_id = headers.get("zuora-request-id")
        answer = _body(response, headers)
        _check_not_a_page(request, status, headers, answer)
        failure = read_failure(status, answer, request_id)
        if failure is None and status >= 300:
            failure = Failure(None, f"unexpected HTTP {status}", None, request_id)
        if failure is not None:
            if status == 401 or failure.category == 11:
                self._tokens.invalidate(token)
                raise TokenRejected(failure.code, f"the access token was refused ({failure.message})",
                                    failure.request_id, status=status, system=SYSTEM,
                                    expired=self._tokens.was_accepted(token))
            raise to_error(status, failure, retry_after=_retry_after(headers))
        self._tokens.accepted(token)
        return answer, request_id

    async def call_with_request_id(self, method: str, path: str, *, params: Any = None, json: Any = None,
                                   accept: str | None = None) -> tuple[Any, str | None]:
        """One Zuora API call, retried as Zuora advises: the parsed body and Zuora's request id. `accept` is the
        media type to ask for when the operation does not answer JSON (describe answers text/xml)."""
        # A retried POST must not run twice: every attempt of one call carries the same key (apis.md A3).
        key = uuid.uuid4().hex if method == "POST" else None
        return await with_retries(lambda: self._attempt(method, path, params, json, key, accept),
                                  attempts=self.retry_attempts, base=self.backoff_base, cap=self.backoff_cap)

    async def call(self, method: str, path: str, *, params: Any = None, json: Any = None,
                   accept: str | None = None) -> Any:
        """One Zuora API call (path from the base URL, e.g. `/v1/credit-memos/CM1`): the parsed body."""
        body, _ = await self.call_with_request_id(method, path, params=params, json=json, accept=accept)
        return body

    async def open_download(self, url: str) -> httpx.Response:
        """Open a pre-signed file URL as a stream, without the bearer token. The caller closes the response."""
        response = await self._send(self._http.build_request("GET", url), stream=True)
        if response.status_code != 200:
            await response.aclose()
            raise to_error(response.status_code, Failure(None, f"the result file answered HTTP "
                                                               f"{response.status_code}", None),
                           retry_after=_retry_after(response.headers))
        return response
