"""Theme and keymap (issue 13): TEXTUAL_THEME beats the saved theme, a palette pick is saved to the config, the
status glyphs take the theme's colours, and the config's [keymap] rebinds keys by id; bad entries are warnings."""

from __future__ import annotations

import tomllib

import pytest

from core.config import config_path
from tests.tui_helpers import demo_app, wait_until
from tui.preferences import checked_keymap, key_problem
from tui.profiles_app import ProfilesApp
from tui.screens.help import HelpScreen
from tui.widgets.status import STYLES, status_cell


def write_config(text: str) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def warnings(app) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "warning"]


async def test_textual_theme_beats_the_saved_theme_and_colours_the_statuses(monkeypatch):
    write_config('theme = "nord"\n')
    monkeypatch.setenv("TEXTUAL_THEME", "gruvbox")
    app = ProfilesApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.theme == "gruvbox")
        await pilot.pause(0.1)
        success = app.theme_variables["text-success"]
        assert success.startswith("#") and success != "#8AD4A1"  # gruvbox's green, not textual-dark's
        assert STYLES["pass"] == f"bold {success}"
        assert status_cell(None).style == "dim"
        assert not warnings(app)
        await pilot.press("f1")  # the Profiles app's own help, with the ids to rebind
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert "| `f1` | Help | `app.help` |" in app.screen.text
    assert tomllib.loads(config_path().read_text())["theme"] == "nord"  # the variable is not a choice to save


async def test_saved_theme_applies_and_a_palette_pick_is_saved(monkeypatch):
    monkeypatch.delenv("TEXTUAL_THEME", raising=False)
    write_config('# mine\ntheme = "nord"\n')
    app = ProfilesApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.theme == "nord")
        await pilot.pause(0.2)
        assert tomllib.loads(config_path().read_text())["theme"] == "nord"
        app.theme = "dracula"  # what the palette's "Change theme" does
        await wait_until(pilot, lambda: tomllib.loads(config_path().read_text()).get("theme") == "dracula")
    assert config_path().read_text().startswith("# mine")  # comments survive (tomlkit)


async def test_unknown_textual_theme_is_a_warning(monkeypatch):
    monkeypatch.setenv("TEXTUAL_THEME", "no-such-theme")
    app = ProfilesApp()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_until(pilot, lambda: warnings(app))
        assert app.theme == "textual-dark"
        assert "TEXTUAL_THEME=no-such-theme is not a theme" in warnings(app)[0]


async def test_keymap_rebinds_by_id_and_bad_entries_warn(monkeypatch):
    monkeypatch.delenv("TEXTUAL_THEME", raising=False)
    write_config('[keymap]\n"app.help" = "f2"\n"app.nothing" = "f3"\n"app.monitor" = "ctrl+bogus"\n'
                 '"credentials.save" = "ctrl+s"\n')
    app = demo_app(scale=200)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_until(pilot, lambda: app.preferences.applied and len(warnings(app)) >= 2)
        await pilot.pause(0.2)  # a third warning would have landed by now
        found = warnings(app)
        assert any("'app.nothing' is not a binding id" in w for w in found), found
        assert any("keymap app.monitor: 'bogus'" in w for w in found), found
        assert len(found) == 2, found  # credentials.save is a real id: no warning, not taken for a secret
        await pilot.press("f1")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, HelpScreen)  # F1 no longer opens help
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = app.screen.text
        assert "| `f2` | Help | `app.help` |" in text and "[keymap]" in text


@pytest.mark.parametrize("keys, problem", [
    ("ctrl+o", None), ("f9,ctrl+o", None), ("?", None), ("question_mark", None), ("shift+pageup", None),
    ("ctrl+", "without a key"), ("hyper+x", None), ("cmd+o", "not a modifier"), ("ctrl+bogus", "not a key"),
    ("f9,,x", "empty key"),
])
def test_key_problem(keys, problem):
    found = key_problem(keys)
    assert (found is None) if problem is None else (problem in found), found


def test_unknown_id_suggests_a_close_one():
    good, problems = checked_keymap({"monitor": "ctrl+o", "app.help": "f2"}, {"app.monitor": "Monitor",
                                                                             "app.help": "Help"})
    assert good == {"app.help": "f2"}
    assert problems == ["keymap: 'monitor' is not a binding id (did you mean app.monitor?)"]
