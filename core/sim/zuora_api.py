"""Zuora vendor routes of the simulator (filled in by the Zuora-routes work)."""

from __future__ import annotations


def routes(sim) -> list:
    return []
