"""The "Simulated tenant" panel, on the demo only: what a person or Zuora Support would do outside the app (Support's
IS migration, stopping or starting the old connector, the new OAuth client and instance, the NetSuite field
default, fixing the seeded bad records, Run Now), played on the simulator so the demo can be carried to the end.

Each action is a runbook step's own stand-in (core.playing.StandInPlayer plays its act) and is labelled with the
step it stands in for. What the act records for the person (run variables, the instances register) goes under the
profile's operator; confirmations, tickets, checks and the tool's own writes (E1, E2, G2) stay on the step screens.

An action plays in an async worker that posts `Played` or `PlayRefused`; the handlers render the log, notify and
refresh the screens below. The simulator's HTTP stand-ins are opened with the screen and closed with it.
"""

from __future__ import annotations

import asyncio
import re

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, OptionList, RichLog, Static
from textual.widgets.option_list import Option

from core.errors import CutoverError
from core.playing import Playable, StandInPlayer, playables
from core.sim.control import SimControl
from core.sim.records import sim_today
from tui.screens.confirm import ConfirmWrite
from tui.screens.operator import with_operator
from tui.widgets.topbar import TopBar, wall_clock

INTRO = ("Demo only. What a person or Zuora Support would do outside the app, played on the simulated tenant. "
         "Each action stands in for a runbook step; confirmations, tickets and checks stay on the step screens.")


class Played(Message):
    def __init__(self, key: str, lines: list[str]):
        super().__init__()
        self.key, self.lines = key, lines


class PlayRefused(Message):
    def __init__(self, key: str, reason: str):
        super().__init__()
        self.key, self.reason = key, reason


_ROUTE = re.compile(r"^Simulator: (GET|POST|PUT|DELETE) /_sim/\S+: ")


def reason_text(exc: CutoverError) -> str:
    """The simulated world's own words, without the /_sim/ route it answered on."""
    return _ROUTE.sub("", str(exc))


def refusal(app) -> str | None:
    """Why the panel cannot open here, or None."""
    backend = app.backend
    if not backend.is_demo:
        return "The Simulated tenant panel is for the demo only: on a real profile, people and Support act in " \
               "the real systems"
    if not backend.ready or backend.session is None:
        return "Still connecting…"
    return None


