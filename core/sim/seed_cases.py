"""The awkward cases of the seeded tenant, a handful each whatever the scale, named by the runbook step that finds
them; and the tenant's connector settings (the old instance, its OAuth client, its cutover dates)."""

from __future__ import annotations

from collections import Counter

from core.sim.seed import FREEZE_DAYS, SPAN_DAYS, Account, TenantBuilder, day
from core.sim.store import Store
from core.sim.sync_rules import BOOMI_CLIENT, CUTOVER_KEYS

BAD_QUOTE_NAME = 'Acme "Best" Widgets'
BAD_COMMA_NAME = "Smith, Jones & Co"
BAD_METHOD = "Bitcoin"  # no such payment method on either side
OLD_CUTOVER_AGO = SPAN_DAYS  # the old instance's cutover dates: the start of the seeded history


class _Cases:
    def __init__(self, b: TenantBuilder):
        self.b = b
        self.counts: Counter[str] = Counter()

    def account(self, **kw) -> Account:
        kw.setdefault("created_ago", SPAN_DAYS + 60)
        kw.setdefault("currency", "USD")
        return self.b.open_account(**kw)

    def open_invoice(self, acct: Account, ago: int = 40) -> dict:
        """A synced positive invoice nobody has paid yet."""
        return self.b.invoice(acct, self.b.money(100, 2000), ago, synced=True)

    def note(self, key: str, n: int = 1) -> None:
        self.counts[key] += n

    # ---- B2 validation scenarios ----------------------------------------------------------------------------
    def validations(self) -> None:
        b = self.b
        for status in ("Draft", "Canceled"):
            for _ in range(2):  # V1 / V2: draft or canceled accounts with credit balance
                a = self.account(status=status, synced=status == "Canceled", credit_balance=b.money(50, 400),
                                 created_ago=30 if status == "Draft" else SPAN_DAYS)
                b.close(a)
                self.note("V1" if status == "Draft" else "V2")
            for _ in range(2):  # V3 / V4: draft or canceled accounts with posted negative invoices
                a = self.account(status=status, synced=status == "Canceled", created_ago=200)
                b.invoice(a, -b.money(20, 300), 20 if status == "Draft" else 100, synced=status == "Canceled")
                b.close(a)
                self.note("V3" if status == "Draft" else "V4")
        a = self.account()
        for _ in range(3):  # V5: draft invoices with a negative balance
            b.invoice(a, -b.money(20, 300), 3, synced=False, status="Draft")
            self.note("V5")
        for status, key in (("Draft", "V6"), ("Error", "V7")):  # draft payments, error payments
            for _ in range(3):
                inv = self.open_invoice(a)
                b.payment(a, inv, inv["balance"], 2, synced=False, status=status)
                self.note(key)
        b.close(a)

    # ---- C1-C5: what the old connector still has to do, and what is stuck -------------------------------------
    def pending(self) -> None:
        b = self.b
        a = self.account(currency="EUR")
        for tta, status in ((None, None), ("No", None), ("Error", "Error Creating Invoice Item Adjustment")):
            b.adjustment(a, self.open_invoice(a), 25.0, 10, synced=False, tta=tta, istatus=status)
            self.note("C1 unsynced IIA")
        old = b.invoice(a, 300.0, OLD_CUTOVER_AGO + 30, synced=True)
        b.adjustment(a, old, 20.0, OLD_CUTOVER_AGO + 20, synced=False)  # before the IIA cutover: never picked
        self.note("C1 IIA before cutover")
        b.close(a)

        a = self.account(currency="GBP")
        for tta in (None, "No", None):  # C2: negative invoices not in NetSuite yet; the next run takes them
            b.invoice(a, -b.money(20, 400), 12, synced=False, tta=tta)
            self.note("C2 unsynced negative invoice")
        b.close(a)
        # C2: the account moved to CHF after its NetSuite customer was made in USD (R8.14). NetSuite refuses its
        # negative invoices until a person adds CHF to the customer; no run alone gets them there.
        a = self.account(currency="CHF", netsuite_currency="USD")
        for _ in range(2):
            b.invoice(a, -b.money(20, 400), 9, synced=False)
            self.note("C2 negative invoice NetSuite refuses")
        b.close(a)

        a = self.account()
        for tta in (None, "No", None):  # C3: ordinary transactions waiting for the connector
            b.invoice(a, b.money(100, 900), 2, synced=False, tta=tta)
            self.note("C3 pending invoice")
        for _ in range(3):
            inv = self.open_invoice(a)
            b.payment(a, inv, inv["balance"], 4, synced=False)
            self.note("C3 pending payment")
        for _ in range(2):
            inv = self.open_invoice(a, 60)
            pay = b.payment(a, inv, inv["balance"], 50, synced=True)
            b.refund(a, pay, 40.0, 3, synced=False)
            self.note("C3 pending refund")
        b.invoice(a, 250.0, OLD_CUTOVER_AGO + 30, synced=False)  # before the invoice cutover: never picked
        self.note("C3 invoice before cutover")
        for _ in range(2):  # C4: NetSuite credit memos and payments on their way to Zuora
            b.netsuite_credit_memo(a, self.open_invoice(a), 40.0, 12)
            self.note("C4 NetSuite credit memo")
            b.netsuite_payment(a, self.open_invoice(a), 15)
            self.note("C4 NetSuite payment")
        b.close(a)

    def stuck(self) -> None:
        b = self.b
        a = self.account()
        # C5: a run stopped half-way, once after writing NetSuite and once before.
        b.invoice(a, 500.0, 2, synced=False, tta="Processing", istatus="Creating Invoice", ns_written=True)
        b.invoice(a, 700.0, 2, synced=False, tta="Processing", istatus="Creating Invoice")
        self.note("C5 Creating", 2)
        b.adjustment(a, self.open_invoice(a), 30.0, 6, synced=False, tta="Error",
                     istatus="Error Creating Invoice Item Adjustment")  # failed once; goes through next time
        inv = self.open_invoice(a)
        b.payment(a, inv, inv["balance"], 8, synced=False, method=BAD_METHOD, tta="Error",
                  istatus="Error Creating Payment")
        self.note("C5 Error", 2)
        b.netsuite_payment(a, self.open_invoice(a), 9, istatus="Creating Payment")
        b.netsuite_payment(a, self.open_invoice(a), 9, method=BAD_METHOD, istatus="Error Creating Payment")
        self.note("C5 NetSuite", 2)
        inv = self.open_invoice(a)
        b.payment(a, inv, inv["balance"], 3, synced=False, method=BAD_METHOD)  # will fail: no such method
        self.note("bad payment method")
        b.close(a)
        # Account names the connector cannot sync (runbook R8.15); their invoices fail with them.
        for name, n in ((BAD_QUOTE_NAME, 2), (BAD_COMMA_NAME, 1)):
            a = self.account(name=name, synced=False, created_ago=20)
            for _ in range(n):
                b.invoice(a, b.money(100, 900), 4, synced=False)
            b.close(a)
            self.note("bad account name")
        a = self.account(synced=False, sync_to_netsuite="No", created_ago=300)  # never meant for NetSuite
        for _ in range(2):
            b.invoice(a, b.money(100, 900), 30, synced=False)
        b.close(a)
        self.note("Sync To NetSuite No")

    # ---- what the migration and G2 work on ------------------------------------------------------------------
    def migration_inputs(self) -> None:
        b = self.b
        for currency in ("USD", "EUR", "GBP"):  # credit balances -> refund + credit memo
            a = self.account(currency=currency, credit_balance=b.money(20, 600))
            self.open_invoice(a)
            b.close(a)
            self.note("credit balance")
        a = self.account()
        for ago in (60, 120, 200):  # negative invoices already in NetSuite: E1 must mark their memos
            b.invoice(a, -b.money(20, 400), ago, synced=True)
            self.note("synced negative invoice")
        b.close(a)

    def freeze_window(self) -> None:
        b = self.b
        a = self.account()
        for i in range(4):  # G2: typed into NetSuite after the freeze began; Zuora Sync Updates left empty
            b.netsuite_payment(a, self.open_invoice(a), i % (FREEZE_DAYS + 1))
            self.note("G2 window payment")
        for i in range(2):  # Zuora payments synced in the same window: G2 must leave them alone
            inv = self.open_invoice(a)
            b.payment(a, inv, inv["balance"], i + 1, synced=True)
            self.note("window payment from Zuora")
        b.close(a)


