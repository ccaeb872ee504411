"""The demo's side of a twin: what a capture of the simulated demo tenant takes from the simulator itself.

Kept apart from core.twin.capture, which reads real tenants through the clients only and never imports the
simulator (an import-linter contract holds it).
"""

from __future__ import annotations


def demo_cutover_dates(demo) -> dict[str, str]:
    """The demo has no journal yet: its simulated connector's Advanced Settings are what A2 would record."""
    from core.sim.sync_rules import CUTOVER_KEYS

    store = demo.sim.store
    return {k: v for k in CUTOVER_KEYS if (v := store.setting(f"cutover.{k}"))}
