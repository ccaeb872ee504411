"""The Textual app: the runbook screen as home, a step screen per step, the monitor one key away.

The app starts drawing at once and connects in the background (Harlequin #393): the demo tenant seeds, or the
profile's credentials come out of the keyring, in a worker; the screens show "connecting…" meanwhile.
"""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from core.errors import CutoverError
from tui.backend import Backend
from tui.commands import StepCommands
from tui.screens.help import HelpScreen, help_markdown
from tui.screens.runbook import RunbookScreen


class CutoverApp(App):
    CSS_PATH = Path(__file__).with_name("cutover.tcss")
    TITLE = "cutover"
    COMMANDS = App.COMMANDS | {StepCommands}
    BINDINGS = [
        Binding("f1", "help", "Help", id="app.help"),
        Binding("question_mark", "help", "Keys", show=False),
        Binding("m", "monitor", "Monitor", id="app.monitor"),
        Binding("i", "instances", "Instances", show=False, id="app.instances"),
        Binding("ctrl+r", "report", "Report", show=False, id="app.report"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(self, backend: Backend):
        super().__init__()
        self.backend = backend

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        self.push_screen(RunbookScreen())
        self.open_backend()

    @work(group="backend-open", exit_on_error=False)
    async def open_backend(self) -> None:
        try:
            await self.backend.open()
        except Exception as exc:
            self.backend.status_text = f"Could not open the profile: {self.describe_error(exc)}"
            self.notify(self.backend.status_text, title="Not connected", severity="error", timeout=15)
        self.refresh_screens()

    def refresh_screens(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, RunbookScreen):
                screen.refresh_all()

    async def on_unmount(self) -> None:
        await self.backend.close()

    # ---- shared helpers -------------------------------------------------------------------------------------
    def describe_error(self, exc: BaseException | None) -> str:
        """One line a person can act on; never a traceback, never a secret (client errors carry none)."""
        if exc is None:
            return "unknown error"
        if isinstance(exc, CutoverError):
            return str(exc)
        if isinstance(exc, TimeoutError):
            return "the request timed out; the tenant may be slow: try again"
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__

    def open_step(self, step_id: str) -> None:
        from tui.screens.step import StepScreen

        if not self.backend.ready:
            self.notify("Still connecting…", timeout=3)
            return
        try:
            state = self.backend.state(step_id)
        except CutoverError as exc:
            self.notify(str(exc), severity="error")
            return
        self.push_screen(StepScreen(state.step.id))

    def go_to_step(self, step_id: str) -> None:
        """Command palette: show the step on the runbook screen, then open it."""
        while len(self.screen_stack) > 2:
            self.pop_screen()
        home = self.screen_stack[-1]
        if isinstance(home, RunbookScreen) and self.backend.ready:
            home.go_to(step_id)
        self.open_step(step_id)

    # ---- actions --------------------------------------------------------------------------------------------
    def action_help(self) -> None:
        screen: Screen = self.screen
        self.push_screen(HelpScreen(help_markdown(screen)))

    def open_screen(self, screen_type: type[Screen], make, *, needs_tenant: bool = True) -> None:
        """Push a screen unless it is already in front; screens that read the tenant wait for the connection."""
        if isinstance(self.screen, screen_type):
            return
        if needs_tenant and not self.backend.ready:
            self.notify("Still connecting…", timeout=3)
            return
        self.push_screen(make())

    def action_monitor(self) -> None:
        from tui.screens.monitor import MonitorScreen

        self.open_screen(MonitorScreen, MonitorScreen)

    def action_instances(self) -> None:
        from tui.screens.instances import InstancesScreen

        self.open_screen(InstancesScreen, InstancesScreen)

    def action_profiles(self) -> None:
        from tui.screens.profiles import ProfilesScreen

        self.open_screen(ProfilesScreen, ProfilesScreen, needs_tenant=False)

    def action_credentials(self) -> None:
        from tui.screens.credentials import CredentialsScreen

        if self.backend.is_demo:
            self.notify("The demo tenant's credentials are throwaway ones held in memory: pick a saved profile on "
                        "the Profiles screen to manage its keyring secrets", timeout=8)
            return
        self.open_screen(CredentialsScreen, lambda: CredentialsScreen(self.backend.profile))

    def action_report(self) -> None:
        self.export_report()

    @work(group="report", exit_on_error=False, thread=True)
    def export_report(self) -> None:
        try:
            path = self.backend.write_report()
        except Exception as exc:
            self.call_from_thread(self.notify, self.describe_error(exc), title="Report failed", severity="error")
            return
        self.call_from_thread(self.notify, f"Sign-off report written to {path}", timeout=8)

    def get_system_commands(self, screen: Screen):
        yield from super().get_system_commands(screen)
        yield SystemCommand("Monitor", "Live sync state of both systems (m)", self.action_monitor)
        yield SystemCommand("Report", "Write the sign-off report (Markdown)", self.action_report)
        yield SystemCommand("Help", "Help for this screen (F1)", self.action_help)
        yield SystemCommand("Profiles", "Pick, create and edit profiles", self.action_profiles)
        yield SystemCommand("Credentials", "The profile's API secrets: keyring and connection test",
                            self.action_credentials)
        yield SystemCommand("Instances", "The connector instances register (i)", self.action_instances)
