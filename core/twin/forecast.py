"""`cutover twin forecast DIR`: what the cutover will meet on this tenant, read off its twin before production.

The twin is loaded into a throwaway simulator on loopback and read through the real clients and the real engine:
- every data check runs as it would today (what it will find); the steps no API can see are listed apart;
- E1 and E2 sizes follow the migration's own rules (one AR Mig memo per posted negative invoice with an open
  balance, one credit-balance memo per account holding credit), and their apply time follows the fix's batch and
  latency at the tenant's concurrency limit as Zuora advertised it at capture;
- what skipping a step would strand or duplicate: the records each C check holds back, the AR Mig memos a skipped
  E1 sends to NetSuite a second time, the credit-balance memos a skipped E2 sends as new credits;
- the new connector's first run: every account that syncs (a new instance's first customer sync starts from
  1 Jan 1970, runbook R12), with the draft and canceled accounts B2 activates, and the Case 2 memos under the
  decision `sync`, timed at the connector's documented throughput with 10 threads (runbook: Account 200/min,
  Credit memo 25/min);
- which numbers grow with business done after the capture (AFTER_CAPTURE): a twin cannot see it.
The C checks count from the old instance's cutover dates the capture recorded, as they will on the tenant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.twin.forecast_record import STRANDED_BY, forecast_counts
from core.twin.scope import OUT_OF_SCOPE
from core.twin.snapshot import Snapshot
from core.words import plural

# Documented connector throughput with 10 threads, records per minute (runbook.md limits table).
THROUGHPUT_PER_MIN = {"account": 200, "creditmemo": 25}
THROUGHPUT_SOURCE = ("connector throughput with 10 threads as documented (runbook limits table: Account 200/min, "
                     "Credit memo 25/min); fewer threads are slower")
# The accounts the customer sync picks (runbook R4.3): active, and Sync To NetSuite Yes or empty; and the draft or
# canceled ones B2/V1-V4 ask to activate before the migration (the runbook's other choice is deleting them).
SENDS = "(synctonetsuite__ns IS NULL OR synctonetsuite__ns = 'Yes')"
SYNCS = f"status = 'Active' AND {SENDS}"
B2_ACTIVATES = (f"status IN ('Draft', 'Canceled') AND {SENDS} AND (creditbalance > 0 OR id IN "
                "(SELECT accountid FROM invoice WHERE status = 'Posted' AND balance < 0))")
# What a twin cannot see: business done after the capture. These numbers grow by it; every other one is fixed by
# the captured data alone, and a rehearsal on the twin meets it count for count.
AFTER_CAPTURE = {
    "G2": "payments typed into NetSuite after the capture (the freeze window stays open until G1's default) are "
          "not in the twin: G2's plan grows by each of them",
    "first_run.credit_memos": "credit and debit memos, payments and refunds made after the capture are also in "
                              "the new connector's first run",
    "H3": "what H3 counts is the traffic after go-live, which no capture holds",
}


@dataclass
class Forecast:
    root: Path
    as_of: str
    checks: list[dict[str, Any]]
    plans: dict[str, dict[str, Any]]
    if_skipped: dict[str, str]
    first_run: dict[str, Any]
    out_of_scope: dict[str, str] = field(default_factory=lambda: dict(OUT_OF_SCOPE))
    after_capture: dict[str, str] = field(default_factory=lambda: dict(AFTER_CAPTURE))

    def to_dict(self) -> dict[str, Any]:
        return {"twin": str(self.root), "as_of": self.as_of, "checks": self.checks, "plans": self.plans,
                "if_skipped": self.if_skipped, "first_run": self.first_run, "out_of_scope": self.out_of_scope,
                "after_capture": self.after_capture}

    def counts(self) -> dict[str, int]:
        """What the journal keeps of it (core.twin.forecast_record): the numbers the capture alone decides."""
        return forecast_counts(self.plans, self.checks, self.first_run, self.as_of)

    def lines(self) -> list[str]:
        out = [f"forecast for the twin in {self.root} (captured {self.as_of})", "", "what each data check finds:"]
        out += [f"  {c['id']:<6} {c['status']:<13} {c['summary']}" for c in self.checks]
        out += ["", "plans after the migration (D1):"]
        for step, p in self.plans.items():
            out.append(f"  {step}: {plural(p['records'], 'memo')}, {plural(p['write_calls'], 'write call')}, about "
                       f"{p['apply_s']:.0f} s at concurrency {p['concurrency']} ({p['basis']})")
        out += ["", "if a step were skipped:"] + [f"  {k}: {v}" for k, v in self.if_skipped.items()]
        f = self.first_run
        out += ["", (f"the new connector's first run (new instance): {f['accounts']:,} accounts (customer sync from "
                     f"1970; {f['accounts_b2']:,} of them the draft or canceled accounts B2/V1-V4 activate) and "
                     f"{f['credit_memos']:,} credit memos, about {f['minutes']:.0f} min"),
                f"  assumption: {f['assumption']}", "", "out of scope (no API exposes it):"]
        out += [f"  {k}: {v}" for k, v in self.out_of_scope.items()]
        out += ["", "grows with business after the capture (every other number is the captured data's own):"]
        out += [f"  {k}: {v}" for k, v in self.after_capture.items()]
        return out


def _apply_estimate(fix, records: int, concurrency: int | None) -> dict[str, Any]:
    limit = concurrency or fix.default_limit
    calls = math.ceil(records / fix.batch)
    return {"records": records, "write_calls": calls, "concurrency": limit,
            "apply_s": math.ceil(calls / limit) * fix.seconds_per_call if calls else 0.0,
            "basis": f"{fix.batch} per call, ~{fix.seconds_per_call:g} s a call, "
                     + ("the limit Zuora advertised at capture" if concurrency else
                        "Zuora's usual limit (none advertised at capture)")}


async def _count(zuora, sql: str) -> int:
    rows = await zuora.data_query_rows(sql)
    return int(rows[0]["n"]) if rows else 0


async def forecast(root: Path | str, *, timeout: float | None = None) -> Forecast:
    from core.demo import DemoTenant
    from core.run import Run
    from core.runbook.phases import find_step
    from core.runbook.variables import CutoverDates

    snap = Snapshot.open(root).require_complete()
    m = snap.manifest
    async with DemoTenant(twin=str(root)) as demo, Run(demo.profile, demo.credentials, timeout=timeout) as run:
        # The old instance's cutover dates the capture took from the journal (A2): the C checks count from them.
        for key, value in (m.get("old_cutover_dates") or {}).items():
            if key in CutoverDates.model_fields and value:
                run.journal.set_variable(f"old_cutover_dates.{key}", value)
        states = await run.runbook.check()
        checks = [{"id": s.step.id, "status": str(s.status), "count": s.result.count if s.result else None,
                   "summary": s.summary, "details": dict(s.result.details) if s.result else {}}
                  for s in states if s.step.check is not None and s.step.check.parts
                  and s.step.id not in OUT_OF_SCOPE]
        zuora = run.session.zuora
        negative = await _count(zuora, "SELECT count(*) AS n FROM invoice WHERE status = 'Posted' AND balance < 0")
        not_in_ns = await _count(zuora, "SELECT count(*) AS n FROM invoice WHERE status = 'Posted' AND balance < 0 "
                                        "AND integrationid__ns IS NULL")
        credit = await _count(zuora, "SELECT count(*) AS n FROM account WHERE creditbalance > 0")
        accounts_b2 = await _count(zuora, f"SELECT count(*) AS n FROM account WHERE {B2_ACTIVATES}")
        accounts = accounts_b2 + await _count(zuora, f"SELECT count(*) AS n FROM account WHERE {SYNCS}")
    concurrency = m.get("zuora_concurrency_limit")
    plans = {"E1": _apply_estimate(find_step("E1").action, negative, concurrency),
             "E2": _apply_estimate(find_step("E2").action, credit, concurrency)}
    by_id = {c["id"]: c for c in checks}
    if_skipped = {step: f"{by_id[step]['count'] or 0:,} {what} never reach the other system"
                  for step, what in STRANDED_BY.items() if step in by_id}
    # C2's own count of what is not in NetSuite yet, so the two lines of the forecast never disagree
    c2_open = by_id["C2"]["count"] if by_id.get("C2", {}).get("count") is not None else not_in_ns
    if_skipped["E1"] = (f"{negative:,} AR Mig memos reach NetSuite a second time (duplicates H2 counts), "
                        f"after C2 brought every negative invoice there ({c2_open:,} not there yet, as C2 finds)")
    if_skipped["E2"] = f"{credit:,} credit-balance memos reach NetSuite as new credits on top of the old balance"
    case2 = 0  # after C2 every negative invoice is in NetSuite: no Case 2 memo is left for the first run
    minutes = accounts / THROUGHPUT_PER_MIN["account"] + case2 / THROUGHPUT_PER_MIN["creditmemo"]
    first_run = {"accounts": accounts, "accounts_b2": accounts_b2, "credit_memos": case2, "minutes": minutes, "assumption": THROUGHPUT_SOURCE}
    return Forecast(Path(root), m["as_of"], checks, plans, if_skipped, first_run)
