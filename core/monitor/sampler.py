"""The sampler: one call to `sample()` reads both systems' sync state with server-side aggregates and returns a
MonitorSample with rates and ETAs from the samples before it.

A sample costs a handful of API calls (stated as SAMPLE_CALL_BUDGET and counted on every sample), so watching
never takes the concurrency the connector needs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from core.monitor.model import NS_TO_ZUORA, STATES, ZUORA_TO_NS, MonitorSample, SyncError, SyncRow
from core.monitor.queries import (
    ERROR_SAMPLE_ROWS, NetSuiteFieldIds, ns_counts_sql, ns_errors_sql, ns_label, ns_rows, zuora_label, zuora_rows,
    zuora_sql,
)
from core.monitor.rates import RateTracker, eta_seconds

# One Data Query job (submit, a few polls, the download), two SuiteQL queries, now and then a token renewal and
# the Invoice Settlement probe: about 5–8. The budget leaves room for a slow job's extra polls.
SAMPLE_CALL_BUDGET = 20
DEFAULT_INTERVAL_S = 5.0
IS_RECHECK_EVERY = 12  # samples between Invoice Settlement probes (a minute at the default interval)


class Sampler:
    def __init__(self, zuora: Any, netsuite: Any, fields: Any, *, invoice_settlement: bool | None = None,
                 recheck_every: int = IS_RECHECK_EVERY, rates: RateTracker | None = None,
                 clock: Callable[[], float] = time.monotonic, cutovers: Mapping[str, date] | None = None,
                 keep: Callable[[MonitorSample], None] | None = None):
        """`zuora`, `netsuite`: the session's ZuoraClient and NetSuiteClient. `fields`: the profile's
        netsuite_fields. `invoice_settlement`: known IS state, else probed; either way re-probed every
        `recheck_every` samples, since IS goes on in the middle of a cutover. `cutovers`: the connector's
        cutover dates (RunVariables.connector_cutovers); records dated before them count as ignored, not as
        a backlog the connector will never clear. Callers may replace it between samples. `keep`: called with
        each sample, in a thread (a journal write: core.monitor.keeping.keeper), so the report can chart it."""
        self.keep = keep
        self.cutovers: Mapping[str, date] = dict(cutovers or {})
        self.zuora = zuora
        self.netsuite = netsuite
        self.ids = NetSuiteFieldIds.from_profile(fields)
        self.recheck_every = max(1, recheck_every)
        self.rates = rates or RateTracker()
        self.clock = clock
        self._invoice_settlement = invoice_settlement
        self.invoice_settlement_at = time.monotonic() if invoice_settlement is not None else 0.0
        self.samples_taken = 0
        # Per row: (finished count, the first sample's time with that count), so a stall can say since when.
        self._still: dict[str, tuple[int, datetime]] = {}

    @property
    def invoice_settlement(self) -> bool | None:
        return self._invoice_settlement

    def history(self, row_key: str) -> list[float]:
        """Throughput per minute between successive samples for a row (`SyncRow.key`), for a sparkline."""
        return self.rates.history(row_key)

    def _calls(self) -> int:
        return self.zuora.request_count + self.netsuite.request_count

    async def sample(self) -> MonitorSample:
        taken_at = datetime.now(UTC)
        started, calls_before = time.perf_counter(), self._calls()
        if self._invoice_settlement is None or (self.samples_taken and self.samples_taken % self.recheck_every == 0):
            self._invoice_settlement = await self.zuora.invoice_settlement_enabled()
            self.invoice_settlement_at = time.monotonic()  # the newest answer wins, the runbook's or this
        is_on = bool(self._invoice_settlement)
        try:
            async with asyncio.TaskGroup() as tg:  # both systems at once; one failing cancels the other
                zuora_task = tg.create_task(self._zuora_side(is_on))
                ns_task = tg.create_task(self._netsuite_side(is_on))
        except ExceptionGroup as group:  # callers handle one typed error, not a group
            raise group.exceptions[0] from None
        counts, errors = zuora_task.result()
        ns_counts, ns_errors = ns_task.result()
        counts.update(ns_counts)
        rows = self._with_rates(counts, taken_at)
        latest = sorted(errors + ns_errors, key=lambda e: e.sync_date or "", reverse=True)[:ERROR_SAMPLE_ROWS]
        self.samples_taken += 1
        sample = MonitorSample(taken_at=taken_at, invoice_settlement=is_on, rows=rows, errors=latest,
                               api_calls=self._calls() - calls_before, duration_s=time.perf_counter() - started)
        if self.keep is not None:
            await asyncio.to_thread(self.keep, sample)
        return sample

    # ---- the two systems ------------------------------------------------------------------------------------
    async def _zuora_side(self, is_on: bool) -> tuple[dict, list[SyncError]]:
        counts = {(r.label, ZUORA_TO_NS): dict.fromkeys(STATES, 0) for r in zuora_rows(is_on)}
        errors = []
        for rec in await self.zuora.data_query_rows(zuora_sql(is_on, self.cutovers)):
            label = zuora_label(rec["object_type"])
            if rec["kind"] == "count":
                counts[(label, ZUORA_TO_NS)][rec["state"]] += int(rec["n"])
            else:
                errors.append(SyncError(label, ZUORA_TO_NS, rec["id"], rec.get("record_number"),
                                        rec.get("status") or "TransferredToAccounting = Error",
                                        rec.get("sync_date")))
        return counts, errors

    async def _netsuite_side(self, is_on: bool) -> tuple[dict, list[SyncError]]:
        counts = {(label, NS_TO_ZUORA): dict.fromkeys(STATES, 0) for label, _ in ns_rows(is_on)}
        rows, failed = await asyncio.gather(
            self.netsuite.suiteql_rows(ns_counts_sql(self.ids, is_on, self.cutovers.get("ns_payment"))),
            self.netsuite.suiteql_rows(ns_errors_sql(self.ids, is_on), limit=ERROR_SAMPLE_ROWS))
        for rec in rows:
            counts[(ns_label(rec["type"]), NS_TO_ZUORA)][rec["state"]] += int(rec["n"])
        errors = [SyncError(ns_label(r["type"]), NS_TO_ZUORA, str(r["id"]), r.get("tranid"), r.get("status", ""),
                            r.get("sync_date") or r.get("lastmodifieddate")) for r in failed]
        return counts, errors

    def _with_rates(self, counts: dict[tuple[str, str], dict[str, int]],
                    taken_at: datetime | None = None) -> list[SyncRow]:
        now, taken_at = self.clock(), taken_at or datetime.now(UTC)
        rows = []
        for (label, side), states in counts.items():
            row = SyncRow(label, side, **states)
            if self._still.get(row.key, (None,))[0] != row.finished:
                self._still[row.key] = (row.finished, taken_at)
            rate = self.rates.observe(row.key, now, row.finished)
            # A backlog that did not move since the sample before is stalled, whatever the window's rate says:
            # a burst a minute ago must not promise the rest in 0:00.
            stalled = row.backlog > 0 and rate is not None and (not rate or self.rates.moved_last(row.key) is False)
            rows.append(SyncRow(label, side, **states, rate_per_min=rate, stalled=stalled,
                                eta_s=None if stalled else eta_seconds(row.backlog, rate),
                                still_since=self._still[row.key][1] if stalled else None))
        self.rates.forget({r.key for r in rows})
        self._still = {k: v for k, v in self._still.items() if k in {r.key for r in rows}}
        return rows


async def watch(sampler: Sampler, interval_s: float = DEFAULT_INTERVAL_S) -> AsyncIterator[MonitorSample]:
    """Samples for ever, the next one `interval_s` after the last one ended, so a slow tenant never piles up
    polls (Dolphie's loop)."""
    while True:
        yield await sampler.sample()
        await asyncio.sleep(interval_s)
