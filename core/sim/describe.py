"""`GET /v1/describe/{object}`: the object's fields as Zuora's describe XML (apis.md A8, point 3).

The __NS fields appear only when the connector's custom fields are installed, and CreditMemo/DebitMemo only
with Invoice Settlement, so describe answers the two questions a consultant asks of it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from starlette.responses import Response

from core.objects import ZUORA_OBJECTS, Field, ZuoraObject
from core.sim.zuora_http import ZuoraCall

_SYSTEM = {"Id", "CreatedDate", "UpdatedDate"}
_UPDATABLE = {"TransferredToAccounting", "Comment", "ReasonCode", "ExcludeFromAutoApplyRules"}
XML = "text/xml; charset=utf-8"


def _label(name: str) -> str:
    base = name.removesuffix("__NS")
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", base).replace(" Id", " ID")


def _field(parent: ET.Element, obj: ZuoraObject, f: Field) -> None:
    el = ET.SubElement(parent, "field")
    system = f.name in _SYSTEM
    for tag, text in (("name", f.name), ("label", "ID" if f.name == "Id" else _label(f.name)),
                      ("selectable", "true"), ("createable", str(not system).lower()),
                      ("updateable", str(f.custom or f.name in _UPDATABLE).lower()),
                      ("filterable", "true"), ("custom", str(f.custom).lower()),
                      ("required", "false"), ("type", f.type)):
        ET.SubElement(el, tag).text = text
    if f.type in ("text", "picklist"):
        ET.SubElement(el, "maxlength").text = "255"
    contexts = ET.SubElement(el, "contexts")
    for context in ("export",) if not obj.zoql else ("soap", "export"):
        ET.SubElement(contexts, "context").text = context


def describe_xml(obj: ZuoraObject, *, connector: bool) -> bytes:
    root = ET.Element("object")
    ET.SubElement(root, "name").text = obj.name
    ET.SubElement(root, "label").text = _label(obj.name)
    fields = ET.SubElement(root, "fields")
    for f in obj.all_fields:
        if connector or not f.custom:
            _field(fields, obj, f)
    ET.SubElement(root, "related-objects")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def describe(call: ZuoraCall) -> Response:
    name = call.path("object")
    obj = next((o for o in ZUORA_OBJECTS.values() if o.name.lower() == name.lower()), None)
    if obj is None or (obj.invoice_settlement_only and not call.store.memos_enabled):
        root = ET.Element("error")
        ET.SubElement(root, "message").text = f"The object '{name}' does not exist or is not enabled."
        return Response(ET.tostring(root, encoding="utf-8", xml_declaration=True), status_code=404,
                        media_type=XML)
    return Response(describe_xml(obj, connector=call.store.connector_installed), media_type=XML)
