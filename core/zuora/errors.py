"""Reading Zuora's error bodies (apis.md A4) and turning them into the typed errors of core.errors.

Zuora answers errors in several shapes, and on old API versions with HTTP 200: the body decides, not the status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import ApiError, AuthError, ConfigError, NotFound, RateLimited

SYSTEM = "Zuora"

# Actions faultcodes and SaveResult codes carry no category; these are the categories A3 gives their meaning.
_NAMED_CATEGORIES = {
    "INVALID_VALUE": 20, "INVALID_FIELD": 21, "MISSING_REQUIRED_VALUE": 22, "INVALID_TYPE": 20,
    "MALFORMED_QUERY": 90, "INVALID_ID": 40, "INVALID_SESSION": 11, "API_DISABLED": 10,
    "LOCK_COMPETITION": 50, "REQUEST_EXCEEDED_LIMIT": 70, "REQUEST_EXCEEDED_RATE": 70,
    "TEMPORARY_ERROR": 61, "TRANSACTION_TIMEOUT": 61, "UNKNOWN_ERROR": 60, "SERVER_UNAVAILABLE": 61,
}
_STATUS_CATEGORIES = {401: 11, 403: 10, 404: 40, 409: 50, 429: 70, 500: 60, 502: 61, 503: 61, 504: 61}


@dataclass(frozen=True)
class Failure:
    """One error answer, whatever its shape."""

    code: str | int | None
    message: str
    category: int | None
    request_id: str | None = None


def category_of(code: Any) -> int | None:
    """The category of an 8-digit reasons code (an int or, in the 2026 schema, a string), or of a named code."""
    if isinstance(code, int) or (isinstance(code, str) and code.isdigit()):
        number = int(code)
        return number % 100 if number >= 10_000_000 else None
    if isinstance(code, str):
        return _NAMED_CATEGORIES.get(code.rpartition(":")[2].upper())
    return None


def _reasons(reasons: list, request_id: str | None) -> Failure:
    first = reasons[0] if reasons and isinstance(reasons[0], dict) else {}
    messages = "; ".join(str(r.get("message", "")) for r in reasons if isinstance(r, dict) and r.get("message"))
    code = first.get("code")
    return Failure(code, messages or "request failed", category_of(code), request_id)


def read_failure(status: int, body: Any, request_id: str | None = None) -> Failure | None:
    """The failure a response reports, or None when it reports success (checked on every status)."""
    if isinstance(body, dict):
        rid = body.get("requestId") or request_id
        if isinstance(body.get("reasons"), list) and (body.get("success") is not True):
            return _reasons(body["reasons"], rid)  # v1 REST, and Object Query from 2025-08-12
        if "faultcode" in body:  # Actions query faults
            code = str(body["faultcode"]).rpartition(":")[2]
            return Failure(code, str(body.get("faultstring") or code), category_of(code), rid)
        if "error" in body and status >= 400:  # OAuth token endpoint: only 400/401 mean the credentials
            text = body.get("error_description") or body.get("error")
            category = 11 if status in (400, 401) else _STATUS_CATEGORIES.get(status)
            return Failure(str(body["error"]), str(text), category, rid)
        if body.get("success") is False or status >= 400:
            code = body.get("code")  # Data Query errors use HTTP-like codes; 429 bodies use names
            category = category_of(code) if isinstance(code, str) else None
            message = body.get("message") or body.get("Message") or f"HTTP {status}"
            return Failure(code, str(message), category or _STATUS_CATEGORIES.get(status), rid)
        return None
    if isinstance(body, list):  # Actions SaveResult array: a call fails as a whole when no item succeeded
        results = [r for r in body if isinstance(r, dict)]
        if results and not any(r.get("Success") for r in results):
            errors = results[0].get("Errors") or [{}]
            code = errors[0].get("Code")
            return Failure(code, str(errors[0].get("Message") or code), category_of(code or ""), request_id)
        return None
    if status >= 400:
        text = body.strip()[:200] if isinstance(body, str) and body.strip() else f"HTTP {status}"
        if html_page("", body):  # a proxy's or gateway's error page: its markup says nothing to a person
            text = f"HTTP {status} with a web page (something in front of Zuora answered)"
        return Failure(None, text, _STATUS_CATEGORIES.get(status), request_id)
    return None


def to_error(status: int | None, failure: Failure, *, retry_after: float | None = None) -> ApiError:
    """The typed error for a failure: AuthError, RateLimited, NotFound or ApiError, carrying its category."""
    kw: dict[str, Any] = dict(request_id=failure.request_id, status=status, system=SYSTEM)
    err: ApiError
    if status == 401 or failure.category == 11:
        err = AuthError(failure.code, failure.message, **kw)
    elif status == 429 or failure.category == 70:
        err = RateLimited(failure.code, failure.message, retry_after=retry_after,
                          hint="Zuora's concurrency or rate limit was reached; wait a minute and run it again", **kw)
    elif status == 404 or failure.category == 40:
        err = NotFound(failure.code, failure.message, **kw)
    elif failure.category == 10:
        err = ApiError(failure.code, failure.message, **kw,
                       hint="the Zuora user behind this OAuth client lacks the permission, or the feature is off")
    else:
        err = ApiError(failure.code, failure.message, **kw)
    err.category = failure.category  # type: ignore[attr-defined]
    return err


def category(err: BaseException) -> int | None:
    """The Zuora category an error carries (set on every error `to_error` builds)."""
    return getattr(err, "category", None)


class Unanswered(ApiError):
    """No answer: a timeout, a refused or dropped connection. Retried; raised once the retries run out. `what` is
    a sentence that names Zuora and the call, e.g. "Zuora did not answer POST /v1/action/query within 5 s"."""

    def __init__(self, what: str, *, timed_out: bool):
        self.timed_out = timed_out
        hint = ("try again, or raise --timeout" if timed_out
                else "check the network path to Zuora and the profile's Zuora URL, then try again")
        super().__init__(None, what, status=None, hint=hint)
        self.system = SYSTEM  # already named in the sentence


def html_page(content_type: str, body: Any) -> bool:
    """True when an answer is a web page: a proxy, a login portal or a wrong host answered, not the API."""
    if not isinstance(body, str):
        return False
    return "html" in content_type.lower() or body.lstrip()[:15].lower().startswith(("<!doctype html", "<html"))


def not_the_api(where: str) -> ConfigError:
    """A web page where the API answers JSON: the URL points somewhere else. `where` carries no query string."""
    return ConfigError(f"this URL does not look like the Zuora API (got an HTML page from {where})",
                       hint="check the profile's Zuora URL (zuora_base_url, or zuora_env)")


def expect_object(body: Any, what: str) -> dict:
    """The body as a JSON object, or an ApiError naming the call (a proxy page or a truncated answer)."""
    if isinstance(body, dict):
        return body
    shown = body[:120] if isinstance(body, str) else type(body).__name__
    raise ApiError(None, f"{what}: the answer is not a JSON object ({shown!r})", system=SYSTEM)
