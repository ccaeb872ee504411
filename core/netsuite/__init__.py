"""NetSuite client: token-based auth (OAuth 1.0a HMAC-SHA256), SuiteQL and the customerPayment record.

The names below load their submodule on first use (PEP 562), so `core.netsuite.hosts` and `core.netsuite.fields`
come without httpx, oauthlib and the client.
"""

from __future__ import annotations

from core.lazy_names import lazy_names

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: type checkers read the name as true

_WHERE = {
    "TbaAuth": "core.netsuite.auth",
    "NetSuiteClient": "core.netsuite.client",
    "CandidateField": "core.netsuite.fields",
    "proposed_mapping": "core.netsuite.fields",
    "netsuite_base_url": "core.netsuite.hosts",
    "netsuite_host": "core.netsuite.hosts",
    "netsuite_realm": "core.netsuite.hosts",
    "number": "core.netsuite.suiteql",
}
__all__ = ["CandidateField", "NetSuiteClient", "TbaAuth", "netsuite_base_url", "netsuite_host", "netsuite_realm",
           "number", "proposed_mapping"]

if TYPE_CHECKING:
    from core.netsuite.auth import TbaAuth
    from core.netsuite.client import NetSuiteClient
    from core.netsuite.fields import CandidateField, proposed_mapping
    from core.netsuite.hosts import netsuite_base_url, netsuite_host, netsuite_realm
    from core.netsuite.suiteql import number


__getattr__, __dir__ = lazy_names(__name__, _WHERE)
