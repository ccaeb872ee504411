"""NetSuite client: token-based auth (OAuth 1.0a HMAC-SHA256), SuiteQL and the customerPayment record."""

from core.netsuite.auth import TbaAuth
from core.netsuite.client import NetSuiteClient
from core.netsuite.fields import CandidateField, proposed_mapping
from core.netsuite.hosts import netsuite_base_url, netsuite_host, netsuite_realm
from core.netsuite.suiteql import number

__all__ = ["CandidateField", "NetSuiteClient", "TbaAuth", "netsuite_base_url", "netsuite_host", "netsuite_realm",
           "number", "proposed_mapping"]
