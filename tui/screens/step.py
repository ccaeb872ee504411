"""One step: why it matters, what the tool checks (the exact query), the records it found, the run variables it
needs (edited in place), and the actions of its kind. AUTO: re-check, plan, apply. VERIFY: re-check. HUMAN:
confirm with a note (or withdraw it). TICKET: the drafted text, saved to the downloads folder, and the number.

Workers do the network and journal work and post what they found (tui.messages); the handlers render from those
messages, never from a second journal read. A blocked step says which gates hold it and why; a waived one who
accepted it, when and why (`w`). The first record asks who is doing it when the profile names no operator."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Input, Label, ProgressBar, Static, TextArea

from core.journal import OperatorMissing
from core.runbook.model import PlanSummary, Status, StepState
from tui.messages import StepUpdated
from tui.screens.operator import with_operator
from tui.screens.step_fix import StepFix
from tui.screens.step_records import StepRecords
from tui.widgets.sample_table import SampleTable
from tui.widgets.status import GLYPHS, state_key
from tui.widgets.step_panels import gate_text, head_summary, set_above, waiver_text, why_text
from tui.widgets.topbar import TopBar
from tui.widgets.variable_editor import VariableEditor


class StepScreen(StepFix, StepRecords):
    TITLE = "Step"
    AUTO_FOCUS = "#step-body"  # not an Input: single-key bindings must work until the person picks a field
    HELP = (
        "A step of the runbook.\n\n"
        "- **Why**: what goes wrong if this step is skipped.\n"
        "- **Needs**: the run variables the step (or its ticket) uses, edited in place with the same checks as "
        "`cutover set`; Enter saves one (and re-checks the step), Esc puts the stored value back. Esc in any "
        "field returns to the step's keys; Esc again goes back.\n"
        "- **Check**: the exact query the tool runs on Zuora or NetSuite, and what it found. When the screen opens, "
        "a result is checked again if a run variable changed since, or if it asked for action and something was "
        "recorded since (a confirmation, a ticket, a waiver, an apply); `r` checks again at any time.\n"
        "- AUTO steps: `p` plans the fix (a dry run listing every record with its current and new value), "
        "`a` applies it after a confirmation, with a progress bar; Esc cancels safely (what is confirmed stays "
        "confirmed); the step is re-checked at the end. `e` exports the plan to your downloads folder.\n"
        "- **Undo** (`u`, after an apply of E1, E2 or G2): shows the plan that sets each record the apply wrote back "
        "to its value before, asks as Apply does, and applies it with the progress bar. A record changed since the "
        "apply is skipped and listed, never overwritten; Zuora's refusals are notified with what to ask for. After "
        "H1 an undo of E1/E2 asks why (recorded in the journal and the report).\n"
        "- HUMAN steps: follow the numbered instructions, then confirm with a note (`n`); `x` withdraws a "
        "confirmation (both stay in the journal).\n"
        "- TICKET steps: the ticket is drafted once what it quotes is recorded and checked; save it (`s`, to your "
        "downloads folder) and record the number Support gives (a second number asks before it replaces the "
        "first).\n"
        "- **Blocked** (■): the steps it waits for are listed with what each found. Nothing here can be confirmed, "
        "recorded or applied until they pass, or a person waives them on their own screens.\n"
        "- **Waive** (`w`): accept what a row's check found, on purpose, with a reason. The row then shows ≈ "
        "waived (who, when, why), counts as done for the steps it gates, and is listed in the sign-off report. "
        "On a waived row `w` withdraws the waiver (with a reason too).\n"
        "- The first record asks for your name and email when the profile names no operator."
    )
    DEFAULT_CSS = """
    StepScreen .status-blocked { color: $text-warning; }
    StepScreen .status-waived { color: $text-primary; }
    StepScreen .status-not-needed { color: $text-muted; }
    StepScreen #step-gate { border-left: thick $warning; padding-left: 1; margin-bottom: 1; }
    StepScreen #step-waiver { border-left: thick $primary; padding-left: 1; margin-bottom: 1; }
    StepScreen #apply-panel { height: auto; border-left: thick $warning; padding-left: 1; margin-bottom: 1; }
    StepScreen #step-needs { height: auto; margin-bottom: 1; }
    StepScreen #ticket-needs { color: $text-warning; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "recheck", "Re-check", id="step.recheck"),
        Binding("p", "plan", "Plan", id="step.plan"),
        Binding("a", "apply", "Apply…", id="step.apply"),
        Binding("u", "undo", "Undo…", id="step.undo"),
        Binding("e", "export_plan", "Export plan", id="step.export"),
        Binding("n", "focus_note", "Note/confirm", id="step.note"),
        Binding("x", "withdraw_confirmation", "Withdraw confirmation", id="step.withdraw_confirmation"),
        Binding("s", "save_ticket", "Save ticket", id="step.save_ticket"),
        Binding("w", "waive", "Waive", id="step.waive"),
        Binding("w", "withdraw_waiver", "Withdraw waiver", id="step.withdraw_waiver"),
        Binding("escape", "back", "Back", id="step.back"),
    ]

    def __init__(self, step_id: str):
        super().__init__()
        self.step_id = step_id
        self.plan: PlanSummary | None = None
        self.cancel = asyncio.Event()
        self.applying = False
        self.apply_started = 0.0
        self.applied = False  # the step's fix has been applied: Undo joins the footer
        self.shown: StepState | None = None  # the state last drawn: footers and handlers ask it, not the journal
        self.ticket_drafted = False

    @property
    def state(self) -> StepState:
        """A fresh fold from the journal (used when the screen opens or comes back)."""
        return self.app.backend.state(self.step_id)

    @property
    def current(self) -> StepState:
        return self.shown if self.shown is not None else self.state

    @property
    def help_title(self) -> str:
        return f"Step {self.step_id} · {self.current.step.title}"

    # ---- layout ---------------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        step = self.state.step
        yield TopBar(id="topbar")
        with VerticalScroll(id="step-body"):
            yield Static(id="step-head", markup=False)
            if step.action:  # the apply's progress right under the head: on screen at 80x24 without scrolling
                with Vertical(id="apply-panel", classes="hidden"):
                    yield ProgressBar(id="apply-progress", show_eta=False)
                    yield Static(id="apply-status", markup=False)
            yield Static(id="step-gate", markup=False, classes="hidden")
            yield Static(id="step-waiver", markup=False, classes="hidden")
            yield Vertical(id="step-needs", classes="hidden")
            yield Static(id="step-why", markup=False)
            yield Static(id="step-check", markup=False)
            yield SampleTable(id="sample")
            if step.instructions:
                yield Static(id="step-instructions", markup=False)
            if step.action:
                yield Static(id="plan-text", markup=False, classes="hidden")
            if step.ticket:
                yield Label("Drafted ticket (edit freely, then save or copy):")
                yield Static(id="ticket-needs", markup=False, classes="hidden")
                yield TextArea(id="ticket-text", read_only=True, soft_wrap=True)
                yield Input(id="ticket-number", placeholder="ticket number, e.g. 00412345, then Enter")
            if step.confirm:  # only a step that takes a person's confirmation offers one (engine.confirm)
                yield Input(id="note", placeholder="note for the record (what you did, where), then Enter "
                                                   "to confirm")
            with Horizontal(id="step-buttons"):
                if step.check is not None:
                    yield Button("Re-check", id="recheck")
                if step.action:
                    yield Button("Plan", id="plan")
                    yield Button("Apply…", id="apply", variant="warning", disabled=True)
                    yield Button("Export plan", id="export", disabled=True)
                if step.ticket:
                    yield Button("Check what it quotes", id="ticket-checks", classes="hidden")
                    yield Button("Save ticket", id="save-ticket")
                    yield Button("Copy", id="copy-ticket")
                yield Button("Waive…", id="waive", classes="hidden")
                yield Button("Withdraw waiver…", id="withdraw-waiver", classes="hidden")
        yield Footer()

    def on_mount(self) -> None:
        self.app.backend.bind_topbar(self.query_one(TopBar))
        self.render_state(self.state)
        if self.current.step.action:
            self.load_existing_plan()

    def on_screen_resume(self) -> None:
        if not self.applying:
            self.render_state(self.state)  # something changed elsewhere (a gate, the simulated tenant)
            self.recheck_if_out_of_date()  # on the first push too: Textual resumes a screen as it is shown

    @work(group="step-stale", exclusive=True, exit_on_error=False)
    async def recheck_if_out_of_date(self) -> None:
        """A result older than what it was counted against is checked again at once rather than shown as if it
        were current: any result once a run variable changed (C6 against a new freeze_ts, B3 a new target date),
        and a result that was waiting for a person (needs action: I1's confirmation that I2 reads) once they
        recorded anything. Other records leave a pass or a fail alone: that is the tenant's data, which `r` reads
        again, so opening a screen never costs a Data Query job for nothing."""
        state = self.shown
        if state is None or state.step.check is None or state.result is None or not self.app.backend.ready:
            return
        journal, when = self.app.backend.journal, state.result.checked_at
        waiting = state.result.status is Status.NEEDS_ACTION
        if await asyncio.to_thread(journal.recorded_since if waiting else journal.variables_set_since, when):
            self.recheck()

    def refresh_all(self) -> None:
        """Something changed under this screen (the Simulated tenant played an act): fold again, read the
        variables again."""
        if not self.applying:
            self.refresh_state()

    # ---- rendering (from a state a worker posted, or the fold on open) --------------------------------------
    def render_state(self, state: StepState) -> None:
        step = state.step
        self.shown = state
        key = state_key(state)
        editable = self.app.backend.needed_variables(state)
        head = (f"{GLYPHS[key]} {step.id} · {step.title}   [{step.kinds}]   "
                f"{set_above(head_summary(state), editable, step.id)}")
        self.query_one("#step-head", Static).update(head)
        self.query_one("#step-head").set_classes(f"status-{key}")
        gate = self.query_one("#step-gate", Static)
        gate.set_class(not state.blocked_by, "hidden")
        if state.blocked_by:
            gate.update(gate_text(self.app.backend.blockers(state)))
        waiver = self.query_one("#step-waiver", Static)
        waiver.set_class(state.waiver is None, "hidden")
        if state.waiver is not None:
            waiver.update(waiver_text(state))
        self.render_needs(state)
        self.query_one("#step-why", Static).update(why_text(state))
        self.query_one("#step-check", Static).update(set_above(self.app.backend.check_text(state), editable, step.id))
        if step.instructions:
            self.query_one("#step-instructions", Static).update(
                set_above(self.app.backend.instructions_text(self.step_id), editable, step.id))
        self.render_sample(state)
        if step.ticket:
            self.load_ticket(state)
        self.query_one("#waive", Button).set_class(not self.app.backend.can_waive(state), "hidden")
        self.query_one("#withdraw-waiver", Button).set_class(state.waiver is None, "hidden")
        self.refresh_bindings()  # the footer follows the state

    def render_needs(self, state: StepState) -> None:
        """An editor per run variable the step needs (tui.widgets.variable_editor), in place."""
        box = self.query_one("#step-needs", Vertical)
        names = self.app.backend.needed_variables(state)
        box.set_class(not names, "hidden")
        editors = list(box.query(VariableEditor))
        if [w.variable for w in editors] == names:
            for editor in editors:  # recorded elsewhere (the Simulated tenant, `v`): read again; typing is kept
                editor.reload()
            return
        box.remove_children()
        if names:
            box.mount(Label("Needs  (Enter saves · Esc restores · v lists all variables)"))
            box.mount_all(VariableEditor(name, compact=True) for name in names)

    @on(VariableEditor.Changed)
    def variable_changed(self, message: VariableEditor.Changed) -> None:
        """A value the step needs was recorded: fold the step again (and redraft its ticket)."""
        message.stop()
        self.query_one("#step-body").focus()  # saved: back to the step's keys
        state = self.current
        if state.step.check is not None and not state.blocked_by:  # what it found before the value is out of date
            self.notify(f"{message.name} recorded: re-checking {self.step_id}", timeout=3)
            self.recheck()
        else:
            self.refresh_state(f"{message.name} recorded")

    def render_sample(self, state: StepState) -> None:
        available = (self.query_one("#step-body").size.width or self.app.size.width) - 8  # borders, scrollbars
        self.query_one(SampleTable).show(state, available)

    # ---- messages -------------------------------------------------------------------------------------------
    @on(StepUpdated)
    def step_updated(self, message: StepUpdated) -> None:
        self.render_state(message.state)
        if message.note:
            self.notify(message.note, timeout=3)

    # ---- workers: they post, the handlers above render ------------------------------------------------------
    @work(group="step-state", exit_on_error=False)
    async def refresh_state(self, note: str = "") -> None:
        state = await asyncio.to_thread(self.app.backend.state, self.step_id)
        self.post_message(StepUpdated(state, note))

    @work(exclusive=True, group="step-check", exit_on_error=False)
    async def recheck(self, *step_ids: str) -> None:
        self.query_one("#step-head", Static).update(f"… {self.step_id} · checking …")
        try:
            if step_ids:  # what the ticket quotes
                await self.app.backend.check_steps(list(step_ids), lambda result: None)
            else:
                await self.app.backend.check(self.step_id)
        except OperatorMissing:  # a check that records a run variable (D1's is_enabled_ts) needs a name
            self.refresh_state()
            with_operator(self, lambda: self.recheck(*step_ids))
            return
        self.refresh_state()

    # ---- actions --------------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """The footer shows only the actions of this step's kind and state (False hides a binding)."""
        state = self.current
        step = state.step
        if action == "export_plan":
            return bool(step.action) and self.plan is not None
        if action in ("plan", "apply"):
            return bool(step.action)
        if action == "undo":
            return bool(step.action) and self.applied
        if action == "recheck":
            return step.check is not None
        if action == "save_ticket":
            return bool(step.ticket)
        if action == "focus_note":
            return step.confirm
        if action == "withdraw_confirmation":
            return state.confirmation is not None
        if action == "waive":
            return self.app.backend.can_waive(state)
        if action == "withdraw_waiver":
            return state.waiver is not None
        return True

    @on(Button.Pressed, "#recheck")
    def action_recheck(self) -> None:
        self.recheck()

    def action_back(self) -> None:
        if self.applying:
            self.cancel.set()
            self.query_one("#apply-status", Static).update(
                "Cancelling: the calls already sent or queued finish and are recorded; no new batch is taken…")
            self.notify("Cancelling: the calls already sent or queued finish and are recorded; no new batch is taken",
                        severity="warning", timeout=5)
            return
        if isinstance(self.focused, Input | TextArea):  # out of a field first: the step's keys work again
            self.query_one("#step-body").focus()
            return
        self.app.pop_screen()
