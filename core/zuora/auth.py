"""OAuth 2.0 client credentials for Zuora (apis.md A2): one cached token, renewed before it expires.

Concurrent callers share one renewal, and its failure too (Zuora rate-limits the token endpoint by IP, so never mint
a token each). A renewal is one request: retrying is the calling operation's job, so attempts never multiply.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import SecretStr

from core.errors import AuthError
from core.zuora.errors import SYSTEM

RENEW_EARLY_S = 300.0  # the Zuora tutorial's margin


def renewal_margin(expires_in: float) -> float:
    """Renew 300 s before expiry, or a tenth of the lifetime when tokens live less than 50 minutes."""
    return min(RENEW_EARLY_S, expires_in / 10)


class TokenProvider:
    """Holds the current bearer token. `fetch` posts to /oauth/token and returns the parsed answer."""

    def __init__(self, fetch: Callable[[], Awaitable[dict[str, Any]]], *, clock: Callable[[], float] = time.monotonic):
        self._fetch = fetch
        self._clock = clock
        self._token: SecretStr | None = None
        self._renew_at = 0.0
        self._renewal: asyncio.Task | None = None
        self.renewals = 0
        self._accepted: deque[str] = deque(maxlen=4)  # the last tokens Zuora answered a call for

    def __repr__(self) -> str:
        return f"TokenProvider(renewals={self.renewals})"

    def _fresh(self) -> str | None:
        if self._token is not None and self._clock() < self._renew_at:
            return self._token.get_secret_value()
        return None

    async def get(self) -> str:
        token = self._fresh()
        if token is not None:
            return token
        if self._renewal is None:  # the first caller starts the renewal; the others await the same one
            self._renewal = asyncio.ensure_future(self._renew())
            self._renewal.add_done_callback(self._renewal_done)
        return await asyncio.shield(self._renewal)  # a cancelled caller does not cancel the others' renewal

    def _renewal_done(self, task: asyncio.Task) -> None:
        if self._renewal is task:
            self._renewal = None
        if not task.cancelled():
            task.exception()  # retrieved here too, so a failure nobody awaited any more is not logged as lost

    async def _renew(self) -> str:
        started = self._clock()
        answer = await self._fetch()
        value = answer.get("access_token")
        if not isinstance(value, str) or not value:
            raise AuthError(None, "the token endpoint answered without an access_token", system=SYSTEM)
        try:
            expires_in = float(answer.get("expires_in", 3599))
        except (TypeError, ValueError):
            expires_in = 3599.0
        self._token = SecretStr(value)
        self._renew_at = started + expires_in - renewal_margin(expires_in)
        self.renewals += 1
        return value

    def accepted(self, token: str) -> None:
        """A call with `token` succeeded: Zuora took it."""
        if not self._accepted or self._accepted[-1] != token:
            self._accepted.append(token)

    def was_accepted(self, token: str) -> bool:
        """Did Zuora take `token` before? Then refusing it now means it expired or was revoked, and renewing is
        the cure; a token refused the first time it is used means the credentials or the user's access are wrong."""
        return token in self._accepted

    def invalidate(self, token: str) -> None:
        """Zuora refused `token`: the next get() renews, unless someone already replaced it."""
        if self._token is not None and self._token.get_secret_value() == token:
            self._renew_at = 0.0
