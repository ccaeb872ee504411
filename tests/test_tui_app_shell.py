"""The app shell: keys and palette entries for the Variables and Simulated tenant screens, the one handler that turns
worker errors into notifications, quitting that asks when something would be lost, the confirm dialog's focus, the
report delivered to the downloads folder, and F1 titled after the screen in front."""

from __future__ import annotations

import asyncio
import sys
import types

from textual import work
from textual.app import App
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Static

from tests.tui_helpers import demo_app, wait_ready, wait_until
from tui.app import CutoverApp
from tui.backend import Backend
from tui.screens.confirm import ConfirmWrite
from tui.screens.help import HelpScreen, help_markdown
from tui.screens.runbook import RunbookScreen


def messages(app) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


def errors(app) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications if n.severity == "error"]


def real_profile_app() -> CutoverApp:
    """An app on a real profile (not the demo). The profile is not saved, so it never connects: enough for what is
    offered and refused."""
    return CutoverApp(Backend(profile_name="acme-sbx"))


def stub_module(monkeypatch, module: str, class_name: str, title: str) -> type[Screen]:
    """A stand-in for a screen another module provides, imported by the app's action like the real one."""
    screen_type = type(class_name, (Screen,), {"TITLE": title, "compose": lambda self: iter([Static(title)])})
    stub = types.ModuleType(module)
    setattr(stub, class_name, screen_type)
    monkeypatch.setitem(sys.modules, module, stub)
    return screen_type


def palette_titles(app) -> list[str]:
    return [c.title for c in app.get_system_commands(app.screen)]


# ---- 1. keys and palette for the Variables and Simulated tenant screens -----------------------------------------------
async def test_v_and_S_open_their_screens_on_the_demo_and_both_are_in_the_palette(monkeypatch):
    variables = stub_module(monkeypatch, "tui.screens.variables", "VariablesScreen", "Run variables")
    simulated = stub_module(monkeypatch, "tui.screens.simulated", "SimulatedScreen", "Simulated tenant")
    app = demo_app(scale=200)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.press("v")  # the tenant is not connected yet: the screen waits for it
        assert isinstance(app.screen, RunbookScreen)
        await wait_until(pilot, lambda: "Still connecting…" in " ".join(messages(app)))  # notify() posts a message
        await wait_ready(pilot)
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, variables))
        await pilot.press("v")  # already in front: not pushed twice
        assert sum(isinstance(s, variables) for s in app.screen_stack) == 1
        app.pop_screen()
        await pilot.press("S")
        await wait_until(pilot, lambda: isinstance(app.screen, simulated))
        app.pop_screen()
        await pilot.pause()

        titles = palette_titles(app)
        assert "Variables" in titles and "Simulated tenant" in titles
        helps = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert "every run variable, who set it and when" in helps["Variables"].lower()
        assert "what support or a person does outside the app (demo only)" in helps["Simulated tenant"].lower()

        # Through the palette itself, as a person would
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*"Simulated tenant")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, simulated))


async def test_S_is_refused_and_not_offered_on_a_real_profile(monkeypatch):
    simulated = stub_module(monkeypatch, "tui.screens.simulated", "SimulatedScreen", "Simulated tenant")
    app = real_profile_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.pause(0.3)
        await pilot.press("S")
        await wait_until(pilot, lambda: any("Demo only" in m and "demo only" in m for m in messages(app)))
        assert not any(isinstance(s, simulated) for s in app.screen_stack)
        titles = palette_titles(app)
        assert "Simulated tenant" not in titles
        assert "Variables" in titles


async def test_a_screen_module_that_cannot_load_is_a_notification_not_a_crash(monkeypatch):
    monkeypatch.setitem(sys.modules, "tui.screens.variables", None)  # import → ModuleNotFoundError
    monkeypatch.setitem(sys.modules, "tui.screens.simulated", None)
    app = demo_app(scale=200)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await wait_ready(pilot)
        await pilot.press("v")
        await pilot.press("S")
        await wait_until(pilot, lambda: len(errors(app)) >= 2)
        assert isinstance(app.screen, RunbookScreen)
        text = " ".join(errors(app))
        assert "The Variables screen cannot open" in text and "The Simulated tenant screen cannot open" in text
        await pilot.press("f1")  # still answering keys
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))


