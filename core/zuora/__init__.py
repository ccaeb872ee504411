"""The Zuora client: every call the tool makes to Zuora goes through `ZuoraClient`.

The names below load their submodule on first use (PEP 562), so `core.zuora.environments` (host names for
`cutover --help` and the config) comes without httpx and the client.
"""

from __future__ import annotations

from core.lazy_names import lazy_names

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


__getattr__, __dir__ = lazy_names(__name__, _WHERE)
