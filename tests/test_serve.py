"""`cutover serve --demo` on loopback, as a browser meets it: the printed link (token) gets the page and a session
cookie once, the cookie opens the websocket and the app draws; the spent link is refused in another browser, with what
to do; without the token or cookie everything is 403; the report saved in the app arrives as a download through the
same guard."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from cli.browser_guard import COOKIE

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"(http://127\.0\.0\.1:\d+)/\?token=([A-Za-z0-9_-]+)")


@pytest.fixture
def served(tmp_path):
    """`cutover serve --demo --port 0` in its own process: (base URL, token)."""
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", "HOME": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--demo", "--port", "0"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 15
        out = ""
        while (match := LINK.search(out)) is None:
            line = proc.stdout.readline()
            assert line and time.monotonic() < deadline, f"no link printed: {out!r} {proc.stderr.read()!r}"
            out += line
        yield match[1], match[2]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and the tabs' app processes it started
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        proc.stdout.close()
        proc.stderr.close()


def session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # unsafe: keep cookies of an IP host


async def test_the_token_opens_the_page_websocket_and_downloads_and_nothing_else_does(served):
    base, token = served
    async with session() as stranger:
        for path in ("/", "/?token=wrong", "/static/js/textual.js", "/download/anything"):
            async with stranger.get(base + path) as r:
                assert r.status == 403, path
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await stranger.ws_connect(base + "/ws")
        assert refused.value.status == 403
        for guess in (token[:-1], token):  # the link's token is no cookie
            async with stranger.get(base + "/static/js/textual.js", cookies={COOKIE: guess}) as r:
                assert r.status == 403

    async with session() as browser:
        async with browser.get(f"{base}/?token={token}") as r:
            assert r.status == 200
            page = await r.text()
            cookie = r.cookies[COOKIE]
        assert cookie.value and cookie.value != token  # a session secret of its own, not the link's token
        assert cookie["httponly"] and cookie["samesite"] == "Strict" and not cookie["secure"]  # http on loopback
        assert "/ws" in page and token not in page  # the page's websocket needs the cookie, not the token
        async with browser.get(base + "/static/js/textual.js") as r:  # the cookie alone, from now on
            assert r.status == 200
        async with browser.get(f"{base}/?token={token}") as r:  # a reload of the spent link, through the cookie
            assert r.status == 200

    async with session() as second:  # the link, copied to another browser once spent
        async with second.get(f"{base}/?token={token}") as r:
            assert r.status == 403
            said = await r.text()
        assert said.count("\n") == 1 and "restart `cutover serve`" in said and "browser that opened it" in said
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await second.ws_connect(f"{base}/ws?token={token}")
        assert refused.value.status == 403

    async with session() as browser:  # a new tab of the first browser: its cookie, no token
        browser.cookie_jar.update_cookies({COOKIE: cookie.value})
        async with browser.get(base + "/") as r:
            assert r.status == 200

        async with browser.ws_connect(base + "/ws?width=100&height=30") as ws:
            first = await asyncio.wait_for(ws.receive(), 15)
            assert first.type is aiohttp.WSMsgType.BINARY and first.data.startswith(b"\x1b[")  # the terminal
            drawn = bytearray(first.data)
            key = None
            deadline = time.monotonic() + 15
            next_press = 0.0
            while key is None:
                assert time.monotonic() < deadline, "no download offered after Ctrl+R"
                if time.monotonic() > next_press:  # Ctrl+R saves the report once the demo is ready
                    await ws.send_json(["stdin", "\x12"])
                    next_press = time.monotonic() + 1.0
                try:
                    msg = await asyncio.wait_for(ws.receive(), 0.5)
                except TimeoutError:
                    continue
                if msg.type is aiohttp.WSMsgType.BINARY:
                    drawn += msg.data
                elif msg.type is aiohttp.WSMsgType.TEXT and json.loads(msg.data)[0] == "deliver_file_start":
                    key = json.loads(msg.data)[1]
                else:
                    assert msg.type is aiohttp.WSMsgType.TEXT, msg
            assert b"own demo" in drawn  # the tab says it has a tenant of its own
            async with browser.get(f"{base}/download/{key}") as r:
                assert r.status == 200
                assert "report-demo.md" in r.headers["Content-Disposition"]
                assert "Sign-off report" in await r.text()
    async with session() as stranger, stranger.get(f"{base}/download/{key}") as r:
        assert r.status == 403


@pytest.mark.parametrize("argv, says", [
    (["serve"], "serve what?"),
    (["serve", "--demo", "--host", "0.0.0.0"], "would let other machines drive the app"),
    (["serve", "--demo", "--host", "0.0.0.0", "--allow-remote"], "needs --public-url"),
    (["serve", "--demo", "--public-url", "ftp://x"], "is not a site's address"),
    (["serve", "--profile", "nope"], "no profile named 'nope'"),
    (["serve", "--demo", "--port", "70000"], "is not a port"),
])
def test_bad_serve_input_is_one_line_and_exit_2(capsys, argv, says):
    from cli import main

    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own refusals
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 2 and says in err and len(err.strip().splitlines()) == 1 and out == "", (code, out, err)


async def test_behind_an_https_public_url_the_cookie_is_secure_and_only_the_page_spends_the_link():
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from cli.browser_guard import LinkGuard

    async def page(request):
        return web.Response(text="the app")

    guard = LinkGuard("link-token", secure=True)
    app = web.Application(middlewares=[guard.middleware])
    app.router.add_get("/", page)
    app.router.add_get("/static/x", page)
    async with TestClient(TestServer(app), cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
        async with client.get("/static/x?token=link-token") as r:  # not what the link opens: refused, not spent
            assert r.status == 403 and COOKIE not in r.cookies
        async with client.get("/?token=link-token") as r:
            assert r.status == 200
            cookie = r.cookies[COOKIE]
        assert cookie["secure"] and cookie.value == guard.session_secret and guard.spent
