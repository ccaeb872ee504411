"""The Zuora client: every call the tool makes to Zuora goes through `ZuoraClient`."""

from core.zuora.client import ZuoraClient
from core.zuora.describe import DescribedField
from core.zuora.environments import ZUORA_ENVIRONMENTS, resolve_zuora_base_url
from core.zuora.memos import BulkItemResult, BulkSummary

__all__ = ["ZUORA_ENVIRONMENTS", "BulkItemResult", "BulkSummary", "DescribedField", "ZuoraClient",
           "resolve_zuora_base_url"]
