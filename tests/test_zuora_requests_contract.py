"""Every request the Zuora client sends validates against Zuora's published contract (the OpenAPI subset).

The requests are captured as the client sends them to the simulator over loopback, then checked with
openapi-core's request validator as if they had gone to a Zuora sandbox host.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.validation.request.exceptions import RequestValidationError
from werkzeug.datastructures import Headers, ImmutableMultiDict

from core.sim.config import SimConfig
from core.sim.server import SimServer
from core.zuora import ZuoraClient

CONTRACT = Path("/work/shared/contracts/zuora-openapi-subset.yaml")
if not CONTRACT.exists():
    CONTRACT = Path(__file__).resolve().parent.parent / "contracts" / "zuora-openapi-subset.yaml"
SANDBOX = "https://rest.test.zuora.com"  # one of the contract's servers
DOWNLOAD = re.compile(r"X-Amz-Signature=")  # the pre-signed result file: S3's contract, not Zuora's


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    if not CONTRACT.exists():
        pytest.skip("the Zuora contract file is not in this checkout")
    # The document itself is checked where it is maintained; skipping that here saves seconds per run.
    return OpenAPI.from_file_path(str(CONTRACT), config=Config(spec_validator_cls=None))


@pytest.fixture(scope="module")
def contract() -> dict:
    """The contract as plain data, for what openapi-core does not check: the Accept header."""
    if not CONTRACT.exists():
        pytest.skip("the Zuora contract file is not in this checkout")
    return yaml.load(CONTRACT.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def answer_media_types(contract: dict, method: str, path: str) -> set[str]:
    """The media types the operation's success answers are declared in (its error answers when it declares no
    success body). Literal paths win over templated ones, as /v1/credit-memos/bulk over /{creditMemoKey}."""
    templates = sorted(contract["paths"], key=lambda t: t.count("{"))
    for template in templates:
        operation = contract["paths"][template].get(method.lower())
        if operation is None or not re.fullmatch(re.sub(r"\{[^}/]+\}", "[^/]+", template), path):
            continue
        responses = operation["responses"]
        success = [r for code, r in responses.items() if str(code).startswith("2") and r.get("content")]
        return {media.split(";")[0].strip().lower() for r in success or responses.values()
                for media in r.get("content", {})}
    raise AssertionError(f"{method} {path} is not an operation of the contract")


def accepts(accept: str, media_types: set[str]) -> bool:
    """Whether an Accept header admits one of the media types (q=0 ranges admit nothing)."""
    for part in accept.split(","):
        media_range, *params = (p.strip().lower() for p in part.split(";"))
        if any(p.replace(" ", "").startswith("q=") and float(p.split("=", 1)[1]) == 0 for p in params):
            continue
        kind, _, sub = media_range.partition("/")
        for media in media_types:
            m_kind, _, m_sub = media.partition("/")
            if kind == "*" or (kind == m_kind and sub in ("*", m_sub)):
                return True
    return False


class CapturedRequest:
    """openapi-core's request protocol over an httpx.Request, re-homed on the sandbox host."""

    def __init__(self, request: httpx.Request):
        self.request = request
        query = parse_qsl(request.url.query.decode(), keep_blank_values=True)
        self.parameters = RequestParameters(query=ImmutableMultiDict(query), header=Headers(list(request.headers.items())),
                                            cookie=ImmutableMultiDict())

    host_url = SANDBOX

    @property
    def path(self) -> str:
        return self.request.url.path

    @property
    def method(self) -> str:
        return self.request.method.lower()

    @property
    def body(self) -> bytes | None:
        return self.request.content or None

    @property
    def content_type(self) -> str:
        return self.request.headers.get("content-type", "")


async def exercise_every_operation(tmp_path, captured: list[httpx.Request]) -> None:
    from test_zuora_client import bench, seed_invoices  # pytest puts tests/ on sys.path

    sim = bench.ar_mig_tenant(SimConfig(), 60, tmp_path / "sim")
    try:
        seed_invoices(sim, 5)
        with SimServer(sim) as srv:
            c = sim.credentials
            async with ZuoraClient(srv.base_url, c.zuora_client_id, c.zuora_client_secret, track_id="contract",
                                   on_request=captured.append, backoff_base=0.01) as zuora:
                assert len([r async for r in zuora.zoql("select Id, Status from Invoice", batch_size=2)]) == 5
                rows = [r async for r in zuora.object_query("credit-memos", filters=["transferredToAccounting.EQ:No",
                                                                                     "status.EQ:Posted"],
                                                            fields=["id", "memoNumber"], page_size=25)]
                assert len(rows) == 60
                assert len(await zuora.data_query_rows("SELECT id FROM creditmemo", limit=10)) == 10
                await zuora.get_credit_memo("CM00000001")
                await zuora.update_credit_memo(bench.memo_id(1), {"transferredToAccounting": "Yes",
                                                                  "IntegrationStatus__NS": "Sync Complete"})
                summary = await zuora.bulk_update_credit_memos(
                    {"id": bench.memo_id(n), "transferredToAccounting": "Yes"} for n in range(2, 61))
                assert summary.succeeded == 59
                assert await zuora.describe("CreditMemo")
                assert await zuora.invoice_settlement_enabled()
    finally:
        sim.close()


