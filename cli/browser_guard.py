"""textual-serve behind a one-time link: `cutover serve`'s server (loaded only when it runs: aiohttp is not for --help).

textual-serve lets anyone who reaches its port drive the app. Here the printed link carries a token that works once:
the first request for the page with `?token=` spends it and gets a cookie (HttpOnly, SameSite=Strict, Secure behind
an https public URL) holding a separate session secret, which the page's websocket, its downloads and static files,
a reload and new tabs in that browser then bring. A link copied out of shell history or a screen share after that is
refused with a page that says what to do; anything else is 403 too. Neither secret is a tenant's credential, but
they open the app: the link is printed once and never logged (the access log is off; core.logs drops URL queries
from whatever else logs).
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import sys

from aiohttp import web
from textual_serve.server import Server

from core.errors import ConfigError

COOKIE = "cutover_serve"
FORBIDDEN = "403: open the link `cutover serve` printed (it carries the token), in this browser.\n"
SPENT = ("403: this link has been used already (it opens one browser): go on in the browser that opened it, "
         "or restart `cutover serve` for a new link.\n")


def _same(given: str | None, expected: str) -> bool:
    return given is not None and secrets.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())


class LinkGuard:
    """aiohttp middleware: the session cookie lets a request in; the link's token, once, on the page, trades for it.

    The token is spent before the page is rendered (no await in between), so two browsers racing with one link
    cannot both get in. Only the page (`/`) trades it: it is what the link opens, and its answer can still take a
    cookie (a websocket's cannot)."""

    def __init__(self, link_token: str, *, secure: bool) -> None:
        self.link_token = link_token
        self.session_secret = secrets.token_urlsafe(32)
        self.secure = secure
        self.spent = False

    @web.middleware
    async def middleware(self, request: web.Request, handler):
        if _same(request.cookies.get(COOKIE), self.session_secret):
            return await handler(request)
        if not _same(request.query.get("token"), self.link_token):
            return web.Response(status=403, text=FORBIDDEN)
        if self.spent or request.path != "/":
            return web.Response(status=403, text=SPENT if self.spent else FORBIDDEN)
        self.spent = True
        try:
            response = await handler(request)
        except BaseException:
            self.spent = False  # the page never reached the browser: the link may be tried again
            raise
        response.set_cookie(COOKIE, self.session_secret, httponly=True, samesite="Strict", secure=self.secure,
                            path="/")
        response.headers["Referrer-Policy"] = "no-referrer"  # the link's token never leaves in a Referer
        response.headers["Cache-Control"] = "no-store"
        return response


class GuardedServer(Server):
    """textual-serve's Server behind the LinkGuard, bound by our own runner: no access log (it would record the
    token), port 0 for any free port, and the link printed once the real port is known."""

    def __init__(self, command: list[str], *, host: str, port: int, public_url: str | None, title: str, what: str):
        import shlex
        import subprocess

        # textual-serve runs a shell command line per tab: quoted for this platform's shell (a path with spaces).
        line = subprocess.list2cmdline(command) if sys.platform == "win32" else shlex.join(command)
        super().__init__(line, host=host, port=port, title=title, public_url=public_url or "")
        self.given_public_url = public_url
        self.what = what
        self.token = secrets.token_urlsafe(32)

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        self.guard = LinkGuard(self.token, secure=(self.given_public_url or "").startswith("https:"))
        app.middlewares.append(self.guard.middleware)
        return app

    async def on_startup(self, app: web.Application) -> None:
        """(textual-serve prints its logo and command here; the link is printed by run instead.)"""

    async def run(self) -> None:
        runner = web.AppRunner(await self._make_app(), access_log=None, handle_signals=False)
        await runner.setup()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):  # Windows: Ctrl+C ends asyncio.run instead
                pass
        try:
            site = web.TCPSite(runner, self.host, self.port)
            try:
                await site.start()
            except OSError as exc:
                raise ConfigError(f"cannot listen on {self.host} port {self.port}: {exc.strerror or exc}",
                                  hint="pick another port with --port N (0: any free port), or stop what uses it"
                                  ) from None
            bound_host, bound_port = runner.addresses[0][:2]
            if self.given_public_url is None:
                host = f"[{bound_host}]" if ":" in bound_host else bound_host
                self.public_url = f"http://{host}:{bound_port}"
            print(f"Serving {self.what}.\nOpen this link in one browser: it works once, then that browser keeps a "
                  f"session cookie (reloads and new tabs work):\n\n  {self.public_url}/?token={self.token}\n\n"
                  "Ctrl+C stops the server.", flush=True)
            await stop.wait()
        finally:
            await runner.cleanup()
            print("Stopped.", file=sys.stderr, flush=True)
