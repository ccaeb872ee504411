"""Credit memos over v1 REST (apis.md A7): list, get, update one, bulk update; plus single payment and invoice GETs.

Memos exist only with Invoice Settlement; with it off every memo call answers the category-10 permission error
(the probe of apis.md A8). Each memo update is its own transaction and logs every field it changes; setting a
field to the value it already has changes nothing and logs nothing.
"""

from __future__ import annotations

import sqlite3
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response

from core.objects import CREDIT_MEMO, ZuoraObject
from core.sim.store import now_ts, plain_rows, write_log_row
from core.sim.zuora_http import UNKNOWN_RESOURCE, Fault, JSONAnswer, ZuoraCall, process_id
from core.sim.zuora_render import rest_view

CREDIT_MEMO_RESOURCE = 536100
MAX_PAGE_SIZE = 40
MAX_BULK = 50
TTA_VALUES = ("Processing", "Yes", "No", "Error", "Ignore")
STATUS_VALUES = ("Draft", "Posted", "Canceled", "Error", "PendingForTax", "Generating", "CancelInProgress")
VIEW = rest_view(CREDIT_MEMO)
# REST key -> column of the fields a PUT may change.
UPDATABLE = {VIEW.keys[c][0]: c for c in ("transferredtoaccounting", "comment", "reasoncode",
                                          "excludefromautoapplyrules")} | {
    f.name: f.column for f in CREDIT_MEMO.connector_fields}
_FIELD_NAMES = {f.column: f.name for f in CREDIT_MEMO.all_fields}  # column -> the name the write log uses
NOT_SIMULATED = ("effectiveDate", "autoApplyUponPosting", "items")
_SELECT = ("SELECT c.*, a.accountnumber AS accountnumber FROM main.creditmemo c "
           "LEFT JOIN main.account a ON a.id = c.accountid")
_LIST_FILTERS = {"transferredToAccounting": ("c.transferredtoaccounting", TTA_VALUES),
                 "status": ("c.status", STATUS_VALUES), "accountId": ("c.accountid", None),
                 "number": ("c.memonumber", None)}


def _memo_json(row: dict) -> dict[str, Any]:
    memo = VIEW.render(row)
    if row.get("accountnumber"):
        memo["accountNumber"] = row["accountnumber"]
    if row.get("totalamount") is not None and row.get("balance") is not None:
        memo["appliedAmount"] = round(float(row["totalamount"]) - float(row["balance"]), 2)
    return memo


def _require_invoice_settlement(call: ZuoraCall) -> None:
    if not call.store.memos_enabled:
        raise Fault(10, "Credit memo operations are only available if you have Invoice Settlement enabled.")


def list_memos(call: ZuoraCall) -> Response:
    _require_invoice_settlement(call)
    q = call.query
    page, size = _whole(q.get("page", "1"), "page", 1), _whole(q.get("pageSize", "20"), "pageSize", 1)
    if size > MAX_PAGE_SIZE:
        raise Fault(20, f"pageSize must be at most {MAX_PAGE_SIZE}, not {size}")
    where, params, echo = ["1"], [], {}
    for key, (column, allowed) in _LIST_FILTERS.items():
        value = q.get(key)
        if value is None:
            continue
        if allowed and value not in allowed:
            raise Fault(20, f"{key} must be one of {', '.join(allowed)}, not {value!r}")
        where.append(f"{column} = ?")
        params.append(value)
        echo[key] = value
    rows = call.store.query(f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY c.memonumber, c.id LIMIT ? OFFSET ?",
                            (*params, size + 1, (page - 1) * size))
    body: dict[str, Any] = {"creditmemos": [_memo_json(r) | {"success": True} for r in rows[:size]],
                            "success": True}
    if len(rows) > size:
        body["nextPage"] = f"{call.request.url.path}?{urlencode({'page': page + 1, 'pageSize': size, **echo})}"
    return JSONAnswer(body)


def get_memo(call: ZuoraCall) -> Response:
    _require_invoice_settlement(call)
    key = call.path("key")
    row = call.store.query_one(f"{_SELECT} WHERE c.id = ? OR c.memonumber = ?", (key, key))
    if row is None:
        raise _not_found("Credit Memo", key)
    return JSONAnswer(_memo_json(row) | {"success": True})


