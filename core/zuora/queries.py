"""Paged reads: ZOQL through Actions query/queryMore (A5.1) and Object Query (A5.2), streamed page by page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from core.zuora.errors import expect_object

if TYPE_CHECKING:
    from core.zuora.calls import ZuoraCalls

ZOQL_MAX_BATCH = 2000
OBJECT_QUERY_MAX_PAGE = 99
_OBJECT_SLUG = re.compile(r"^[a-z][a-z-]*$")


async def zoql(client: ZuoraCalls, query: str, *, batch_size: int = ZOQL_MAX_BATCH) -> AsyncIterator[dict]:
    """Every record of a ZOQL query, one page in memory at a time. Null fields are absent from records."""
    if not 1 <= batch_size <= ZOQL_MAX_BATCH:
        raise ValueError(f"batch_size must be between 1 and {ZOQL_MAX_BATCH}, not {batch_size}")
    conf = {"batchSize": batch_size}
    page = expect_object(await client.call("POST", "/v1/action/query",
                                           json={"queryString": query, "conf": conf}), "ZOQL query")
    while True:
        for record in page.get("records") or ():
            yield record
        locator = page.get("queryLocator")
        if page.get("done") is True or not locator:
            return
        page = expect_object(await client.call("POST", "/v1/action/queryMore",
                                               json={"queryLocator": locator, "conf": conf}), "ZOQL queryMore")


async def object_query(client: ZuoraCalls, object: str, *, filters: Sequence[str] = (),
                       fields: Sequence[str] | None = None,
                       page_size: int = OBJECT_QUERY_MAX_PAGE) -> AsyncIterator[dict]:
    """Every row of `/object-query/<object>` matching all `filters` (e.g. `transferredToAccounting.EQ:No`)."""
    if not _OBJECT_SLUG.match(object):
        raise ValueError(f"object must be an Object Query path name such as 'credit-memos', not {object!r}")
    if not 1 <= page_size <= OBJECT_QUERY_MAX_PAGE:
        raise ValueError(f"page_size must be between 1 and {OBJECT_QUERY_MAX_PAGE}, not {page_size}")
    if isinstance(filters, str) or isinstance(fields, str):
        raise ValueError("filters and fields are lists of strings, not one string")
    params: list[tuple[str, str]] = [("pageSize", str(page_size))]
    params += [("filter[]", f) for f in filters]
    params += [("fields[]", f) for f in fields or ()]
    cursor: str | None = None
    while True:
        page = expect_object(await client.call("GET", f"/object-query/{object}",
                                               params=params + ([("cursor", cursor)] if cursor else [])),
                             f"Object Query {object}")
        for row in page.get("data") or ():
            yield row
        cursor = page.get("nextPage")
        if not cursor:
            return
