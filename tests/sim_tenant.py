"""Build a small simulated Zuora tenant by hand (seed_data=False) and talk to it in process.

For the simulator's own route tests: rows go straight into the store through the catalog, so each test states
exactly the data it relies on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx

from core.sim.app import Simulator
from core.objects import ACCOUNT, CREDIT_MEMO, DEBIT_MEMO, INVOICE, PAYMENT, ZuoraObject
from core.sim.config import Faults, SimConfig

BASE = "http://127.0.0.1"
_KIND = {"Account": 1, "Invoice": 2, "Payment": 3, "CreditMemo": 4, "DebitMemo": 5}


def zuora_id(obj: ZuoraObject, n: int) -> str:
    """32 lower-case hex, sortable by n within one object."""
    return f"2c93{_KIND[obj.name]:04x}{n:024x}"


def empty_tenant(tmp_path, *, faults: Faults | None = None, **config) -> Simulator:
    return Simulator(SimConfig(scale=1, faults=faults or Faults(), **config), data_dir=tmp_path / "sim",
                     seed_data=False)


def insert(sim: Simulator, obj: ZuoraObject, rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Insert rows keyed by column name; every row names the same columns."""
    rows = list(rows)
    columns = list(rows[0])
    sim.store.executemany(
        f"INSERT INTO main.{obj.table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        ([r[c] for c in columns] for r in rows))
    return [r["id"] for r in rows]


def add_accounts(sim: Simulator, n: int) -> list[str]:
    """Odd accounts carry a balance; even ones have none (null), for null-omission checks."""
    return insert(sim, ACCOUNT, ({
        "id": zuora_id(ACCOUNT, i), "accountnumber": f"A{i:08d}", "name": f"Account {i}", "status": "Active",
        "balance": round(i * 1.5, 2) if i % 2 else None, "currency": "USD",
        "createddate": "2024-01-01 10:00:00", "updateddate": f"2024-02-{1 + i % 28:02d} 10:00:00",
    } for i in range(1, n + 1)))


def add_credit_memos(sim: Simulator, n: int, *, account: str, start: int = 1, status: str = "Posted",
                     tta: str | None = "No", reason: str = "AR Mig - negative invoice",
                     invoices: list[str] | None = None) -> list[str]:
    """`invoices`: the memos' referred invoices, one each (an AR Mig memo's negative invoice)."""
    return insert(sim, CREDIT_MEMO, ({
        "id": zuora_id(CREDIT_MEMO, i), "memonumber": f"CM{i:08d}", "accountid": account,
        "totalamount": 10.0 + i, "balance": 10.0 + i, "status": status, "reasoncode": reason,
        "memodate": "2024-03-01", "sourcetype": "Standalone", "transferredtoaccounting": tta, "currency": "USD",
        "referredinvoiceid": invoices[i - start] if invoices else None,
        "excludefromautoapplyrules": 0, "createddate": "2024-03-01 09:00:00", "updateddate": "2024-03-01 09:00:00",
    } for i in range(start, start + n)))


def add_debit_memos(sim: Simulator, n: int, *, account: str) -> list[str]:
    return insert(sim, DEBIT_MEMO, ({
        "id": zuora_id(DEBIT_MEMO, i), "memonumber": f"DM{i:08d}", "accountid": account, "totalamount": 5.0,
        "balance": 5.0, "status": "Posted", "memodate": "2024-03-02", "transferredtoaccounting": "Yes",
        "currency": "USD", "createddate": "2024-03-02 09:00:00", "updateddate": "2024-03-02 09:00:00",
    } for i in range(1, n + 1)))


def add_invoices(sim: Simulator, n: int, *, account: str, amount: float = 100.0) -> list[str]:
    """Synced invoices (a NetSuite internal id each); a negative `amount` makes negative invoices."""
    return insert(sim, INVOICE, ({
        "id": zuora_id(INVOICE, i), "invoicenumber": f"INV{i:08d}", "accountid": account,
        "amount": amount * i, "balance": amount * i, "status": "Posted", "invoicedate": "2024-01-15",
        "posteddate": "2024-01-16", "transferredtoaccounting": "Yes", "currency": "USD",
        "integrationid__ns": str(9000 + i), "integrationstatus__ns": "Sync Complete",
        "createddate": "2024-01-15 08:00:00", "updateddate": "2024-01-16 08:00:00",
    } for i in range(1, n + 1)))


def add_payments(sim: Simulator, n: int, *, account: str) -> list[str]:
    return insert(sim, PAYMENT, ({
        "id": zuora_id(PAYMENT, i), "paymentnumber": f"P-{i:08d}", "accountid": account, "amount": 50.0,
        "appliedamount": 50.0, "unappliedamount": 0.0, "effectivedate": "2024-02-01", "status": "Processed",
        "type": "External", "transferredtoaccounting": "Yes", "currency": "USD",
        "createddate": "2024-02-01 08:00:00", "updateddate": "2024-02-01 08:00:00",
    } for i in range(1, n + 1)))


def client(sim: Simulator) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(sim.app), base_url=BASE)


