"""Twin: capture a read-only twin of the profile's tenant with a progress bar, then rehearse the whole runbook on
it (core.twin, `cutover twin capture` and `cutover rehearse --twin` in the app).

Both run in thread workers with their own event loop, so a million-row capture never holds up the screen: the
capture's progress callback and the rehearsal's events arrive as messages, and the handlers render them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, ProgressBar, RichLog, Static

if TYPE_CHECKING:
    from textual.timer import Timer

    from core.profile import Profile
    from core.secrets import Credentials


class CaptureProgress(Message):
    def __init__(self, table: str, done: int, total: int):
        super().__init__()
        self.table, self.done, self.total = table, done, total


class TwinLine(Message):
    """A line for the log: a capture's summary, a rehearsal's event or verdict, or a failure."""

    def __init__(self, text: str, *, done: str | None = None, error: bool = False):
        super().__init__()
        self.text, self.done, self.error = text, done, error


class TwinScreen(Screen):
    TITLE = "Twin"
    HELP = (
        "A twin is a read-only snapshot of what the runbook reads from this profile's Zuora tenant and NetSuite "
        "account, kept in a folder only you can read, to rehearse the cutover on before production.\n\n"
        "- `c` captures a twin (read-only calls only; a read-only profile is enough). The bar shows the rows "
        "read; a capture that stopped resumes into the same folder.\n"
        "- `r` rehearses the whole runbook on the latest twin, nobody at the keyboard; each step's outcome is "
        "logged here and the verdict is notified.\n"
        "- `p` replays that rehearsal as the monitor saw it: a sample of every object's sync counts as each phase "
        "started and at the end, one a second (`cutover monitor --replay DIR` on the command line).\n"
        "- The checks that read what no API exposes (A1's menus, F1, the connector's settings) are not in a twin.\n"
        "- On the command line: `cutover twin capture`, `cutover twin forecast DIR`, `cutover rehearse --twin DIR`."
    )
    BINDINGS = [
        Binding("c", "capture", "Capture", id="twin.capture"),
        Binding("r", "rehearse", "Rehearse on twin", id="twin.rehearse"),
        Binding("p", "replay", "Replay in monitor", id="twin.replay"),
        Binding("escape", "back", "Back", id="twin.back"),
    ]
    replay_tick_s = 1.0  # a replayed sample a second: the phases go by slowly enough to read
    DEFAULT_CSS = """
    TwinScreen #twin-header { height: auto; padding: 0 1; background: $primary-background; }
    TwinScreen #twin-progress { height: 1; margin: 1 1 0 1; }
    TwinScreen #twin-table { height: 1; padding: 0 1; color: $text-muted; }
    TwinScreen #twin-log { height: 1fr; border: round $primary-darken-2; }
    """

    def __init__(self, profile: Profile, credentials: Credentials | None = None):
        """`credentials`: the open run's (the demo's live in memory); None reads the profile's from the keyring."""
        super().__init__()
        self.profile = profile
        self.credentials = credentials
        self.twin: Path | None = self._latest()
        self.busy: str | None = None
        self.lines: list[str] = []
        self.replaying: list[tuple[int, dict]] = []  # (number, sample) still to show, one per tick
        self.replay_timer: Timer | None = None

    @property
    def folder(self) -> Path:
        return Path(self.profile.data_dir) / "twins"

    def _latest(self) -> Path | None:
        done = sorted(p.parent for p in self.folder.glob("*/manifest.json")) if self.folder.exists() else []
        return done[-1] if done else None

    def compose(self) -> ComposeResult:
        yield Static(f"Twin of profile {self.profile.name}", id="twin-header", markup=False)
        yield ProgressBar(id="twin-progress", show_eta=False)
        yield Static("", id="twin-table", markup=False)
        log = RichLog(id="twin-log", wrap=True, markup=False)
        log.border_title = "What happened"
        yield log
        yield Footer()

    def on_mount(self) -> None:
        self._say(f"Latest twin: {self.twin}" if self.twin else "No twin yet: c captures one.")

    def _say(self, text: str) -> None:
        self.lines.append(text)
        self.query_one("#twin-log", RichLog).write(text)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("capture", "rehearse") and self.busy:
            return None  # shown dimmed while a capture or rehearsal runs
        if action == "rehearse" and self.twin is None:
            return None
        if action == "replay":
            from core.twin.replay import replay_path

            return None if self.busy or self.twin is None or not replay_path(self.twin).is_file() else True
        return True

    # ---- capture --------------------------------------------------------------------------------------------
    def action_capture(self) -> None:
        from datetime import datetime

        root = self.folder / datetime.now().strftime("%Y%m%d-%H%M%S")
        self.busy = "capture"
        self.refresh_bindings()
        self._say(f"Capturing into {root} …")
        self._capture(root)

    @work(thread=True, exclusive=True, group="twin")
    def _capture(self, root: Path) -> None:
        import asyncio

        from core.errors import CutoverError
        from core.secrets import CredentialStore
        from core.twin.capture import capture_tenant

        try:
            credentials = self.credentials or CredentialStore().load(self.profile.name)
            report = asyncio.run(capture_tenant(
                self.profile, credentials, root,
                progress=lambda t, d, n: self.post_message(CaptureProgress(t, d, n))))
        except CutoverError as exc:
            self.post_message(TwinLine(f"Capture failed: {exc}", done="capture", error=True))
            return
        self.post_message(TwinLine("\n".join(report.lines()), done=str(root)))

    @on(CaptureProgress)
    def capture_progress(self, message: CaptureProgress) -> None:
        self.query_one("#twin-progress", ProgressBar).update(total=max(message.total, 1), progress=message.done)
        self.query_one("#twin-table", Static).update(f"{message.table}: {message.done:,} of {message.total:,}")

    # ---- rehearsal ------------------------------------------------------------------------------------------
    def action_rehearse(self) -> None:
        if self.twin is None:
            return
        self.busy = "rehearse"
        self.refresh_bindings()
        self._say(f"Rehearsing the runbook on {self.twin} …")
        self._rehearse(self.twin)

    @work(thread=True, exclusive=True, group="twin")
    def _rehearse(self, twin: Path) -> None:
        import asyncio

        from core.errors import CutoverError
        from core.rehearsal import Rehearsal

        try:
            outcome = asyncio.run(Rehearsal(twin=twin, on_event=lambda e: self.post_message(
                TwinLine(f"{e.step_id:<6} {e.what:<8} {e.text}"))).run())
        except CutoverError as exc:
            self.post_message(TwinLine(f"Rehearsal failed: {exc}", done="rehearse", error=True))
            return
        verdict = "passed: every step done" if outcome.passed else \
            f"not passed: {', '.join(s.step.id for s in outcome.open_steps)} open"
        dup = outcome.duplicates_in_netsuite
        self.post_message(TwinLine(f"Rehearsal on the twin {verdict}; {'?' if dup is None else dup} duplicate "
                                   f"credit memos in NetSuite", done="rehearse"))

    # ---- replay of the latest rehearsal, as the monitor sampled it --------------------------------------------
    def action_replay(self) -> None:
        from core.errors import CutoverError
        from core.twin.replay import replay_samples

        if self.twin is None:
            return
        try:
            samples = replay_samples(self.twin)  # a small journal of counts: read at once
        except CutoverError as exc:
            self.notify(str(exc), title="Replay", severity="error", timeout=8)
            return
        self.busy, self.replaying = "replay", list(enumerate(samples, 1))
        self.refresh_bindings()
        self._say(f"Replaying the latest rehearsal on {self.twin}: {len(samples)} monitor samples")
        self._next_sample(len(samples))
        # Until every sample is shown, then stopped: a repeat count would end early on a busy machine, whose
        # skipped ticks count as repeats.
        self.replay_timer = self.set_interval(self.replay_tick_s, lambda: self._next_sample(len(samples)),
                                              name="twin-replay")

    def _next_sample(self, total: int) -> None:
        from core.twin.replay import render_kept

        if not self.replaying:
            return
        n, sample = self.replaying.pop(0)
        self._say(render_kept(sample, n, total).rstrip())
        if not self.replaying:
            if self.replay_timer is not None:
                self.replay_timer.stop()
                self.replay_timer = None
            self.busy = None
            self.refresh_bindings()

    # ---- rendering ------------------------------------------------------------------------------------------
    @on(TwinLine)
    def line(self, message: TwinLine) -> None:
        self._say(message.text)
        if message.done is None:
            return
        if message.error:
            self.notify(message.text, title="Twin", severity="error", timeout=8)
        elif self.busy == "capture":
            self.twin = Path(message.done)
            self.notify(f"Twin captured into {self.twin}", title="Twin")
        else:
            self.notify(message.text, title="Twin")
        self.busy = None
        self.refresh_bindings()

    def action_back(self) -> None:
        self.app.pop_screen()
