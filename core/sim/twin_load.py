"""The simulator loads a twin (core.twin.snapshot) instead of a seed: the captured rows into the store's tables,
the NetSuite custom fields from their meaning to this simulator's script ids, and the settings a seed would make
(the old connector instance running, its OAuth client) with the twin's own facts: whether IS was on, the capture's
day as the tenant's business date, and the old instance's cutover dates from the journal's run variables
(an object without one has no cutover date: the connector would pick all of it).
"""

from __future__ import annotations

import random
from pathlib import Path

from core.objects import ZUORA_OBJECTS
from core.sim.catalog import NS_FIELD_IDS, NS_TABLES
from core.sim.records import SETTING_AS_OF
from core.sim.seed import TenantBuilder
from core.sim.seed_cases import seed_settings
from core.sim.store import Store
from core.sim.sync_rules import CUTOVER_KEYS
from core.twin.snapshot import Snapshot

CHUNK = 5000
_BY_TABLE = {o.table: o for o in ZUORA_OBJECTS.values()}


def _insert(store: Store, target: str, columns: list[str], rows) -> int:
    sql = f"INSERT INTO {target} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    n, batch = 0, []
    for row in rows:
        batch.append(tuple(map(row.get, columns)))
        if len(batch) >= CHUNK:
            store.executemany(sql, batch)
            n, batch = n + len(batch), []
    if batch:
        store.executemany(sql, batch)
        n += len(batch)
    return n


def _netsuite_row(table: str, row: dict) -> dict:
    """Custom fields arrive keyed by meaning (`zuora_id`); the simulator's columns are its own script ids."""
    for key, sid in NS_FIELD_IDS.items():
        if key in row:
            row[sid] = row.pop(key)
    if table == "customfield" and row.get("field") in NS_FIELD_IDS:
        row["scriptid"] = NS_FIELD_IDS[row["field"]]
    return row


def load_twin(store: Store, root: Path | str) -> dict:
    """Fill an empty store from the twin in `root`; returns the scenario summary the simulator reports."""
    snap = Snapshot.open(root).require_complete()
    m = snap.manifest
    rows: dict[str, int] = {}
    with store.transaction():
        for key in m["tables"]:
            system, table = key.split(".", 1)
            if system == "zuora":
                obj = _BY_TABLE[table]
                rows[key] = _insert(store, f"main.{table}", obj.columns(), snap.rows(system, table))
            else:
                cols = [c for c, _ in NS_TABLES[table]]
                rows[key] = _insert(store, f'ns."{table}"', cols,
                                    (_netsuite_row(table, r) for r in snap.rows(system, table)))
    store.create_indexes()
    summary = {"seed": None, "invoices": rows.get("zuora.invoice", 0), "as_of": m["as_of"],
               "freeze_date": m["as_of"], "rows": rows, "cases": {}, "twin": str(root)}
    seed_settings(store, TenantBuilder(store, random.Random(0)), summary)
    dates = m.get("old_cutover_dates") or {}
    for k in CUTOVER_KEYS:
        store.set_setting(f"cutover.{k}", dates.get(k))
    store.set_setting("invoice_settlement", bool(m.get("invoice_settlement")))
    store.set_setting(SETTING_AS_OF, m["as_of"])
    return summary
