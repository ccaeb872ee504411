"""Data Query SQL (Trino dialect) checked and translated for the store's SQLite (apis.md A5.3).

Only the catalog's Zuora tables are visible (the IS tables only with Invoice Settlement on); only SELECT,
SHOW TABLES and SHOW COLUMNS / DESCRIBE are allowed. The store keeps datetimes as sortable text, so temporal
casts and literals are rewritten to that text instead of SQLite's numeric CAST.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.dialects import sqlite, trino  # noqa: F401 - loaded with the simulator, not by its first query
from sqlglot.errors import SqlglotError

from core.objects import ZUORA_TABLES, ZuoraObject
from core.sim.zuora_render import store_timestamp

_SHOW_TABLES = re.compile(r"^\s*show\s+tables\s*;?\s*$", re.I)
_SHOW_COLUMNS = re.compile(r"^\s*(?:show\s+columns\s+from|describe|desc)\s+\"?([\w.]+)\"?\s*;?\s*$", re.I)
_TRINO_TYPES = {"decimal": "decimal(38,9)", "integer": "bigint", "boolean": "boolean", "date": "date",
                "datetime": "timestamp(3)"}
_FORBIDDEN_FUNCTIONS = ("pragma", "sqlite", "load_extension", "readfile", "writefile")
# A literal list after IN, as Trino writes it ('' doubles a quote; possessive, so a long list never backtracks).
_LITERAL = r"'(?:[^']++|'')*+'|-?\d++(?:\.\d++)?+"
_LITERAL_LIST = re.compile(rf"\(\s*+((?:{_LITERAL})(?:\s*+,\s*+(?:{_LITERAL}))*+)\s*+\)")
_ITEM = re.compile(_LITERAL)
# What a scan for `IN (` steps over, so one inside a string, a quoted name or a comment is never taken for a list.
_STRING_NAME_COMMENT_OR_IN = re.compile(r"'(?:[^']++|'')*+'|\"(?:[^\"]++|\"\")*+\"|--[^\n]*+|\bIN\s*+(?=\()",
                                        re.IGNORECASE)
# Stands for a literal list in a query's shape; random per process, so no query can contain it by chance.
_LIST_MARK = f"cutover-in-list-{secrets.token_hex(8)}"
_ISO_FUNCTIONS = tuple(c for c in (getattr(exp, "FromISO8601Timestamp", None),
                                   getattr(exp, "FromISO8601Date", None)) if c is not None)


class QueryError(Exception):
    """The query cannot run; the message is what Data Query would tell the user."""


@dataclass(frozen=True)
class Statement:
    """Either SQLite SQL to stream, or the rows of a SHOW statement."""

    sql: str | None = None
    rows: tuple[dict, ...] = ()
    columns: tuple[str, ...] = field(default=())


def visible_tables(*, invoice_settlement: bool, harmonization: bool = False) -> dict[str, ZuoraObject]:
    """IS objects exist with IS or ISH; payment parts only with IS proper."""
    return {t: o for t, o in sorted(ZUORA_TABLES.items())
            if invoice_settlement or (harmonization and not o.full_settlement_only) or not o.invoice_settlement_only}


def translate(query: str, *, invoice_settlement: bool, connector: bool, harmonization: bool = False) -> Statement:
    """The statement as SQLite runs it. A query's literal IN lists are taken out before parsing and put back in
    the SQL sqlglot writes: apply's re-checks send 2,000 ids in one query (72 KB), which sqlglot took 35-60 ms to
    parse, holding the interpreter lock the simulator's every other call waits on; the shape without them parses
    once and is cached. Anything the shape cannot say as the whole query would goes through the whole query."""
    shape, lists = _without_literal_lists(query)
    if lists:
        try:
            template = _translated_shape(shape, invoice_settlement, connector, harmonization)
        except QueryError:
            template = None  # the whole query's parse words the error as Data Query would
        if template is not None:
            text, columns = template
            for n, items in enumerate(lists):
                text = text.replace(f"('{_LIST_MARK}-{n}')", f"({', '.join(items)})", 1)
            return Statement(sql=text, columns=columns)
    return _translate(query, invoice_settlement=invoice_settlement, connector=connector,
                      harmonization=harmonization)


def _without_literal_lists(query: str) -> tuple[str, list[list[str]]]:
    """The query with each literal IN list replaced by one marked string, and the lists' items in order."""
    if "/*" in query:  # block comments may nest: leave such a query whole rather than scan it
        return query, []
    parts: list[str] = []
    lists: list[list[str]] = []
    done = 0
    for token in _STRING_NAME_COMMENT_OR_IN.finditer(query):
        if token.group()[:1] in ("'", '"', "-"):
            continue
        listed = _LITERAL_LIST.match(query, token.end())
        if listed is None:
            continue
        parts += [query[done:token.end()], f"('{_LIST_MARK}-{len(lists)}')"]
        lists.append(_ITEM.findall(listed.group(1)))
        done = listed.end()
    parts.append(query[done:])
    return "".join(parts), lists