# ---- 2. one handler turns worker errors into notifications ------------------------------------------------------------
class Failing(Screen):
    """A screen whose workers fail with nothing to catch them: an async one, a thread one, one on a widget inside."""

    def compose(self):
        with Vertical():
            yield Static("failing", id="inner")

    @work(group="stub-async", exit_on_error=False)
    async def fail_async(self) -> None:
        raise RuntimeError("the async worker broke")

    @work(group="stub-thread", exit_on_error=False, thread=True)
    def fail_thread(self) -> None:
        raise ValueError("the thread worker broke")

    def fail_on_widget(self) -> None:
        async def broken() -> None:
            raise KeyError("widget")

        self.query_one("#inner").run_worker(broken, group="stub-widget", exit_on_error=False)


async def test_a_failing_worker_on_any_screen_gives_one_notification_and_the_app_keeps_going():
    app = real_profile_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        # The unsaved profile's own error comes from the open worker, at its own pace: let it land first, or it
        # would be counted as one of the failing workers' notifications.
        await wait_until(pilot, lambda: any(e.startswith("Not connected: ") for e in errors(app)))
        before = len(errors(app))
        screen = Failing()
        await app.push_screen(screen)
        screen.fail_async()
        await wait_until(pilot, lambda: len(errors(app)) == before + 1)
        await pilot.pause(0.2)
        assert errors(app)[-1] == "Fail async failed: RuntimeError: the async worker broke"
        screen.fail_thread()
        await wait_until(pilot, lambda: len(errors(app)) == before + 2)
        screen.fail_on_widget()
        await wait_until(pilot, lambda: len(errors(app)) == before + 3)
        await pilot.pause(0.3)
        assert len(errors(app)) == before + 3  # one each, never twice
        assert "ValueError: the thread worker broke" in errors(app)[-2]
        assert app.is_running and app.screen is screen
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)


# ---- 3. quitting asks first when something would be lost ---------------------------------------------------------------
async def test_q_quits_at_once_when_nothing_would_be_lost():
    app = real_profile_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.3)
        await pilot.press("q")
        await wait_until(pilot, lambda: app._exit)  # action_quit is async: it may end a tick after the key


class Applying(Screen):
    step_id = "E1"

    def __init__(self):
        super().__init__()
        self.release = asyncio.Event()

    def compose(self):
        yield Static("applying")

    @work(group="step-apply", exit_on_error=False)
    async def run_apply(self) -> None:
        await self.release.wait()


async def test_quitting_during_an_apply_asks_first_and_esc_keeps_the_app_open():
    app = real_profile_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.pause(0.3)
        screen = Applying()
        await app.push_screen(screen)
        screen.run_apply()
        await pilot.pause(0.1)
        await pilot.press("q")
        # in front when pushed, focused a call_later after it mounts: wait for the focus before reading it
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmWrite) and app.screen.focused is not None)
        dialog = app.screen
        assert "an apply on E1" in dialog.what and "resumes where it stopped" in dialog.what
        assert app.focused is dialog.query_one("#apply", Button) and str(app.focused.label) == "Quit"
        await pilot.press("ctrl+q")  # a second quit while the question is open asks nothing new
        await pilot.pause(0.1)
        assert app.screen is dialog and not app._exit
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        assert not app._exit and app.is_running

        await pilot.press("ctrl+q")  # Ctrl+Q asks the same question; Tab to Stay, Enter does what Stay says
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmWrite))
        await pilot.press("tab")
        assert str(app.focused.label) == "Stay"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen)
        assert not app._exit

        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmWrite))
        await pilot.press("enter")  # Enter on the focused Quit
        await wait_until(pilot, lambda: app._exit)  # the dialog's answer reaches its callback a message later
        screen.release.set()


