"""The Zuora client: every call the tool makes to Zuora goes through `ZuoraClient`.

The names below load their submodule on first use (PEP 562), so `core.zuora.environments` (host names for
`cutover --help` and the config) comes without httpx and the client.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: type checkers read the name as true

_WHERE = {
    "ZuoraClient": "core.zuora.client",
    "DescribedField": "core.zuora.describe",
    "ZUORA_ENVIRONMENTS": "core.zuora.environments",
    "resolve_zuora_base_url": "core.zuora.environments",
    "BulkItemResult": "core.zuora.memos",
    "BulkSummary": "core.zuora.memos",
}
__all__ = ["BulkItemResult", "BulkSummary", "DescribedField", "ZUORA_ENVIRONMENTS", "ZuoraClient",
           "resolve_zuora_base_url"]

if TYPE_CHECKING:
    from core.zuora.client import ZuoraClient
    from core.zuora.describe import DescribedField
    from core.zuora.environments import ZUORA_ENVIRONMENTS, resolve_zuora_base_url
    from core.zuora.memos import BulkItemResult, BulkSummary


def __getattr__(name: str):
    try:
        module = _WHERE[name]
    except KeyError:  # AttributeError lets `from core.zuora import memos` fall through to the submodule
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # found once, then a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
