"""textual-serve behind a token: `cutover serve`'s server (loaded only when it runs: aiohttp is not for --help).

textual-serve lets anyone who reaches its port drive the app. Here every request (the page, its websocket, its
downloads and static files) must carry the token made for this run: in the printed link's `?token=`, after which the
page's answer keeps it in a cookie (HttpOnly, SameSite=Strict) for the websocket and the downloads. Anything else is
403. The token is no credential of a tenant, but it opens the app: it is printed once and never logged (the access
log is off; core.logs drops URL queries from whatever else logs).
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


def token_guard(token: str, *, secure: bool):
    """aiohttp middleware: the token in the query (then set as a cookie) or in the cookie, else 403."""
    expected = token.encode()

    def matches(given: str | None) -> bool:
        return given is not None and secrets.compare_digest(given.encode("utf-8", "surrogatepass"), expected)

    @web.middleware
    async def guard(request: web.Request, handler):
        from_query = matches(request.query.get("token"))
        if not from_query and not matches(request.cookies.get(COOKIE)):
            return web.Response(status=403, text=FORBIDDEN)
        response = await handler(request)
        if from_query and isinstance(response, web.Response) and not response.prepared:
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", secure=secure, path="/")
            response.headers["Referrer-Policy"] = "no-referrer"  # the link's token never leaves in a Referer
            response.headers["Cache-Control"] = "no-store"
        return response

    return guard


class GuardedServer(Server):
    """textual-serve's Server with the token guard, bound by our own runner: no access log (it would record the
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
        app.middlewares.append(token_guard(self.token, secure=(self.given_public_url or "").startswith("https:")))
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
            print(f"Serving {self.what}.\nOpen this link in a browser (it carries this run's token; anyone with it "
                  f"can drive the app):\n\n  {self.public_url}/?token={self.token}\n\nCtrl+C stops the server.",
                  flush=True)
            await stop.wait()
        finally:
            await runner.cleanup()
            print("Stopped.", file=sys.stderr, flush=True)