async def test_quitting_the_demo_says_what_is_deleted_and_where_saved_files_went(tmp_path):
    app = demo_app(scale=200)
    app.downloads_dir = tmp_path / "downloads"
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await wait_ready(pilot)
        await app.backend.check("A1")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: (tmp_path / "downloads" / "report-demo.md").exists() and not app.deliveries)
        first = (tmp_path / "downloads" / "report-demo.md").read_bytes()
        await pilot.press("ctrl+r")  # a second report never overwrites the first: saved beside it, as a browser does
        await wait_until(pilot, lambda: (tmp_path / "downloads" / "report-demo (2).md").exists() and not app.deliveries)
        assert (tmp_path / "downloads" / "report-demo.md").read_bytes() == first
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmWrite))
        text = app.screen.what
        assert "temporary folder that is deleted when the app closes" in text
        assert "1 check result)" in text or "1 check result," in text
        assert str(tmp_path / "downloads") in text and "report-demo.md" in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmWrite))
        assert not app._exit


# ---- 4. the confirm dialog: Enter does what the focused control says --------------------------------------------------
class Host(App):
    def __init__(self, dialog: ConfirmWrite):
        super().__init__()
        self.dialog = dialog
        self.answers: list[bool | None] = []

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self.answers.append)


def hint(app) -> str:
    return str(app.dialog.query_one("#enter-hint", Static).content)


async def test_enter_confirms_a_plain_confirmation_and_the_dialog_says_so():
    app = Host(ConfirmWrite("Apply E1?", "12 memos: Transferred to Accounting No → Yes"))
    async with app.run_test(notifications=True) as pilot:
        await pilot.pause()
        assert app.focused is app.dialog.query_one("#apply", Button)
        assert hint(app).startswith("Enter: Apply")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.answers == [True])  # dismiss() answers through a message
        await pilot.pause(0.2)  # a notification would have landed by now
        assert not messages(app)


async def test_esc_and_cancel_say_not_applied():
    app = Host(ConfirmWrite("Apply E1?", "12 memos"))
    async with app.run_test(notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.answers == [False] and any("Not applied" in m for m in messages(app)))

    app = Host(ConfirmWrite("Apply E1?", "12 memos"))
    async with app.run_test(notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("tab")  # to Cancel: the hint follows the focus
        assert app.focused is app.dialog.query_one("#cancel", Button)
        assert hint(app).startswith("Enter: Cancel")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.answers == [False] and any("Not applied" in m for m in messages(app)))

    app = Host(ConfirmWrite("Retire #2?", "It stops counting", confirm_label="Retire"))
    async with app.run_test(notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await wait_until(pilot, lambda: any("Retire cancelled: nothing was written" in m for m in messages(app)))


async def test_a_production_confirmation_focuses_the_typed_word():
    app = Host(ConfirmWrite("Apply E1?", "12 memos", typed_word="acme-prod"))
    async with app.run_test(notifications=True) as pilot:
        await pilot.pause()
        assert app.focused is app.dialog.query_one("#typed", Input)
        assert "Type acme-prod, then Enter" in hint(app)
        await pilot.press("enter")  # nothing typed: refused with the reason, still open
        await wait_until(pilot, lambda: any("Type acme-prod exactly" in m for m in messages(app)))
        assert app.answers == []
        assert app.dialog.query_one("#apply", Button).disabled
        await pilot.press(*"acme-prod")
        await wait_until(pilot, lambda: not app.dialog.query_one("#apply", Button).disabled)  # Input.Changed, posted
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.answers == [True])


