"""The log file is safe to attach: `-v`/`--debug` runs against the simulator leave their HTTP calls in it (never on
the terminal), with signed-URL queries, tokens and secrets redacted; the filter covers third-party loggers and
records whose secrets travel in their args; the file is bounded."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import httpx
import pytest
from cli_support import run, simulated_profile

from core.logs import BACKUPS, REDACTED, LogFile, RedactSecrets, log_path, redact, start_log, stop_log
from core.secrets import SECRET_NAMES

pytestmark = pytest.mark.timeout(120)

SIGNED = ("https://s3.us-west-2.amazonaws.com/dq-results/7f3a.jsonl?X-Amz-Algorithm=AWS4-HMAC-SHA256"
          "&X-Amz-Credential=AKIAPLANTED%2F20261201&X-Amz-Date=20261201T120000Z&X-Amz-Expires=604800"
          "&X-Amz-Signature=deadbeefplanted0123456789abcdef")
TOKEN = "eyJplanted.bearer-token_0123456789"
SECRET = "planted-client-secret-9c1e"


def _log_text() -> str:
    return log_path().read_text(encoding="utf-8")


def test_a_verbose_check_logs_its_calls_to_the_file_with_signed_urls_tokens_and_secrets_redacted(capsys,
                                                                                                monkeypatch):
    with simulated_profile(capsys, monkeypatch) as demo:
        # --debug after the subcommand: httpcore's wire-level records too, the most a log can hold
        code, out, err = run(capsys, "check", "C", "--profile", "sim", "--debug")
        assert code in (0, 1), err
        tokens = list(demo.sim.tokens)
        secrets = [demo.credentials.value(n) for n in SECRET_NAMES]
    assert tokens and all(secrets)
    assert err == "" and "HTTP Request" not in out  # nothing for the terminal the app draws on
    text = _log_text()
    # The run did log the requests that carried each secret: the token request, and the signed result downloads
    assert "HTTP Request: POST" in text and "/oauth/token" in text
    downloads = re.findall(r"GET \S*/data-query-results/\S+", text)
    assert downloads and all(d.endswith(f"?{REDACTED}") for d in downloads)
    assert "X-Amz-" not in text
    for value in [*tokens, *secrets]:
        assert value not in text


def test_a_planted_token_secret_and_signed_url_never_reach_the_file(tmp_path):
    """Through the handler `cutover` installs, from a third-party logger, with the secrets in the record's args."""
    handler = start_log(logging.DEBUG)
    try:
        logging.getLogger("httpx").info('HTTP Request: %s %s "%s %d %s"', "GET", httpx.URL(SIGNED), "HTTP/1.1",
                                        200, "OK")
        logging.getLogger("somelib").debug("headers %s", {"Authorization": f"Bearer {TOKEN}", "Accept": "json"})
        logging.getLogger("somelib").debug("body %s", f'{{"access_token": "{TOKEN}", "client_secret": "{SECRET}"}}')
        logging.getLogger("somelib").debug("form grant_type=client_credentials&client_secret=%s&client_id=x", SECRET)
        try:
            raise RuntimeError(f"download failed: {SIGNED} with Authorization: Bearer {TOKEN}")
        except RuntimeError:
            logging.getLogger("cutover").exception("unexpected failure")
    finally:
        stop_log(handler)
    text = _log_text()
    assert "download failed" in text and "Traceback" in text and "s3.us-west-2.amazonaws.com" in text
    for planted in (TOKEN, SECRET, "deadbeefplanted", "AKIAPLANTED", "X-Amz-"):
        assert planted not in text
    assert text.count(REDACTED) >= 7


