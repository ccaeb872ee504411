"""Object Query: `GET /object-query/<objects>` (apis.md A5.2) over the store.

`filter[]=field.OP:value` conditions are ANDed, `pageSize` is at most 99, and `nextPage` is an opaque cursor:
a keyset on id, or an offset when `sort[]` asks for another order.
"""

from __future__ import annotations

import base64
import json
import re

from starlette.responses import JSONResponse, Response

from core.objects import ACCOUNT, CREDIT_MEMO, DEBIT_MEMO, INVOICE, PAYMENT, ZuoraObject
from core.sim.zuora_http import Fault, ZuoraCall
from core.sim.zuora_render import View, object_query_view, store_timestamp

OBJECTS: dict[str, ZuoraObject] = {"credit-memos": CREDIT_MEMO, "debit-memos": DEBIT_MEMO, "payments": PAYMENT,
                                   "invoices": INVOICE, "accounts": ACCOUNT}
MAX_PAGE_SIZE = 99
_FILTER = re.compile(r"^(\w+)\.(EQ|NE|LT|GT|LE|GE|SW|IN):(.*)$", re.I | re.S)
_OPS = {"EQ": "=", "NE": "!=", "LT": "<", "GT": ">", "LE": "<=", "GE": ">="}
_SORT = re.compile(r"^(\w+)\.(ASC|DESC)$", re.I)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _bad(message: str) -> Fault:
    return Fault(27, message)


def query_objects(call: ZuoraCall) -> Response:
    name = call.path("objects")
    obj = OBJECTS.get(name)
    if obj is None:
        raise Fault(40, f"Object Query does not serve '{name}'; use one of {', '.join(OBJECTS)}")
    if obj.invoice_settlement_only and not call.store.memos_enabled:
        raise Fault(10, f"'{name}' needs Invoice Settlement, which is not enabled on this tenant")
    q = call.query
    if q.getlist("expand[]"):
        raise _bad("expand[] is not supported by the simulator; query the related object separately")
    view = object_query_view(obj)
    filterable = View(obj, view.keys | {f.column: (f.name, f.type) for f in obj.connector_fields})
    page_size = _page_size(q.get("pageSize", "10"))
    where, params = ["1"], []
    for spec in q.getlist("filter[]"):
        clause, values = _condition(filterable, spec)
        where.append(clause)
        params.extend(values)
    only = _fields(view, q.getlist("fields[]") + q.getlist(f"{obj.table}.fields[]"))
    order, cursor = _order(view, q.getlist("sort[]")), _decode(q.get("cursor"))
    if order is None:  # keyset on id: steady under concurrent writes, cheap on big tables
        where.append("id > ?")
        params.append(cursor.get("k", ""))
        order, offset = "id", 0
    else:
        offset = int(cursor.get("o", 0))
    rows = call.store.query(
        f"SELECT * FROM main.{obj.table} WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ? OFFSET ?",
        (*params, page_size + 1, offset))
    more = len(rows) > page_size
    rows = rows[:page_size]
    keep_null = q.get("includeNullFields", "false").lower() == "true"
    next_page = None
    if more:
        next_page = _encode({"k": rows[-1]["id"]} if order == "id" else {"o": offset + page_size})
    return JSONResponse({"data": [view.render(r, keep_null=keep_null, only=only) for r in rows],
                         "nextPage": next_page})


def _page_size(raw: str) -> int:
    try:
        size = int(raw)
    except ValueError:
        raise _bad(f"pageSize must be a whole number from 1 to {MAX_PAGE_SIZE}, not {raw!r}") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise _bad(f"pageSize must be from 1 to {MAX_PAGE_SIZE}, not {size}")
    return size


def _column(view: View, key: str) -> str:
    column = view.column_for(key)
    if column is None:
        raise _bad(f"unknown field '{key}' for {view.obj.name}")
    return column


def _condition(view: View, spec: str) -> tuple[str, list]:
    m = _FILTER.match(spec)
    if m is None:
        raise _bad(f"bad filter '{spec}': use field.OP:value with OP one of EQ NE LT GT LE GE SW IN")
    key, op, raw = m.group(1), m.group(2).upper(), m.group(3)
    column = _column(view, key)
    kind, ident = view.kind(column), f'"{column}"'
    if raw == "null":
        if op not in ("EQ", "NE"):
            raise _bad(f"bad filter '{spec}': only EQ and NE compare with null")
        return f"{ident} IS {'NOT ' if op == 'NE' else ''}NULL", []
    if op == "IN":
        if not (raw.startswith("[") and raw.endswith("]")):
            raise _bad(f"bad filter '{spec}': write IN:[a,b]")
        values = [_value(kind, v.strip().strip("'\""), spec) for v in raw[1:-1].split(",") if v.strip()]
        if not values:
            raise _bad(f"bad filter '{spec}': IN needs at least one value")
        return f"{ident} IN ({', '.join('?' * len(values))})", values
    if op == "SW":
        return f"substr({ident}, 1, ?) = ?", [len(raw), raw]
    return f"{ident} {_OPS[op]} ?", [_value(kind, raw, spec)]


def _value(kind: str, raw: str, spec: str):
    try:
        if kind == "decimal":
            return float(raw)
        if kind == "integer":
            return int(raw)
    except ValueError:
        raise _bad(f"bad filter '{spec}': '{raw}' is not a number") from None
    if kind == "boolean":
        if raw.lower() not in ("true", "false"):
            raise _bad(f"bad filter '{spec}': use true or false")
        return 1 if raw.lower() == "true" else 0
    if kind == "date" and not _DATE.match(raw):
        raise _bad(f"bad filter '{spec}': dates are YYYY-MM-DD")
    if kind == "datetime":
        normal = store_timestamp(raw)
        if normal is None:
            raise _bad(f"bad filter '{spec}': use an ISO 8601 datetime, e.g. 2024-01-31T10:00:00Z")
        return normal
    return raw


def _fields(view: View, keys: list[str]) -> set[str] | None:
    names = [k.strip() for spec in keys for k in spec.split(",") if k.strip()]
    return {_column(view, k) for k in names} if names else None


def _order(view: View, sorts: list[str]) -> str | None:
    parts = []
    for spec in sorts:
        m = _SORT.match(spec)
        if m is None:
            raise _bad(f"bad sort '{spec}': use field.ASC or field.DESC")
        parts.append(f'"{_column(view, m.group(1))}" {m.group(2).upper()}')
    return ", ".join([*parts, "id"]) if parts else None


def _encode(state: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


def _decode(cursor: str | None) -> dict:
    if not cursor:
        return {}
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if isinstance(state, dict) and (isinstance(state.get("k"), str) or isinstance(state.get("o"), int)):
            return state
    except ValueError:
        pass
    raise _bad("cursor is not valid: pass the nextPage value of the previous answer unchanged")
