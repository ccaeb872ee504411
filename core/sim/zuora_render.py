"""How each Zuora API spells a stored record: ZOQL (PascalCase), v1 REST and Object Query (camelCase, with their
own renames), and how each renders numbers, booleans, dates and datetimes.

The renames follow the contract (contracts/zuora-openapi-subset.yaml): the v1 credit memo calls the memo number
`number` and the open balance `unappliedAmount`, while Object Query says `memoNumber` and `balance`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from datetime import UTC, datetime
from typing import Any

from core.objects import ZuoraObject


def parse_timestamp(raw: str) -> datetime | None:
    """A stored or client-sent datetime (store format, ISO with T, Z or an offset) as aware UTC, else None."""
    try:
        dt = datetime.fromisoformat(str(raw).strip().replace(" +", "+").replace(" -", "-"))
    except ValueError:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def store_timestamp(raw: str) -> str | None:
    """Normalise a datetime literal to the store's 'YYYY-MM-DD HH:MM:SS' UTC, so text comparison works."""
    dt = parse_timestamp(raw)
    return None if dt is None else dt.strftime("%Y-%m-%d %H:%M:%S")


def _iso(raw: str, tail: str) -> str:
    if len(raw) == 19 and raw[10] == " ":  # the store's own format: no parsing needed (hot path of bulk answers)
        return f"{raw[:10]}T{raw[11:]}{tail}"
    dt = parse_timestamp(raw)
    return raw if dt is None else dt.strftime("%Y-%m-%dT%H:%M:%S") + tail


def rfc3339(raw: str) -> str:
    return _iso(raw, "+00:00")


def zoql_datetime(raw: str) -> str:
    """As Actions query renders dateTime fields: milliseconds and an offset."""
    return _iso(raw, ".000+00:00")


def _boolean(raw: Any) -> bool:
    return raw.lower() in ("1", "true") if isinstance(raw, str) else bool(raw)


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "decimal": float, "integer": int, "boolean": _boolean, "date": lambda raw: str(raw)[:10]}


@dataclass(frozen=True)
class View:
    """One API's spelling of one object: for each column, the key it is sent under and its value kind."""

    obj: ZuoraObject
    keys: dict[str, tuple[str, str]]  # column -> (key, kind)
    datetime_style: Callable[[str], str] = rfc3339

    @cached_property
    def _plan(self) -> tuple[tuple[str, str, Callable[[Any], Any]], ...]:
        def convert(kind: str) -> Callable[[Any], Any]:
            if kind == "datetime":
                return lambda raw: self.datetime_style(str(raw))
            return _CONVERTERS.get(kind, str)

        return tuple((column, key, convert(kind)) for column, (key, kind) in self.keys.items())

    def render(self, row: Mapping[str, Any], *, keep_null: bool = False,
               only: set[str] | None = None) -> dict[str, Any]:
        if only is None and not keep_null:  # the common case, and the hot path of bulk answers
            # A plain loop that passes text through as it is: 40% less time than a comprehension calling str().
            out = {}
            for column, key, convert in self._plan:
                raw = row.get(column)
                if raw is not None:
                    out[key] = raw if convert is str and raw.__class__ is str else convert(raw)
            return out
        out: dict[str, Any] = {}
        for column, key, convert in self._plan:
            if column not in row or (only is not None and column not in only):
                continue
            raw = row[column]
            if raw is not None:
                out[key] = convert(raw)
            elif keep_null:
                out[key] = None
        return out

    def column_for(self, key: str) -> str | None:
        """The column behind an API key (case-insensitive, as Zuora matches field names)."""
        low = key.lower()
        return next((c for c, (k, _) in self.keys.items() if k.lower() == low), None)

    def kind(self, column: str) -> str:
        return self.keys[column][1]


def zoql_view(obj: ZuoraObject, *, connector: bool = True) -> View:
    fields = [f for f in obj.all_fields if connector or not f.custom]
    return View(obj, {f.column: (f.name, f.type) for f in fields}, zoql_datetime)


_REST_RENAMES = {
    "creditmemo": {"memonumber": "number", "totalamount": "amount", "balance": "unappliedAmount",
                   "memodate": "creditMemoDate"},
    "payment": {"paymentnumber": "number"},
}
_REST_KINDS = {("payment", "effectivedate"): "datetime"}  # the contract types it date-time
_OQ_RENAMES = {"creditmemo": {"referredinvoiceid": "invoiceId"}}
_OQ_KINDS = {("invoice", "posteddate"): "datetime"}
# Object Query answers only the fields its contract schema lists; extra keys must be expanded objects there.
_OQ_HIDDEN = {"payment": {"invoiceid", "paymentmethodtype"}}


def rest_view(obj: ZuoraObject) -> View:
    renames = _REST_RENAMES.get(obj.table, {})
    # REST types the __NS fields as plain strings: they come back exactly as they were written.
    return View(obj, {f.column: (renames.get(f.column, f.rest),
                                 "text" if f.custom else _REST_KINDS.get((obj.table, f.column), f.type))
                      for f in obj.all_fields})


def object_query_view(obj: ZuoraObject) -> View:
    renames, hidden = _OQ_RENAMES.get(obj.table, {}), _OQ_HIDDEN.get(obj.table, set())
    return View(obj, {f.column: (renames.get(f.column, f.rest), _OQ_KINDS.get((obj.table, f.column), f.type))
                      for f in obj.all_fields if not f.custom and f.column not in hidden})
