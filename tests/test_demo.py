"""DemoTenant: a simulator on loopback with a ready profile and in-memory credentials; never the keyring."""

from __future__ import annotations

from pathlib import Path

import keyring
from keyring.backends import fail

from core.demo import DemoTenant
from core.secrets import SECRET_NAMES
from core.session import Session, test_connection
from core.sim.catalog import NS_FIELD_IDS


def test_demo_profile_points_at_the_running_simulator_without_any_keyring():
    keyring.set_keyring(fail.Keyring())  # any keyring call would raise; the conftest fixture restores it
    with DemoTenant(scale=1) as demo:
        p = demo.profile
        assert p.name == "demo" and p.environment == "sandbox" and not p.read_only
        assert p.zuora_url() == p.netsuite_url() == demo.base_url and demo.base_url.startswith("http://127.0.0.1:")
        assert p.netsuite_account_id == demo.sim.config.netsuite_account_id
        assert p.netsuite_fields.script_ids() == NS_FIELD_IDS
        assert {n: demo.credentials.value(n) for n in SECRET_NAMES} == \
            {n: getattr(demo.sim.credentials, n) for n in SECRET_NAMES}
        root = Path(p.data_dir).parent
        assert root.exists()
        assert "secret" not in repr(demo).lower()
    assert not root.exists()  # the temporary folder goes with the demo


async def test_demo_is_usable_from_async_code_through_a_session():
    async with DemoTenant(scale=1) as demo:
        checks = await test_connection(demo.profile, demo.credentials)
        assert [(c.system, c.ok) for c in checks] == [("Zuora", True), ("NetSuite", True)]
        async with Session(demo.profile, demo.credentials) as session:
            assert await session.zuora.token()
            rows = await session.netsuite.suiteql_rows("SELECT COUNT(*) AS n FROM transaction")
            assert int(rows[0]["n"]) == demo.sim.store.scalar('SELECT COUNT(*) FROM ns."transaction"')
