"""A keep-alive connection pool split into small shards.

httpcore's pool re-scans every connection, and for each idle one every connection again, on each request and
each response; at Zuora's 40 concurrent calls that bookkeeping cost more CPU than the calls themselves. Small
shards keep the same number of keep-alive connections with a fraction of that work: each request goes to the
shard with the fewest requests in flight, so connections stay warm and evenly used.
"""

from __future__ import annotations

import math
import ssl
from collections.abc import AsyncIterator

import httpcore
import httpx

from core.zuora.sockets import AsyncioBackend

SHARD_CONNECTIONS = 4


class _CountedStream(httpx.AsyncByteStream):
    """A response body that gives its shard slot back when closed (streamed downloads close late)."""

    def __init__(self, stream: httpx.AsyncByteStream, release):
        self._stream = stream
        self._release = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        release, self._release = self._release, None
        try:
            await self._stream.aclose()
        finally:
            if release is not None:
                release()


class ShardedTransport(httpx.AsyncBaseTransport):
    def __init__(self, connections: int, *, verify: bool | ssl.SSLContext = True):
        context = httpx.create_ssl_context(verify=verify)  # one CA load, shared by every shard
        shards = max(1, math.ceil(connections / SHARD_CONNECTIONS))
        limits = httpx.Limits(max_connections=SHARD_CONNECTIONS, max_keepalive_connections=SHARD_CONNECTIONS)
        self._shards = [httpx.AsyncHTTPTransport(verify=context, limits=limits) for _ in range(shards)]
        for shard in self._shards:
            # The same pool on asyncio's streams instead of anyio's (core.zuora.sockets says why). httpx builds
            # its pool without a way to name the backend, so it is replaced, with the settings httpx gave it.
            shard._pool = httpcore.AsyncConnectionPool(
                ssl_context=context, max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
                network_backend=AsyncioBackend())
        self._in_flight = [0] * shards

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = min(range(len(self._shards)), key=self._in_flight.__getitem__)
        self._in_flight[index] += 1

        def release() -> None:
            self._in_flight[index] -= 1

        try:
            response = await self._shards[index].handle_async_request(request)
        except BaseException:
            release()
            raise
        response.stream = _CountedStream(response.stream, release)  # not a new Response: its headers copy costs
        return response

    async def aclose(self) -> None:
        for shard in self._shards:
            await shard.aclose()
