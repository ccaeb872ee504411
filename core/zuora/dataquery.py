"""Data Query (apis.md A5.3): submit SQL, poll the job with backoff, stream the JSON Lines result.

The result file is read line by line from the HTTP stream, so a 500k-row answer never sits in memory. The file
URL is pre-signed: it is fetched without the bearer token. A download that breaks is fetched again, skipping
the rows already handed out (the file does not change).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import httpx
import orjson

from core.errors import ApiError
from core.zuora.errors import SYSTEM, Unanswered, expect_object
from core.zuora.poll_pace import PollPace
from core.zuora.retry import Backoff

if TYPE_CHECKING:
    from core.zuora.calls import ZuoraCalls

FINISHED = frozenset({"completed", "failed", "cancelled"})


def _job(body: object, what: str) -> dict:
    data = expect_object(body, what).get("data")
    if not isinstance(data, dict) or not data.get("id"):
        raise ApiError(None, f"{what}: the answer has no job in `data`", system=SYSTEM)
    return data


async def run_job(client: ZuoraCalls, sql: str, *, poll_max: float = 5.0) -> dict:
    """Submit `sql` and wait for the job to finish; the completed job (with `dataFile`)."""
    request = {"query": sql, "outputFormat": "JSON", "compression": "NONE", "output": {"target": "S3"}}
    pace: PollPace = client.data_query_pace
    async with client.data_query_slots:  # Zuora runs at most 5 queries at once per tenant
        job = _job(await client.call("POST", "/query/jobs", json=request), "Data Query submit")
        submitted, polls = time.monotonic(), 0
        delay = first = pace.first_wait()
        asked = submitted
        while job.get("queryStatus") not in FINISHED:
            await asyncio.sleep(delay)
            delay = min(poll_max, delay * 2)
            asked = time.monotonic()
            job = _job(await client.call("GET", f"/query/jobs/{job['id']}"), "Data Query poll")
            polls += 1
        if polls:
            # The job was done when the poll that found it was asked: that poll's own round trip is not the job's
            # time (counted in, every job after a slow one waited a round trip longer for its first poll).
            pace.finished(asked - submitted, polls, first)
    status = job["queryStatus"]
    if status != "completed":
        reason = job.get("errorMessage") or job.get("error") or job.get("message") or "no reason given"
        raise ApiError(None, f"Data Query job {job['id']} {status}: {reason}", system=SYSTEM,
                       hint="check the SQL (Trino dialect, lower-case table and column names)"
                       if status == "failed" else "")
    if not job.get("dataFile"):
        raise ApiError(None, f"Data Query job {job['id']} completed without a dataFile", system=SYSTEM)
    return job


async def _line_batches(response: httpx.Response) -> AsyncIterator[list[bytes]]:
    """The file's non-blank lines, as bytes, a received chunk's worth at a time: orjson reads bytes, so there is no
    text decoding and no line decoder, and one await per chunk rather than per row."""
    rest = b""
    async for chunk in response.aiter_bytes():
        lines = (rest + chunk).split(b"\n") if rest else chunk.split(b"\n")
        rest = lines.pop()
        yield [line for line in lines if line and not line.isspace()]
    if rest and not rest.isspace():
        yield [rest]


async def stream_json_lines(client: ZuoraCalls, url: str) -> AsyncIterator[dict]:
    """Each line of a JSON Lines file as a dict, resuming after a broken download."""
    handed_out = 0
    backoff = Backoff(client.backoff_base, client.backoff_cap)
    for attempt in range(1, client.retry_attempts + 1):
        try:
            response = await client.open_download(url)
            try:
                seen = 0
                async for lines in _line_batches(response):
                    for line in lines:
                        seen += 1
                        if seen > handed_out:
                            handed_out += 1
                            yield orjson.loads(line)  # several times json's speed on 500k-row files
                return
            finally:
                await response.aclose()
        except (ApiError, httpx.TransportError) as exc:
            if isinstance(exc, httpx.TransportError):
                exc = Unanswered(f"Zuora's Data Query result download broke ({type(exc).__name__})",
                                 timed_out=isinstance(exc, httpx.TimeoutException))
            wait = backoff(exc)
            if wait is False or attempt == client.retry_attempts:
                raise exc from None
            await asyncio.sleep(float(wait))
        except ValueError as exc:  # a line that is not JSON: the file is not what Zuora promised
            raise ApiError(None, f"the Data Query result has a line that is not JSON ({exc})", system=SYSTEM) from None


async def data_query(client: ZuoraCalls, sql: str, *, poll_max: float = 5.0) -> AsyncIterator[dict]:
    """Every row of a Data Query (Trino SQL, lower-case names), streamed."""
    job = await run_job(client, sql, poll_max=poll_max)
    async for row in stream_json_lines(client, job["dataFile"]):
        yield row


async def data_query_rows(client: ZuoraCalls, sql: str, limit: int | None = None) -> list[dict]:
    """A small result in full (samples, counts); stops reading after `limit` rows."""
    rows: list[dict] = []
    if limit is not None and limit <= 0:
        return rows
    stream = data_query(client, sql)
    try:
        async for row in stream:
            rows.append(row)
            if limit is not None and len(rows) >= limit:
                break
    finally:
        await stream.aclose()
    return rows