@lru_cache(maxsize=64)
def _translated_shape(shape: str, invoice_settlement: bool, connector: bool,
                      harmonization: bool) -> tuple[str, tuple[str, ...]] | None:
    """A query shape's SQLite and column names; None when a list mark is not once in the SQL (then the whole
    query is translated)."""
    statement = _translate(shape, invoice_settlement=invoice_settlement, connector=connector,
                           harmonization=harmonization)
    if statement.sql is None:
        return None
    marks = statement.sql.count(_LIST_MARK)
    if marks != shape.count(_LIST_MARK) or any(statement.sql.count(f"('{_LIST_MARK}-{n}')") != 1
                                               for n in range(marks)):
        return None
    return statement.sql, statement.columns


def _translate(query: str, *, invoice_settlement: bool, connector: bool, harmonization: bool = False) -> Statement:
    tables = visible_tables(invoice_settlement=invoice_settlement, harmonization=harmonization)
    if _SHOW_TABLES.match(query):
        return Statement(rows=tuple({"Table": t} for t in tables), columns=("Table",))
    show = _SHOW_COLUMNS.match(query)
    if show:
        obj = tables.get(show.group(1).lower())
        if obj is None:
            raise QueryError(f"Table '{show.group(1)}' does not exist")
        return Statement(rows=tuple(
            {"Column": f.column, "Type": _TRINO_TYPES.get(f.type, "varchar"), "Extra": "", "Comment": ""}
            for f in obj.all_fields if connector or not f.custom), columns=("Column", "Type", "Extra", "Comment"))
    try:
        trees = [t for t in sqlglot.parse(query, read="trino") if t is not None]
    except SqlglotError as exc:
        raise QueryError(f"Syntax error: {str(exc).splitlines()[0]}") from None
    if len(trees) != 1 or not isinstance(trees[0], exp.Query):
        raise QueryError("Data Query runs one SELECT, SHOW TABLES or SHOW COLUMNS statement at a time")
    tree = trees[0]
    _check_sources(tree, tables)
    for col in tree.find_all(exp.Column):
        if col.name.lower().endswith("__ns") and not connector:
            raise QueryError(f"Column '{col.name}' cannot be resolved")
    tree = tree.transform(_temporal_as_text)
    names = tuple(tree.named_selects)
    if not all(n and n != "*" for n in names):
        names = ()  # a CSV header then comes from the first row
    return Statement(sql=tree.sql(dialect="sqlite"), columns=names)


def _check_sources(tree: exp.Expression, tables: dict[str, ZuoraObject]) -> None:
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            raise QueryError(f"Only tables can be queried, not '{table.sql(dialect='trino')}'")
        name = table.name.lower()
        if table.args.get("db") or table.args.get("catalog") or (name not in tables and name not in ctes):
            raise QueryError(f"Table '{table.sql(dialect='trino')}' does not exist")
    for func in tree.find_all(exp.Func):
        name = (func.name if isinstance(func, exp.Anonymous) else func.sql_name()).lower()
        if name.startswith(_FORBIDDEN_FUNCTIONS):
            raise QueryError(f"Function '{name}' not registered")


def _temporal_as_text(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Cast) and node.to.this.value.upper().startswith(("DATE", "TIME")):
        is_date = node.to.this.value.upper() == "DATE"
    elif _ISO_FUNCTIONS and isinstance(node, _ISO_FUNCTIONS):
        is_date = type(node).__name__ == "FromISO8601Date"
    else:
        return node
    value = node.this
    if not (isinstance(value, exp.Literal) and value.is_string):
        return value  # the store's text already sorts and compares as the temporal value would
    normal = store_timestamp(value.this)
    if normal is None:
        raise QueryError(f"Value cannot be cast to {'date' if is_date else 'timestamp'}: {value.this}")
    return exp.Literal.string(normal[:10] if is_date else normal)


def iter_rows(statement: Statement, store) -> Iterator[dict]:
    if statement.sql is None:
        yield from statement.rows
    else:
        yield from store.iter_query(statement.sql)
