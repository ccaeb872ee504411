"""Typed errors raised by the clients. Screens and the CLI turn them into messages a person can act on.

Messages never carry secrets: they are built from vendor error bodies and our own words only.
"""

from __future__ import annotations


class CutoverError(Exception):
    """Base for every error the tool reports to a person."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str = ""):
        super().__init__(message)
        self.message = message
        if hint:
            self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ApiError(CutoverError):
    """The vendor answered with an error that retrying will not fix (or retries ran out)."""

    def __init__(self, code: str | int | None, message: str, request_id: str | None = None, *,
                 status: int | None = None, system: str = "", hint: str = ""):
        self.code = code
        self.request_id = request_id
        self.status = status
        self.system = system
        text = f"{system + ': ' if system else ''}{message}"
        if code is not None:
            text += f" [code {code}]"
        if request_id:
            text += f" (request id {request_id})"
        super().__init__(text, hint=hint)


class AuthError(ApiError):
    """Credentials were refused, or a token could not be had."""

    hint = "check the credentials with `cutover credentials test PROFILE`"


class RateLimited(ApiError):
    """Too many requests (429) and the retries ran out."""

    def __init__(self, *args, retry_after: float | None = None, **kw):
        self.retry_after = retry_after
        super().__init__(*args, **kw)


class NotFound(ApiError):
    """The record or route does not exist."""


class ConfigError(CutoverError):
    """A profile, setting or argument is wrong; the message names the field and the fix."""


class CredentialsError(CutoverError):
    """Secrets are missing, or no safe store exists to keep them."""


class JournalError(CutoverError):
    """The journal file cannot be used as it is (damaged, not a journal, a folder, read-only, a full disk); the message
    names the file and what to do about it."""


class JournalBusy(JournalError):
    """Another process held the journal's write lock for longer than the bounded wait; the message names it."""


def first_cause(exc: BaseException) -> BaseException:
    """The one exception a person should hear about. An ExceptionGroup (a task group's failures) is never the
    message: out of its leaves, an interrupt first, then the tool's own errors, then a file problem, else the first
    one raised. Any other exception is itself."""
    leaves, todo = [], [exc]
    while todo:
        node = todo.pop(0)
        if isinstance(node, BaseExceptionGroup):
            todo[:0] = node.exceptions
        else:
            leaves.append(node)
    for kind in (SystemExit, KeyboardInterrupt, CutoverError, OSError):
        for leaf in leaves:
            if isinstance(leaf, kind):
                return leaf
    return leaves[0] if leaves else exc
