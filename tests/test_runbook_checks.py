"""Checks end to end: the engine talks to the simulator over loopback through the real clients, and every count
it reports equals a direct query on the simulator's store."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from core.demo import DemoTenant
from core.journal import Journal
from core.runbook.engine import Runbook
from core.runbook.model import Status
from core.session import Session
from sim_tenant import migrate, repoint_connector
from core.sim.catalog import NS_FIELD_IDS

pytestmark = pytest.mark.timeout(120)
AR_MIG = "AR Mig - negative invoice"
F = NS_FIELD_IDS


@pytest.fixture
async def rb():
    async with DemoTenant(scale=200, connector_pace_s=0) as demo:
        async with Session(demo.profile, demo.credentials) as session:
            with Journal.for_profile(demo.profile) as journal:
                runbook = Runbook(demo.profile, journal, session)
                runbook.demo = demo
                runbook.set_variable("freeze_ts", demo.sim.store.setting("scenario.freeze_date"))
                yield runbook


def scalar(rb, sql, *params):
    return rb.demo.sim.store.scalar(sql, params)


def ids(rb, sql, *params) -> set[str]:
    return {str(r["id"]) for r in rb.demo.sim.store.query(sql, params)}


def assert_sample_within(result, expected_ids: set[str]):
    assert 0 < len(result.sample) <= 20
    assert {str(r["id"]) for r in result.sample} <= expected_ids


async def test_pre_migration_checks_count_what_the_store_holds(rb):
    states = {s.step.id: s for s in await rb.check(["A1", "C1", "C2", "G2", "V1"])}
    assert states["A1"].status is Status.PASS
    assert states["A1"].summary == "Invoice Settlement is off and the connector is installed"

    iias = ids(rb, "SELECT id FROM invoiceitemadjustment WHERE status = 'Processed' "
                   "AND coalesce(transferredtoaccounting, 'No') NOT IN ('Yes', 'Ignore')")
    c1 = states["C1"].result
    assert c1.count == len(iias) > 0 and c1.status is Status.FAIL
    assert_sample_within(c1, iias)

    negatives = ids(rb, "SELECT i.id FROM invoice i JOIN account a ON a.id = i.accountid WHERE i.status = 'Posted' "
                        "AND i.amount < 0 AND coalesce(i.transferredtoaccounting, 'No') NOT IN ('Yes', 'Ignore') "
                        "AND coalesce(a.synctonetsuite__ns, 'Yes') = 'Yes'")
    c2 = states["C2"].result
    assert c2.count == len(negatives) > 0
    assert_sample_within(c2, negatives)
    assert c2.details["negative-invoice baseline"] == scalar(
        rb, "SELECT count(*) FROM invoice WHERE status = 'Posted' AND balance < 0")
    assert c2.details["credit-balance baseline"] == scalar(rb, "SELECT count(*) FROM account WHERE creditbalance > 0")

    window = ids(rb, f'SELECT id FROM ns."transaction" WHERE type = \'CustPymt\' AND trandate >= ? '
                     f"AND {F['zuora_sync_updates']} IS NULL AND coalesce({F['zuora_origin']}, 'x') <> 'ZUORA' "
                     f"AND {F['zuora_id']} IS NULL", rb.demo.sim.store.setting("scenario.freeze_date"))
    g2 = states["G2"].result
    assert g2.count == len(window) > 0
    assert_sample_within(g2, window)
    assert "custbody_zuora_sync_updates" in g2.query  # the profile's script id, not the documented pattern

    assert states["B2/V1"].result.count == scalar(
        rb, "SELECT count(*) FROM account WHERE status = 'Draft' AND creditbalance > 0")
    # everything recorded, and IS-only steps say why they did not run
    assert rb.journal.latest_result("C2") == c2
    assert (await rb.check(["E1"]))[0].summary == "This check runs once Invoice Settlement is on (after D1)"


async def test_after_the_migration_e1_d2_and_h2_see_the_memos_and_the_duplicates(rb):
    await rb.check(["C2"])  # the baseline D2 compares with, taken before the migration
    migrate(rb.demo.sim)

    ar_mig = ids(rb, "SELECT id FROM creditmemo WHERE reasoncode = ?", AR_MIG)
    in_netsuite = ids(rb, "SELECT m.id FROM creditmemo m JOIN invoice i ON i.id = m.referredinvoiceid WHERE "
                          "m.reasoncode = ? AND i.integrationid__ns IS NOT NULL", AR_MIG)
    states = {s.step.id: s for s in await rb.check(["E1", "D2", "D1", "C2"])}
    e1 = states["E1"].result
    assert e1.count == len(in_netsuite) > 0 and e1.status is Status.FAIL
    assert e1.details["AR Mig memos of negative invoices NetSuite never had (Case 2)"] == len(ar_mig - in_netsuite) > 0
    assert_sample_within(e1, ar_mig)
    assert states["D2"].status is Status.PASS, states["D2"].summary
    assert states["D1"].result.status is Status.PASS
    assert rb.journal.variables().is_enabled_ts is not None  # D1 recorded when IS was first seen on
    assert states["C2"].result.details["negative-invoice baseline"] == len(ar_mig)  # the pre-IS result stands

    repoint_connector(rb.demo.sim)
    rb.demo.sim.connector.run()  # the new connector runs before E1: the docs' duplicate case
    duplicates = scalar(rb, f'SELECT count(*) FROM ns."transaction" t WHERE t.type = \'CustCred\' '
                            f"AND t.{F['zuora_id']} IN ({', '.join('?' * len(in_netsuite))})", *in_netsuite)
    h2 = (await rb.check(["H2"]))[0].result
    assert duplicates > 0
    assert h2.count == duplicates and h2.status is Status.FAIL
    assert h2.details["duplicate credit memos in NetSuite"] == duplicates
    assert h2.details["AR Mig memos carrying a NetSuite id"] == scalar(
        rb, f"SELECT count(*) FROM creditmemo WHERE integrationid__ns IS NOT NULL AND id IN "
            f"({', '.join('?' * len(in_netsuite))})", *in_netsuite)
    assert f"{duplicates} duplicate credit memos in NetSuite" in h2.summary
    shown = {r["zuoraid"] for r in h2.sample if r.get("part") == "duplicate credit memos in NetSuite"}
    assert shown and shown <= in_netsuite


async def test_f1_tests_the_new_oauth_client_with_a_secret_held_in_memory(rb):
    assert (await rb.check(["F1"]))[0].summary.startswith("run variable new_oauth_client_id is not recorded")
    rb.demo.sim.store.execute("INSERT INTO sim_oauth_client(client_id, client_secret, name, active, created) "
                              "VALUES ('connector-is', 'right-secret', 'connector', 1, '2026-11-02 10:00:00')")
    rb.set_variable("new_oauth_client_id", "connector-is")
    assert (await rb.check(["F1"]))[0].status is Status.NEEDS_ACTION  # nobody typed the secret
    rb.secrets["new_oauth_client_secret"] = SecretStr("wrong-secret")
    refused = (await rb.check(["F1"]))[0]
    assert refused.status is Status.FAIL and "refused" in refused.summary and "wrong-secret" not in refused.summary
    rb.secrets["new_oauth_client_secret"] = SecretStr("right-secret")
    state = (await rb.check(["F1"]))[0]
    assert state.status is Status.PASS and state.summary == "OAuth client connector-is gets a token"
    assert "right-secret" not in str(rb.journal.result_history("F1"))


async def test_a_check_that_cannot_run_is_an_error_value(rb):
    rb.demo.sim.store.execute("DROP TABLE ns.customfield")  # the account lost the metadata table G1 reads
    state = (await rb.check(["G1"]))[0]
    assert state.status is Status.ERROR
    assert "could not run" in state.summary and state.result.error


async def test_b4_reads_the_accounting_period_of_the_migration_date(rb):
    rb.journal.set_variable("target_migration_date", "2026-11-20")  # agreed earlier: November is seeded
    (b4,) = await rb.check(["B4"])
    assert b4.result.status is Status.PASS and b4.result.count == 0
    assert b4.result.summary == "The accounting period containing 2026-11-20 is Open"
    assert b4.result.details["accounting periods containing the migration date"] == 1
    assert b4.status is Status.NEEDS_ACTION  # VERIFY + HUMAN: passing needs a person's word as well
    assert "accountingperiod" in b4.result.query
    # Someone closes November during the cutover: the check names the period.
    nov = rb.demo.sim.store.scalar("SELECT id FROM accountingperiod WHERE name = 'Nov 2026'")
    with rb.demo.sim.store.transaction() as conn:
        conn.execute("UPDATE accountingperiod SET status = 'Closed' WHERE id = ?", (nov,))
    (b4,) = await rb.check(["B4"])
    assert b4.result.status is Status.FAIL and b4.result.count == 1
    assert [r["id"] for r in b4.result.sample] == [nov] and b4.result.sample[0]["status"] == "Closed"
    # Zuora Finance off: no periods at all, so only a person can say.
    with rb.demo.sim.store.transaction() as conn:
        conn.execute("DELETE FROM accountingperiod")
    (b4,) = await rb.check(["B4"])
    assert b4.result.status is Status.PASS and "Finance off" in b4.result.summary
    assert b4.status is Status.NEEDS_ACTION
    rb.confirm("B4", "Finance off")
    assert rb.state("B4").status is Status.PASS
