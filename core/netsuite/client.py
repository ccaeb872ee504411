"""The one way in to NetSuite: SuiteQL and the customerPayment record over REST with token-based auth.

The client owns auth, the in-flight limit, retries and error mapping. NetSuite's concurrency limit is per account
and shared with every other integration, and its 429 carries no Retry-After, so the client keeps its own requests
under a semaphore and backs off exponentially with jitter (1 s, 2 s, 4 s ... 30 s) on 429, 5xx, timeouts and
dropped connections. Custom field script ids never appear here: callers pass them in from the profile.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from urllib.parse import urlsplit

import httpx
import stamina
from pydantic import SecretStr

import core.retry_log  # noqa: F401  (retries logged at INFO, for -v only)
from core.errors import ApiError, ConfigError, RateLimited
from core.netsuite.auth import TbaAuth
from core.netsuite.errors import api_error, check_not_a_page, json_body, transport_error
from core.netsuite.fields import DISCOVERY_QUERY, CandidateField, candidate
from core.netsuite.hosts import check_account_id, is_loopback_url, netsuite_base_url
from core.netsuite.suiteql import (
    MAX_RESULTS, check_page_size, keyset_query, last_id, result_key, row, too_many_rows,
)

SUITEQL_PATH = "/query/v1/suiteql"
CUSTOMER_PAYMENT_PATH = "/record/v1/customerPayment"


TIMEOUT_RETRIES = 3  # tries more after a timeout: each costs a whole timeout, and a silent server is not answering


def _retryable(exc: Exception) -> bool:
    """429 and 5xx, and no answer at all; but a refused connection or unknown host fails at once."""
    if isinstance(exc, RateLimited):
        return True
    if isinstance(exc, ApiError):
        return (exc.status or 0) >= 500
    return isinstance(exc, httpx.TransportError) and not isinstance(exc, httpx.ConnectError)


class _Retries:
    """stamina's hook for one call: `_retryable`, with timeouts given TIMEOUT_RETRIES more tries at most."""

    def __init__(self):
        self.timeouts = 0

    def __call__(self, exc: Exception) -> bool:
        if isinstance(exc, httpx.TimeoutException):
            self.timeouts += 1
            if self.timeouts > TIMEOUT_RETRIES:
                return False
        return _retryable(exc)


def _record_id(record_id: str | int) -> str:
    text = str(record_id).strip()
    if not text.isdigit():
        raise ConfigError(f"{record_id!r} is not a NetSuite internal id", hint="internal ids are whole numbers")
    return text


