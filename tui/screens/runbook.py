"""The main screen: the runbook always visible. Phases on the left, the phase's steps in a table, the selected
step's latest findings underneath. Checks run in workers; rows update by key as results arrive.

The first frame draws the phase list and the step table as look-alike Statics (tui.widgets.first_frame); once it is
on the terminal (Textual's Ready) the app calls `go_live`, which mounts the real OptionList and DataTable hidden and
swaps them in within one refresh. Until then the screen's keys still work: focus moves are remembered and applied
at the swap, and opening or checking a step says "Still connecting…" as it does until the run is open."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Static

from core.runbook.vocabulary import Phase
from tui.app_words import app_words
from tui.messages import StepChecked, StepsFolded
from tui.widgets.first_frame import PhaseSketch, StepsSketch
from tui.widgets.footer import KeysFooter
from tui.widgets.status import status_cell
from tui.widgets.topbar import TopBar

if TYPE_CHECKING:  # the states (pydantic) arrive after the first frame, which draws the frame alone
    from textual.widgets import DataTable, OptionList

    from core.runbook.model import StepState
    from tui.widgets.phases import PhaseList

STEP_COLUMNS = (("st", "St"), ("id", "Id"), ("title", "Step"), ("kind", "Kind"), ("count", "Count"),
                ("checked", "Checked"))
NARROW = 100  # below this width the sidebar folds to letters and the detail pane gets less room


def checked_label(state: StepState) -> str:
    if state.result is not None:
        return state.result.checked_at[11:19]
    if state.confirmation is not None:
        return state.confirmation.at[11:19]
    if state.ticket is not None:
        return state.ticket.at[11:19]
    return "–"


def count_label(state: StepState) -> str:
    if state.result is None or state.result.count is None:
        return "–"
    return f"{state.result.count:,}"


class RunbookScreen(Screen):
    TITLE = "Runbook"
    HELP = (
        "Every step of the Invoice Settlement runbook, phase by phase (A discovery … I clean-up).\n\n"
        "- ✓ pass · × fail · ! needs action · ▲ error · ○ not run · … running · ◉ confirmed by a person · "
        "■ blocked (waits for other steps) · ≈ waived on purpose · – not on the chosen path; a phase shows ▶ while "
        "its steps are under way.\n"
        "- `c` runs every check of the phase in the background; rows update as results arrive.\n"
        "- Enter opens a step: why it matters, the exact query, sample records, and its actions "
        "(re-check, plan, apply, confirm, ticket).\n"
        "- The header shows the profile, both systems, whether IS is on and whether the profile is read-only."
    )
    BINDINGS = [
        # the main keys in the footer, within 80 columns; priority: the focused table's own Enter would hide it
        Binding("enter", "open_step", "Open", id="runbook.open", priority=True),
        Binding("n", "next_phase", "Next", tooltip="Next phase", id="runbook.next_phase"),
        Binding("c", "check_phase", "Check", tooltip="Check every step of the phase", id="runbook.check_phase"),
        Binding("v", "app.variables", "Vars", tooltip="Run variables", id="app.variables"),
        Binding("i", "app.instances", "Instances", id="app.instances"),
        Binding("S", "simulated", "Simulate", tooltip="Simulated tenant (demo only)", id="app.simulated"),
        Binding("ctrl+r", "app.report", "Report", tooltip="Save the sign-off report (Markdown)", id="app.report"),
        Binding("q", "app.quit", "Quit", show=False, id="app.quit"),  # room for the keys above; Help lists it
        Binding("left,h", "focus_phases", "Phases", show=False),
        Binding("right,l", "focus_steps", "Steps", show=False),
    ]

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "simulated":  # off the demo the key falls through to the app, which says it is demo only
            return self.app.backend.is_demo
        return True

    def action_simulated(self) -> None:
        self.app.action_simulated()

    def __init__(self):
        super().__init__()
        self.phase: Phase = Phase.A
        self.running: set[str] = set()
        self.title_width = 60
        self.narrow = False
        self.known: dict[str, StepState] = {}  # the states last drawn: a landing result re-folds one, no read
        self.live = False  # the real phase list and step table are in (`go_live`), not the first frame's sketches
        self.going_live = False
        self.wants_focus = "steps"  # where focus goes at the swap: keys pressed before it move this

    def compose(self) -> ComposeResult:
        yield TopBar(id="topbar")
        with Horizontal(id="runbook-body"):
            yield PhaseSketch(id="phases-sketch")
            with Vertical(id="phase-pane"):
                yield StepsSketch(tuple(label for _, label in STEP_COLUMNS), id="steps-sketch")
                detail = Static(id="step-detail", markup=False)
                detail.border_title = "Step"
                yield detail
        yield KeysFooter(compact=True, show_command_palette=False)  # ^p still opens the palette

    def on_mount(self) -> None:
        self.app.backend.bind_topbar(self.query_one(TopBar))
        self.on_resize()
        self.refresh_all()
        self.query_one("#steps-sketch").focus()  # the footer's keys are known, so they come with the first frame
        if self.app.first_frame_drawn:  # pushed after the app's first frame: nothing to wait for
            self.run_worker(self.go_live(), group="runbook-live")

    async def go_live(self) -> None:
        """Mount the real phase list and step table hidden next to their sketches, then swap them in one go: no
        frame is drawn between hiding one and showing the other, so nothing flickers."""
        if self.live or self.going_live:
            return
        self.going_live = True
        from textual.widgets import DataTable

        from tui.widgets.phases import PhaseList

        phases = PhaseList(id="phases")
        table = DataTable(id="steps", cursor_type="row", zebra_stripes=True)
        for widget in (phases, table):
            widget.display = False
        await self.query_one("#runbook-body").mount(phases, before="#phases-sketch")
        await self.query_one("#phase-pane").mount(table, before="#steps-sketch")
        for key, label in STEP_COLUMNS:
            table.add_column(label, key=key)
        with self.app.batch_update():
            for sketch in self.query("#phases-sketch, #steps-sketch"):
                sketch.display = False
                sketch.remove()
            phases.display = table.display = True
            self.live = True
            self.on_resize()
            self.refresh_all()
            (phases if self.wants_focus == "phases" else table).focus()

    def sidebar(self) -> PhaseList | PhaseSketch:
        return self.query_one("#phases" if self.live else "#phases-sketch")

    def on_resize(self, event=None) -> None:
        narrow = self.size.width < NARROW
        self.sidebar().set_folded(narrow)
        self.set_class(narrow, "narrow")
        self.narrow = narrow
        # The title column takes what the fixed columns and the sidebar leave, so no sideways scrolling.
        sidebar = 13 if narrow else 26
        self.title_width = max(16, self.size.width - sidebar - (43 if narrow else 48))
        self.refresh_sidebar()
        if self.known:
            self.show_phase(self.phase)

    # ---- rendering ------------------------------------------------------------------------------------------
    def refresh_all(self) -> None:
        """Fold every step from the journal once, then draw from that."""
        backend = self.app.backend
        self.known = {s.step.id: s for s in (backend.states() if backend.ready else backend.preview_states())}
        self.refresh_sidebar()
        self.show_phase(self.phase)

    def refresh_sidebar(self) -> None:
        by_phase: dict[Phase, list[StepState]] | None = {} if self.known else None  # None: no badges yet
        for s in self.known.values():
            by_phase.setdefault(s.step.phase, []).append(s)
        sidebar = self.sidebar()
        sidebar.show(by_phase)
        if self.live:
            sidebar.highlighted = list(Phase).index(self.phase)

    def show_phase(self, phase: Phase) -> None:
        self.phase = phase
        if not self.live:  # the sketch: the phase's title; its steps come with the real table
            self.query_one("#steps-sketch").border_title = f"{phase.letter} · {phase.title}"
            self.show_detail()
            return
        table = self.query_one("#steps")
        table.border_title = f"{phase.letter} · {phase.title}"
        states = [s for s in self.known.values() if s.step.phase is phase]
        keep = {s.step.id for s in states}
        for key in [k.value for k in table.rows if k.value not in keep]:
            table.remove_row(key)
        for s in states:
            self.render_row(s)
        if table.row_count and table.cursor_row >= table.row_count:
            table.move_cursor(row=0)
        self.show_detail()

    def render_row(self, state: StepState) -> None:
        if not self.live:
            return
        table = self.query_one("#steps")
        sid = state.step.id
        title = state.step.title if state.applicable else f"{state.step.title} (not on this path)"
        indent = "  " if state.step.parent else ""
        room = self.title_width - len(indent)
        if len(title) > room:
            title = title[: room - 1] + "…"
        cells = {"st": status_cell(state, running=sid in self.running), "id": sid,
                 "title": Text(indent + title, style="" if state.applicable else "dim"),
                 "kind": state.step.kinds.replace(" + ", "+") if self.narrow else state.step.kinds,
                 "count": count_label(state),
                 "checked": checked_label(state)[:5] if self.narrow else checked_label(state)}
        if sid in table.rows:
            for col, value in cells.items():
                table.update_cell(sid, col, value, update_width=True)
        else:
            table.add_row(*(cells[c] for c, _ in STEP_COLUMNS), key=sid)

    def selected_step_id(self) -> str | None:
        if not self.live:
            return None
        table = self.query_one("#steps")
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def show_detail(self) -> None:
        sid = self.selected_step_id()
        detail = self.query_one("#step-detail", Static)
        backend = self.app.backend
        if sid is None:
            detail.update("" if backend.ready else backend.status_text)
            return
        state = self.known.get(sid) or backend.state(sid)
        detail.border_title = f"{sid} · {app_words(state.summary)}"
        if not backend.ready:  # the checklist is drawn from the journal; the step's detail needs the run
            detail.update(backend.status_text)
            return
        detail.update(backend.detail_text(state, detail.content_size.width or self.size.width - 20))

    # ---- events (handlers by name: the widget classes load with `go_live`, not with this module) -----------------
    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id != "phases":
            return
        if self.known and event.option.id and event.option.id != self.phase.letter:
            self.show_phase(Phase[event.option.id])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "phases":
            self.action_focus_steps()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "steps":
            self.show_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "steps":
            self.action_open_step()

    def on_screen_resume(self) -> None:
        self.refresh_all()

    # ---- actions --------------------------------------------------------------------------------------------
    def action_open_step(self) -> None:
        sid = self.selected_step_id()
        if sid is not None:
            self.app.open_step(sid)

    def action_focus_phases(self) -> None:
        self.wants_focus = "phases"
        if self.live:
            self.query_one("#phases").focus()

    def action_focus_steps(self) -> None:
        self.wants_focus = "steps"
        if self.live:
            self.query_one("#steps").focus()

    def action_next_phase(self) -> None:
        phases = list(Phase)
        self.show_phase(phases[(phases.index(self.phase) + 1) % len(phases)])
        self.refresh_sidebar()

    def go_to(self, step_id: str) -> None:
        state = self.known.get(step_id) or self.app.backend.state(step_id)
        if state.step.phase is not self.phase:
            self.show_phase(state.step.phase)
            self.refresh_sidebar()
        if not self.live:
            return
        table = self.query_one("#steps")
        table.move_cursor(row=table.get_row_index(state.step.id))
        table.focus()

    def action_check_phase(self) -> None:
        if not self.app.backend.ready:
            self.notify("Still connecting…", timeout=3)
            return
        ids = [s.step.id for s in self.known.values()
               if s.step.phase is self.phase and s.step.check is not None and s.applicable
               and not s.step.children]
        if not ids:
            self.notify(f"Phase {self.phase.letter} has no automated checks: its steps are confirmed by a person",
                        timeout=4)
            return
        self.running.update(ids)
        for sid in ids:
            self.render_row(self.known[sid])
        self.run_checks(self.phase, ids)

    @work(group="runbook-checks", exit_on_error=False)
    async def run_checks(self, phase: Phase, ids: list[str]) -> None:
        """The engine checks the phase (IS probed once, a few at a time); each result is posted as it lands, and
        the folded states once at the end."""
        states = await self.app.backend.check_steps(ids, lambda r: self.post_message(StepChecked(r.step_id, r)))
        self.post_message(StepsFolded(states))
        errors = [s for s in states.values() if s.step.id in ids and s.result is not None and s.result.error]
        if errors:
            self.notify("; ".join(f"{s.step.id}: {s.result.error}" for s in errors[:3]),
                        title="Some checks could not run", severity="error", timeout=8)
        else:
            self.notify(f"Phase {phase.letter}: {len(ids)} checks done", timeout=3)

    @on(StepChecked)
    def step_checked(self, message: StepChecked) -> None:
        from core.runbook.state import with_result

        self.running.discard(message.step_id)
        known = self.known.get(message.step_id)
        if known is None:
            return
        self.known[message.step_id] = state = with_result(known, message.result)
        if state.step.phase is self.phase:
            self.render_row(state)
            if message.step_id == self.selected_step_id():
                self.show_detail()

    @on(StepsFolded)
    def steps_folded(self, message: StepsFolded) -> None:
        self.running.clear()
        self.known = dict(message.states)
        self.refresh_sidebar()
        self.show_phase(self.phase)
