"""`cutover twin capture`: read what core.twin.scope lists from both systems into a Snapshot, read-only.

Zuora through Data Query, one job per keyset slice of at most 500,000 rows (`WHERE id > last ORDER BY id LIMIT
500000`); NetSuite through SuiteQL keyset pages of 1,000 rows on the internal id, which no 100,000-row cap
reaches. Every row goes from the HTTP stream to its slice file, so memory stays flat whatever the tenant's size.
Only GET and query calls are made (a Data Query submit is a POST that reads); nothing is written to either system,
so a read-only profile is enough.

First one Data Query job counts every Zuora table at once and one SuiteQL COUNT each NetSuite table: the progress
bar's totals, and the floor the limits set (ceil(rows / 500,000) jobs + ceil(rows / 1,000) pages), which the
capture's own calls are reported against.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.sql_literals import quote
from core.twin.mask import Masker, forget_key
from core.twin.scope import NETSUITE, NETSUITE_FILE_ROWS, NETSUITE_PAGE_ROWS, ZUORA, ZUORA_SLICE_ROWS, ZuoraScope
from core.twin.snapshot import Snapshot

if TYPE_CHECKING:
    from core.netsuite import NetSuiteClient
    from core.zuora import ZuoraClient

# (table key "zuora.invoice", rows captured so far, rows expected)
Progress = Callable[[str, int, int], None]


@dataclass
class CaptureReport:
    root: Path
    rows: dict[str, int]
    zuora_jobs: int
    netsuite_pages: int
    floor_jobs: int
    floor_pages: int
    http_requests: int
    elapsed_s: float
    skipped: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"root": str(self.root), "rows": self.rows, "zuora_jobs": self.zuora_jobs,
                "netsuite_pages": self.netsuite_pages, "floor_jobs": self.floor_jobs,
                "floor_pages": self.floor_pages, "http_requests": self.http_requests,
                "elapsed_s": round(self.elapsed_s, 2), "skipped": self.skipped}

    def lines(self) -> list[str]:
        total = sum(self.rows.values())
        return [f"twin captured into {self.root}: {total:,} rows in {self.elapsed_s:.1f} s",
                *(f"  {key:<36} {n:>10,}" for key, n in self.rows.items()),
                *(f"  {key:<36} not captured: {why}" for key, why in self.skipped.items()),
                (f"calls: {self.zuora_jobs:,} Data Query jobs (floor {self.floor_jobs:,} at 500,000 rows a job) and "
                 f"{self.netsuite_pages:,} SuiteQL pages (floor {self.floor_pages:,} at 1,000 rows a page); "
                 f"{self.http_requests:,} HTTP requests in all (token, polls and downloads included)")]


def _zuora_count_sql(scopes: list[ZuoraScope]) -> str:
    return " UNION ALL ".join(f"SELECT '{s.table}' AS t, count(*) AS n FROM {s.table} WHERE {s.where}"
                              for s in scopes)


class Capture:
    def __init__(self, zuora: ZuoraClient, netsuite: NetSuiteClient, fields: dict[str, str | None], root: Path, *,
                 tenant: str, mask: bool = False, old_cutover_dates: dict[str, str] | None = None,
                 progress: Progress | None = None):
        self.zuora, self.netsuite = zuora, netsuite
        self.fields = {k: v for k, v in fields.items() if v}  # the mapped NetSuite custom fields only
        self.root = Path(root)
        self.progress = progress or (lambda key, done, total: None)
        self.header = {"tenant": tenant, "masked": mask, "old_cutover_dates": old_cutover_dates or {}}
        self.mask = mask
        self.jobs = 0
        self.ns_requests_at_start = 0

    async def run(self) -> CaptureReport:
        started = time.monotonic()
        z_requests, n_requests = self.zuora.request_count, self.netsuite.request_count
        snap = Snapshot.create_or_resume(self.root, self.header)
        masker = Masker.for_snapshot(self.root) if self.mask else None
        if "captured_at" not in snap.manifest:
            snap.manifest["captured_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
            snap.manifest["as_of"] = snap.manifest["captured_at"][:10]
            snap.manifest["invoice_settlement"] = await self.zuora.invoice_settlement_enabled()
            snap.save()
        invoice_settlement = snap.manifest["invoice_settlement"]
        zuora = [s for s in ZUORA if invoice_settlement or not s.invoice_settlement_only]
        skipped = {f"zuora.{s.table}": "Invoice Settlement is off, so the table does not exist yet"
                   for s in ZUORA if s not in zuora}
        expected = await self._count(snap, zuora)
        pages_before = self.netsuite.request_count
        for scope in zuora:
            await self._zuora_table(snap, scope, expected[f"zuora.{scope.table}"], masker)
        for ns in NETSUITE:
            await self._netsuite_table(snap, ns, expected[f"netsuite.{ns.table}"], masker)
        pages = self.netsuite.request_count - pages_before + len(NETSUITE)  # the COUNT queries are pages too
        # The tenant's concurrency limit as Zuora advertised it (Concurrency-Limit-Limit): the forecast's apply times.
        snap.manifest["zuora_concurrency_limit"] = getattr(self.zuora.limiter, "advertised", None)
        snap.manifest["complete"] = True
        snap.manifest["rows"] = {key: snap.count(*key.split(".", 1)) for key in expected}
        snap.save()
        if self.mask:
            forget_key(self.root)  # the capture is over: nothing can map a pseudonym back now
        rows = snap.manifest["rows"]
        return CaptureReport(
            root=self.root, rows=rows, zuora_jobs=self.jobs, netsuite_pages=pages,
            floor_jobs=sum(max(1, math.ceil(n / ZUORA_SLICE_ROWS)) for k, n in rows.items() if k.startswith("zuora")),
            floor_pages=sum(max(1, math.ceil(n / NETSUITE_PAGE_ROWS)) for k, n in rows.items()
                            if k.startswith("netsuite")),
            http_requests=(self.zuora.request_count - z_requests) + (self.netsuite.request_count - n_requests),
            elapsed_s=time.monotonic() - started, skipped=skipped)

    # ---- counts ---------------------------------------------------------------------------------------------
    async def _count(self, snap: Snapshot, zuora: list[ZuoraScope]) -> dict[str, int]:
        self.jobs += 1
        rows = await self.zuora.data_query_rows(_zuora_count_sql(zuora))
        counts = {f"zuora.{r['t']}": int(r["n"]) for r in rows}
        for ns in NETSUITE:
            q = f"SELECT COUNT(*) AS n FROM {ns.table} {ns.alias} WHERE {ns.where(self.fields)}"
            got = await self.netsuite.suiteql_rows(q, limit=1)
            counts[f"netsuite.{ns.table}"] = int(got[0]["n"]) if got else 0
        snap.manifest["expected"] = counts
        snap.save()
        return counts

    # ---- Zuora ----------------------------------------------------------------------------------------------
    async def _zuora_table(self, snap: Snapshot, scope: ZuoraScope, expected: int, masker: Masker | None) -> None:
        key = f"zuora.{scope.table}"
        entry = snap.table("zuora", scope.table)
        while not entry["done"]:
            after = snap.resume_after("zuora", scope.table)
            where = f"({scope.where})" + (f" AND id > {quote(after)}" if after is not None else "")
            sql = (f"SELECT {', '.join(scope.columns)} FROM {scope.table} WHERE {where} ORDER BY id "
                   f"LIMIT {ZUORA_SLICE_ROWS}")
            out = snap.slice_writer("zuora", scope.table)
            last, done_before = after, snap.count("zuora", scope.table)
            self.jobs += 1
            try:
                async for row in self.zuora.data_query(sql):
                    out.write(masker.row("zuora", scope.table, row) if masker else row)
                    last = row["id"]
                    if out.rows % 10_000 == 0:
                        self.progress(key, done_before + out.rows, expected)
            except BaseException:
                out.abandon()
                raise
            out.finish(last, done=out.rows < ZUORA_SLICE_ROWS)
            self.progress(key, snap.count("zuora", scope.table), expected)

    # ---- NetSuite -------------------------------------------------------------------------------------------
    async def _netsuite_table(self, snap, ns, expected: int, masker: Masker | None) -> None:
        key = f"netsuite.{ns.table}"
        entry = snap.table("netsuite", ns.table)
        if entry["done"]:
            return
        custom = self.fields if ns.table == "transaction" else {}
        where = ns.where(self.fields)
        if ns.keyset:
            after = snap.resume_after("netsuite", ns.table)
            if after is not None:
                where = f"{where} AND {ns.alias}.id > {int(after)}"
            rows = self.netsuite.suiteql_by_id(ns.select(custom), where=where, id_column=f"{ns.alias}.id",
                                               page_size=NETSUITE_PAGE_ROWS)
        else:
            rows = self.netsuite.suiteql(f"SELECT {ns.select(custom)} WHERE {where} ORDER BY {ns.alias}."
                                         f"{ns.columns[0]}", page_size=NETSUITE_PAGE_ROWS)
        out = snap.slice_writer("netsuite", ns.table)
        last = None
        try:
            async for row in rows:
                if ns.table == "customfield":  # keyed by meaning, like the transaction columns
                    row["field"] = next((k for k, sid in self.fields.items()
                                         if sid.lower() == str(row.get("scriptid", "")).lower()), None)
                out.write(masker.row("netsuite", ns.table, row) if masker else row)
                last = row.get("id")
                if out.rows >= NETSUITE_FILE_ROWS:
                    out.finish(last, done=False)
                    self.progress(key, snap.count("netsuite", ns.table), expected)
                    out = snap.slice_writer("netsuite", ns.table)
        except BaseException:
            out.abandon()
            raise
        out.finish(last, done=True)
        self.progress(key, snap.count("netsuite", ns.table), expected)


def journal_cutover_dates(profile) -> dict[str, str]:
    """The old instance's cutover dates as the profile's journal recorded them (A2), for the twin's connector."""
    from core.journal import Journal

    journal = Journal.for_profile(profile)
    try:
        dates = journal.variables().old_cutover_dates.model_dump()
    finally:
        journal.close()
    return {k: v.isoformat() for k, v in dates.items() if v is not None}


async def capture_tenant(profile, credentials, root: Path, *, mask: bool = False,
                         old_cutover_dates: dict[str, str] | None = None, progress: Progress | None = None,
                         timeout: float | None = None) -> CaptureReport:
    """Capture the tenant of `profile` (read-only calls only) into `root`."""
    from core.session import Session

    dates = journal_cutover_dates(profile) if old_cutover_dates is None else old_cutover_dates
    fields = profile.netsuite_fields.model_dump(exclude={"sync_updates_yes"})
    async with Session(profile, credentials, timeout=timeout) as session:
        return await Capture(session.zuora, session.netsuite, fields, root, tenant=profile.name, mask=mask,
                             old_cutover_dates=dates, progress=progress).run()
