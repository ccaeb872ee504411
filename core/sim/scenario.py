"""The seeded scenario: a tenant of the given size made by core.sim.seed's builder, plus the awkward cases of
core.sim.seed_cases and the connector's settings. Seeding the same store again with the same seed and size is a
no-op that returns the first summary."""

from __future__ import annotations

import random

from core.errors import ConfigError
from core.sim.catalog import NS_FIELD_IDS, NS_FIELD_LABELS
from core.sim.records import SETTING_AS_OF
from core.sim.seed import AS_OF, FREEZE_DAYS, TenantBuilder, accounting_periods, bulk_account, day
from core.sim.seed_cases import add_cases, seed_settings
from core.sim.store import Store


def _already_seeded(store: Store, seed: int, invoices: int) -> dict | None:
    done = store.setting("scenario.seed")
    if done is None:
        if store.scalar("SELECT 1 FROM main.account LIMIT 1"):
            raise ConfigError("this tenant already has data that was not seeded here",
                              hint="use an empty data dir for the simulator")
        return None
    if (done, store.setting("scenario.invoices")) != (seed, invoices):
        raise ConfigError(f"this data dir holds a tenant seeded with seed {done} and "
                          f"{store.setting('scenario.invoices')} invoices, not seed {seed} and {invoices}",
                          hint="use another --data-dir, or the same --seed and --scale to carry on with it")
    return store.setting("scenario.summary")


def seed_tenant(store: Store, *, seed: int, invoices: int) -> dict:
    """Fill an empty store with the scenario; on a store seeded the same way before, return its summary."""
    if invoices < 1:
        raise ConfigError("a tenant needs at least 1 invoice")
    previous = _already_seeded(store, seed, invoices)
    if previous is not None:
        return previous
    rng = random.Random(seed)
    b = TenantBuilder(store, rng)
    accounts = max(1, invoices // 8)
    for a in range(accounts):
        bulk_account(b, invoices * (a + 1) // accounts - invoices * a // accounts)
    cases = add_cases(b)
    accounting_periods(b)
    for key, sid in NS_FIELD_IDS.items():
        b.sink.ns("customfield", {"scriptid": sid, "name": NS_FIELD_LABELS[key], "fieldtype": "BODY",
                                  "fieldvaluetype": "List/Record" if key == "zuora_sync_updates" else (
                                      "Date" if key == "zuora_sync_date" else "Free-Form Text"),
                                  "defaultvalue": None})
    b.sink.flush()
    store.create_indexes()
    summary = {"seed": seed, "invoices": invoices, "as_of": AS_OF.isoformat(),
               "freeze_date": day(FREEZE_DAYS), "rows": dict(sorted(b.sink.rows.items())), "cases": cases}
    seed_settings(store, b, summary)
    store.set_setting(SETTING_AS_OF, AS_OF.isoformat())
    return summary
