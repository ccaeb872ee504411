"""Benchmark: mark N `AR Mig - negative invoice` memos TTA = Yes as `cutover apply E1` does, against the API floor.

    python benchmarks/zuora_bulk_mark.py --memos 100000 --latency-ms 200 --zuora-concurrency 40 [--json] [--in-process]

Each slice of memos is re-checked just before it is written (E1's own selection limited to the slice's ids, one
Data Query per slice, read ahead: core.runbook.recheck), then written through the bulk update.

The floor is what Zuora's limits allow at best, each gated call taking the simulated latency: the first slice's
re-check (a Data Query is at least a submit and a status poll, one after the other) before any write, then every
other call, `concurrency` at a time: ceil(memos / 50) bulk calls and 2 calls for each other re-check.
`ratio` = elapsed / floor; 1.0 is perfect, the target is <= 1.15. `first_write_s` is when the first memo went to
the writer, against `first_write_floor_s` (the first re-check's two calls).

The simulated tenant runs in a child process, served over loopback by SimServer, so the client under test does
not share an interpreter lock with the server (as with a real Zuora), and this process's CPU time is the client's
alone: `client_cpu_ms_per_call` is its CPU time over the measured run (the re-check reads and the bulk updates; not
the client's setup and first token, which are not per call) divided by the bulk calls; the target is <= 1.5 ms. `--in-process` serves the tenant from a thread of this process instead (the two then share
one interpreter lock, and the CPU per call is not the client's alone, so it is left out).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import multiprocessing as mp
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from a checkout

from core.objects import CREDIT_MEMO  # noqa: E402
from core.runbook.actions import fix_for  # noqa: E402
from core.runbook.model import QueryContext  # noqa: E402
from core.runbook.recheck import ReadAhead, slices  # noqa: E402
from core.runbook.variables import RunVariables  # noqa: E402
from core.sim.app import Simulator  # noqa: E402
from core.sim.config import SimConfig  # noqa: E402
from core.sim.server import SimServer  # noqa: E402
from core.sim.store import Store, now_ts  # noqa: E402
from core.zuora import BulkItemResult, ZuoraClient  # noqa: E402

AR_MIG_REASON = "AR Mig - negative invoice"
INSERT_CHUNK = 5_000
IN_FLIGHT_SAMPLE_S = 0.01
DATA_QUERY_MIN_CALLS = 2  # submit, then at least one status poll (the result file is not a gated call)


def memo_id(n: int) -> str:
    return f"{n:032x}"


def insert_memos(store: Store, count: int, *, reason: str = AR_MIG_REASON, tta: str | None = "No",
                 start: int = 1) -> None:
    """Insert `count` posted memos straight into the store, streamed in chunks (memory stays flat)."""
    columns = CREDIT_MEMO.columns()
    now = now_ts()

    def row(n: int) -> tuple:
        values = {"id": memo_id(n), "memonumber": f"CM{n:08d}", "accountid": memo_id(10**9 + n % 97),
                  "totalamount": 10.0 + n % 50, "balance": 10.0 + n % 50, "status": "Posted",
                  "reasoncode": reason, "memodate": now[:10], "source": "AdhocFromPrpc", "sourcetype": "Standalone",
                  "excludefromautoapplyrules": 0, "transferredtoaccounting": tta, "currency": "USD",
                  "createddate": now, "updateddate": now}
        return tuple(values.get(c) for c in columns)

    sql = f"INSERT INTO creditmemo ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    numbers = iter(range(start, start + count))
    while chunk := [row(n) for n in itertools.islice(numbers, INSERT_CHUNK)]:
        with store.transaction() as conn:
            conn.executemany(sql, chunk)


def ar_mig_tenant(config: SimConfig, memos: int, data_dir: Path | None = None) -> Simulator:
    """An empty tenant with Invoice Settlement on and `memos` AR Mig memos at TTA No."""
    sim = Simulator(config, data_dir=data_dir, seed_data=False)
    sim.store.set_setting("invoice_settlement", True)
    insert_memos(sim.store, memos)
    return sim


def _serve(config: SimConfig, memos: int, conn) -> None:
    """The child process: build the tenant, serve it, report where, and wait to be told to stop."""
    sim = ar_mig_tenant(config, memos)
    with SimServer(sim) as server:
        c = sim.credentials
        conn.send((server.base_url, c.zuora_client_id, c.zuora_client_secret))
        conn.recv()
        conn.send(sim.zuora_gate.peak)
    sim.close()


async def mark(base_url: str, client_id: str, client_secret: str, memos: int, concurrency: int) -> dict:
    results = {"ok": 0, "failed": 0, "skipped": 0}

    def journal(result: BulkItemResult) -> None:
        results["ok" if result.success else "failed"] += 1

    fix = fix_for("E1")  # the memos carry no negative invoice NetSuite has: E1 selects them on decision mark-yes
    ctx = QueryContext(variables=RunVariables.load({"e1_decision": "mark-yes"}), fields={})
    planned: Iterator[dict] = ({"seq": n, "record_id": memo_id(n), "current": "No"} for n in range(1, memos + 1))
    async with ZuoraClient(base_url, client_id, client_secret, max_concurrency=concurrency) as zuora:
        clients = SimpleNamespace(zuora=zuora)
        ahead = ReadAhead("E1", slices(planned, fix.recheck_slice), lambda ids: fix.still_selected(ctx, clients, ids))

        first_write: list[float] = []  # when the first memo went to the writer: the floor has it at 2 latencies

        async def updates() -> AsyncIterator[dict]:
            while (checked := await ahead.next()) is not None:
                results["skipped"] += len(checked.skip)
                if not first_write:
                    first_write.append(time.perf_counter() - started)
                for item in checked.keep:
                    yield {"id": item["record_id"], "transferredToAccounting": "Yes"}

        await zuora.token()  # the token is not part of the work being measured
        in_flight: list[int] = [0, 0]  # sum and count of samples

        async def sample() -> None:  # the average matters, not the peak: a starved pipe shows here
            while True:
                in_flight[0] += zuora.limiter.in_flight
                in_flight[1] += 1
                await asyncio.sleep(IN_FLIGHT_SAMPLE_S)

        sampler = asyncio.create_task(sample())
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            summary = await zuora.bulk_update_credit_memos(updates(), on_result=journal)
        finally:
            await ahead.aclose()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        sampler.cancel()
        return {"elapsed_s": elapsed, "requests": zuora.request_count - 1, "http_429": zuora.http_429_count,
                "write_calls": summary.requests, "recheck_queries": ahead.queries,
                "recheck_slice": fix.recheck_slice, "skipped": results["skipped"],
                "succeeded": summary.succeeded, "failed": summary.failed,
                "first_write_s": first_write[0] if first_write else None,
                "client_avg_in_flight": round(in_flight[0] / max(1, in_flight[1]), 1), "cpu_s": cpu}


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def api_floor_s(memos: int, latency_ms: float, concurrency: int, recheck_slice: int) -> float:
    """The least time Zuora's limits allow: the first re-check's calls one after the other, then the bulk calls and
    the other re-checks' calls at the concurrency limit, each call taking the latency."""
    writes, rechecks = math.ceil(memos / 50), math.ceil(memos / recheck_slice)
    later = writes + DATA_QUERY_MIN_CALLS * (rechecks - 1)
    return (DATA_QUERY_MIN_CALLS + later / concurrency) * latency_ms / 1000


