"""SuiteQL on the simulated account: Oracle-flavoured SQL, translated by sqlglot, run on the store's `ns` tables.

Only the NetSuite tables of the catalog are visible; everything else in the store (the Zuora side, the
simulator's own tables) is out of reach. A page is fetched with LIMIT/OFFSET and the total with a COUNT over
the same query, so no request ever holds more than one page of rows; a keyset page's total follows from the
previous page's (core.sim.suiteql_totals), so a crawl past the 100,000-row cap does not count every row each page.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.dialects.oracle import Oracle
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.time import format_time

from core.sim.catalog import NS_TABLES
from core.sim.store import Store
from core.sim.suiteql_totals import KeysetCount, keyset_count, keyset_total

MAX_PAGE = 1000  # limit is 1..1000, default 1000
MAX_RESULTS = 100_000  # any one query: beyond this, clients keyset-page on id
_SEARCH_ERROR = "Invalid search query. Detailed unprocessed description follows. Search error occurred: "
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class SuiteQLError(ValueError):
    """The query cannot run; the message is the detail NetSuite would give, plus what to do."""


@dataclass(frozen=True)
class Translation:
    sql: str
    limited: bool  # the query has its own row limit (FETCH FIRST), so paging wraps it
    keyset: KeysetCount | None = None  # a keyset page: its total follows from the crawl's previous page


@dataclass(frozen=True)
class SuiteQLPage:
    total: int
    items: list[dict[str, str]]


def _known_tables() -> str:
    return ", ".join(sorted(NS_TABLES))


def _table(node: exp.Table, ctes: set[str]) -> exp.Expression:
    name = node.name.lower()
    if name in ctes:
        return node
    if name not in NS_TABLES:
        shown = node.name or node.sql(dialect="oracle")
        raise SuiteQLError(f"{_SEARCH_ERROR}Record '{shown}' was not found. "
                           f"The simulated account has these tables: {_known_tables()}.")
    node.set("catalog", None)
    node.set("db", exp.to_identifier("ns"))
    node.set("this", exp.to_identifier(name, quoted=True))  # `transaction` is an SQLite keyword
    return node


def _date_literal(node: exp.StrToDate | exp.StrToTime) -> exp.Expression:
    """TO_DATE/TO_TIMESTAMP of a literal becomes the store's own text form; of a column, the column itself."""
    value = node.this
    if not (isinstance(value, exp.Literal) and value.is_string):
        return value
    fmt = node.args["format"].name
    try:
        parsed = datetime.strptime(value.name, fmt)
    except ValueError:
        raise SuiteQLError(f"{_SEARCH_ERROR}the date '{value.name}' does not match its format; "
                           f"write it as TO_DATE('2026-01-31', 'YYYY-MM-DD').") from None
    out = "%Y-%m-%d" if isinstance(node, exp.StrToDate) else "%Y-%m-%d %H:%M:%S"
    return exp.Literal.string(parsed.strftime(out))


def _rewrite(node: exp.Expression, ctes: set[str]) -> exp.Expression:
    if isinstance(node, exp.Table):
        return _table(node, ctes)
    if isinstance(node, exp.ToChar) and node.args.get("format") is not None:
        fmt = format_time(node.args["format"].name, Oracle.TIME_MAPPING, Oracle.TIME_TRIE)
        return exp.Anonymous(this="STRFTIME", expressions=[exp.Literal.string(fmt), node.this])
    if isinstance(node, (exp.StrToDate, exp.StrToTime)):
        return _date_literal(node)
    # BUILTIN.DF(col) is a display value; the simulator's values are already readable.
    if (isinstance(node, exp.Dot) and isinstance(node.expression, exp.Anonymous)
            and node.this.name.upper() == "BUILTIN" and node.expression.name.upper() == "DF"
            and len(node.expression.expressions) == 1):
        return node.expression.expressions[0]
    return node


def _drop_dual(tree: exp.Expression) -> None:
    """`SELECT 1 FROM DUAL`: SQLite selects without a FROM."""
    for table in list(tree.find_all(exp.Table)):
        if table.name.lower() != "dual":
            continue
        source = table.parent
        select = source.parent if isinstance(source, exp.From) else None
        if select is None or select.args.get("joins"):
            raise SuiteQLError(f"{_SEARCH_ERROR}DUAL can only stand alone in a FROM clause.")
        source.pop()


@lru_cache(maxsize=256)
def translate(q: str) -> Translation:
    """SuiteQL -> SQLite for the store. Raises SuiteQLError with a message fit for the client."""
    try:
        statements = [s for s in sqlglot.parse(q, read="oracle") if s is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        where = f" near '{first.get('highlight')}' (line {first.get('line')}, column {first.get('col')})" \
            if first else ""
        raise SuiteQLError(f"{_SEARCH_ERROR}syntax error{where}.") from None
    except SqlglotError as exc:
        raise SuiteQLError(f"{_SEARCH_ERROR}{exc}") from None
    if len(statements) != 1:
        raise SuiteQLError(f"{_SEARCH_ERROR}send exactly one SELECT statement per request.")
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        raise SuiteQLError(f"{_SEARCH_ERROR}SuiteQL only reads: use a SELECT statement "
                           "(records change through the record API).")
    _drop_dual(tree)
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    tree = tree.transform(_rewrite, ctes)
    try:
        sql = tree.sql(dialect="sqlite", unsupported_level=sqlglot.ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise SuiteQLError(f"{_SEARCH_ERROR}{exc}") from None
    return Translation(sql, limited=tree.args.get("limit") is not None or tree.args.get("offset") is not None,
                       keyset=keyset_count(tree))


def _text(value) -> str:
    """SuiteQL gives every value as a string; whole numbers without a decimal point."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(value, ".15g")
    return str(value)


def _keys(description) -> list[str]:
    """Lower-case column names; an unnamed expression is `expr1`, `expr2`, ... as NetSuite names them."""
    keys, unnamed = [], 0
    for col in description:
        name = col[0].lower()
        if not _NAME.match(name):
            unnamed += 1
            name = f"expr{unnamed}"
        keys.append(name)
    return keys


def run_page(store: Store, q: str, *, limit: int, offset: int) -> SuiteQLPage:
    """One page of a SuiteQL query and the query's total; NULL columns are left out of each item."""
    t = translate(q)
    page_sql = f"SELECT * FROM ({t.sql}) LIMIT ? OFFSET ?" if t.limited else f"{t.sql} LIMIT ? OFFSET ?"
    try:
        with store.lock:
            total = keyset_total(store, store.conn, t.keyset) if t.keyset else \
                store.conn.execute(f"SELECT COUNT(*) FROM ({t.sql})").fetchone()[0]
            cur = store.conn.execute(page_sql, (limit, offset))
            keys = _keys(cur.description)
            rows = cur.fetchall()
    except sqlite3.Error as exc:
        raise SuiteQLError(f"{_SEARCH_ERROR}{exc}.") from None
    items = [{k: _text(v) for k, v in zip(keys, row) if v is not None} for row in rows]
    return SuiteQLPage(total, items)