# ---- 5. the report goes through deliver_text to the downloads folder ----------------------------------------------
async def test_ctrl_r_delivers_the_report_to_the_downloads_folder(tmp_path, monkeypatch):
    downloads = tmp_path / "Downloads-here"
    config = tmp_path / "config"  # conftest points XDG_CONFIG_HOME here; user-dirs.dirs names the downloads folder
    config.mkdir(exist_ok=True)
    (config / "user-dirs.dirs").write_text(f'XDG_DOWNLOAD_DIR="{downloads}"\n')
    delivered = []
    original = App.deliver_text

    def spy(self, path_or_file, **options):
        delivered.append(options)
        return original(self, path_or_file, **options)

    monkeypatch.setattr(App, "deliver_text", spy)
    app = demo_app(scale=200)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+r")
        report = downloads / "report-demo.md"
        await wait_until(pilot, lambda: report.exists() and any("Sign-off report saved" in m for m in messages(app)))
        assert "\n# Sign-off report: demo\n" in report.read_text(encoding="utf-8")
        assert [d["save_filename"] for d in delivered] == ["report-demo.md"]
        assert any(f"saved to {report}" in m for m in messages(app))
        assert app.delivered == [report]
        assert not (app.backend.exports_dir() / "report.md").exists()  # nothing left in the demo's temporary folder


async def test_a_file_delivered_by_path_arrives_whole_and_is_announced(tmp_path):
    """The step screen delivers its plan export as a path: Textual 8.2.8's terminal driver would fail on it (bytes
    written in text mode); the app hands it on as text."""
    source = tmp_path / "work" / "plan-E1-1.csv"
    source.parent.mkdir()
    source.write_bytes("record,current,new\r\nCM00000001,No,Yes\r\nCM00000002,Ño,Yes\r\n".encode())
    app = real_profile_app()
    app.downloads_dir = tmp_path / "downloads"
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.pause(0.2)
        app.deliver_text(source, mime_type="text/csv", name="plan export")
        delivered = tmp_path / "downloads" / "plan-E1-1.csv"
        await wait_until(pilot, lambda: any("Plan export saved" in m for m in messages(app)))
        assert delivered.read_bytes() == source.read_bytes()
        assert any(f"saved to {delivered}" in m for m in messages(app))
        assert not any("not saved" in m for m in errors(app))


async def test_a_report_that_cannot_be_built_is_one_notification(monkeypatch, tmp_path):
    import core.report

    def broken(run, out, fmt="md", **options):
        raise OSError("disk full")

    monkeypatch.setattr(core.report, "stream_report", broken)
    app = demo_app(scale=200)
    app.downloads_dir = tmp_path
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: errors(app))
        await pilot.pause(0.2)
        assert errors(app) == ["Report not saved: OSError: disk full"]


# ---- 6. F1: the screen's own title; the general keys -------------------------------------------------------------------
class Untitled(Screen):
    def compose(self):
        yield Static("x")


async def test_f1_is_titled_after_the_screen_in_front_and_lists_the_shared_keys():
    app = demo_app(scale=200)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)

        async def f1_title() -> str:
            await pilot.press("f1")
            await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
            text = app.screen.text
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))
            return text.splitlines()[0]

        assert await f1_title() == "# Runbook"
        app.open_step("E1")
        await pilot.pause(0.3)
        assert (await f1_title()).startswith("# Step E1 · ")
        await pilot.press("escape")
        await pilot.pause(0.2)
        await pilot.press("m")
        await pilot.pause(0.3)
        assert await f1_title() == "# Monitor"
        await pilot.press("escape")
        await pilot.press("i")
        await pilot.pause(0.3)
        assert await f1_title() == "# Connector instances"
        await pilot.press("escape")
        app.action_profiles()
        await pilot.pause(0.3)
        assert await f1_title() == "# Profiles"
        await pilot.press("escape")
        await pilot.press("v")  # the real screens behind v and S
        await pilot.pause(0.3)
        assert (await f1_title()).startswith("# Run variables")
        await pilot.press("escape")
        await pilot.press("S")
        await pilot.pause(0.3)
        assert (await f1_title()).startswith("# Simulated tenant")
        await pilot.press("escape")
        await app.push_screen(Untitled())
        assert await f1_title() == "# Untitled"

        text = help_markdown(app.screen, demo=True)
        for key in ("**Ctrl+R**", "**m**", "**i**", "**v**", "**S**", "**F1**", "**q**"):
            assert key in text, key
        assert "**r**" not in text
        assert "**S**" not in help_markdown(app.screen, demo=False)
