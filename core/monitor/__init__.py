"""The live sync monitor: both systems' sync state per object type, sampled with server-side counts."""

from core.monitor.model import (
    NS_TO_ZUORA, STATES, ZUORA_TO_NS, MonitorSample, SyncError, SyncRow, eta_text, format_eta, row_key,
)
from core.monitor.rates import RateTracker, eta_seconds
from core.monitor.sampler import DEFAULT_INTERVAL_S, IS_RECHECK_EVERY, SAMPLE_CALL_BUDGET, Sampler, watch

__all__ = [
    "DEFAULT_INTERVAL_S", "IS_RECHECK_EVERY", "NS_TO_ZUORA", "SAMPLE_CALL_BUDGET", "STATES", "ZUORA_TO_NS",
    "MonitorSample", "RateTracker", "Sampler", "SyncError", "SyncRow", "eta_seconds", "eta_text", "format_eta",
    "row_key", "watch",
]
