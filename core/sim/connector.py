"""The simulated Zuora Connector for NetSuite (the sync engine; filled in by the connector work)."""

from __future__ import annotations


class Connector:
    def __init__(self, sim):
        self.sim = sim

    def stop_schedule(self) -> None:
        pass
