"""The Zuora client: every Zuora call of the tool goes through `ZuoraClient`, the calls (OAuth, retries, limits,
error mapping: core.zuora.calls) with the operations, which live in small modules by subject, as its methods."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Sequence

from core.zuora import dataquery, describe, memos, queries
from core.zuora.calls import DEFAULT_ZUORA_VERSION, ZuoraCalls
from core.zuora.describe import DescribedField
from core.zuora.memos import BulkItemResult, BulkSummary

__all__ = ["DEFAULT_ZUORA_VERSION", "ZuoraClient"]


class ZuoraClient(ZuoraCalls):
    """`async with ZuoraClient(base_url, client_id, client_secret) as zuora:` then call the operations."""

    def zoql(self, query: str, *, batch_size: int = 2000) -> AsyncIterator[dict]:
        return queries.zoql(self, query, batch_size=batch_size)

    def object_query(self, object: str, *, filters: Sequence[str] = (), fields: Sequence[str] | None = None,
                     page_size: int = 99) -> AsyncIterator[dict]:
        return queries.object_query(self, object, filters=filters, fields=fields, page_size=page_size)

    def data_query(self, sql: str, *, poll_max: float = 5.0) -> AsyncIterator[dict]:
        return dataquery.data_query(self, sql, poll_max=poll_max)

    async def data_query_rows(self, sql: str, limit: int | None = None) -> list[dict]:
        return await dataquery.data_query_rows(self, sql, limit=limit)

    async def get_credit_memo(self, key: str) -> dict:
        return await memos.get_credit_memo(self, key)

    async def update_credit_memo(self, key: str, fields: dict) -> dict:
        return await memos.update_credit_memo(self, key, fields)

    async def bulk_update_credit_memos(
        self, updates: AsyncIterable[dict] | Iterable[dict], *,
        on_result: Callable[[BulkItemResult], Awaitable[None] | None] | None = None,
    ) -> BulkSummary:
        return await memos.bulk_update_credit_memos(self, updates, on_result=on_result)

    async def invoice_settlement_enabled(self) -> bool:
        return await memos.invoice_settlement_enabled(self)

    async def describe(self, object: str) -> list[DescribedField]:
        return await describe.describe(self, object)
