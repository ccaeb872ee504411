"""Data Query jobs (apis.md A5.3): submit, run in the background, write the result file, serve it pre-signed.

A job goes accepted -> in_progress -> completed | failed (or cancelled). At most `data_query_concurrency` run at
once: the rest wait in `accepted`. The result streams from the store cursor straight to a file under the
simulator's data dir, then is served at an S3-style URL whose signature needs no Zuora token.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import hmac
import io
import os
import secrets
import threading
import time
import uuid
import zipfile
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from core.sim import sql
from core.sim.store import now_ts
from core.sim.zuora_http import Fault, ZuoraCall
from core.sim.zuora_render import rfc3339

MAX_OUTPUT_ROWS = 500_000
URL_TTL_S = 7 * 24 * 3600
RESULTS_PATH = "/data-query-results"
_FORMATS = {"JSON": ".jsonl", "CSV": ".csv", "TSV": ".tsv", "DSV": ".dsv"}
_COMPRESSIONS = {"NONE": "", "GZIP": ".gz", "ZIP": ".zip"}
_ENUMS = {"outputFormat": _FORMATS, "compression": _COMPRESSIONS, "sourceData": ("LIVE", "WAREHOUSE")}
_OPEN = ("accepted", "in_progress")


class _Cancelled(Exception):
    pass


def _submission(body) -> tuple[str, str, str]:
    """The query, the file suffix and the column separator, or a 400 that names the bad field."""
    if not isinstance(body, dict):
        raise Fault(20, "Unable to process JSON: the body must be a JSON object")
    missing = [k for k in ("query", "outputFormat", "compression", "output") if k not in body]
    if missing:
        raise Fault(22, f"Missing required field(s): {', '.join(missing)}")
    for key, allowed in _ENUMS.items():
        if key in body and body[key] not in allowed:
            raise Fault(20, f"{key} must be one of {', '.join(allowed)}, not {body[key]!r}")
    if not isinstance(body["output"], dict) or body["output"].get("target") != "S3":
        raise Fault(20, 'output must be {"target": "S3"}')
    query = body["query"]
    if not isinstance(query, str) or not query.strip() or len(query) > 1_000_000:
        raise Fault(20, "query must be a non-empty SQL string of at most 1,000,000 characters")
    separator = {"CSV": ",", "TSV": "\t"}.get(body["outputFormat"], body.get("columnSeparator", ""))
    if body["outputFormat"] == "DSV" and (not isinstance(separator, str) or len(separator) != 1):
        raise Fault(20, "DSV output needs columnSeparator, a single character")
    return query, _FORMATS[body["outputFormat"]] + _COMPRESSIONS[body["compression"]], separator


class DataQueryJobs:
    def __init__(self, sim):
        self.sim = sim
        self.store = sim.store
        self.max_output_rows = MAX_OUTPUT_ROWS
        self.folder = Path(sim.data_dir) / "data-query"
        self.folder.mkdir(parents=True, exist_ok=True)
        self._slots = threading.BoundedSemaphore(sim.config.data_query_concurrency)
        self._secret = secrets.token_bytes(32)  # per run: URLs from an earlier run stop working, like expiry
        self._timing: dict[str, int] = {}
        self.created_by = str(uuid.uuid5(uuid.NAMESPACE_URL, sim.credentials.zuora_client_id))
        # Jobs left open by an earlier run of this data dir have no worker any more.
        self.store.execute("UPDATE sim_query_job SET status = 'failed', error = ?, updated = ? "
                           "WHERE status IN (?, ?)", ("The simulator restarted while the job was open", now_ts(),
                                                      *_OPEN))

    # ---- routes ---------------------------------------------------------------------------------------------
    def submit(self, call: ZuoraCall) -> Response:
        if call.request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise Fault(45, "Content-Type must be application/json", status=415)
        query, suffix, separator = _submission(call.json())
        job_id, now = str(uuid.uuid4()), now_ts()
        self.store.execute(
            "INSERT INTO sim_query_job(id, query, status, created, updated, output_rows, file_path, error) "
            "VALUES (?,?,?,?,?,0,?,NULL)", (job_id, query, "accepted", now, now, str(self.folder / (job_id + suffix))))
        accepted = self._row(job_id)  # Zuora answers a submit with the job as accepted, never already done
        # A daemon thread per job: it waits for a slot in `accepted`, and never holds up the process's exit.
        threading.Thread(target=self._run, args=(job_id, separator), name=f"sim-data-query-{job_id[:8]}", daemon=True).start()
        return JSONResponse({"data": self._job_json(accepted, call.request)})

    def get(self, call: ZuoraCall) -> Response:
        return JSONResponse({"data": self._job_json(self._row(call.path("job_id")), call.request)})

    def list(self, call: ZuoraCall) -> Response:
        status = call.query.get("queryStatus")
        if status is not None and status not in (*_OPEN, "completed", "failed", "cancelled"):
            raise Fault(20, f"queryStatus must be accepted, in_progress, completed, failed or cancelled, "
                            f"not {status!r}")
        size = _int(call.query.get("pageSize", "20"), "pageSize", 1, 1000)
        rows = self.store.query(
            "SELECT * FROM sim_query_job WHERE (? IS NULL OR status = ?) ORDER BY created DESC, rowid DESC "
            "LIMIT ?", (status, status, size))
        return JSONResponse({"data": [self._job_json(r, call.request) for r in rows]})

    def cancel(self, call: ZuoraCall) -> Response:
        job = self._row(call.path("job_id"))
        changed = self.store.execute(
            "UPDATE sim_query_job SET status = 'cancelled', updated = ? WHERE id = ? AND status IN (?, ?)",
            (now_ts(), job["id"], *_OPEN))
        if not changed:
            raise Fault(20, f"Query job {job['id']} is already {job['status']} and cannot be cancelled")
        return JSONResponse({"data": self._job_json(self._row(job["id"]), call.request)})

    async def result_file(self, request: Request) -> Response:
        """The pre-signed download: no Zuora token, but the signature must match and not be expired."""
        job_id = request.path_params["name"].split(".")[0]
        q = request.query_params
        expected = self._signature(job_id, q.get("X-Amz-Date", ""), q.get("X-Amz-Expires", ""))
        if not hmac.compare_digest(expected, q.get("X-Amz-Signature", "")) or _expired(q):
            return _s3_error(403, "SignatureDoesNotMatch",
                             "The request signature we calculated does not match the signature you provided.")
        # Off the event loop: the store's lock may be held by a long query, and every route would wait.
        row = await run_in_threadpool(self.store.query_one, "SELECT status, file_path FROM sim_query_job "
                                      "WHERE id = ?", (job_id,))
        if row is None or row["status"] != "completed" or not Path(row["file_path"]).exists():
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        path = Path(row["file_path"])
        media = "application/json" if ".jsonl" in path.name else "text/plain"
        return FileResponse(path, media_type="application/zip" if path.suffix == ".zip" else media)

    # ---- the worker -----------------------------------------------------------------------------------------
    def _run(self, job_id: str, separator: str) -> None:
        with self._slots:
            self._run_job(job_id, separator)

    def _run_job(self, job_id: str, separator: str) -> None:
        started = time.monotonic()
        try:
            if not self.store.execute("UPDATE sim_query_job SET status = 'in_progress', updated = ? "
                                      "WHERE id = ? AND status = 'accepted'", (now_ts(), job_id)):
                return  # cancelled while it waited
            job = self._row(job_id)
            statement = sql.translate(job["query"], invoice_settlement=self.store.invoice_settlement,
                                      harmonization=self.store.harmonization,
                                      connector=self.store.connector_installed)
            rows = self._write(job_id, Path(job["file_path"]), statement, separator)
            self._timing[job_id] = int((time.monotonic() - started) * 1000)
            self.store.execute("UPDATE sim_query_job SET status = 'completed', output_rows = ?, updated = ? "
                               "WHERE id = ? AND status = 'in_progress'", (rows, now_ts(), job_id))
        except _Cancelled:
            return
        except Exception as exc:  # noqa: BLE001 - any failure is the job's outcome, reported through the API
            message = str(exc) if isinstance(exc, sql.QueryError) else f"Query failed: {exc}"
            try:
                self.store.execute("UPDATE sim_query_job SET status = 'failed', error = ?, updated = ? "
                                   "WHERE id = ? AND status = 'in_progress'", (message, now_ts(), job_id))
            except Exception:  # noqa: BLE001 - the simulator is shutting down; nobody is left to ask
                pass

    def _write(self, job_id: str, path: Path, statement: sql.Statement, separator: str) -> int:
        tmp = path.with_name(path.name + ".part")
        count = 0
        try:
            with ExitStack() as stack:
                out = _open_output(stack, tmp, path)
                writer = _row_writer(out, path, separator, statement.columns)
                for row in sql.iter_rows(statement, self.store):
                    count += 1
                    if count > self.max_output_rows:
                        raise sql.QueryError(f"Query output exceeds the limit of {self.max_output_rows:,} rows; "
                                             "narrow the query (e.g. an updateddate window and an id range)")
                    if count % 1000 == 0 and self._status(job_id) != "in_progress":
                        raise _Cancelled()
                    writer(row)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return count

    # ---- helpers --------------------------------------------------------------------------------------------
    def _row(self, job_id: str) -> dict:
        row = self.store.query_one("SELECT * FROM sim_query_job WHERE id = ?", (job_id,))
        if row is None:
            raise Fault(40, f"Query job {job_id} does not exist")
        return row

    def _status(self, job_id: str) -> str | None:
        return self.store.scalar("SELECT status FROM sim_query_job WHERE id = ?", (job_id,))

    def _signature(self, job_id: str, amz_date: str, expires: str) -> str:
        return hmac.new(self._secret, f"{job_id}|{amz_date}|{expires}".encode(), hashlib.sha256).hexdigest()

    def _job_json(self, row: dict, request: Request) -> dict:
        job = {"id": row["id"], "query": row["query"], "queryStatus": row["status"], "remainingRetries": 3,
               "sourceData": "LIVE", "useIndexJoin": False, "updatedOn": rfc3339(row["updated"]),
               "createdBy": self.created_by}
        if row["status"] == "completed":
            amz_date = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            name = Path(row["file_path"]).name
            sig = self._signature(row["id"], amz_date, str(URL_TTL_S))
            base = str(request.base_url).rstrip("/")
            job |= {"outputRows": row["output_rows"], "processingTime": self._timing.get(row["id"], 0),
                    "dataFile": f"{base}{RESULTS_PATH}/{name}?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                                f"&X-Amz-Date={amz_date}&X-Amz-Expires={URL_TTL_S}&X-Amz-Signature={sig}"}
        elif row["status"] == "failed":
            job |= {"errorCode": "QUERY_FAILED", "errorMessage": row["error"]}
        return job


def _int(raw: str, name: str, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise Fault(20, f"{name} must be a whole number from {low} to {high}, not {raw!r}") from None
    if not low <= value <= high:
        raise Fault(20, f"{name} must be from {low} to {high}, not {value}")
    return value


def _expired(q) -> bool:
    try:
        signed = datetime.strptime(q.get("X-Amz-Date", ""), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return datetime.now(UTC) > signed + timedelta(seconds=int(q.get("X-Amz-Expires", "0")))
    except ValueError:
        return True


def _s3_error(status: int, code: str, message: str) -> Response:
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return Response(body, status_code=status, media_type="application/xml")


def _open_output(stack: ExitStack, tmp: Path, final: Path) -> IO[str]:
    if final.suffix == ".gz":
        return stack.enter_context(gzip.open(tmp, "wt", encoding="utf-8", newline=""))
    if final.suffix == ".zip":
        archive = stack.enter_context(zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED))
        member = stack.enter_context(archive.open(final.stem, "w"))
        return stack.enter_context(io.TextIOWrapper(member, encoding="utf-8", newline=""))
    return stack.enter_context(open(tmp, "w", encoding="utf-8", newline=""))


def _row_writer(out: IO[str], path: Path, separator: str, columns: tuple[str, ...]):
    if ".jsonl" in path.name:
        # orjson: a 2,000-row re-check's file in a tenth of json.dumps' time, in a thread beside the simulator's
        # handlers. NaN and infinity are written as null (valid JSON, which json.dumps' NaN is not).
        return lambda row: out.write(orjson.dumps(row, default=str, option=orjson.OPT_APPEND_NEWLINE).decode())
    writer = csv.writer(out, delimiter=separator, lineterminator="\n")
    state = {"header": False}
    if columns:
        writer.writerow(columns)
        state["header"] = True

    def write(row: dict) -> None:
        if not state["header"]:
            writer.writerow(row.keys())
            state["header"] = True
        writer.writerow(["" if v is None else v for v in row.values()])

    return write
