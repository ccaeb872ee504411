"""The Textual app: the runbook screen as home, a step screen per step, the monitor one key away.

The app starts drawing at once and connects in the background (Harlequin #393): the demo tenant seeds, or the
profile's credentials come out of the keyring, in a worker; the screens show "connecting…" meanwhile.

What the app owns for every screen:
- one handler turns a worker that ends in error, on any screen, into one notification (`on_worker_state_changed`);
  a screen that shows a failure itself stops the message;
- every file it saves lands in the person's downloads folder, announced (its base class, tui.downloads.Downloads);
- quitting asks first while a write is in flight, or when the demo would lose what was done in it.
"""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from core.errors import ConfigError, CutoverError, first_cause
from tui.backend import Backend
from tui.commands import StepCommands
from tui.downloads import REPORT_FORMATS, Downloads
from tui.hangup import watch_terminal
from tui.preferences import Preferences
from tui.screens.runbook import RunbookScreen

if TYPE_CHECKING:  # every screen but the runbook loads when first opened: the first frame waits for none of them
    from tui.screens.confirm import ConfirmWrite

# A worker's state change goes to the node that runs it and stops there (bubble=False). Letting it bubble brings
# every screen's worker up to the app's one handler; a screen that handles a worker's end itself still sees it first.
Worker.StateChanged.bubble = True

# Worker groups that write (the journal, the tenant, the profile, a file): quitting while one runs asks first.
WRITING_GROUPS = {
    "step-apply": "an apply", "step-confirm": "a confirmation being recorded",
    "step-ticket": "a ticket number being recorded", "step-export": "a plan export being written",
    "report": "the sign-off report being built", "instances-write": "a change to the instances register",
    "instance-form": "an instance being recorded", "reason-save": "a waiver being recorded",
    "operator-save": "the operator being saved", "profiles-save": "a profile being saved",
    "credentials-save": "credentials being stored in the keyring",
}
WRITING_SUFFIXES = ("-save", "-write", "-apply")  # the convention for groups of new screens
# Groups whose screen shows their failure itself (the monitor's header says "sample failed" and notifies).
SELF_REPORTED = {"monitor-poll"}
# The notification title of a worker that failed unexpectedly, by group (otherwise "<name> failed").
FAILURE_TITLES = {"report": "Report not saved", "step-export": "Plan not exported", "step-apply": "Apply stopped",
                  "backend-open": "Not connected"}
SERVED_DEMO = ("This browser tab runs its own demo: a fresh simulated tenant, gone when the tab closes. Another tab "
               "(or a reload) starts another one; files you save arrive as downloads.")
# What the demo's journal holds, for the question before quitting (table, one, many).
DEMO_RECORDS = (("check_result", "check result", "check results"), ("plan", "plan", "plans"),
                ("confirmation", "confirmation", "confirmations"), ("ticket", "ticket number", "ticket numbers"),
                ("waiver", "waiver", "waivers"), ("variable_history", "run variable set", "run variables set"),
                ("connector_instance", "connector instance", "connector instances"))


