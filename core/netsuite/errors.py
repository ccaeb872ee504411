"""NetSuite's `o:errorDetails` error bodies turned into the tool's typed errors (apis.md B6).

Only the vendor's `detail` and `o:errorCode` reach the message: never a request header, so never a credential.
"""

from __future__ import annotations

import httpx

from core.errors import ApiError, AuthError, ConfigError, NotFound, RateLimited

SYSTEM = "NetSuite"
CONCURRENCY_LIMIT_EXCEEDED = "CONCURRENCY_LIMIT_EXCEEDED"

AUTH_HINT = ("check the token-based auth credentials (consumer key and secret, token id and secret) and the "
             "account id, which is also the realm: a sandbox is 1234567_SB1, not 1234567")
FORBIDDEN_HINT = "the integration role lacks a permission: check the role's REST web services and record access"
RATE_HINT = "NetSuite's concurrency limit is shared by every integration on the account; lower max_concurrency"


def _parsed(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None


def _first_detail(response: httpx.Response) -> tuple[str | None, str]:
    body = _parsed(response)
    if isinstance(body, dict):
        details = body.get("o:errorDetails") or []
        if details and isinstance(details[0], dict):
            first = details[0]
            return first.get("o:errorCode"), str(first.get("detail") or body.get("title") or "")
        if body.get("title"):
            return None, str(body["title"])
    return None, f"HTTP {response.status_code} {response.reason_phrase}".strip()


def api_error(response: httpx.Response) -> ApiError:
    """The typed error for a NetSuite error response."""
    code, message = _first_detail(response)
    status = response.status_code
    kw = {"status": status, "system": SYSTEM}
    if status == 401:
        return AuthError(code or "INVALID_LOGIN", message, None, hint=AUTH_HINT, **kw)
    if status == 403:
        return ApiError(code, message, None, hint=FORBIDDEN_HINT, **kw)
    if status == 404:
        return NotFound(code, message, None, **kw)
    if status == 429:
        return RateLimited(code or CONCURRENCY_LIMIT_EXCEEDED, message, None, hint=RATE_HINT, **kw)
    return ApiError(code, message, None, **kw)


def check_not_a_page(response: httpx.Response) -> None:
    """A web page is never NetSuite's REST answer. On 429 and 5xx a proxy or gateway in between may answer with
    one, and those are retried as their status says; any other page means the URL is not the API."""
    if response.status_code == 429 or response.status_code >= 500:
        return
    start = response.content[:64].lstrip().lower()
    if "html" in response.headers.get("content-type", "").lower() or start.startswith((b"<!doctype html", b"<html")):
        where = response.request.url.copy_with(query=None, fragment=None)
        raise ConfigError(f"this URL does not look like the NetSuite API (got an HTML page from {where})",
                          hint="check the profile's netsuite_account_id, and netsuite_base_url if it sets one")


def json_body(response: httpx.Response) -> dict:
    """A success response's JSON object; a typed error when something in between answered with HTML or junk."""
    body = _parsed(response)
    if not isinstance(body, dict):
        raise ApiError("INVALID_RESPONSE", f"HTTP {response.status_code} from {response.url.host} was not a JSON "
                       "object", None, status=response.status_code, system=SYSTEM,
                       hint="check that the NetSuite base URL points at the account's REST host")
    return body


def transport_error(exc: httpx.TransportError, host: str, timeout: float | None = None) -> ApiError:
    """No answer at all: a timeout, a refused or dropped connection, or a TLS failure."""
    reason = type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return ApiError("TLS", f"the TLS certificate of {host} could not be verified", None, system=SYSTEM,
                        hint="check the NetSuite base URL; certificate checks stay on for real accounts")
    try:
        call = f"{exc.request.method} {exc.request.url.path}"
    except RuntimeError:  # httpx raised it before a request existed
        call = f"a request to {host}"
    if isinstance(exc, httpx.TimeoutException):
        within = f" within {timeout:g} s" if timeout else ""
        error = ApiError(reason, f"NetSuite did not answer {call}{within}", None,
                         hint="try again, or raise --timeout")
    else:
        error = ApiError(reason, f"NetSuite gave no answer to {call} (the connection failed)", None,
                         hint="check the network and the NetSuite base URL, then try again")
    error.system = SYSTEM  # already named in the sentence
    return error
