"""A seeded tenant served by `cutover sim serve` in a child process, for benchmarks that measure the tool itself.

The child holds the simulator's memory, so the benchmark process's RSS is the tool's own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


def serve(invoices: int, data_dir: str, tag: str) -> tuple[subprocess.Popen, dict, float]:
    """Seed and serve the tenant in a child; its connection line, and how long seeding and start took."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "cli", "sim", "serve", "--port", "0", "--scale", str(invoices), "--data-dir",
         data_dir], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    line = child.stdout.readline()
    if not line:
        child.wait()
        sys.exit(f"{tag}: the simulator did not start (exit {child.returncode})")
    return child, json.loads(line), time.perf_counter() - started


def stop(child: subprocess.Popen) -> None:
    child.terminate()
    child.wait(timeout=30)


def rss_mb(pid: int | None = None) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20