class NetSuiteClient(AbstractAsyncContextManager):
    def __init__(self, account_id: str, consumer_key: str | SecretStr, consumer_secret: str | SecretStr,
                 token_id: str | SecretStr, token_secret: str | SecretStr, *,
                 base_url: str | None = None, timeout: float = 60.0, max_concurrency: int = 10, verify: bool = True,
                 retry_attempts: int = 8, retry_wait_initial: float = 1.0, retry_wait_max: float = 30.0):
        self.account_id = check_account_id(account_id)
        self.base_url = netsuite_base_url(self.account_id, base_url)
        if not verify and not is_loopback_url(self.base_url):
            raise ConfigError("TLS certificate checks cannot be turned off for a real NetSuite account",
                              hint="leave verify on; it may be off only for the simulator on this machine")
        if max_concurrency < 1 or retry_attempts < 1:
            raise ConfigError("max_concurrency and retry_attempts must be at least 1")
        self.request_count = 0
        self.timeout = timeout
        self._host = urlsplit(self.base_url).netloc
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._retry = {"attempts": retry_attempts, "timeout": None, "wait_initial": retry_wait_initial,
                       "wait_max": retry_wait_max, "wait_jitter": retry_wait_initial, "wait_exp_base": 2}
        auth = TbaAuth(self.account_id, consumer_key, consumer_secret, token_id, token_secret)
        self._http = httpx.AsyncClient(
            base_url=f"{self.base_url}/services/rest", auth=auth, timeout=timeout, verify=verify,
            headers={"Accept": "application/json"},
            limits=httpx.Limits(max_connections=max_concurrency, max_keepalive_connections=max_concurrency),
        )

    def __repr__(self) -> str:
        return f"NetSuiteClient(account_id={self.account_id!r}, base_url={self.base_url!r})"

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ---- transport ------------------------------------------------------------------------------------------
    async def _send(self, method: str, path: str, **kw) -> httpx.Response:
        try:
            async for attempt in stamina.retry_context(on=_Retries(), **self._retry):
                with attempt:
                    async with self._semaphore:  # held for the request only, never across a backoff wait
                        self.request_count += 1
                        response = await self._http.request(method, path, **kw)
                    check_not_a_page(response)
                    if response.is_error:
                        raise api_error(response)
                    return response
        except httpx.TransportError as exc:
            raise transport_error(exc, self._host, self.timeout) from exc
        raise AssertionError("unreachable: stamina re-raises the last failure")

    # ---- SuiteQL --------------------------------------------------------------------------------------------
    async def _suiteql_page(self, q: str, limit: int, offset: int) -> dict:
        response = await self._send(
            "POST", SUITEQL_PATH, params={"limit": limit, "offset": offset}, json={"q": q},
            headers={"Prefer": "transient", "Content-Type": "application/json"},
        )
        return json_body(response)

    async def suiteql(self, q: str, *, page_size: int = 1000) -> AsyncIterator[dict]:
        """Every row of a query known to stay under 100,000 rows, paged by offset and streamed.

        Give the query an ORDER BY on a unique key, or pages may overlap or skip rows.
        """
        size = check_page_size(page_size)
        offset = 0
        while True:
            page = await self._suiteql_page(q, size, offset)
            if offset == 0 and int(page.get("totalResults") or 0) > MAX_RESULTS:
                raise too_many_rows(q)
            for item in page.get("items", []):
                yield row(item)
            if not page.get("hasMore"):
                return
            offset += size
            if offset + size > MAX_RESULTS:
                raise too_many_rows(q)

    async def suiteql_by_id(self, select: str, *, where: str = "", id_column: str = "id",
                            page_size: int = 1000) -> AsyncIterator[dict]:
        """Every row, paged on the internal id (`WHERE ... AND id > :last ORDER BY id`): no 100,000-row cap.

        `select` is the column list and FROM clause, e.g. `t.id, t.tranid FROM transaction t` with
        id_column=`t.id`; the id column must be among the selected columns.
        """
        size = check_page_size(page_size)
        key = result_key(id_column)
        after: int | None = None
        while True:
            page = await self._suiteql_page(keyset_query(select, where, id_column, after), size, 0)
            items = page.get("items", [])
            for item in items:
                yield row(item)
            if not page.get("hasMore") or not items:
                return
            after = last_id(items[-1], key)

    async def suiteql_rows(self, q: str, limit: int = 1000) -> list[dict]:
        """The first page only: samples, counts and GROUP BY results."""
        page = await self._suiteql_page(q, check_page_size(limit), 0)
        return [row(item) for item in page.get("items", [])]

    # ---- records --------------------------------------------------------------------------------------------
    async def get_customer_payment(self, id: str | int) -> dict:
        return json_body(await self._send("GET", f"{CUSTOMER_PAYMENT_PATH}/{_record_id(id)}"))

    async def update_customer_payment(self, id: str | int, fields: dict) -> str:
        """PATCH only the given fields (None clears one); returns the record URL from `Location` (204 expected)."""
        if not isinstance(fields, dict) or not fields:
            raise ConfigError("no fields to update on the customer payment",
                              hint="pass a dict of field ids to new values, e.g. {script_id: 'Yes'}")
        rid = _record_id(id)
        response = await self._send("PATCH", f"{CUSTOMER_PAYMENT_PATH}/{rid}", json=fields)
        return response.headers.get("Location") or f"{self.base_url}/services/rest{CUSTOMER_PAYMENT_PATH}/{rid}"

    # ---- connector fields -----------------------------------------------------------------------------------
    async def discover_zuora_fields(self) -> list[CandidateField]:
        """The account's Zuora custom fields, each with the profile key it most likely is."""
        return [candidate(item) async for item in self.suiteql(DISCOVERY_QUERY)]
