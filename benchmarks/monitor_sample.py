"""What a monitor sample costs on a large tenant: API calls, seconds, and memory that stays flat.

    .venv/bin/python benchmarks/monitor_sample.py --invoices 1000000 [--samples 5] [--json]

The tenant is seeded and served by `cutover sim serve` in a child process, so this process's memory is the
monitor's own: a warm-up sample, then RSS before and after the timed samples. Prints one JSON object
{"invoices","api_calls_per_sample","sample_s","peak_rss_mb",...} and exits 1 when a sample went over the call
budget or memory grew.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import tempfile
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.monitor import SAMPLE_CALL_BUDGET, Sampler  # noqa: E402
from core.netsuite import NetSuiteClient  # noqa: E402
from core.sim.catalog import NS_FIELD_IDS  # noqa: E402
from core.zuora import ZuoraClient  # noqa: E402
from served_tenant import rss_mb, serve, stop  # noqa: E402

RSS_GROWTH_LIMIT_MB = 5.0  # a few samples of aggregates must not grow the process by more than noise


async def measure(info: dict, samples: int) -> dict:
    async with ZuoraClient(info["zuora_base_url"], info["zuora_client_id"], info["zuora_client_secret"]) as zuora, \
            NetSuiteClient(info["netsuite_account_id"], info["netsuite_consumer_key"],
                           info["netsuite_consumer_secret"], info["netsuite_token_id"],
                           info["netsuite_token_secret"], base_url=info["netsuite_base_url"]) as netsuite:
        sampler = Sampler(zuora, netsuite, NS_FIELD_IDS)
        warm = await sampler.sample()  # token, IS probe, first connections
        before = rss_mb()
        taken = [await sampler.sample() for _ in range(samples)]
        after = rss_mb()
    calls = [warm.api_calls] + [s.api_calls for s in taken]
    return {
        "api_calls_per_sample": max(s.api_calls for s in taken),
        "api_calls_first_sample": warm.api_calls,
        "sample_s": round(statistics.median(s.duration_s for s in taken), 3),
        "rss_before_mb": round(before, 1), "rss_after_mb": round(after, 1),
        "within_budget": max(calls) <= SAMPLE_CALL_BUDGET,
        "flat_memory": after - before <= RSS_GROWTH_LIMIT_MB,
        "records_per_row": {r.key: r.pending + r.processing + r.done + r.error + r.ignored + r.waiting for r in taken[-1].rows},
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--invoices", type=int, default=1_000_000)
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="the JSON object only")
    ap.add_argument("--data-dir", help="keep the seeded tenant here and reuse it on the next run")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="cutover-bench-") as tmp:
        child, info, seed_s = serve(args.invoices, args.data_dir or tmp, "monitor_sample")
        try:
            sim_rss = rss_mb(child.pid)
            result = {"invoices": args.invoices, **asyncio.run(measure(info, args.samples))}
        finally:
            stop(child)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["seed_and_start_s"] = round(seed_s, 1)
    result["simulator_rss_mb"] = round(sim_rss, 1)
    result["budget"] = SAMPLE_CALL_BUDGET
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=2))
        print(f"{result['api_calls_per_sample']} calls and {result['sample_s']} s per sample on "
              f"{args.invoices:,} invoices; monitor peak RSS {result['peak_rss_mb']} MB", file=sys.stderr)
    return 0 if result["within_budget"] and result["flat_memory"] else 1


if __name__ == "__main__":
    sys.exit(main())
