"""The demo tenant: a simulated Zuora + NetSuite + connector on loopback, with a ready profile and credentials.

`cutover demo`, `--demo` flags and tests use it. The credentials are the simulator's fresh random ones, kept in
memory only: the demo never reads or writes the keyring, and everything it stores lives in a temporary folder
that is removed when it stops.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from core.profile import NetSuiteFields, Operator, Profile
from core.secrets import Credentials
from core.sim.app import Simulator
from core.sim.catalog import NS_FIELD_IDS
from core.sim.config import SimConfig, parse_scale
from core.sim.server import SimServer

DEMO_PROFILE = "demo"
DEMO_OPERATOR = Operator(name="Demo operator", email="demo@cutover.invalid")


class DemoTenant:
    """`with DemoTenant() as demo:` (or `async with`) serves the simulator until the block ends."""

    def __init__(self, seed: int = 1, scale: str | int = "small", *, connector_pace_s: float = 0.05,
                 **sim_options):
        self.config = SimConfig(seed=seed, scale=parse_scale(scale), connector_pace_s=connector_pace_s,
                                **sim_options)
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._sim: Simulator | None = None
        self._server: SimServer | None = None
        self._profile: Profile | None = None
        self._credentials: Credentials | None = None

    def __repr__(self) -> str:
        state = f"serving {self._server.base_url}" if self._server else "stopped"
        return f"DemoTenant(seed={self.config.seed}, scale={self.config.scale}, {state})"

    # ---- lifecycle --------------------------------------------------------------------------------------------
    def start(self) -> DemoTenant:
        if self._server is not None:
            return self
        self._tmp = tempfile.TemporaryDirectory(prefix="cutover-demo-")
        root = Path(self._tmp.name)
        try:
            self._sim = Simulator(self.config, data_dir=root / "sim")
            self._server = SimServer(self._sim).start()
        except BaseException:
            self.stop()
            raise
        url = self._server.base_url
        self._profile = Profile(
            name=DEMO_PROFILE, zuora_base_url=url, netsuite_base_url=url,
            netsuite_account_id=self.config.netsuite_account_id, environment="sandbox",
            data_dir=root / "data", netsuite_fields=NetSuiteFields(**NS_FIELD_IDS), operator=DEMO_OPERATOR,
        )
        c = self._sim.credentials
        self._credentials = Credentials.from_values(
            {n: getattr(c, n) for n in Credentials.model_fields})
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._sim is not None:
            self._sim.close()
            self._sim = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> DemoTenant:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    async def __aenter__(self) -> DemoTenant:
        return await asyncio.to_thread(self.start)  # seeding takes a moment; keep the event loop free

    async def __aexit__(self, *exc) -> None:
        await asyncio.to_thread(self.stop)

    # ---- what callers use -------------------------------------------------------------------------------------
    def _running(self, what):
        if what is None:
            raise RuntimeError("the demo tenant is not running: use `with DemoTenant() as demo:`")
        return what

    @property
    def sim(self) -> Simulator:
        return self._running(self._sim)

    @property
    def base_url(self) -> str:
        return self._running(self._server).base_url

    @property
    def profile(self) -> Profile:
        return self._running(self._profile)

    @property
    def credentials(self) -> Credentials:
        return self._running(self._credentials)
