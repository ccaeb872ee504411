"""Shared fixtures. Every test gets an in-memory keyring: CI machines have no D-Bus, and no test may touch the
developer's real keyring. The one real Secret Service test is marked `keyring_real` and run by .ci/run."""

from __future__ import annotations

import keyring
import pytest
from memkeyring import MemoryKeyring  # tests/ is on sys.path (pytest rootdir conftest)

from core.sim.app import Simulator
from core.sim.config import SimConfig
from core.sim.server import SimServer


@pytest.fixture(autouse=True)
def memory_keyring(request):
    if request.node.get_closest_marker("keyring_real"):
        yield None
        return
    previous = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    """Config and data go to the test's own folders, never the developer's."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for var in ("CUTOVER_ZUORA_CLIENT_ID", "CUTOVER_ZUORA_CLIENT_SECRET", "CUTOVER_NETSUITE_CONSUMER_KEY",
                "CUTOVER_NETSUITE_CONSUMER_SECRET", "CUTOVER_NETSUITE_TOKEN_ID", "CUTOVER_NETSUITE_TOKEN_SECRET",
                "CUTOVER_CONFIG_FILE", "CUTOVER_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    # The operator every profile records under, unless a test says otherwise (core.profile.OPERATOR_ENV).
    monkeypatch.setenv("CUTOVER_OPERATOR", TEST_OPERATOR)


TEST_OPERATOR = "Test Operator <test@example.com>"


def make_sim(tmp_path, **overrides) -> Simulator:
    overrides.setdefault("scale", 200)
    return Simulator(SimConfig(**overrides), data_dir=tmp_path / "sim")


@pytest.fixture
def sim(tmp_path):
    """A small seeded tenant, in process (no socket)."""
    s = make_sim(tmp_path)
    yield s
    s.close()


@pytest.fixture
def sim_server(sim):
    """The same tenant served over real loopback HTTP."""
    with SimServer(sim) as srv:
        yield srv


@pytest.fixture
async def http(tenant):
    """An httpx client signed in to the module's `tenant` (a hand-built Simulator), in process."""
    from sim_tenant import signed_in

    async with signed_in(tenant) as c:
        yield c