def run_in_process(memos: int, latency_ms: float, concurrency: int) -> dict:
    """The tenant served from a thread of this process: client and server share the interpreter lock."""
    sim = ar_mig_tenant(SimConfig(latency_ms=latency_ms, zuora_concurrency=concurrency), memos)
    try:
        with SimServer(sim) as server:
            c = sim.credentials
            measured = asyncio.run(mark(server.base_url, c.zuora_client_id, c.zuora_client_secret, memos,
                                        concurrency))
            peak = sim.zuora_gate.peak
    finally:
        sim.close()
    return summarize(memos, latency_ms, concurrency, measured, peak, None, None)


def run(memos: int, latency_ms: float, concurrency: int) -> dict:
    config = SimConfig(latency_ms=latency_ms, zuora_concurrency=concurrency)
    parent, child = mp.get_context("spawn").Pipe()
    server = mp.get_context("spawn").Process(target=_serve, args=(config, memos, child), daemon=True)
    server.start()
    try:
        base_url, client_id, client_secret = parent.recv()
        server_cpu = _cpu_seconds(psutil.Process(server.pid))
        measured = asyncio.run(mark(base_url, client_id, client_secret, memos, concurrency))
        server_cpu = _cpu_seconds(psutil.Process(server.pid)) - server_cpu
        parent.send("stop")
        peak = parent.recv()
    finally:
        server.join(timeout=30)
        if server.is_alive():
            server.terminate()
    return summarize(memos, latency_ms, concurrency, measured, peak, measured["cpu_s"], server_cpu)


