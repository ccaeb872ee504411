"""Describe (`GET /v1/describe/{object}`): an object's fields as Zuora lists them in XML, custom fields included.

It also shows whether the connector's `__NS` fields exist, i.e. whether the NetSuite connector is installed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from core.errors import ApiError
from core.zuora.errors import SYSTEM

if TYPE_CHECKING:
    from core.zuora.calls import ZuoraCalls

_CUSTOM_SUFFIXES = ("__c", "__NS")
XML = "text/xml"


@dataclass(frozen=True)
class DescribedField:
    name: str  # as ZOQL spells it, e.g. IntegrationId__NS
    label: str
    type: str  # text, decimal, date, datetime, picklist, boolean, ...
    custom: bool


def parse_describe(xml_text: str, object: str = "") -> list[DescribedField]:
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as exc:
        raise ApiError(None, f"the describe answer for {object or 'the object'} is not XML ({exc})",
                       system=SYSTEM) from None
    fields = []
    for el in root.iter("field"):
        name = (el.findtext("name") or "").strip()
        if not name:
            continue
        custom = (el.findtext("custom") or "").strip().lower()
        fields.append(DescribedField(
            name=name,
            label=(el.findtext("label") or name).strip(),
            type=(el.findtext("type") or "").strip(),
            custom=custom == "true" if custom else name.endswith(_CUSTOM_SUFFIXES),
        ))
    return fields


async def describe(client: ZuoraCalls, object: str) -> list[DescribedField]:
    # The contract's only media type for describe is text/xml; asking for JSON is a request it does not describe.
    body = await client.call("GET", f"/v1/describe/{quote(object, safe='')}", accept=XML)
    if not isinstance(body, str):
        raise ApiError(None, f"the describe answer for {object} is JSON, not the XML Zuora documents",
                       system=SYSTEM)
    return parse_describe(body, object)
