"""Seed a large simulated tenant and report time and peak memory: the seed must stay flat (< 300 MB at 1M).

    python benchmarks/seed_rss.py [--invoices 1000000] [--seed 1]

Prints one JSON object: {"invoices", "elapsed_s", "peak_rss_mb", "rows": {table: count}}.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.sim.scenario import seed_tenant  # noqa: E402
from core.sim.store import Store  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cutover-seed-") as tmp:
        store = Store(Path(tmp) / "tenant.db")
        started = time.perf_counter()
        summary = seed_tenant(store, seed=args.seed, invoices=args.invoices)
        elapsed = time.perf_counter() - started
        store.close()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    print(json.dumps({"invoices": args.invoices, "elapsed_s": round(elapsed, 1),
                      "peak_rss_mb": round(peak_kb / 1024, 1), "rows": summary["rows"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