def summarize(memos: int, latency_ms: float, concurrency: int, measured: dict, peak: int,
              client_cpu: float | None, server_cpu: float | None) -> dict:
    floor = api_floor_s(memos, latency_ms, concurrency, measured["recheck_slice"])
    elapsed = measured["elapsed_s"]
    return {"memos": memos, "requests": measured["requests"], "write_calls": measured["write_calls"],
            "recheck_queries": measured["recheck_queries"], "elapsed_s": round(elapsed, 3),
            "floor_s": round(floor, 3), "ratio": round(elapsed / floor, 3) if floor else None,
            "first_write_s": None if measured["first_write_s"] is None else round(measured["first_write_s"], 3),
            "first_write_floor_s": round(DATA_QUERY_MIN_CALLS * latency_ms / 1000, 3),
            "http_429": measured["http_429"], "succeeded": measured["succeeded"], "failed": measured["failed"],
            "skipped": measured["skipped"],
            "server_peak_in_flight": peak, "client_avg_in_flight": measured["client_avg_in_flight"],
            # Where the time went: each side's event loop has about one core, and the time a call waits for the
            # other side's loop or handler thread is what keeps elapsed above the floor.
            "client_cpu_s": None if client_cpu is None else round(client_cpu, 2),
            "server_cpu_s": None if server_cpu is None else round(server_cpu, 2),
            "client_cpu_ms_per_call": None if client_cpu is None
            else round(1000 * client_cpu / max(1, measured["write_calls"]), 3),
            "simulator": "in-process" if client_cpu is None else "own process"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memos", type=int, default=100_000)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--zuora-concurrency", type=int, default=40)
    parser.add_argument("--json", action="store_true", help="print only the JSON object")
    parser.add_argument("--in-process", action="store_true",
                        help="serve the tenant from a thread of this process (default: its own process)")
    args = parser.parse_args(argv)
    if args.memos < 1 or args.zuora_concurrency < 1 or args.latency_ms < 0:
        parser.error("--memos and --zuora-concurrency must be at least 1, --latency-ms at least 0")
    result = (run_in_process if args.in_process else run)(args.memos, args.latency_ms, args.zuora_concurrency)
    if not args.json:
        print(f"{result['memos']} memos in {result['elapsed_s']} s; floor {result['floor_s']} s; "
              f"ratio {result['ratio']}; {result['requests']} requests ({result['write_calls']} bulk updates, "
              f"{result['recheck_queries']} re-check queries), {result['http_429']} answered 429; "
              f"client CPU {result['client_cpu_ms_per_call']} ms per bulk call ({result['simulator']} simulator)",
              file=sys.stderr)
    print(json.dumps(result))
    return 0 if result["failed"] == 0 and result["skipped"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
