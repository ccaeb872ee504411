"""SuiteQL's `totalResults` for keyset pages without counting the whole query on every page.

A client that pages past the 100,000-row cap sends the same query again and again with a rising lower bound
(`WHERE (...) AND t.id > :last ORDER BY t.id`). Counting each page's query in full costs a scan of every row
above the bound, so a million-row crawl costs half a million rows a page. The total of the next page is the
previous total less the rows between the two bounds, and that range is a short walk on the key's index:

    count(c > b) = count(c > a) - count(a < c <= b)          (a page from the start: minus c <= b and c IS NULL)

The previous total is kept per query (the query with its bound taken out) and per version of the store (its
connection's changes and each schema's data_version), so any write in between makes the next page count again.
The answer keeps the real API's shape: every page still carries the exact total of its own query.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass

from sqlglot import exp

_KEPT = 64  # queries remembered per store; a crawl needs one


@dataclass(frozen=True)
class KeysetCount:
    key: str  # the query without its bound: pages of one crawl share it
    bound: int | None  # the page's lower bound on the key, None on the first page
    from_bound: str  # COUNT(*) of the query's rows above a bound (?)
    in_range: str  # ... with the key in (?, ?]
    up_to: str  # ... with the key <= ?
    key_null: str  # ... with no key


def keyset_count(tree: exp.Expression) -> KeysetCount | None:
    """The counts a keyset page needs, when `tree` (already in SQLite's terms) is a plain keyset page:
    one table expression filtered by rows, ordered ascending by one column, with at most `column > integer`
    as the bound. Grouping, DISTINCT, aggregates, windows, CTEs or a row limit of its own: None (count in full)."""
    if not isinstance(tree, exp.Select) or any(tree.args.get(k) for k in ("group", "having", "distinct", "limit",
                                                                           "offset", "with", "qualify")):
        return None
    order = tree.args.get("order")
    if order is None or len(order.expressions) != 1:
        return None
    ordered = order.expressions[0]
    column = ordered.this
    if ordered.args.get("desc") or not isinstance(column, exp.Column):
        return None
    if any(isinstance(e, (exp.AggFunc, exp.Window)) for s in tree.expressions for e in s.walk()):
        return None
    where = tree.args.get("where")
    cond = where.this.unnest() if where is not None else None
    conjuncts = [c.unnest() for c in cond.flatten()] if isinstance(cond, exp.And) else \
        ([cond] if cond is not None else [])
    bound = None
    for c in conjuncts:
        if (isinstance(c, exp.GT) and c.this == column and isinstance(c.expression, exp.Literal)
                and not c.expression.is_string and c.expression.name.lstrip("-").isdigit()):
            bound = int(c.expression.name)
            conjuncts = [x for x in conjuncts if x is not c]
            break

    def counting(*extra: exp.Expression) -> str:
        body = tree.copy()
        body.set("order", None)
        conds = [*(c.copy() for c in conjuncts), *extra]
        body.set("where", exp.Where(this=exp.and_(*conds)) if conds else None)
        return f"SELECT COUNT(*) FROM ({body.sql(dialect='sqlite')})"

    key = column.copy()
    return KeysetCount(
        key=counting(), bound=bound,
        from_bound=counting(exp.GT(this=key.copy(), expression=exp.Placeholder())),
        in_range=counting(exp.GT(this=key.copy(), expression=exp.Placeholder()),
                          exp.LTE(this=key.copy(), expression=exp.Placeholder())),
        up_to=counting(exp.LTE(this=key.copy(), expression=exp.Placeholder())),
        key_null=counting(exp.Is(this=key.copy(), expression=exp.Null())))


class _Remembered:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.totals: OrderedDict[str, tuple[tuple[int, ...], int | None, int]] = OrderedDict()


_by_store: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_by_store_lock = threading.Lock()


def _version(conn: sqlite3.Connection) -> tuple[int, ...]:
    """Changes by this connection, and each schema's data_version (changes by any other connection)."""
    return (conn.total_changes, conn.execute("PRAGMA main.data_version").fetchone()[0],
            conn.execute("PRAGMA ns.data_version").fetchone()[0])


def _one(conn: sqlite3.Connection, sql: str, params: tuple = ()) -> int:
    return conn.execute(sql, params).fetchone()[0]


def keyset_total(store, conn: sqlite3.Connection, k: KeysetCount) -> int:
    """The page's total, from the previous page of the same crawl when the store has not changed since.
    Call with the store's lock held (the counts and the version must agree)."""
    with _by_store_lock:
        memory = _by_store.setdefault(store, _Remembered())
    version = _version(conn)
    with memory.lock:
        before = memory.totals.get(k.key)
    if before is not None and before[0] == version and (before[1] is None or
                                                        (k.bound is not None and k.bound >= before[1])):
        _, was, total = before
        if k.bound is None:  # the first page again
            pass
        elif was is None:
            total -= _one(conn, k.up_to, (k.bound,)) + _one(conn, k.key_null)
        else:
            total -= _one(conn, k.in_range, (was, k.bound))
    else:
        total = _one(conn, k.key) if k.bound is None else _one(conn, k.from_bound, (k.bound,))
    with memory.lock:
        memory.totals[k.key] = (version, k.bound, total)
        memory.totals.move_to_end(k.key)
        while len(memory.totals) > _KEPT:
            memory.totals.popitem(last=False)
    return total
