"""Finding the connector's custom fields in a NetSuite account (apis.md B7, runbook R3.3).

The docs give labels, not script ids, and accounts differ (the Zuora Sync Updates id is undocumented). So the tool
lists the account's Zuora fields and proposes which profile key each one is, by label first and by the script-id
pattern second; the consultant confirms the mapping, which then lives in the profile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The profile's keys for the connector's transaction body fields; each is its bundle label in snake case
# ("Zuora Customer ID (Payment)" -> zuora_customer_id_payment), which is what the guess below relies on.
PROFILE_KEYS = ("zuora_id", "zuora_integration_status", "zuora_type", "zuora_origin", "zuora_sync_date",
                "zuora_reference_number", "zuora_customer_id_payment", "zuora_sync_updates")

# Oracle's LIKE is case-sensitive, hence UPPER/LOWER; `_` in a LIKE pattern matches any one character.
DISCOVERY_QUERY = (
    "SELECT scriptid, name, fieldtype FROM customfield "
    "WHERE UPPER(scriptid) LIKE 'CUSTBODY%ZUORA%' OR LOWER(name) LIKE 'zuora%' ORDER BY scriptid"
)

_BODY_PREFIX = "custbody"


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


_BY_SQUASHED = {_squash(key): key for key in PROFILE_KEYS}


@dataclass(frozen=True)
class CandidateField:
    script_id: str  # lower case, as transaction columns and the record API name it
    label: str
    field_type: str | None
    profile_key: str | None  # the profile key it most likely is; None when nothing fits
    matched_by: str | None  # "label" | "script id" | None


def guess_profile_key(script_id: str, label: str) -> tuple[str | None, str | None]:
    """(profile key, how it was matched) for one transaction body field; (None, None) otherwise."""
    sid = script_id.lower()
    if not sid.startswith(_BODY_PREFIX):
        return None, None  # entity, item and line fields share labels such as "Zuora ID" but are not profile keys
    if key := _BY_SQUASHED.get(_squash(label)):
        return key, "label"
    if key := _BY_SQUASHED.get(_squash(sid.removeprefix(_BODY_PREFIX))):
        return key, "script id"
    return None, None


def candidate(item: dict) -> CandidateField:
    """A CandidateField from one `customfield` row."""
    script_id = str(item.get("scriptid", "")).lower()
    label = str(item.get("name") or "")
    key, how = guess_profile_key(script_id, label)
    return CandidateField(script_id, label, item.get("fieldtype"), key, how)


def proposed_mapping(candidates: list[CandidateField]) -> dict[str, str]:
    """Profile key -> script id, for the keys exactly one candidate claims; ambiguous keys are left to a person."""
    claims: dict[str, list[str]] = {}
    for c in candidates:
        if c.profile_key:
            claims.setdefault(c.profile_key, []).append(c.script_id)
    return {key: ids[0] for key, ids in claims.items() if len(ids) == 1}
