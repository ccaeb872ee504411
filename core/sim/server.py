"""Serve a Simulator over real loopback HTTP with uvicorn, in a background thread or in the foreground."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading

import uvicorn

from core.errors import ConfigError
from core.loopback import is_loopback_host
from core.sim.app import Simulator


def check_host(host: str, *, allow_remote: bool = False) -> None:
    """Refuse a non-loopback address unless asked for it (callers check early, before slow setup)."""
    if not allow_remote and not is_loopback_host(host):
        raise ConfigError(
            f"refusing to serve the simulator on {host}: it binds to loopback only",
            hint="use --host 127.0.0.1, or pass --allow-remote if you really mean to expose it")


def bind_socket(host: str, port: int, *, allow_remote: bool = False) -> socket.socket:
    check_host(host, allow_remote=allow_remote)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}",
                          hint="pick another --port, or 0 for any free one") from None
    return sock


class _InjectedFaultsUnlogged(logging.Filter):
    """Keeps uvicorn quiet about the connections the simulator drops on purpose (the `reset` fault): uvicorn logs
    an error for every response left unfinished, and only an injected fault leaves one unfinished."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "ASGI callable returned without completing response."


_INJECTED_FAULTS_UNLOGGED = _InjectedFaultsUnlogged()


def _config(sim: Simulator, *, own_console: bool = False) -> uvicorn.Config:
    """`own_console`: `cutover sim serve` logs on its own terminal. In-process (demo, rehearse, the tests) uvicorn
    keeps its hands off logging, so its records reach the command's log file: the app draws on that terminal, and
    a rehearsal's output is its report, never a server's traceback."""
    # uvicorn picks httptools and uvloop when installed: the bulk benchmark needs both (ratio 1.29 -> 1.07).
    config = uvicorn.Config(sim.app, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=30,
                            backlog=2048, **({} if own_console else {"log_config": None}))
    logging.getLogger("uvicorn.error").addFilter(_INJECTED_FAULTS_UNLOGGED)  # after Config set uvicorn's logging up
    return config


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class SimServer:
    """`with SimServer(sim) as srv:` serves on 127.0.0.1 at a free port until the block ends."""

    def __init__(self, sim: Simulator, host: str = "127.0.0.1", port: int = 0, *, allow_remote: bool = False):
        self.sim = sim
        self.sock = bind_socket(host, port, allow_remote=allow_remote)
        sim.base_url = _url(self.sock)
        self.server = uvicorn.Server(_config(sim))
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # not the main thread
        self.thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return self.sim.base_url

    def start(self) -> SimServer:
        self.thread = threading.Thread(target=self._run, name="cutover-sim", daemon=True)
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the simulator failed to start")
            threading.Event().wait(0.01)
        return self

    def _run(self) -> None:
        self.server.run(sockets=[self.sock])  # in uvicorn's event loop (uvloop), not asyncio's default

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)
        self.sock.close()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_forever(sim: Simulator, host: str, port: int, *, allow_remote: bool = False,
                  on_ready=None) -> None:
    """Foreground serving for `cutover sim serve`; returns on Ctrl+C or SIGTERM."""
    sock = bind_socket(host, port, allow_remote=allow_remote)
    sim.base_url = _url(sock)
    config = _config(sim, own_console=True)
    server = uvicorn.Server(config)

    async def main() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        if on_ready is not None and server.started:
            on_ready()
        await task

    with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
        runner.run(main())