class SimulatedScreen(Screen):
    TITLE = "Simulated tenant"
    AUTO_FOCUS = "#sim-actions"
    HELP = (
        "On the demo only: the things a person or Zuora Support does outside the app, played on the simulated "
        "tenant so the demo can be carried to the end.\n\n"
        "- Every row is **simulated** and names the step it stands in for (D1 · Support enables IS and runs the "
        "migration; C7 stops the old connector; F1 creates the OAuth client; B2/V1-V6, B3, C2-C5 fix the seeded "
        "records at the source; …), in runbook order, then Run Now and the passing of time.\n"
        "- Enter plays the highlighted action. What it did is logged here and shown as a notification; when the "
        "simulated world refuses (the migration with records still to fix), its reason is shown instead.\n"
        "- An action changes the world and records only what the person would read off it (run variables such as "
        "migration_date, the instances register), under the profile's operator. Confirm, record the ticket and "
        "re-check on the step's own screen afterwards.\n"
        "- The tool's own writes (E1, E2, G2) are not here: plan and apply them on their step screens."
    )
    DEFAULT_CSS = """
    SimulatedScreen #sim-intro { height: auto; padding: 0 1; color: $text-muted; }
    SimulatedScreen #sim-actions { height: 1fr; border: round $warning 60%; }
    SimulatedScreen #sim-detail { height: auto; max-height: 3; padding: 0 1; }
    SimulatedScreen #sim-log { height: 9; border: round $primary-darken-2; }
    SimulatedScreen.short #sim-log { height: 6; }
    SimulatedScreen.short #sim-intro { display: none; }
    """
    BINDINGS = [
        Binding("enter", "play", "Play (simulated)", id="simulated.play", priority=True),
        Binding("escape", "back", "Back", id="simulated.back"),
    ]

    def __init__(self):
        super().__init__()
        self.control: SimControl | None = None
        self.player: StandInPlayer | None = None
        self.actions: dict[str, Playable] = {}
        self.outcomes: dict[str, Text] = {}
        self.playing: str | None = None

    def compose(self) -> ComposeResult:
        yield TopBar(id="topbar")
        yield Static(INTRO, id="sim-intro", markup=False)
        actions = OptionList(id="sim-actions")
        actions.border_title = "Simulated tenant (demo only)"
        yield actions
        yield Static(id="sim-detail", markup=False)
        log = RichLog(id="sim-log", wrap=True, markup=False)
        log.border_title = "What happened"
        yield log
        yield Footer()

    def on_mount(self) -> None:
        why = refusal(self.app)
        if why is not None:
            self.notify(why, title="Simulated tenant", severity="warning", timeout=6)
            self.call_after_refresh(self._leave)
            return
        backend = self.app.backend
        self.app.backend.bind_topbar(self.query_one(TopBar))
        self.control = SimControl(backend.demo.base_url, backend.session.zuora.token)
        self.player = StandInPlayer(backend.run, self.control,
                                    today=lambda: sim_today(backend.demo.sim.store))
        self.on_resize()
        self.outcomes = backend.sim_outcomes  # the session's: marks and log survive closing the panel
        below = self.app.screen_stack[-2] if len(self.app.screen_stack) > 1 else None
        self.show_actions(select=self.unplayed_from(getattr(below, "step_id", None)))
        log = self.query_one("#sim-log", RichLog)
        for line in backend.sim_log:
            log.write(line)
        if not backend.sim_log:
            log.write(Text("Nothing played yet. Enter plays the highlighted action.", style="dim"))

    def played_already(self, key: str) -> bool:
        return key in self.outcomes and self.outcomes[key].plain.startswith("✓")

    def unplayed_from(self, key: str | None) -> str | None:
        """The row to highlight on opening: `key` (the step below) unless it was played, then the next row not
        played yet, so a stray Enter never replays an act."""
        path = self.app.backend.run.journal.variables().provisioning_path
        keys = [p.key for p in playables(path)]
        start = keys.index(key) if key in keys else 0
        if key is not None and key in keys and not self.played_already(key):
            return key
        return next((k for k in keys[start:] + keys[:start] if not self.played_already(k)), key)

    def _leave(self) -> None:
        if self.is_current:
            self.app.pop_screen()

    async def on_unmount(self) -> None:
        if self.control is not None:
            await self.control.aclose()
            self.control = None

    def on_resize(self, event=None) -> None:
        self.set_class(self.size.height < 30, "short")

    # ---- the list -----------------------------------------------------------------------------------------------
    def show_actions(self, select: str | None = None) -> None:
        """The actions on the run's recorded path (both F3 variants until A3 names one), in runbook order."""
        option_list = self.query_one("#sim-actions", OptionList)
        highlighted = select or self.selected_key()
        path = self.app.backend.run.journal.variables().provisioning_path
        self.actions = {p.key: p for p in playables(path)}
        option_list.clear_options()
        option_list.add_options([Option(self.prompt(p), id=p.key) for p in self.actions.values()])
        if highlighted in self.actions:
            option_list.highlighted = list(self.actions).index(highlighted)
        elif self.actions:
            option_list.highlighted = 0
        self.show_detail()

    def prompt(self, playable: Playable) -> Text:
        text = Text(no_wrap=False, overflow="fold")
        text.append("Simulated ", style="italic yellow")
        text.append(playable.stands_in_for, style="bold")
        text.append(f" · {playable.what}")
        if playable.key == self.playing:
            text.append("  … playing", style="bold cyan")
        elif playable.key in self.outcomes:
            text.append("  ")
            text.append_text(self.outcomes[playable.key])
        return text

    def redraw(self, key: str) -> None:
        if key in self.actions:
            self.query_one("#sim-actions", OptionList).replace_option_prompt(key, self.prompt(self.actions[key]))

    def selected_key(self) -> str | None:
        option_list = self.query_one("#sim-actions", OptionList)
        if option_list.highlighted is None or not option_list.option_count:
            return None
        return option_list.get_option_at_index(option_list.highlighted).id

    @on(OptionList.OptionHighlighted, "#sim-actions")
    def show_detail(self) -> None:
        key = self.selected_key()
        detail = self.query_one("#sim-detail", Static)
        if key is None:
            detail.update("")
            return
        playable = self.actions[key]
        text = Text()
        if playable.step is not None:
            text.append(f"Stands in for {playable.step.id} · {playable.step.title}. ", style="bold")
        if playable.needs:
            text.append(f"Reads {', '.join(playable.needs)}. ")
        text.append(playable.afterwards)
        detail.update(text)

    # ---- playing ------------------------------------------------------------------------------------------------
    @on(OptionList.OptionSelected, "#sim-actions")
    def option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_play()

    def action_play(self) -> None:
        key = self.selected_key()
        if key is None or self.player is None:
            return
        if self.playing is not None:
            self.notify(f"Still playing {self.actions[self.playing].label}: wait for it to finish", timeout=4)
            return
        if self.played_already(key):  # an act replayed by a stray Enter could change the world twice
            def decided(ok: bool | None) -> None:
                if ok:
                    with_operator(self, lambda: self.start(key))

            self.app.push_screen(ConfirmWrite(
                f"Play {key} again?",  # the title is one line at 80 columns: the action's words go below
                f"{self.actions[key].label}\n\nIt was played already ({self.outcomes[key].plain}). Playing it "
                "again acts on the simulated "
                "tenant a second time.", confirm_label="Play again", cancelled=None), decided)
            return
        self.ask_if_blocked(key)

    @work(group="simulated-gate", exclusive=True, exit_on_error=False)
    async def ask_if_blocked(self, key: str) -> None:
        """Support or a person would wait for the step's gates: one Enter must not run the migration out of order.
        The step's state is folded from the journal in a thread, off the event loop."""
        step = self.actions[key].step
        gates = (await asyncio.to_thread(self.app.backend.state, step.id)).blocked_by if step is not None else ()
        if gates:
            def anyway(ok: bool | None) -> None:
                if ok:
                    with_operator(self, lambda: self.start(key))

            n = len(gates)
            self.app.push_screen(ConfirmWrite(
                f"Play {key} out of order?",
                f"{self.actions[key].label}\n\n{step.id} is blocked until {', '.join(gates)} {'is' if n == 1 else 'are'} done. Support or a "
                f"person would wait for {'it' if n == 1 else 'them'}; playing it now acts on the simulated tenant "
                "as if they had not, and the checks will show what that costs.", confirm_label="Play anyway",
                cancelled="Not played"), anyway)
            return
        with_operator(self, lambda: self.start(key))

    def start(self, key: str) -> None:
        if self.playing is not None:
            return
        self.playing = key
        self.redraw(key)
        self.log_line(Text.assemble(("▶ ", "bold cyan"), f"Simulated {self.actions[key].label} …"))
        self.play(key)

    @work(group="simulated-play", exit_on_error=False)
    async def play(self, key: str) -> None:
        try:
            lines = await self.player.play(key)
        except CutoverError as exc:
            outcome: Message = PlayRefused(key, reason_text(exc))
        except Exception as exc:  # never a traceback or a dead screen: the reason, as a person can read it
            outcome = PlayRefused(key, self.app.describe_error(exc))
        else:
            outcome = Played(key, lines)
        try:  # the header says whether IS is on: the migration may just have turned it on
            await self.app.backend.runbook.invoice_settlement(fresh=True)
        except Exception:
            pass
        self.post_message(outcome)

    @on(Played)
    def played(self, message: Played) -> None:
        playable = self.actions.get(message.key)
        label = playable.label if playable else message.key
        self.playing = None
        self.outcomes[message.key] = Text(f"✓ played {wall_clock()}", style="green")
        lines = message.lines or ["done (nothing to report)"]
        who = f"{playable.step.id} " if playable and playable.step else ""
        for line in lines:
            self.log_line(Text.assemble(("✓ ", "bold green"), (who, "bold"), line))
        afterwards = playable.afterwards if playable else ""
        if afterwards:
            self.log_line(Text(f"  {afterwards}", style="dim"))
        self.notify("\n".join([*lines, afterwards]).strip(), title=f"Simulated: {label}", timeout=8)
        self.changed()
        self.redraw(message.key)

    @on(PlayRefused)
    def refused(self, message: PlayRefused) -> None:
        playable = self.actions.get(message.key)
        label = playable.label if playable else message.key
        self.playing = None
        self.outcomes[message.key] = Text("▲ refused", style="bold red")
        who = playable.step.id if playable and playable.step else (playable.what if playable else message.key)
        self.log_line(Text.assemble(("▲ ", "bold red"), (f"{who} refused: ", "bold"), message.reason))
        self.notify(message.reason, title=f"Not done: {label}", severity="error", timeout=10)
        self.changed()
        self.redraw(message.key)

    def changed(self) -> None:
        """The world (and maybe the journal) changed: the header and the screens below show it."""
        backend = self.app.backend
        backend.update_topbars()
        for screen in self.app.screen_stack:
            if screen is not self and hasattr(screen, "refresh_all"):
                try:
                    screen.refresh_all()
                except Exception:  # a screen below that cannot redraw now does so when it resumes
                    pass
        path = backend.run.journal.variables().provisioning_path
        if {p.key for p in playables(path)} != set(self.actions):
            self.show_actions()

    def log_line(self, text: Text) -> None:
        line = Text(f"{wall_clock()} ", style="dim")
        line.append_text(text)
        log = self.query_one("#sim-log", RichLog)
        if not self.app.backend.sim_log:
            log.clear()  # the "nothing played yet" hint goes with the first line played
        self.app.backend.sim_log.append(line)
        log.write(line)

    # ---- leaving ------------------------------------------------------------------------------------------------
    def action_back(self) -> None:
        if self.playing is not None:
            self.notify(f"{self.actions[self.playing].label} is still playing in the simulated tenant: wait for "
                        "it, so what it records is not lost", severity="warning", timeout=5)
            return
        self.app.pop_screen()