class CutoverApp(Downloads):
    CSS_PATH = Path(__file__).with_name("cutover.tcss")
    TITLE = "cutover"
    COMMANDS = App.COMMANDS | {StepCommands}
    BINDINGS = [
        Binding("f1", "help", "Help", id="app.help"),
        Binding("question_mark", "help", "Keys", show=False, key_display="?"),
        Binding("m", "monitor", "Monitor", id="app.monitor"),
        Binding("i", "instances", "Instances", show=False, id="app.instances"),
        Binding("v", "variables", "Variables", show=False, id="app.variables"),
        Binding("S", "simulated", "Simulated tenant", show=False, id="app.simulated"),
        Binding("ctrl+r", "report", "Report", show=False, id="app.report"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(self, backend: Backend, *, downloads_dir: Path | None = None, exit_on_bad_profile: bool = False):
        """`exit_on_bad_profile`: a profile that does not load ends the app (`startup_error` says why), as
        `cutover open` wants; otherwise the app stays and notifies."""
        super().__init__(downloads_dir)
        self.backend = backend
        self.quit_dialog: ConfirmWrite | None = None
        self.exit_on_bad_profile = exit_on_bad_profile
        self.startup_error: ConfigError | None = None  # the profile did not load; the launcher raises it on exit
        self.first_frame_drawn = False  # out: a runbook screen pushed from now on mounts its real widgets at once
        self.preferences = Preferences(self)
        self._asking_quit = False

    def get_default_screen(self) -> Screen:
        """The runbook is the app's first screen, drawn at start as a bare app's is, not pushed over an empty one
        (a screen pushed while the app mounts is laid out inside Textual's start-up batch, which writes nothing)."""
        return RunbookScreen()

    def on_mount(self) -> None:
        watch_terminal(self)
        if self.is_web and self.backend.is_demo:  # `cutover serve --demo` runs one app, one demo, per browser tab
            self.notify(SERVED_DEMO, title="Served demo", timeout=20)

    async def on_ready(self) -> None:
        """The first frame is on the terminal (Textual's Ready comes once the default screen's first layout is
        drawn): only now load the rest."""
        await self.after_first_frame()

    async def after_first_frame(self) -> None:
        """The first frame is on the terminal: the runbook screen's real phase list and step table come first, so
        the checklist has a table to fill, then the preferences and the run."""
        self.first_frame_drawn = True
        for screen in self.screen_stack:
            if isinstance(screen, RunbookScreen):
                await screen.go_live()
        self.preferences.start()  # the saved theme and the keymap (TEXTUAL_THEME is Textual's own default)
        self.open_backend()

    @work(group="backend-open", exit_on_error=False)
    async def open_backend(self) -> None:
        try:  # draw between the stages: the runbook, the journal's checklist, the connection, then IS
            await self.backend.load()
            self.refresh_screens()
            try:
                await self.backend.read_profile()
            except ConfigError as exc:
                if self.backend.profile is not None or not self.exit_on_bad_profile:  # said here, below
                    raise
                self.startup_error = exc  # the profile itself does not load: `cutover open` says why on exit
                self.exit(return_code=2)
                return
            self.refresh_screens()
            await self.backend.connect()
            self.refresh_screens()
            await self.backend.probe()
        except Exception as exc:
            self.backend.status_text = f"Could not open the profile: {self.describe_error(exc)}"
            self.notify(self.backend.status_text, title="Not connected", severity="error", timeout=15)
        self.refresh_screens()

    def refresh_screens(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, RunbookScreen) and screen.is_mounted:  # one not yet mounted draws on mount
                screen.refresh_all()

    async def on_unmount(self) -> None:
        await self.backend.close()

    # ---- shared helpers -------------------------------------------------------------------------------------
    def describe_error(self, exc: BaseException | None) -> str:
        """One line a person can act on; never a traceback, never a secret (client errors carry none)."""
        if exc is None:
            return "unknown error"
        exc = first_cause(exc)  # a task group's ExceptionGroup is never the message
        if isinstance(exc, CutoverError):
            return str(exc)
        if isinstance(exc, TimeoutError):
            return "the request timed out; the tenant may be slow: try again"
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return " ".join(text.split())  # one line

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Any worker, on any screen, that ends in error: one notification with what went wrong. Workers catch
        what they expect and say it in their own words; this is the net for the unexpected, so nothing fails
        silently and the app keeps running (workers here never exit the app on error)."""
        worker = event.worker
        if event.state is not WorkerState.ERROR or worker.group in SELF_REPORTED:
            return
        title = FAILURE_TITLES.get(worker.group) or f"{(worker.name or worker.group).replace('_', ' ')} failed"
        self.notify(self.describe_error(worker.error), title=title[:1].upper() + title[1:], severity="error",
                    timeout=10)

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
        while len(self.screen_stack) > 1:
            self.pop_screen()
        home = self.screen_stack[-1]
        if isinstance(home, RunbookScreen) and self.backend.ready:
            home.go_to(step_id)
        self.open_step(step_id)

    # ---- actions --------------------------------------------------------------------------------------------
    def action_help(self) -> None:
        from tui.screens.help import HelpScreen, help_markdown  # markdown-it: on the first F1, not at start

        screen: Screen = self.screen
        self.push_screen(HelpScreen(help_markdown(screen, demo=self.backend.is_demo)))

    def open_screen(self, screen_type: type[Screen], make, *, needs_tenant: bool = True) -> None:
        """Push a screen unless it is already in front; screens that read the tenant wait for the connection."""
        if isinstance(self.screen, screen_type):
            return
        if needs_tenant and not self.backend.ready:
            self.notify("Still connecting…", timeout=3)
            return
        self.push_screen(make())

    def screen_unavailable(self, what: str, exc: ImportError) -> None:
        """A screen whose module is missing or broken: say so, and keep the app running."""
        reason = "it is not part of this build" if isinstance(exc, ModuleNotFoundError) else self.describe_error(exc)
        self.notify(f"The {what} screen cannot open: {reason}", title=f"No {what} screen", severity="error",
                    timeout=8)

    def action_monitor(self) -> None:
        from tui.screens.monitor import MonitorScreen

        self.open_screen(MonitorScreen, MonitorScreen)

    def action_instances(self) -> None:
        from tui.screens.instances import InstancesScreen

        self.open_screen(InstancesScreen, InstancesScreen)

    def action_variables(self) -> None:
        try:
            from tui.screens.variables import VariablesScreen
        except ImportError as exc:
            self.screen_unavailable("Variables", exc)
            return
        self.open_screen(VariablesScreen, VariablesScreen)

    def action_simulated(self) -> None:
        if not self.backend.is_demo:
            self.notify("The Simulated tenant stands in for Zuora Support and the people outside the app on the "
                        "demo only. On a real tenant they act for real: confirm their work on each step's screen.",
                        title="Demo only", severity="warning", timeout=8)
            return
        try:
            from tui.screens.simulated import SimulatedScreen
        except ImportError as exc:
            self.screen_unavailable("Simulated tenant", exc)
            return
        self.open_screen(SimulatedScreen, SimulatedScreen)

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

    # ---- quitting -------------------------------------------------------------------------------------------
    def writes_in_flight(self) -> list[str]:
        """What would be cut short by quitting now: running workers that write, files not yet delivered."""
        out = []
        for worker in self.workers:
            if worker.is_finished or not (worker.group in WRITING_GROUPS or worker.group.endswith(WRITING_SUFFIXES)):
                continue
            what = WRITING_GROUPS.get(worker.group) or (worker.name or worker.group).replace("_", " ")
            step = getattr(worker.node, "step_id", None)
            out.append(f"{what} on {step}" if step else what)
        out += [f"{what} being saved to your downloads folder" for what in self.deliveries.values()]
        return list(dict.fromkeys(out))

    def demo_records(self) -> list[str]:
        """Blocking (journal reads): what the demo's journal holds, in words; empty when nothing was done yet."""
        journal = self.backend.journal if self.backend.is_demo else None
        if journal is None:
            return []
        out = []
        for table, one, many in DEMO_RECORDS:
            n = journal.query(f"SELECT count(*) AS n FROM {table}")[0]["n"]
            if n:
                out.append(f"{n:,} {one if n == 1 else many}")
        return out

    def quit_question(self, writing: list[str], records: list[str]) -> str:
        parts = []
        if writing:
            parts.append("Still running: " + "; ".join(writing) + ".\nQuitting now stops it. What was written is "
                         "in the journal, and Apply resumes where it stopped without repeating a confirmed write; a "
                         "confirmation, ticket number or file still being saved may be lost: check it when you "
                         "reopen.")
        if records:
            saved = ", ".join(p.name for p in self.delivered)
            parts.append(
                "This is the demo. Its simulated tenant and its journal (" + ", ".join(records) + ") live in a "
                "temporary folder that is deleted when the app closes: none of it can be reopened.\n"
                + (f"Files saved through the app already went to your downloads folder ({self.downloads_folder}) "
                   f"and stay there: {saved}." if saved else
                   f"Nothing was saved through the app yet: Ctrl+R saves the sign-off report to your downloads "
                   f"folder ({self.downloads_folder}) first, and tickets and plan exports go there too."))
        return "\n\n".join(parts)

    async def action_quit(self) -> None:
        """q, Ctrl+Q and the palette's Quit: at once when nothing would be lost, else one question first."""
        if self._asking_quit or (self.quit_dialog is not None and self.quit_dialog in self.screen_stack):
            return
        self._asking_quit = True
        try:
            writing = self.writes_in_flight()
            records = await asyncio.to_thread(self.demo_records) if self.backend.ready else []
        finally:
            self._asking_quit = False
        if not writing and not records:
            self.exit()
            return

        from tui.screens.confirm import ConfirmWrite

        def answered(yes: bool | None) -> None:
            self.quit_dialog = None
            if yes:
                self.exit()

        self.quit_dialog = ConfirmWrite("Quit cutover?", self.quit_question(writing, records), confirm_label="Quit",
                                        cancel_label="Stay", cancelled=None)
        self.push_screen(self.quit_dialog, answered)

    # ---- the command palette --------------------------------------------------------------------------------
    def get_system_commands(self, screen: Screen):
        yield from super().get_system_commands(screen)
        yield SystemCommand("Monitor", "Live sync state of both systems (m)", self.action_monitor)
        yield SystemCommand("Report", "Save the sign-off report (Markdown) to your downloads folder (Ctrl+R)",
                            self.action_report)
        for fmt, (label, _) in REPORT_FORMATS.items():
            if fmt != "md":
                yield SystemCommand(f"Report as {label.split(',')[0]}", f"Save the sign-off report ({label}) to your "
                                    "downloads folder", partial(self.action_report, fmt))
        yield SystemCommand("Help", "Help for this screen (F1)", self.action_help)
        yield SystemCommand("Profiles", "Pick, create and edit profiles", self.action_profiles)
        yield SystemCommand("Credentials", "The profile's API secrets: keyring and connection test",
                            self.action_credentials)
        yield SystemCommand("Instances", "The connector instances register (i)", self.action_instances)
        yield SystemCommand("Variables", "Every run variable, who set it and when (v)", self.action_variables)
        if self.backend.is_demo:
            yield SystemCommand("Simulated tenant",
                                "What Support or a person does outside the app (demo only) (S)",
                                self.action_simulated)
