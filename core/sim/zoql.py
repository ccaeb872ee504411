"""ZOQL, the query language of `POST /v1/action/query` (apis.md A5.1), run on the store.

sqlglot parses the query; the AST is checked against ZOQL's rules and rewritten for SQLite: PascalCase fields become
store columns, `= null` becomes IS NULL, datetime literals become the store's format. Results stream through a
server-side cursor (keyset on id), so a million-row object never sits in memory.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokens import Tokenizer, TokenType

from core.objects import ZuoraObject, zuora_object
from core.sim.zuora_http import Fault
from core.sim.zuora_render import View, store_timestamp, zoql_view

MAX_CONDITIONS = 200
MAX_BATCH = 2000
LOCATOR_IDLE_S = 15 * 60
_KEYWORDS = {"select", "from", "where", "and", "or", "not", "null", "like", "is", "true", "false", "in", "order",
             "by", "group", "join", "limit", "as", "distinct", "having", "union", "on", "asc", "desc"}
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like)
_VALUE_TOKENS = {TokenType.STRING, TokenType.NUMBER, TokenType.VAR, TokenType.IDENTIFIER}


def _malformed(message: str) -> Fault:
    return Fault(90, message, faultcode="MALFORMED_QUERY")


@dataclass(frozen=True)
class ZoqlQuery:
    obj: ZuoraObject
    view: View  # the selected fields only
    where_sql: str


def _check_tokens(zoql: str) -> None:
    try:
        tokens = Tokenizer().tokenize(zoql)
    except SqlglotError as exc:
        raise _malformed(f"malformed query: {exc}") from None
    for tok in tokens:
        if tok.token_type in (TokenType.L_PAREN, TokenType.R_PAREN):
            raise _malformed("ZOQL does not support parentheses; 'and' binds tighter than 'or'")
        if tok.token_type is TokenType.STAR:
            raise _malformed("ZOQL does not support '*'; name the fields to select")
        if tok.token_type is TokenType.SEMICOLON:
            raise _malformed("one query per request")
        if tok.token_type not in _VALUE_TOKENS and tok.text.lower() in _KEYWORDS and tok.text != tok.text.lower():
            raise _malformed(f"ZOQL keywords are lower case: write '{tok.text.lower()}', not '{tok.text}'")


def translate(zoql: str, *, connector: bool = True) -> ZoqlQuery:
    """Check a ZOQL query and turn it into the object, the selected fields and a SQLite WHERE clause."""
    if not isinstance(zoql, str) or not zoql.strip():
        raise _malformed("queryString is required, e.g. \"select Id from Account\"")
    _check_tokens(zoql)
    try:
        tree = sqlglot.parse_one(zoql)
    except SqlglotError as exc:
        raise _malformed(f"malformed query: {str(exc).splitlines()[0]}") from None
    if not isinstance(tree, exp.Select):
        raise _malformed("only 'select ... from ...' queries are allowed")
    for clause, what in (("joins", "joins"), ("order", "order by"), ("group", "group by"), ("limit", "limit"),
                         ("distinct", "distinct"), ("having", "having")):
        if tree.args.get(clause):
            raise _malformed(f"ZOQL does not support {what}")
    source = tree.args.get("from_") or tree.args.get("from")
    table = source.this if source is not None else None
    if not isinstance(table, exp.Table) or table.args.get("db"):
        raise _malformed("query one object: select ... from <Object>")
    obj = zuora_object(table.name)
    if obj is None or obj.name.lower() != table.name.lower() or not obj.zoql:
        raise Fault(21, f"invalid type for query: {table.name}", faultcode="INVALID_TYPE")
    full = zoql_view(obj, connector=connector)
    selected: dict[str, tuple[str, str]] = {}
    for item in tree.expressions:
        if not isinstance(item, exp.Column) or item.table:
            raise _malformed(f"select plain field names only, not '{item.sql()}'")
        column = _column(full, item)
        selected[column] = full.keys[column]
    where = tree.args.get("where")
    conditions = list(where.find_all(*_COMPARISONS)) if where is not None else []
    if len(conditions) > MAX_CONDITIONS:
        raise _malformed(f"a query may have at most {MAX_CONDITIONS} conditions, not {len(conditions)}")
    where_sql = _rewrite(where.this, full).sql(dialect="sqlite") if where is not None else "1"
    return ZoqlQuery(obj, View(obj, selected, full.datetime_style), where_sql)


def _column(view: View, col: exp.Column) -> str:
    column = view.column_for(col.name)
    if column is None:
        raise Fault(21, f"invalid field for query: {view.obj.name}.{col.name}", faultcode="INVALID_FIELD")
    return column


def _rewrite(node: exp.Expression, view: View) -> exp.Expression:
    if isinstance(node, (exp.And, exp.Or)):
        return node.__class__(this=_rewrite(node.this, view), expression=_rewrite(node.expression, view))
    if not isinstance(node, _COMPARISONS) or not isinstance(node.this, exp.Column):
        raise _malformed(f"unsupported condition '{node.sql()}': use <Field> <op> <value>, joined by and/or")
    column = _column(view, node.this)
    ident = exp.column(column, quoted=True)
    value = node.expression
    if isinstance(value, exp.Null):
        if isinstance(node, exp.EQ):
            return exp.Is(this=ident, expression=exp.Null())
        if isinstance(node, exp.NEQ):
            return exp.Not(this=exp.Is(this=ident, expression=exp.Null()))
        raise _malformed(f"only = null and != null can compare with null: '{node.sql()}'")
    return node.__class__(this=ident, expression=_literal(value, view.kind(column), node))


def _literal(value: exp.Expression, kind: str, node: exp.Expression) -> exp.Expression:
    if isinstance(value, exp.Boolean):
        return exp.Literal.number(1 if value.this else 0)
    if isinstance(value, exp.Neg) and isinstance(value.this, exp.Literal):
        return value
    if not isinstance(value, exp.Literal):
        raise _malformed(f"compare a field with a value, not '{node.sql()}'")
    if kind == "datetime" and value.is_string:
        normal = store_timestamp(value.this)
        if normal is None:
            raise Fault(20, f"invalid dateTime value '{value.this}': use ISO 8601 with an offset, "
                            "e.g. '2024-01-31T10:00:00+00:00'", faultcode="INVALID_VALUE")
        return exp.Literal.string(normal)
    return value


@dataclass
class _Cursor:
    query: ZoqlQuery
    size: int
    last_id: str
    sent: int
    touched: float


class ZoqlCursors:
    """Open query locators. A locator idle for 15 minutes expires, as on Zuora."""

    def __init__(self, store):
        self.store = store
        self._open: dict[str, _Cursor] = {}
        self._lock = threading.Lock()

    def start(self, query: ZoqlQuery, batch: int) -> dict:
        table = f"main.{query.obj.table}"
        size = self.store.scalar(f"SELECT COUNT(*) FROM {table} WHERE {query.where_sql}")
        cursor = _Cursor(query, int(size or 0), "", 0, time.monotonic())
        return self._page(secrets.token_hex(16), cursor, batch)

    def more(self, locator: str, batch: int) -> dict:
        key = str(locator).rpartition("-")[0] or str(locator)
        now = time.monotonic()
        with self._lock:
            for k in [k for k, c in self._open.items() if now - c.touched > LOCATOR_IDLE_S]:
                del self._open[k]
            cursor = self._open.pop(key, None)
        if cursor is None:
            raise Fault(20, f"invalid or expired queryLocator '{locator}'", faultcode="INVALID_VALUE")
        return self._page(key, cursor, batch)

    def _page(self, key: str, cursor: _Cursor, batch: int) -> dict:
        q = cursor.query
        cols = ", ".join(f'"{c}"' for c in q.view.keys)
        rows = self.store.query(
            f'SELECT id AS "__key", {cols} FROM main.{q.obj.table} WHERE ({q.where_sql}) AND id > ? '
            "ORDER BY id LIMIT ?", (cursor.last_id, batch + 1))
        more = len(rows) > batch
        rows = rows[:batch]
        answer: dict = {"records": [q.view.render(r) for r in rows], "size": cursor.size, "done": not more}
        if more:
            cursor.last_id, cursor.sent, cursor.touched = rows[-1]["__key"], cursor.sent + len(rows), time.monotonic()
            with self._lock:
                self._open[key] = cursor
            answer["queryLocator"] = f"{key}-{cursor.sent}"
        return answer


def batch_size(body: dict) -> int:
    conf = body.get("conf") or {}
    size = conf.get("batchSize", MAX_BATCH) if isinstance(conf, dict) else MAX_BATCH
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise Fault(20, f"conf.batchSize must be a whole number from 1 to {MAX_BATCH}, not {size!r}",
                    faultcode="INVALID_VALUE")
    return min(size, MAX_BATCH)
