"""What `cutover check` (every step, A1 to I2) costs on a large tenant: HTTP calls against the floor the APIs set,
rows read, seconds, and memory that stays flat.

    .venv/bin/python benchmarks/check_all.py --invoices 1000000 [--json] [--data-dir DIR]

Each check counts server-side and reads at most 20 sample rows, so the calls do not grow with the tenant. The
floor is what the APIs allow at best: a Data Query job needs three calls (submit, one poll that finds it done,
the result file), a SuiteQL page one, plus the token and the other Zuora calls the checks make (the IS probe,
describe). `data_query_ratio` is the Data Query calls against their floor alone (3 per job): what polling a job
until it finishes costs beyond that one poll. Prints one JSON object and exits 1 when memory grew or a check could
not run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.profile import NetSuiteFields, Operator, Profile  # noqa: E402
from core.run import Run  # noqa: E402
from core.runbook.model import Status  # noqa: E402
from core.secrets import Credentials  # noqa: E402
from core.session import Session  # noqa: E402
from core.sim.catalog import NS_FIELD_IDS  # noqa: E402
from core.sim.data_query import RESULTS_PATH  # noqa: E402
from core.sim.seed import AS_OF, FREEZE_DAYS, day  # noqa: E402
from served_tenant import rss_mb, serve, stop  # noqa: E402

RSS_GROWTH_LIMIT_MB = 40.0  # journal, results and samples of ~50 steps; a tenant read into memory would be GBs
_JOB_STATUS = re.compile(r"/query/jobs/[^/]+$")


def kind_of(request: httpx.Request) -> str:
    path = request.url.path
    if path.endswith("/oauth/token"):
        return "token"
    if path.endswith("/query/jobs") and request.method == "POST":
        return "data_query_submit"
    if _JOB_STATUS.search(path):
        return "data_query_status"
    if path.startswith(RESULTS_PATH):
        return "data_query_result"
    return "other"


async def measure(info: dict, data_dir: Path) -> dict:
    profile = Profile(name="bench", zuora_base_url=info["zuora_base_url"],
                      netsuite_base_url=info["netsuite_base_url"], netsuite_account_id=info["netsuite_account_id"],
                      environment="sandbox", data_dir=data_dir, netsuite_fields=NetSuiteFields(**NS_FIELD_IDS),
                      operator=Operator(name="benchmark", email="benchmark@cutover.invalid"))
    credentials = Credentials.from_values({n: info[n] for n in Credentials.model_fields})
    zuora_calls: Counter[str] = Counter()
    options = {"on_request": lambda request: zuora_calls.update([kind_of(request)])}
    async with Run(profile, credentials, session=Session(profile, credentials, zuora_options=options)) as run:
        session, runbook = run.session, run.runbook
        runbook.set_variable("freeze_ts", day(FREEZE_DAYS))
        runbook.journal.set_variable("target_migration_date", AS_OF.isoformat())  # agreed as of AS_OF
        before = rss_mb()
        started = time.perf_counter()
        states = await runbook.check()
        elapsed = time.perf_counter() - started
        after = rss_mb()
        netsuite_calls = session.netsuite.request_count
    results = [s.result for s in states if s.result is not None and s.step.check is not None]
    errors = {r.step_id: r.summary for r in results if r.status is Status.ERROR}
    jobs = zuora_calls["data_query_submit"]
    floor = zuora_calls["token"] + 3 * jobs + zuora_calls["other"] + netsuite_calls
    calls = sum(zuora_calls.values()) + netsuite_calls
    dq_calls = jobs + zuora_calls["data_query_status"] + zuora_calls["data_query_result"]
    return {
        "steps_checked": len(results), "http_calls": calls, "floor_calls": floor,
        "ratio": round(calls / floor, 2), "data_query_jobs": jobs, "data_query_calls": dq_calls,
        "data_query_ratio": round(dq_calls / (3 * jobs), 2) if jobs else None,
        "data_query_status_reads": zuora_calls["data_query_status"], "suiteql_calls": netsuite_calls,
        "sample_rows_read": sum(len(r.sample) for r in results), "elapsed_s": round(elapsed, 1),
        "rss_before_mb": round(before, 1), "rss_after_mb": round(after, 1),
        "flat_memory": after - before <= RSS_GROWTH_LIMIT_MB, "errors": errors,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--invoices", type=int, default=1_000_000)
    ap.add_argument("--json", action="store_true", help="the JSON object only")
    ap.add_argument("--data-dir", help="keep the seeded tenant here and reuse it on the next run")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="cutover-bench-") as tmp:
        child, info, seed_s = serve(args.invoices, args.data_dir or str(Path(tmp) / "sim"), "check_all")
        try:
            result = {"invoices": args.invoices, **asyncio.run(measure(info, Path(tmp) / "journal"))}
        finally:
            stop(child)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["seed_and_start_s"] = round(seed_s, 1)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0 if result["flat_memory"] and not result["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