def update_memo(call: ZuoraCall) -> Response:
    _require_invoice_settlement(call)
    changes = _changes(call.json(), reject_unknown=_reject_unknown(call))
    key = call.path("key")
    with call.store.transaction() as conn:  # read and write as one step: nobody writes the memo in between
        memo = conn.execute(f"{_SELECT} WHERE c.id = ? OR c.memonumber = ?", (key, key)).fetchone()
        writes = _Writes(call)
        memo = _apply(writes, dict(memo) if memo else None, key, changes)
        writes.flush(conn)
    return JSONAnswer(_memo_json(memo) | {"success": True})


def bulk_update(call: ZuoraCall) -> Response:
    _require_invoice_settlement(call)
    body = call.json()
    memos = body.get("memos") if isinstance(body, dict) else None
    if not isinstance(memos, list):
        raise Fault(90, 'The body must be {"memos": [{"id": "...", ...}, ...]}')
    if len(memos) > MAX_BULK:
        raise Fault(20, f"A bulk update takes at most {MAX_BULK} memos, not {len(memos)}; split the request")
    reject_unknown = _reject_unknown(call)
    ids = [m["id"] for m in memos if isinstance(m, dict) and isinstance(m.get("id"), str)]
    # One read and one commit for the batch. Every check of a memo happens before it queues a write, so a memo
    # that fails queues nothing and the others stand; the queued writes go out as two executemany calls
    # (a 50-memo call costs a few statements, not 200: the bulk benchmark needs the simulator that cheap).
    with call.store.transaction() as conn:
        current = {r["id"]: r for r in plain_rows(conn, f"{_SELECT} WHERE c.id IN ({', '.join('?' * len(ids))})",
                                                  ids)} if ids else {}
        writes = _Writes(call)
        results = [_bulk_item(call, writes, current, index, item, reject_unknown)
                   for index, item in enumerate(memos)]
        writes.flush(conn)
    return JSONAnswer({"memos": results, "success": True})


# Zuora's user permission that lets an API user change Transferred to Accounting once it is Yes (runbook E1,
# "ROLES"). A per-tenant setting: on unless a test or `cutover sim serve --no-override-tta` takes it away.
OVERRIDE_TTA = "zuora.permission.override_transferred_to_accounting"
OVERRIDE_TTA_REFUSED = ("You do not have the 'Override Transferred to Accounting' permission: Transferred To "
                        "Accounting cannot be changed once it is Yes.")


def override_tta_allowed(store) -> bool:
    return bool(store.setting(OVERRIDE_TTA, True))


RETRYABLE_ITEM_FAILURES = ((50, "Operation failed due to lock competition; retry this memo."),
                           (61, "A temporary error occurred while updating the memo; retry this memo."))


def _bulk_item(call: ZuoraCall, writes: _Writes, current: dict[str, dict], index: int, item: Any,
               reject_unknown: bool) -> dict:
    """One memo of a bulk update: its answer, or its own failure that leaves the others alone."""
    memo_id = item.get("id") if isinstance(item, dict) else None
    try:
        if not isinstance(item, dict) or not isinstance(memo_id, str) or not memo_id:
            raise Fault(22, "Each memo needs its id.")
        # Rolled by the memo's number, which a seed fixes (its id is a fresh uuid in every run).
        key = (current.get(memo_id) or {}).get("memonumber") or memo_id
        if failed := call.sim.dice.roll_for("bulk_item", key):  # the failures Zuora says to retry (apis.md A4)
            category, message = failed.choice(RETRYABLE_ITEM_FAILURES)
            raise Fault(category, message)
        if call.sim.dice.roll_for("bulk_item_refused", key):  # one that retrying will not fix
            raise Fault(30, "The credit memo cannot be updated while it is being processed by a bill run.")
        changes = _changes({k: v for k, v in item.items() if k != "id"}, reject_unknown=reject_unknown)
        return _memo_json(_apply(writes, current.get(memo_id), memo_id, changes)) | {"success": True}
    except Fault as fault:
        return {"id": memo_id, "objectIndex": index, "processId": process_id(),
                "reasons": [{"code": str(fault.code(CREDIT_MEMO_RESOURCE)), "message": fault.message}],
                "success": False}


def _reject_unknown(call: ZuoraCall) -> bool:
    return call.query.get("rejectUnknownFields", "false").lower() == "true"