def add_cases(b: TenantBuilder) -> dict[str, int]:
    cases = _Cases(b)
    cases.validations()
    cases.pending()
    cases.stuck()
    cases.migration_inputs()
    cases.freeze_window()
    return dict(sorted(cases.counts.items()))


def _uuid(b: TenantBuilder) -> str:
    h = f"{b.rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def seed_settings(store: Store, b: TenantBuilder, summary: dict) -> None:
    """IS off, the old connector instance running with its own OAuth client, the old cutover dates."""
    client_id = _uuid(b)
    instance = {"id": str(b.rng.randint(10_000, 99_999)), "account_id": f"zuora-{b.rng.getrandbits(32):08x}",
                "environment_id": _uuid(b), "environment": "production", "oauth_client_id": client_id,
                "status": "active", "created": f"{day(SPAN_DAYS + 90)} 09:00:00", "state": "running",
                "mode": "legacy"}
    with store.transaction() as conn:
        conn.execute("INSERT INTO sim_oauth_client(client_id, client_secret, name, active, created) "
                     "VALUES (?,?,?,1,?)", (client_id, f"{b.rng.getrandbits(160):040x}",
                                            "NetSuite Connector (production)", instance["created"]))
        conn.execute(f"INSERT INTO sim_instance({', '.join(instance)}) VALUES ({', '.join('?' * len(instance))})",
                     list(instance.values()))
    settings = {
        "invoice_settlement": False, "connector.installed": True,
        "connector.instance_id": instance["id"], "netsuite.sync_updates_default": None, BOOMI_CLIENT: client_id,
        **{f"cutover.{k}": None if k == "memo" else day(OLD_CUTOVER_AGO) for k in CUTOVER_KEYS},
        "scenario.freeze_date": summary["freeze_date"], "scenario.seed": summary["seed"],
        "scenario.invoices": summary["invoices"], "scenario.summary": summary,
    }
    for key, value in settings.items():
        store.set_setting(key, value)
