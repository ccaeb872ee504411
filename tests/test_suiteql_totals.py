"""A keyset crawl's totalResults: exact on every page, without counting the whole query on every page."""

from __future__ import annotations

import pytest

from core.sim.app import Simulator
from core.sim.config import SimConfig
from core.sim.suiteql import run_page, translate

ROWS = 5_000
SELECT = "SELECT t.id, t.tranid FROM transaction t"
WHERE = "(t.type = 'CustPymt' OR t.entity IN (SELECT c.id FROM customer c WHERE c.custentityzuoraid IS NOT NULL))"


@pytest.fixture
def sim(tmp_path):
    sim = Simulator(SimConfig(), data_dir=tmp_path / "sim", seed_data=False)
    with sim.store.transaction() as conn:
        conn.executemany("INSERT INTO ns.customer(id, custentityzuoraid) VALUES (?, ?)",
                         [(1, "z1"), (2, None)])
        conn.executemany('INSERT INTO ns."transaction"(id, type, entity, tranid) VALUES (?, ?, ?, ?)',
                         ((i, "CustPymt" if i % 3 == 0 else "CustInvc", i % 2 + 1, f"T{i}")
                          for i in range(1, ROWS + 1)))
    yield sim
    sim.close()


def full_count(sim, q: str) -> int:
    return sim.store.conn.execute(f"SELECT COUNT(*) FROM ({translate(q).sql})").fetchone()[0]


def page_query(after: int | None) -> str:
    return f"{SELECT} WHERE {WHERE}" + (f" AND t.id > {after}" if after is not None else "") + " ORDER BY t.id"


def test_each_keyset_page_has_its_exact_total_and_only_the_first_counts_every_row(sim):
    statements: list[str] = []
    sim.store.conn.set_trace_callback(statements.append)
    after, pages = None, 0
    while True:
        page = run_page(sim.store, page_query(after), limit=500, offset=0)
        sim.store.conn.set_trace_callback(None)
        assert page.total == full_count(sim, page_query(after))
        sim.store.conn.set_trace_callback(statements.append)
        pages += 1
        if len(page.items) < 500:
            break
        after = int(page.items[-1]["id"])
    sim.store.conn.set_trace_callback(None)
    assert pages > 5
    counts = [s for s in statements if s.startswith("SELECT COUNT(*)")]
    unbounded = [s for s in counts if "t.id <=" not in s and "t.id IS NULL" not in s]
    assert len(unbounded) == 1  # the first page; every later page counts the range it moved past


def test_a_write_between_pages_counts_again(sim):
    first = run_page(sim.store, page_query(None), limit=1000, offset=0)
    after = int(first.items[-1]["id"])
    with sim.store.transaction() as conn:
        conn.execute('INSERT INTO ns."transaction"(id, type, entity) VALUES (?, ?, ?)', (ROWS + 1, "CustPymt", 2))
        conn.execute('DELETE FROM ns."transaction" WHERE id = ?', (ROWS - 3,))
    second = run_page(sim.store, page_query(after), limit=1000, offset=0)
    assert second.total == full_count(sim, page_query(after))
    # A bound that goes back (a crawl restarted) is counted in full too.
    again = run_page(sim.store, page_query(10), limit=1000, offset=0)
    assert again.total == full_count(sim, page_query(10))


def test_grouped_and_limited_queries_are_counted_in_full():
    assert translate("SELECT t.type, COUNT(*) FROM transaction t WHERE t.id > 3 GROUP BY t.type "
                     "ORDER BY t.type").keyset is None
    assert translate("SELECT t.id FROM transaction t WHERE t.id > 3 ORDER BY t.id DESC").keyset is None
    assert translate("SELECT COUNT(*) AS n FROM transaction t WHERE t.id > 3").keyset is None
    assert translate(page_query(7)).keyset.bound == 7
