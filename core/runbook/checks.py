"""Run a step's declarative Check against Zuora (Data Query) and NetSuite (SuiteQL).

Counts are server-side: all Zuora parts of a check go in ONE Data Query job (`SELECT k AS part, count(*) ...
UNION ALL ...`), each NetSuite part is one SuiteQL COUNT. Only parts that found something are sampled, and never
more than SAMPLE_LIMIT rows in all, so a check costs the same on a tenant of a thousand or a million records.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.errors import ConfigError
from core.runbook.model import Check, CheckResult, Part, QueryContext, Status, Step, resolve
from core.sql_literals import quote
from core.words import counted

if TYPE_CHECKING:
    from core.netsuite import NetSuiteClient
    from core.zuora import ZuoraClient

SAMPLE_LIMIT = 20
ID_CHUNK = 500  # ids per SuiteQL IN list (Oracle caps an IN list at 1,000)

# Anything with `.zuora` and `.netsuite` clients: a core.session.Session builds each on first use.
Clients = Any


# ---- execution --------------------------------------------------------------------------------------------------
@dataclass
class _Run:
    counts: dict[str, int] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)
    sample: list[dict[str, Any]] = field(default_factory=list)


def active_parts(check: Check, invoice_settlement: bool | None) -> list[Part]:
    return [p for p in check.parts if p.invoice_settlement is None or p.invoice_settlement == invoice_settlement]


async def run_parts(step: Step, parts: list[Part], ctx: QueryContext, systems: Clients) -> CheckResult:
    """Count every part, sample the ones that found something, apply the pass rule."""
    assert step.check is not None
    run = _Run()
    zuora_parts = [p for p in parts if p.system == "zuora"]
    if zuora_parts:
        await _count_zuora(zuora_parts, ctx, systems, run)
    others = [p for p in parts if p.system == "netsuite"]
    counted = await asyncio.gather(*(_count_netsuite(p, ctx, systems, run) for p in others))
    run.counts.update({p.label: n for p, n in zip(others, counted, strict=True)})
    problems = [p for p in parts if p.role == "problem"]
    for part in problems or parts:
        if run.counts[part.label] and len(run.sample) < SAMPLE_LIMIT:
            await _sample(part, ctx, systems, run, tag=len(parts) > 1)
    return evaluate(step, step.check, parts, run.counts, ctx, sample=run.sample, query=";\n".join(run.queries))


def evaluate(step: Step, check: Check, parts: list[Part], counts: dict[str, int], ctx: QueryContext, *,
             sample: list[dict] | None = None, query: str = "") -> CheckResult:
    problem_total = sum(counts[p.label] for p in parts if p.role == "problem")
    count = counts[check.headline] if check.headline in counts else problem_total
    verdict = check.rule(counts, ctx) if check.rule else None
    if verdict is None:
        status = Status.PASS if problem_total == 0 else check.fail_status
        found = [counted(counts[p.label], p.label) for p in parts if p.role == "problem" and counts[p.label]]
        summary = "; ".join(found) if found else check.ok
        info = [counted(counts[p.label], p.label) for p in parts if p.role == "info" and counts[p.label]]
        if info:
            summary += f" ({'; '.join(info)})"
    else:
        status, summary, *rest = verdict
        count = rest[0] if rest else count
    return CheckResult(step_id=step.id, status=status, count=count, summary=summary, sample=tuple(sample or ()),
                       query=query, details=dict(counts))


async def _count_zuora(parts: list[Part], ctx: QueryContext, systems: Clients, run: _Run) -> None:
    plain = [p for p in parts if p.ids_from is None]
    if plain:
        sql = " UNION ALL ".join(
            f"SELECT {i} AS part, count(*) AS n FROM {p.source} WHERE {resolve(p.where, ctx)}"
            for i, p in enumerate(plain))
        run.queries.append(sql)
        rows = await need_zuora(systems).data_query_rows(sql)
        by_part = {int(r["part"]): int(r["n"]) for r in rows}
        run.counts.update({p.label: by_part.get(i, 0) for i, p in enumerate(plain)})


async def _count_netsuite(part: Part, ctx: QueryContext, systems: Clients, run: _Run) -> int:
    if part.ids_from is not None:
        return await _count_linked(part, ctx, systems, run)
    q = f"SELECT COUNT(*) AS n FROM {part.source} WHERE {resolve(part.where, ctx)}"
    run.queries.append(q)
    rows = await need_netsuite(systems).suiteql_rows(q, limit=1)
    return int(rows[0]["n"]) if rows else 0


async def _count_linked(part: Part, ctx: QueryContext, systems: Clients, run: _Run) -> int:
    """A NetSuite count over ids that come from Zuora (H2: credit memos carrying an AR Mig memo's id)."""
    assert part.ids_from is not None
    ids_sql = resolve(part.ids_from, ctx)
    template = resolve(part.where, ctx)
    run.queries.append(f"{ids_sql};\nSELECT COUNT(*) AS n FROM {part.source} WHERE {template}")
    total = 0
    async for ids in chunks(need_zuora(systems).data_query(ids_sql), ID_CHUNK):
        where = template.replace("{ids}", ", ".join(quote(i) for i in ids))
        q = f"SELECT COUNT(*) AS n FROM {part.source} WHERE {where}"
        rows = await need_netsuite(systems).suiteql_rows(q, limit=1)
        found = int(rows[0]["n"]) if rows else 0
        total += found
        if found and len(run.sample) < SAMPLE_LIMIT:
            q = f"SELECT {resolve(part.columns, ctx)} FROM {part.source} WHERE {where} ORDER BY {part.order}"
            got = await need_netsuite(systems).suiteql_rows(q, limit=SAMPLE_LIMIT - len(run.sample))
            run.sample.extend(_tagged(r, part.label) for r in got)
    return total


async def chunks(rows: AsyncIterator[dict], size: int) -> AsyncIterator[list[str]]:
    chunk: list[str] = []
    async for row in rows:
        chunk.append(str(row["id"]))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def _sample(part: Part, ctx: QueryContext, systems: Clients, run: _Run, *, tag: bool) -> None:
    if part.ids_from is not None:
        return  # sampled while counting
    room = SAMPLE_LIMIT - len(run.sample)
    base = (f"SELECT {resolve(part.columns, ctx)} FROM {part.source} WHERE {resolve(part.where, ctx)} "
            f"ORDER BY {part.order}")
    if part.system == "zuora":
        sql = f"{base} LIMIT {room}"
        run.queries.append(sql)
        rows = await need_zuora(systems).data_query_rows(sql, limit=room)
    else:
        run.queries.append(base)
        rows = await need_netsuite(systems).suiteql_rows(base, limit=room)
    run.sample.extend(_tagged(r, part.label if tag else None) for r in rows[:room])


def _tagged(row: dict, label: str | None) -> dict:
    return {"part": label, **row} if label else row


def need_zuora(systems: Clients) -> ZuoraClient:
    if systems is None:
        raise ConfigError("this check needs the Zuora connection", hint="run it with --profile or --demo")
    return systems.zuora


def need_netsuite(systems: Clients) -> NetSuiteClient:
    if systems is None:
        raise ConfigError("this check needs the NetSuite connection", hint="run it with --profile or --demo")
    return systems.netsuite
