"""SuiteQL paging rules and row helpers (apis.md B4).

One query returns at most 100,000 rows however it is paged by offset; large reads page on the internal id
instead (`WHERE id > :last ORDER BY id`), which has no cap and never skips or repeats a row.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from core.errors import ApiError, ConfigError

MAX_PAGE_SIZE = 1000
MAX_RESULTS = 100_000


def check_page_size(page_size: int) -> int:
    if not 1 <= int(page_size) <= MAX_PAGE_SIZE:
        raise ConfigError(f"a SuiteQL page holds 1 to {MAX_PAGE_SIZE} rows, not {page_size}",
                          hint=f"pick a page size between 1 and {MAX_PAGE_SIZE}")
    return int(page_size)


def too_many_rows(query: str) -> ApiError:
    return ApiError("SUITEQL_RESULT_CAP", f"SuiteQL returns at most {MAX_RESULTS:,} rows for one query", None,
                    system="NetSuite",
                    hint=f"page it by id with suiteql_by_id, or narrow the query: {query[:120]}")


def row(item: dict) -> dict:
    """One result row without NetSuite's empty per-row `links`."""
    return {k: v for k, v in item.items() if k != "links"}


def result_key(column: str) -> str:
    """The key SuiteQL gives a selected column: `t.id` -> `id`, `t.id AS pid` -> `pid`, lower case."""
    name = re.split(r"\s+as\s+", column.strip(), flags=re.IGNORECASE)[-1]
    return name.rsplit(".", 1)[-1].strip().lower()


def keyset_query(select: str, where: str, id_column: str, after: int | None) -> str:
    """`SELECT {select} WHERE ({where}) AND {id_column} > {after} ORDER BY {id_column}`.

    `select` is the column list and the FROM clause (`t.id, t.tranid FROM transaction t`); a leading SELECT is
    tolerated. The first page has no lower bound.
    """
    body = re.sub(r"^\s*select\s+", "", select, flags=re.IGNORECASE)
    if not re.search(r"\bfrom\b", body, flags=re.IGNORECASE):
        raise ConfigError(f"suiteql_by_id needs the FROM clause in select: {select[:80]!r}",
                          hint="pass e.g. 't.id, t.tranid FROM transaction t'")
    conditions = [f"({where})"] if where.strip() else []
    if after is not None:
        conditions.append(f"{id_column} > {int(after)}")
    clause = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"SELECT {body}{clause} ORDER BY {id_column}"


def last_id(item: dict, key: str) -> int:
    """The paging key of a row; internal ids are integers that SuiteQL returns as strings."""
    value = item.get(key)
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError(f"keyset paging needs an integer column {key!r} in every row, got {value!r}",
                          hint="select the id column and name it in id_column, e.g. id_column='t.id'") from None


def number(value: str | None) -> int | Decimal | None:
    """A SuiteQL value as a number: int when whole, Decimal otherwise (money stays exact); None when empty."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
