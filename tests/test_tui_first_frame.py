"""The runbook screen's first frame: light look-alikes of the phase list and the step table, with the footer's keys,
then the real OptionList and DataTable swapped in once that frame is out, keeping what keys asked for meanwhile."""

from __future__ import annotations

from textual.widgets import DataTable

from core.config import save_profile
from core.profile import Profile
from core.secrets import SECRET_NAMES, env_var
from tui.app import CutoverApp
from tui.backend import Backend
from tui.widgets.footer import KeysFooter
from tui.widgets.phases import PhaseList
from tui_helpers import wait_until


def offline_app(monkeypatch) -> CutoverApp:
    """A profile whose systems refuse connections at once: the app opens, its journal is empty, the probe fails."""
    url = "http://127.0.0.1:9"
    save_profile(Profile(name="offline", zuora_base_url=url, netsuite_base_url=url, netsuite_account_id="1234567"))
    for name in SECRET_NAMES:
        monkeypatch.setenv(env_var(name), "not-a-secret-0123456789")
    return CutoverApp(Backend(profile_name="offline"))


def footer_keys(screen) -> list[str]:
    return [key.description for key in screen.query("FooterKey")]


async def test_the_first_frame_is_sketched_then_the_real_widgets_take_over_with_the_focus_asked_for(monkeypatch):
    app = offline_app(monkeypatch)
    first: dict = {}
    real = CutoverApp.after_first_frame

    async def after_first_frame(self):
        screen = self.screen
        first["widgets"] = {type(w).__name__ for w in screen.query("*")}
        first["title"] = screen.query_one("#steps-sketch").border_title
        first["footer"] = footer_keys(screen)
        first["loaded"] = self.backend.preview is not None or self.backend.ready
        await self.run_action("screen.focus_phases")  # `left` pressed before the real widgets are in
        await real(self)

    monkeypatch.setattr(CutoverApp, "after_first_frame", after_first_frame)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.screen.live, timeout=30)
        screen = app.screen
        # the first frame: the sketches, the phase's title and the footer's keys; nothing loaded behind them yet
        assert {"PhaseSketch", "StepsSketch", "TopBar", "KeysFooter"} <= first["widgets"]
        assert not {"DataTable", "PhaseList"} & first["widgets"]
        assert first["title"] == "A · Discovery" and first["footer"]
        assert not first["loaded"]
        # after the swap: the real widgets only, the focus where the key asked, the same keys in the footer
        assert not screen.query("PhaseSketch, StepsSketch")
        assert [c.label.plain for c in screen.query_one("#steps", DataTable).columns.values()][:3] == \
            ["St", "Id", "Step"]
        assert isinstance(app.focused, PhaseList)
        await pilot.pause()
        assert footer_keys(screen) == first["footer"]
        await pilot.press("right")
        assert isinstance(app.focused, DataTable)
        await wait_until(pilot, lambda: app.backend.ready, timeout=30)  # and the run opens behind it, as before
        await wait_until(pilot, lambda: screen.query_one("#steps", DataTable).row_count > 0, timeout=30)


async def test_the_footer_is_rebuilt_only_when_the_keys_it_shows_change(monkeypatch):
    app = offline_app(monkeypatch)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.screen.live, timeout=30)
        footer = app.screen.query_one(KeysFooter)
        keys = list(footer.query("FooterKey"))
        assert keys and "c" in [k.key for k in keys]
        app.screen.refresh_bindings()  # published again, the same keys: the same key widgets stay
        await pilot.press("left", "right")  # focus moves publish them too
        await pilot.pause(0.2)
        assert list(footer.query("FooterKey")) == keys
        app.set_keymap({"runbook.check_phase": "x"})  # a key the footer shows changes: rebuilt, showing it
        await wait_until(pilot, lambda: "x" in [k.key for k in footer.query("FooterKey")], timeout=30)
        assert "c" not in [k.key for k in footer.query("FooterKey")]
