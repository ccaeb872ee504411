"""What no route answers (an unknown path, a wrong method, a handler's unexpected exception) comes back over real
loopback HTTP in the JSON error shape of the vendor whose path it is under, never Starlette's text/plain:
NetSuite's under /services/rest/, the stand-ins' under /_sim/, Zuora's v1 shape (apis.md A4) everywhere else."""

from __future__ import annotations

import httpx
import pytest
from sim_tenant import empty_tenant, signed_in

from core.sim import admin_api, zuora_api
from core.sim.server import SimServer
from core.zuora.errors import read_failure


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    sim = empty_tenant(tmp_path_factory.mktemp("unknown-routes"))
    try:
        with SimServer(sim) as srv:
            yield srv
    finally:
        sim.close()


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.base_url, timeout=10) as c:
        yield c


def json_answer(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers["content-type"]
    return response.json()


def zuora_error(response: httpx.Response, status: int, category: int) -> dict:
    body = json_answer(response, status)
    assert set(body) == {"success", "processId", "reasons", "requestId"}
    assert body["success"] is False and len(body["processId"]) == 16
    assert body["requestId"] == response.headers["zuora-request-id"]
    assert body["reasons"][0]["code"] == f"500000{category}"  # an unknown resource, the category as A3 maps it
    failure = read_failure(response.status_code, body)  # and the client reads it as what it is
    assert failure is not None and failure.category == category and failure.request_id == body["requestId"]
    return body


def netsuite_error(response: httpx.Response, status: int, code: str) -> dict:
    body = json_answer(response, status)
    assert set(body) == {"type", "title", "status", "o:errorDetails"}
    assert body["status"] == status and body["type"].startswith("https://www.rfc-editor.org/rfc/rfc9110.html")
    detail = body["o:errorDetails"][0]
    assert detail["o:errorCode"] == code and detail["o:urlPath"] == response.request.url.path
    assert response.headers["x-n-operationid"]
    return body


def sim_error(response: httpx.Response, status: int) -> dict:
    body = json_answer(response, status)
    assert set(body) == {"success", "message"} and body["success"] is False and body["message"]
    return body


@pytest.mark.parametrize("path", ["/v1/nothing", "/v1/credit-memos/CM1/nothing", "/v1/credit-memos/", "/nothing",
                                  "/object-query", "/query/jobs/a/b"])
def test_unknown_zuora_path(http, path):
    body = zuora_error(http.get(path, headers={"Zuora-Track-Id": "unknown-1"}), 404, 40)
    assert path in body["reasons"][0]["message"]


def test_unknown_zuora_path_is_a_404_whatever_the_version(http):
    """Legacy Zuora-Version answers v1 errors with HTTP 200; an unknown path is the gateway's 404 all the same."""
    response = http.get("/v1/nothing", headers={"Zuora-Version": "211.0", "Zuora-Track-Id": "legacy"})
    zuora_error(response, 404, 40)
    assert response.headers["zuora-track-id"] == "legacy"


@pytest.mark.parametrize("path", ["/services/rest/nothing", "/services/rest/query/v1/nothing",
                                  "/services/rest/record/v1/customerPayment", "/services/rest"])
def test_unknown_netsuite_path(http, path):
    netsuite_error(http.get(path), 404, "INVALID_URL")


@pytest.mark.parametrize("path", ["/_sim/nothing", "/_sim/connector/nothing", "/_sim", "/_sim/"])
def test_unknown_sim_path(http, path):
    sim_error(http.post(path, json={}), 404)


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("POST", "/v1/describe/CreditMemo", "GET, HEAD"),
    ("DELETE", "/v1/credit-memos/CM00000001", "GET, HEAD, PUT"),  # Allow names every route of the path
    ("PATCH", "/query/jobs", "GET, HEAD, POST"),
    ("GET", "/oauth/token", "POST"),
    ("GET", "/v1/action/query", "POST"),
])
def test_wrong_method_on_a_zuora_path(http, method, path, allow):
    response = http.request(method, path)
    body = zuora_error(response, 405, 45)
    assert response.headers["allow"] == allow and method in body["reasons"][0]["message"]


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("GET", "/services/rest/query/v1/suiteql", "POST"),
    ("DELETE", "/services/rest/record/v1/customerPayment/1", "GET, HEAD, PATCH"),
])
def test_wrong_method_on_a_netsuite_path(http, method, path, allow):
    response = http.request(method, path)
    body = netsuite_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == allow and body["title"] == "Method Not Allowed"


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("GET", "/_sim/connector/run", "POST"),
    ("DELETE", "/_sim/connector/instances", "GET, HEAD, POST"),
])
def test_wrong_method_on_a_sim_path(http, method, path, allow):
    response = http.request(method, path)
    sim_error(response, 405)
    assert response.headers["allow"] == allow


async def test_a_handlers_unexpected_exception_answers_a_vendor_500(server, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the simulator")

    monkeypatch.setattr(zuora_api.zoql, "translate", broken)
    monkeypatch.setattr(admin_api.support, "list_instances", broken)
    # One client each: uvicorn closes the connection after an exception, even once the answer has gone out.
    async with signed_in(server.sim, server.base_url) as c:
        zuora_error(await c.post("/v1/action/query", json={"queryString": "select Id from Account"}), 500, 60)
    # A stand-in's own bug is answered by the stand-in, so its connection stays usable: a rehearsal goes on with
    # the next step instead of failing every one after it on a dropped connection.
    async with signed_in(server.sim, server.base_url) as c:
        assert "unexpected" in sim_error(await c.get("/_sim/connector/instances"), 500)["message"]
        assert (await c.get("/_sim/connector/cutover-dates")).status_code == 200
    logged = [r for r in caplog.records if r.name == "core.sim.admin_api"]
    assert logged and "a bug in the simulator" in str(logged[0].exc_info[1])  # the details: in the log, not lost


def test_the_in_process_simulator_leaves_logging_to_the_command(server):
    """uvicorn's own console handler would print a server traceback on the terminal the app draws on, or into a
    rehearsal's report: in-process, its records go to the command's log file like everyone else's. `cutover sim
    serve` has a terminal of its own, and logs there (building that config here would set uvicorn's console
    handlers up for the rest of this process, so it is not built)."""
    assert server.server.config.log_config is None


async def test_describe_answers_xml_to_the_accept_the_client_sends(server):
    """The client asks describe for text/xml (the contract's only success type); the simulator answers it."""
    async with signed_in(server.sim, server.base_url) as c:
        answer = await c.get("/v1/describe/Account", headers={"Accept": "text/xml"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/xml")
    assert answer.text.startswith("<?xml") and "<name>Account</name>" in answer.text