def _changes(body: Any, *, reject_unknown: bool) -> dict[str, Any]:
    """Validated column -> new value; unknown fields are ignored unless rejectUnknownFields=true (apis.md A3)."""
    if not isinstance(body, dict):
        raise Fault(90, "The body must be a JSON object of the fields to change.")
    unknown = [k for k in body if k not in UPDATABLE]
    simulated_not = [k for k in unknown if k in NOT_SIMULATED]
    if simulated_not:
        raise Fault(20, f"The simulator does not update {', '.join(simulated_not)}; send only "
                        f"{', '.join(UPDATABLE)}.")
    if unknown and reject_unknown:
        raise Fault(21, f"Error - unrecognised fields: {', '.join(unknown)}")
    changes: dict[str, Any] = {}
    for key, value in body.items():
        column = UPDATABLE.get(key)
        if column is None:
            continue
        if column == "transferredtoaccounting" and value not in TTA_VALUES:
            raise Fault(20, f"'transferredToAccounting' value should be one of: {', '.join(TTA_VALUES)}")
        if column == "excludefromautoapplyrules":
            if not isinstance(value, bool):
                raise Fault(20, "'excludeFromAutoApplyRules' must be true or false")
            value = int(value)
        elif value is not None and (not isinstance(value, str) or len(value) > 255):
            raise Fault(20, f"'{key}' must be a string of at most 255 characters")
        if column == "reasoncode" and not value:
            raise Fault(20, "'reasonCode' must name an existing reason code")
        changes[column] = value
    return changes


class _Writes:
    """One call's memo updates and their write-log rows, queued in order and flushed in the call's transaction."""

    def __init__(self, call: ZuoraCall):
        self.call = call
        self.now = now_ts()
        self.override_tta = override_tta_allowed(call.store)
        self.updates: dict[tuple[str, ...], list[tuple]] = {}
        self.log: list[tuple] = []

    def add(self, memo: dict, changed: dict[str, Any]) -> None:
        self.updates.setdefault(tuple(changed), []).append((*changed.values(), self.now, memo["id"]))
        for column, value in changed.items():
            self.log.append(write_log_row(source="api", system="zuora", object=CREDIT_MEMO.name,
                                          record_id=memo["id"], field=_FIELD_NAMES[column], old=memo[column],
                                          new=value, request_id=self.call.request_id, ts=self.now))

    def flush(self, conn: sqlite3.Connection) -> None:
        for columns, rows in self.updates.items():
            conn.executemany(f"UPDATE main.creditmemo SET {', '.join(f'{c} = ?' for c in columns)}, "
                             "updateddate = ? WHERE id = ?", rows)
        self.call.store.log_writes(conn, self.log)


def _apply(writes: _Writes, memo: dict | None, key: str, changes: dict[str, Any]) -> dict:
    """Check one memo's update and queue its changed fields (a no-op change queues nothing)."""
    if memo is None:
        raise _not_found("Credit Memo", key)
    if memo["status"] != "Posted":
        raise Fault(30, f"Credit memo {memo['memonumber']} is {memo['status']}: only posted memos can be "
                        "updated here.")
    changed = {c: v for c, v in changes.items() if memo[c] != v}
    if "transferredtoaccounting" in changed and memo["transferredtoaccounting"] == "Yes" and not writes.override_tta:
        raise Fault(10, OVERRIDE_TTA_REFUSED)  # per memo: in a bulk update the others stand
    if changed:
        writes.add(memo, changed)
        memo |= changed | {"updateddate": writes.now}  # in place: a repeated id in one bulk sees its own write
    return memo


def _not_found(label: str, key: str) -> Fault:
    return Fault(40, f"Cannot find a {label} instance with key '{key}'.", resource=UNKNOWN_RESOURCE)


def _whole(raw: str, name: str, low: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise Fault(20, f"{name} must be a whole number, not {raw!r}") from None
    if value < low:
        raise Fault(20, f"{name} must be at least {low}, not {value}")
    return value


def record_getter(obj: ZuoraObject):
    """`GET /v1/<objects>/{key}` by id or number, for objects that need no Invoice Settlement."""
    view = rest_view(obj)

    def get(call: ZuoraCall) -> Response:
        key = call.path("key")
        row = call.store.query_one(f"SELECT * FROM main.{obj.table} WHERE id = ? OR {obj.number_field.lower()} = ?",
                                   (key, key))
        if row is None:
            raise _not_found(obj.name, key)
        return JSONAnswer(view.render(row) | {"success": True})

    return get