async def bearer(http: httpx.AsyncClient, sim: Simulator) -> dict[str, str]:
    r = await http.post("/oauth/token", data={"client_id": sim.credentials.zuora_client_id,
                                              "client_secret": sim.credentials.zuora_client_secret,
                                              "grant_type": "client_credentials"})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@asynccontextmanager
async def signed_in(sim: Simulator, base_url: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """A client holding a bearer token: in process, or over loopback when `base_url` is given."""
    http = httpx.AsyncClient(base_url=base_url) if base_url else client(sim)
    async with http as c:
        c.headers.update(await bearer(c, sim))
        yield c


DATA_QUERY = {"outputFormat": "JSON", "compression": "NONE", "output": {"target": "S3"}}


async def finished_job(http: httpx.AsyncClient, headers: dict, job_id: str, *, polls: int = 400) -> dict:
    for _ in range(polls):
        job = (await http.get(f"/query/jobs/{job_id}", headers=headers)).json()["data"]
        if job["queryStatus"] in ("completed", "failed", "cancelled"):
            return job
        await asyncio.sleep(0.01)
    raise AssertionError(f"job {job_id} did not finish")


# ---- the runbook's people, for tests that need a seeded tenant past the migration ----------------------------------
def fix_migration_blockers(sim: Simulator) -> None:
    """What a person fixes before Support will migrate (B2 V1-V6, B3), through the simulator's own stand-ins."""
    from core.sim.source_fixes import fix_at_source

    for step in ("V1", "V2", "V3", "V4", "V5", "V6", "B3"):
        fix_at_source(sim.store, step)


def migrate(sim: Simulator) -> dict:
    """Fix what blocks the migration, then run it (the old connector is left as the test set it)."""
    from core.sim.migration import migrate_invoice_settlement

    fix_migration_blockers(sim)
    return migrate_invoice_settlement(sim.store)


def final_sync_then_migrate(sim: Simulator) -> dict:
    """The runbook's order: blockers fixed, the old connector's final run, the old connector stopped (C7), then
    Support's migration. What the old connector could not sync (the seed's CHF negative invoices, which NetSuite
    refuses) stays out of NetSuite: their AR Mig memos are Case 2."""
    from core.sim.migration import migrate_invoice_settlement

    fix_migration_blockers(sim)
    sim.connector.run()
    sim.connector.stop()
    return migrate_invoice_settlement(sim.store)


def repoint_connector(sim: Simulator) -> str:
    """F1 + F3a + F4 at once: a new OAuth client on the current instance (now on the IS rules) and on the payment
    sync's stored credentials. Returns the client id."""
    from core.sim import support

    client = support.create_oauth_client(sim.store, "connector after IS")["client_id"]
    support.update_instance(sim.store, sim.connector.instance()["id"], {"oauth_client_id": client})
    support.update_boomi_credentials(sim.store, client)
    sim.connector.start()
    return client
