"""TbaAuth (oauthlib's RFC 5849 client) against a fixed vector, a signature computed here by hand from the RFC's base
string, the simulator's verifier, and host/realm derivation."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote
from urllib.request import parse_http_list, parse_keqv_list

import httpx
import pytest
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client
from pydantic import SecretStr

from core.errors import ConfigError
from core.netsuite import NetSuiteClient, TbaAuth, netsuite_base_url, netsuite_host, netsuite_realm

NONCE = "fjaLirsIcCGVZWzBX0pg"
TIMESTAMP = 1700000000
CREDS = {"consumer_key": "ck-4f1e", "consumer_secret": "cs+/=&secret", "token_id": "tok 99",
         "token_secret": "ts~!*'()secret"}


def _auth(account_id: str) -> TbaAuth:
    return TbaAuth(account_id, **{k: SecretStr(v) for k, v in CREDS.items()},
                   nonce_factory=lambda: NONCE, clock=lambda: TIMESTAMP + 0.7)


def _oauthlib_header(method: str, url: str, realm: str) -> str:
    client = Client(CREDS["consumer_key"], client_secret=CREDS["consumer_secret"],
                    resource_owner_key=CREDS["token_id"], resource_owner_secret=CREDS["token_secret"],
                    signature_method=SIGNATURE_HMAC_SHA256, realm=realm, nonce=NONCE, timestamp=str(TIMESTAMP))
    _, headers, _ = client.sign(url, method, body=None, headers={"Content-Type": "application/json"})
    return headers["Authorization"]


def _params(header: str) -> dict[str, str]:
    scheme, _, rest = header.partition(" ")
    assert scheme == "OAuth"
    return parse_keqv_list(parse_http_list(rest))


def _signed(auth: TbaAuth, request: httpx.Request) -> str:
    flow = auth.auth_flow(request)
    return next(flow).headers["Authorization"]


@pytest.mark.parametrize("account_id", ["1234567", "1234567_SB1"])
@pytest.mark.parametrize("method,path", [
    ("POST", "/services/rest/query/v1/suiteql?limit=1000&offset=2000"),
    ("GET", "/services/rest/record/v1/customerPayment/74811?expandSubResources=true&fields=tranId,memo"),
    ("PATCH", "/services/rest/record/v1/customerPayment/74811"),
])
def test_header_matches_oauthlib(account_id, method, path):
    url = f"https://{netsuite_host(account_id)}{path}"
    request = httpx.Request(method, url, json={"q": "SELECT id FROM transaction"} if method != "GET" else None)
    ours = _params(_signed(_auth(account_id), request))
    theirs = _params(_oauthlib_header(method, url, netsuite_realm(account_id)))
    assert ours == theirs
    assert ours["oauth_signature"] == theirs["oauth_signature"]
    assert ours["realm"] == account_id.upper()
    assert ours["oauth_signature_method"] == "HMAC-SHA256"
    assert ours["oauth_nonce"] == NONCE and ours["oauth_timestamp"] == str(TIMESTAMP)


# Signed once by the earlier, independent signer (authlib's base string + hand-written HMAC-SHA256); oauthlib must give
# the same bytes, so a change of library never changes what NetSuite receives.
VECTOR_URL = "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql?limit=1000&offset=2000"
VECTOR_HEADER = (
    'OAuth realm="1234567_SB1", oauth_nonce="fjaLirsIcCGVZWzBX0pg", oauth_timestamp="1700000000", '
    'oauth_version="1.0", oauth_signature_method="HMAC-SHA256", oauth_consumer_key="ck-4f1e", '
    'oauth_token="tok%2099", oauth_signature="0%2FxwIOPiyKqadEY%2FM5mD1F514PZxhg35cuVM40rT2IY%3D"')


def test_the_fixed_vector_byte_for_byte():
    request = httpx.Request("POST", VECTOR_URL, json={"q": "SELECT id FROM transaction"})
    assert _signed(_auth("1234567_SB1"), request) == VECTOR_HEADER


def test_the_signature_is_the_rfc_5849_base_string_under_hmac_sha256():
    """RFC 5849 section 3.4 by hand: method & base URI & sorted, encoded parameters (query + oauth_*, not realm)."""
    def enc(text: str) -> str:
        return quote(text, safe="~")

    params = {"limit": "1000", "offset": "2000", "oauth_consumer_key": CREDS["consumer_key"],
              "oauth_nonce": NONCE, "oauth_signature_method": "HMAC-SHA256", "oauth_timestamp": str(TIMESTAMP),
              "oauth_token": CREDS["token_id"], "oauth_version": "1.0"}
    normalized = "&".join(f"{k}={v}" for k, v in sorted((enc(k), enc(v)) for k, v in params.items()))
    base = "&".join(["POST", enc(VECTOR_URL.split("?")[0]), enc(normalized)])
    key = f"{enc(CREDS['consumer_secret'])}&{enc(CREDS['token_secret'])}"
    expected = base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha256).digest()).decode()
    assert _params(_auth("1234567_SB1").authorization("POST", VECTOR_URL))["oauth_signature"] == enc(expected)


def test_query_parameters_are_signed_but_not_in_the_header():
    url = f"https://{netsuite_host('1234567_SB1')}/services/rest/query/v1/suiteql"
    auth = _auth("1234567_SB1")
    first = _params(auth.authorization("POST", f"{url}?limit=1000&offset=0"))
    second = _params(auth.authorization("POST", f"{url}?limit=1000&offset=1000"))
    assert "limit" not in first and "offset" not in first
    assert first["oauth_signature"] != second["oauth_signature"]  # the offset is part of the base string


def test_body_is_not_signed():
    url = f"https://{netsuite_host('1234567')}/services/rest/query/v1/suiteql?limit=5&offset=0"
    auth = _auth("1234567")
    a = _signed(auth, httpx.Request("POST", url, json={"q": "SELECT 1 FROM dual"}))
    b = _signed(auth, httpx.Request("POST", url, json={"q": "SELECT 2 FROM dual"}))
    assert a == b
    assert "oauth_body_hash" not in _params(a)


def test_fresh_nonce_and_current_time_by_default():
    auth = TbaAuth("1234567", **CREDS)
    url = f"https://{netsuite_host('1234567')}/services/rest/query/v1/suiteql"
    one, two = _params(auth.authorization("POST", url)), _params(auth.authorization("POST", url))
    assert one["oauth_nonce"] != two["oauth_nonce"] and len(one["oauth_nonce"]) >= 6
    assert abs(int(one["oauth_timestamp"]) - int(__import__("time").time())) < 5


async def test_secrets_stay_out_of_reprs():
    auth = _auth("1234567_SB1")
    async with NetSuiteClient("1234567_SB1", **CREDS) as client:
        for text in (repr(auth), str(vars(auth)), repr(client), str(vars(client))):
            for secret in (CREDS["consumer_secret"], CREDS["token_secret"]):
                assert secret not in text


@pytest.mark.parametrize("account_id,host,realm", [
    ("1234567", "1234567.suitetalk.api.netsuite.com", "1234567"),
    ("1234567_SB1", "1234567-sb1.suitetalk.api.netsuite.com", "1234567_SB1"),
    ("1234567_sb2", "1234567-sb2.suitetalk.api.netsuite.com", "1234567_SB2"),
    ("TSTDRV2207311_RP", "tstdrv2207311-rp.suitetalk.api.netsuite.com", "TSTDRV2207311_RP"),
])
def test_host_and_realm(account_id, host, realm):
    assert netsuite_host(account_id) == host
    assert netsuite_realm(account_id) == realm
    assert netsuite_base_url(account_id) == f"https://{host}"


def test_custom_base_url():
    assert netsuite_base_url("1234567", "http://127.0.0.1:8123/") == "http://127.0.0.1:8123"
    assert netsuite_base_url("1234567", "https://x.example.com/services/rest") == "https://x.example.com"


@pytest.mark.parametrize("account_id", ["", "1234567 SB1", "1234567-sb1.suitetalk", "12_SB1_X", "acct/../x"])
def test_bad_account_id_says_what_to_do(account_id):
    with pytest.raises(ConfigError) as err:
        netsuite_host(account_id)
    assert "1234567_SB1" in str(err.value)


async def test_plain_http_and_unverified_tls_only_on_loopback():
    with pytest.raises(ConfigError, match="plain http"):
        netsuite_base_url("1234567", "http://netsuite.example.com")
    with pytest.raises(ConfigError, match="TLS"):
        NetSuiteClient("1234567", **CREDS, verify=False)
    async with NetSuiteClient("1234567", **CREDS, base_url="http://localhost:9", verify=False) as client:
        assert client.base_url == "http://localhost:9"
