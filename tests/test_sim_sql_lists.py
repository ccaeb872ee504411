"""Data Query SQL with literal IN lists: the simulator parses the query's shape once and puts the lists back, and
the SQLite it runs is exactly what parsing the whole query gives (core.sim.sql.translate)."""

from __future__ import annotations

import pytest

from core.sim import sql

IDS = ", ".join(f"'{n:032x}'" for n in range(1, 2001))
QUERIES = [
    # apply's E1 re-check: the step's selection limited to a slice of 2,000 ids
    ("SELECT m.id, m.transferredtoaccounting AS current FROM creditmemo m WHERE m.reasoncode = "
     f"'AR Mig - negative invoice' AND coalesce(m.transferredtoaccounting, 'No') <> 'Yes' AND m.id IN ({IDS})"),
    "select id from creditmemo where id in ('it''s', 'a\\b', 'é', '', '''', 'x\ny') and status = 'Posted'",
    "select id from creditmemo where totalamount in (-5, 1.50, 007, 10) or balance not in (1,2)",
    "SELECT id, status IN ('Posted', 'Draft') FROM creditmemo WHERE id IN('a') AND accountid In ( 'b' , 'c' )",
    "select id as \"in ('a')\" from creditmemo where memonumber = 'x in (''a'', ''b'')' and id in ('c', 'd')",
    "select id from creditmemo -- not id in ('z')\nwhere id in ('a', 'b')",
    "select id from creditmemo where accountid in (select id from account where id in ('a', 'b'))",
    "select id from creditmemo where memodate in (1e3, 2) and id in ('a')",  # a list it leaves whole
    "select id from creditmemo where id in ('a', 'b') and updateddate > timestamp '2024-01-02 03:04:05'",
]


@pytest.mark.parametrize("query", QUERIES)
def test_lists_put_back_give_the_whole_querys_sqlite(query):
    fast = sql.translate(query, invoice_settlement=True, connector=True)
    whole = sql._translate(query, invoice_settlement=True, connector=True)
    assert fast == whole


def test_a_shape_is_parsed_once_for_every_slice_of_ids():
    def recheck(first: int) -> str:
        ids = ", ".join(f"'{n:032x}'" for n in range(first, first + 500))
        return f"SELECT m.id FROM creditmemo m WHERE m.reasoncode = 'R' AND m.id IN ({ids})"

    sql._translated_shape.cache_clear()
    statements = [sql.translate(recheck(first), invoice_settlement=True, connector=False)
                  for first in (1, 501, 1001)]
    assert sql._translated_shape.cache_info().misses == 1
    assert sql._translated_shape.cache_info().hits == 2
    assert f"'{1001:032x}'" in statements[2].sql and f"'{1:032x}'" not in statements[2].sql
    assert statements[2].sql.count(", '") == 499


@pytest.mark.parametrize(("query", "invoice_settlement"), [
    ("select id from nosuch where id in ('a', 'b')", True),
    ("select id from creditmemo where id in ('a', 'b') and (", True),
    ("select id from creditmemo where id in ('a', 'b')", False),  # an IS table with IS off
    ("select id, foo__ns from creditmemo where id in ('a')", True),  # a connector field without the connector
    ("select id from creditmemo where id in ('a'); select 1", True),
])
def test_a_bad_query_with_a_list_is_refused_as_the_whole_query_is(query, invoice_settlement):
    with pytest.raises(sql.QueryError) as fast:
        sql.translate(query, invoice_settlement=invoice_settlement, connector=False)
    with pytest.raises(sql.QueryError) as whole:
        sql._translate(query, invoice_settlement=invoice_settlement, connector=False)
    assert str(fast.value) == str(whole.value)
    assert sql._LIST_MARK not in str(fast.value)
