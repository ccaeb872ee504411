"""The log file (`cutover locate log`): what `-v`/`--debug` record, and the details of an unexpected failure.

It is meant to be attached to a support request, so every line goes through `RedactSecrets` first: signed-URL
query strings (a Data Query result link opens the tenant's data for 7 days), bearer tokens, Authorization headers
and secret-looking key=value / JSON values never reach the file. The filter sits on the handler, not on a logger, so
third-party loggers (httpx logs every request URL) are covered too.

Nothing here writes to the terminal: the Textual app draws on it, and a log line on stderr would tear the screen.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

from platformdirs import user_log_dir

APP = "cutover"
MAX_BYTES = 1_000_000  # per file; with BACKUPS old files the log stays under 4 MB
BACKUPS = 3
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[redacted]"

# Whole query strings go, not chosen parameters: a signing scheme we have not met (sig=, token=, Expires=...)
# must not slip through, and no request we log needs its query to be understood.
_URL_QUERY = re.compile(r"(?P<keep>\bhttps?://[^\s?#\"'<>]+)\?[^\s#\"'<>]*", re.IGNORECASE)
_BEARER = re.compile(r"\b(?P<keep>Bearer\s+)[A-Za-z0-9\-._~+/]+=*", re.IGNORECASE)
_AUTHORIZATION = re.compile(
    r"(?P<keep>\bAuthorization[\"']?\s*[:=]\s*[\"']?(?:(?:Bearer|Basic|OAuth|Token|Digest)\s+)?+)"
    r"(?!\[redacted\])[^\s\"',}]+", re.IGNORECASE)
# key=value, key: value, "key": "value" where the key names a secret (oauth_signature, client_secret, ...).
_SECRET_VALUE = re.compile(
    r"(?P<keep>\b[\w\-]*(?:secret|password|passwd|token|signature|api_key|consumer_key|access_key|"
    r"credential|private_key)[\w\-]*[\"']?(?:\s*[:=]|%3D|[\"']?,)\s*[\"']?)(?!\[redacted\])[^\s\"'&%,;)}\]]+",
    re.IGNORECASE)
# Loggers whose debug output is credential material by design: oauthlib prints the collected OAuth parameters and
# the signature base string (consumer key and token in clear), which no support request needs.
_CREDENTIAL_LOGGERS = ("oauthlib",)


def redact(text: str) -> str:
    """`text` with signed-URL queries, bearer tokens, Authorization values and secret values replaced."""
    text = _URL_QUERY.sub(lambda m: f"{m['keep']}?{REDACTED}", text)
    text = _AUTHORIZATION.sub(lambda m: f"{m['keep']}{REDACTED}", text)
    text = _BEARER.sub(lambda m: f"{m['keep']}{REDACTED}", text)
    return _SECRET_VALUE.sub(lambda m: f"{m['keep']}{REDACTED}", text)


class RedactSecrets(logging.Filter):
    """Renders each record's message (with its args: httpx passes the URL as one) and its traceback, redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format string still leaves a line, not a crash in logging
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def log_path() -> Path:
    """The current log file (older ones are kept next to it as cutover.log.1, .2, ...)."""
    return Path(user_log_dir(APP)) / "cutover.log"


class LogFile(logging.handlers.RotatingFileHandler):
    """Opened on the first record (a command that logs nothing leaves no file), its folder made then; a log that
    cannot be written is given up quietly, because the terminal is not the place for logging's own complaints."""

    def __init__(self, path: Path):
        super().__init__(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True)
        self.failed: OSError | None = None
        self.written = False
        self.previous_level = logging.WARNING
        self.setFormatter(logging.Formatter(_FORMAT))
        self.addFilter(RedactSecrets())

    def _open(self):
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()

    def emit(self, record: logging.LogRecord) -> None:
        if self.failed is not None:
            return
        super().emit(record)
        if self.failed is None:
            self.written = True

    def handleError(self, record: logging.LogRecord) -> None:
        import sys

        exc = sys.exc_info()[1]
        self.failed = exc if isinstance(exc, OSError) else OSError(str(exc))


def start_log(level: int) -> LogFile:
    """Send every logger's records at `level` and above to the log file, and nowhere else."""
    handler = LogFile(log_path())
    handler.setLevel(level)
    root = logging.getLogger()
    handler.previous_level = root.level
    root.addHandler(handler)
    root.setLevel(level)
    for name in _CREDENTIAL_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.INFO))
    return handler


def stop_log(handler: LogFile) -> None:
    """Detach and close the file, and give the root logger back its level (commands can run in one process)."""
    root = logging.getLogger()
    root.removeHandler(handler)
    root.setLevel(handler.previous_level)
    handler.close()
