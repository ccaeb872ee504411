"""Stand-ins for Zuora Support and UI actions, under /_sim/ (filled in by the connector work)."""

from __future__ import annotations


def routes(sim) -> list:
    return []
