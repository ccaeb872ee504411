"""Simulator settings: scale, limits and injected faults. Everything a test or benchmark may want to turn."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

SCALES = {"tiny": 200, "small": 2_000, "medium": 50_000, "large": 1_000_000}


def parse_scale(value: str | int) -> int:
    """`small|medium|large|tiny` or a plain number of invoices."""
    if isinstance(value, int):
        return value
    v = str(value).strip().lower().replace("_", "")
    if v in SCALES:
        return SCALES[v]
    try:
        n = int(v)
    except ValueError:
        raise ValueError(f"scale must be one of {', '.join(SCALES)} or a number of invoices, not {value!r}") from None
    if n < 1:
        raise ValueError("scale must be at least 1 invoice")
    return n


@dataclass
class Faults:
    """Injected faults, each a probability per request (or per bulk item). One spec serves `cutover sim serve
    --faults` and `cutover rehearse --faults`."""

    rate_429: float = 0.0  # refused at the concurrency gate, as when too many requests are in flight (429)
    http_5xx: float = 0.0  # 500/502/503 with the vendor's error body
    timeout: float = 0.0  # the server holds the request for `timeout_hold_s` without answering
    reset: float = 0.0  # the connection drops mid-response
    token_expiry: float = 0.0  # a valid token is treated as expired (401)
    token_5xx: float = 0.0  # /oauth/token answers 503 temporarily_unavailable
    bulk_item: float = 0.0  # one memo in a bulk update fails on its own, retryably (lock competition, temporary)
    bulk_item_refused: float = 0.0  # one memo in a bulk update is refused for good (a rule restriction)
    timeout_hold_s: float = 30.0
    seed: int | None = None  # None: 0, or the rehearsal's seed

    KEYS = {"429": "rate_429", "5xx": "http_5xx", "timeout": "timeout", "reset": "reset",
            "token_expiry": "token_expiry", "token_5xx": "token_5xx", "bulk_item": "bulk_item",
            "bulk_item_refused": "bulk_item_refused", "timeout_hold_s": "timeout_hold_s", "seed": "seed"}

    @classmethod
    def parse(cls, spec: str | None) -> Faults:
        """`429=0.1,5xx=0.05,timeout=0.01,reset=0.01,token_expiry=0.02,token_5xx=0.1,bulk_item=0.05` (empty: none)."""
        f = cls()
        if not spec:
            return f
        for part in spec.split(","):
            part = part.strip()
            if not part:
                continue
            key, sep, val = part.partition("=")
            attr = cls.KEYS.get(key.strip())
            if not sep or attr is None:
                raise ValueError(
                    f"bad fault {part!r}: use KEY=RATE with KEY one of {', '.join(cls.KEYS)} (e.g. 5xx=0.05)")
            try:
                num = float(val)
            except ValueError:
                raise ValueError(f"bad fault {part!r}: {val!r} is not a number") from None
            if not math.isfinite(num):
                raise ValueError(f"bad fault {part!r}: give a finite number")
            if attr == "timeout_hold_s" and not 0.0 <= num <= 3600:
                raise ValueError(f"bad fault {part!r}: the hold is between 0 and 3600 seconds")
            if attr == "seed" and num != int(num):
                raise ValueError(f"bad fault {part!r}: the seed is a whole number")
            if attr not in ("timeout_hold_s", "seed") and not 0.0 <= num <= 1.0:
                raise ValueError(f"bad fault {part!r}: a rate is between 0 and 1")
            setattr(f, attr, int(num) if attr == "seed" else num)
        return f


@dataclass
class SimConfig:
    seed: int = 1
    scale: int = SCALES["small"]
    latency_ms: float = 0.0
    # Memo updates (PUT) land first and then wait out the latency, so a caller killed or timed out in that wait
    # has lost the answer of a write that happened (the apply must find it, never send it twice).
    write_before_latency: bool = False
    zuora_concurrency: int = 40  # Concurrency-Limit-Type: Default
    object_query_concurrency: int = 80
    netsuite_concurrency: int = 15  # shared/standard tier + 1 SuiteCloud Plus licence
    data_query_concurrency: int = 5
    token_ttl_s: int = 3599
    netsuite_account_id: str = "TSTDRV2207311_SB1"
    faults: Faults = field(default_factory=Faults)
    # Seconds the connector pauses between batches, so an operator can watch records move. 0 in tests.
    connector_pace_s: float = 0.0
    connector_batch: int = 200
    # Invoice Settlement Harmonization already on: memos next to IIAs, no payment parts (runbook R12, A1).
    harmonization: bool = False
    # A folder holding a captured twin (core.twin): the simulator loads it instead of seeding (seed/scale unused).
    twin: str | None = None
    # The API user holds Zuora's "Override Transferred to Accounting" permission (TTA may go from Yes back to No:
    # an undo of E1). Off: each such memo is refused with a category-10 error.
    override_tta: bool = True
    # With Zuora-Version < 2024-05-20 (or none), v1 errors come back as HTTP 200 + success:false.
    default_zuora_version: str = "2025-08-12"