@pytest.fixture(scope="module")
def captured(tmp_path_factory) -> list[httpx.Request]:
    """The requests of one session that uses every operation, shared by the checks below."""
    requests: list[httpx.Request] = []
    asyncio.run(exercise_every_operation(tmp_path_factory.mktemp("contract"), requests))
    return requests


def test_every_request_matches_the_contract(captured, openapi):
    zuora_calls = [r for r in captured if not DOWNLOAD.search(str(r.url))]
    downloads = [r for r in captured if DOWNLOAD.search(str(r.url))]
    assert downloads and all("authorization" not in r.headers for r in downloads)  # pre-signed: no token sent
    paths = {r.url.path for r in zuora_calls}
    assert {"/oauth/token", "/v1/action/query", "/v1/action/queryMore", "/object-query/credit-memos",
            "/query/jobs", "/v1/credit-memos/bulk", "/v1/describe/CreditMemo", "/v1/credit-memos"} <= paths
    for request in zuora_calls:
        openapi.validate_request(CapturedRequest(request))  # raises with the offending field on a mismatch


def test_every_accept_header_asks_for_what_the_operation_answers(captured, contract):
    """describe answers text/xml only (the contract's 200), every other operation JSON: a request that asks for
    a media type its operation never answers fails here."""
    zuora_calls = [r for r in captured if not DOWNLOAD.search(str(r.url))]
    for request in zuora_calls:
        declared = answer_media_types(contract, request.method, request.url.path)
        accept = request.headers.get("accept", "*/*")  # no Accept header means anything
        assert accepts(accept, declared), (f"{request.method} {request.url.path} asks for {accept!r}; "
                                           f"the contract answers {sorted(declared)}")
    describes = [r for r in zuora_calls if r.url.path.startswith("/v1/describe/")]
    assert describes and all(r.headers["accept"] == "text/xml" for r in describes)
    assert all(r.headers["accept"] == "application/json" for r in zuora_calls if r not in describes)


@pytest.mark.parametrize(("method", "path", "accept"), [
    ("GET", "/v1/describe/CreditMemo", "application/json"),  # what the client asked for before: JSON
    ("GET", "/v1/describe/CreditMemo", "text/*;q=0, application/json"),
    ("GET", "/v1/credit-memos/CM1", "text/xml"),
    ("PUT", "/v1/credit-memos/bulk", "text/csv"),
])
def test_the_accept_check_rejects_what_the_contract_does_not_answer(contract, method, path, accept):
    assert not accepts(accept, answer_media_types(contract, method, path))  # so a pass above means something


def test_headers_every_call_carries(captured):
    tracks = [r.headers.get("zuora-track-id") for r in captured if not DOWNLOAD.search(str(r.url))]
    assert all(t and len(t) <= 64 and not set(t) & set(":;\"'") for t in tracks)
    assert len(set(tracks)) == len(tracks)  # one id per call: support can find each one
    token_calls = [r for r in captured if r.url.path == "/oauth/token"]
    assert len(token_calls) == 1 and "authorization" not in token_calls[0].headers
    assert token_calls[0].headers["content-type"] == "application/x-www-form-urlencoded"
    others = [r for r in captured if r.url.path != "/oauth/token" and not DOWNLOAD.search(str(r.url))]
    assert all(r.headers["authorization"].startswith("Bearer ") for r in others)


@pytest.mark.parametrize("request_", [
    httpx.Request("GET", f"{SANDBOX}/object-query/credit-memos", params={"pageSize": "500"},
                  headers={"Authorization": "Bearer t"}),
    httpx.Request("PUT", f"{SANDBOX}/v1/credit-memos/bulk", headers={"Authorization": "Bearer t"},
                  json={"memos": [{"id": "1", "transferredToAccounting": "Maybe"}]}),
    httpx.Request("GET", f"{SANDBOX}/v1/credit-memos/CM1"),  # no bearer token
], ids=["page-too-big", "bad-enum", "no-token"])
def test_the_validator_rejects_what_the_contract_forbids(openapi, request_):
    with pytest.raises(RequestValidationError):  # so a pass above means something
        openapi.validate_request(CapturedRequest(request_))
