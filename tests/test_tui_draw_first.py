"""Draw first, connect after: the checklist is on screen before any seeding, keyring read, token or probe is done,
and live state fills in as it arrives."""

from __future__ import annotations

import asyncio
import socket
import threading

from textual.widgets import DataTable

from core.config import save_profile
from core.profile import Profile
from core.demo import DemoTenant
from core.journal import Journal
from core.secrets import SECRET_NAMES, env_var
from core.runbook.engine import unrecorded_states
from tui.app import CutoverApp
from tui.backend import Backend
from tui.widgets.status import status_cell
from tui_helpers import demo_app, wait_until


class SilentServer:
    """A loopback port that accepts connections and never answers: a tenant that hangs."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()


def rows(app) -> dict[str, str]:
    if not app.screen.query("#steps"):  # the first frame's sketch: the real table mounts right after it
        return {}
    table = app.screen.query_one("#steps", DataTable)
    return {key.value: str(table.get_row(key)[0]) for key in table.rows}


async def test_a_profile_whose_tenant_hangs_shows_its_journal_at_once_and_the_probe_fills_in_later(monkeypatch):
    silent = SilentServer()
    try:
        url = f"http://127.0.0.1:{silent.port}"
        profile = Profile(name="hangs", zuora_base_url=url, netsuite_base_url=url, netsuite_account_id="1234567")
        save_profile(profile)
        with Journal.for_profile(profile) as journal:
            journal.confirm("A2", "settings captured before the session")  # what the checklist must show
        for name in SECRET_NAMES:
            monkeypatch.setenv(env_var(name), "not-a-secret-0123456789")
        app = CutoverApp(Backend(profile_name="hangs"))
        unrecorded = str(status_cell(unrecorded_states()["A2"]))
        async with app.run_test(size=(120, 36)) as pilot:
            # the journal's confirmation is drawn, though the tenant never answers (30 s bounds a loaded box and is
            # still half the 60 s a request to the silent tenant waits before it even fails)
            await wait_until(pilot, lambda: rows(app).get("A2", unrecorded) != unrecorded, timeout=30)
            await wait_until(pilot, lambda: app.backend.ready, timeout=30)
            await wait_until(pilot, lambda: bool(silent.held), timeout=30)  # the IS probe is under way, unanswered
            assert app.backend.invoice_settlement is None  # still unknown: the header says '?', nothing waits on it
            await pilot.press("enter")  # the step opens while the probe still hangs
            await wait_until(pilot, lambda: type(app.screen).__name__ == "StepScreen", timeout=30)
    finally:
        silent.close()


async def test_the_demo_draws_its_checklist_while_the_tenant_is_still_seeding(monkeypatch):
    seeded = asyncio.Event()
    real_enter = DemoTenant.__aenter__

    async def slow_enter(self):
        await seeded.wait()
        return await real_enter(self)

    monkeypatch.setattr(DemoTenant, "__aenter__", slow_enter)
    app = demo_app(scale=200)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: {"A1", "A2", "A3"} <= set(rows(app)), timeout=30)
        assert not app.backend.ready
        assert "Seeding" in app.backend.status_text
        seeded.set()
        await wait_until(pilot, lambda: app.backend.ready, timeout=30)
        await wait_until(pilot, lambda: "✓" in rows(app)["A1"] or app.backend.invoice_settlement is not None,
                         timeout=30)
