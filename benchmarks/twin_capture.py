"""Capture a twin of a large simulated tenant and report time, peak memory and calls against the floor.

    python benchmarks/twin_capture.py [--invoices 1000000] [--keep DIR]

The tenant is seeded and served by `cutover sim serve` in a child process (benchmarks/served_tenant.py), so this
process's peak RSS is the capture's own: rows stream from each HTTP response to their slice file, so it must stay
flat (the issue's bar: under 300 MB at a million invoices). Prints one JSON object: invoices, seed_s, capture_s,
peak_rss_mb, rows, Data Query jobs and SuiteQL pages against the floor the limits set (rows / 500,000 jobs +
rows / 1,000 pages), HTTP requests, and the snapshot's size on disk.

Measured on the shared 2-core machine (1 Dec 2026, `python benchmarks/twin_capture.py --invoices 1000000`):
5.7M rows (1,000,059 invoices, 1,786,756 NetSuite transactions, 818,763 links) in 200 s, peak RSS 73 MB,
11 Data Query jobs (floor 10, plus the count job), 2,735 SuiteQL pages (floor 2,731, plus 4 COUNTs), 2,786 HTTP
requests, 1.9 GB on disk. Before the simulator's keyset totals and the links' EXISTS it did not finish.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from served_tenant import serve, stop

from core.profile import NetSuiteFields, Operator, Profile
from core.secrets import Credentials
from core.sim.catalog import NS_FIELD_IDS
from core.twin.capture import capture_tenant


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--keep", metavar="DIR", help="capture into DIR and keep it (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cutover-twin-bench-") as tmp:
        child, info, seed_s = serve(args.invoices, str(Path(tmp) / "sim"), "twin_capture")
        try:
            profile = Profile(name="bench", zuora_base_url=info["zuora_base_url"],
                              netsuite_base_url=info["netsuite_base_url"],
                              netsuite_account_id=info["netsuite_account_id"], environment="sandbox",
                              data_dir=Path(tmp) / "data", netsuite_fields=NetSuiteFields(**NS_FIELD_IDS),
                              operator=Operator(name="benchmark", email="benchmark@cutover.invalid"))
            credentials = Credentials.from_values({n: info[n] for n in Credentials.model_fields})
            root = Path(args.keep) if args.keep else Path(tmp) / "twin"
            report = asyncio.run(capture_tenant(profile, credentials, root, old_cutover_dates={}))
        finally:
            stop(child)
        size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    print(json.dumps({"invoices": args.invoices, "seed_s": round(seed_s, 1), "capture_s": round(report.elapsed_s, 1),
                      "peak_rss_mb": round(peak_kb / 1024, 1), "rows": report.rows,
                      "zuora_jobs": report.zuora_jobs, "floor_jobs": report.floor_jobs,
                      "netsuite_pages": report.netsuite_pages, "floor_pages": report.floor_pages,
                      "http_requests": report.http_requests, "snapshot_mb": round(size / 2**20, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
