"""NetSuite vendor routes of the simulator (filled in by the NetSuite-routes work)."""

from __future__ import annotations


def routes(sim) -> list:
    return []