@pytest.mark.parametrize(("line", "kept", "gone"), [
    (f"GET {SIGNED} 200", "https://s3.us-west-2.amazonaws.com/dq-results/7f3a.jsonl?[redacted]", "X-Amz"),
    ("GET https://h/v1/objects?sig=abc123&Expires=99 ok", "https://h/v1/objects?[redacted] ok", "abc123"),
    ("GET https://h/file?token=zzz999#frag", "https://h/file?[redacted]#frag", "zzz999"),
    (f"Authorization: Bearer {TOKEN}", "Authorization: Bearer [redacted]", TOKEN),
    ("{'Authorization': 'Basic dXNlcjpwYXNz', 'Accept': 'x'}", "'Accept': 'x'", "dXNlcjpwYXNz"),
    ('authorization="OAuth realm=1, oauth_signature=Zm9vYmFy"', "oauth_signature=[redacted]", "Zm9vYmFy"),
    (f'{{"access_token": "{TOKEN}", "expires_in": 3599}}', '"expires_in": 3599', TOKEN),
    (f"client_secret={SECRET}&grant_type=client_credentials", "grant_type=client_credentials", SECRET),
    ("password: hunter2, user: ada", "user: ada", "hunter2"),
    (f"refresh_token = '{TOKEN}'", "refresh_token = '[redacted]'", TOKEN),
    # oauthlib's shapes: collected parameters as tuples, and the percent-encoded signature base string
    ("[('limit', '1'), ('oauth_consumer_key', 'ck0123'), ('oauth_token', 'tk0456')]", "('limit', '1')", "ck0123"),
    ("[('oauth_consumer_key', 'ck0123'), ('oauth_token', 'tk0456')]", "('oauth_token', '[redacted]')", "tk0456"),
    ("POST&h&limit%3D1%26oauth_consumer_key%3Dck0123%26oauth_nonce%3Dn1", "%26oauth_nonce%3Dn1", "ck0123"),
    ("HTTP Request: POST http://127.0.0.1:8080/oauth/token \"HTTP/1.1 200 OK\"",
     "HTTP Request: POST http://127.0.0.1:8080/oauth/token \"HTTP/1.1 200 OK\"", "[redacted]"),
])
def test_redact_drops_the_secret_and_keeps_the_rest(line, kept, gone):
    out = redact(line)
    assert kept in out and gone not in out


def test_the_filter_renders_args_and_redacts_the_traceback_and_the_stack():
    try:
        raise ValueError(f"bad answer from {SIGNED}")
    except ValueError:
        import sys

        exc_info = sys.exc_info()
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "GET %s with Authorization: Bearer %s",
                               (httpx.URL(SIGNED), TOKEN),
                               exc_info, sinfo=f"Stack (most recent call last):\n  token={TOKEN}")
    assert RedactSecrets().filter(record) is True
    assert record.args is None and "deadbeefplanted" not in record.msg and "GET https://s3" in record.msg
    formatted = logging.Formatter().format(record)
    assert "ValueError: bad answer from https://s3.us-west-2.amazonaws.com/dq-results/7f3a.jsonl?[redacted]" \
        in formatted
    assert TOKEN not in formatted and "deadbeefplanted" not in formatted


def test_the_log_rotates_so_it_stays_bounded(tmp_path):
    handler = LogFile(tmp_path / "logs" / "cutover.log")  # the folder is made on the first record
    handler.maxBytes = 2_000
    logger = logging.getLogger("cutover.test.rotation")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        for i in range(200):
            logger.info("line %d %s", i, "x" * 50)
    finally:
        logger.removeHandler(handler)
        handler.close()
    files = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert files == ["cutover.log", *(f"cutover.log.{n}" for n in range(1, BACKUPS + 1))]
    assert all(p.stat().st_size <= 2_100 for p in (tmp_path / "logs").iterdir())
    assert "line 199" in Path(tmp_path / "logs" / "cutover.log").read_text()


def test_a_log_that_cannot_be_written_stays_off_the_terminal(tmp_path, capfd):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    handler = LogFile(blocker / "log" / "cutover.log")
    logger = logging.getLogger("cutover.test.unwritable")
    logger.addHandler(handler)
    try:
        logger.warning("nowhere to go")
    finally:
        logger.removeHandler(handler)
        handler.close()
    assert handler.failed is not None and not handler.written
    assert capfd.readouterr().err == ""  # logging's own "--- Logging error ---" block never appears
