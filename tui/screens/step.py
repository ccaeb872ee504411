"""One step: why it matters, what the tool checks (the exact query), the records it found, the run variables it
needs (edited in place), and the actions of its kind. AUTO: re-check, plan, apply. VERIFY: re-check. HUMAN:
confirm with a note (or withdraw it). TICKET: the drafted text, saved to the downloads folder, and the number.

Workers do the network and journal work and post what they found (tui.messages); the handlers render from those
messages, never from a second journal read. A blocked step says which gates hold it and why; a waived one who
accepted it, when and why (`w`). The first record asks who is doing it when the profile names no operator."""

from __future__ import annotations

import asyncio
import io
import re
import time

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, ProgressBar, Static, TextArea

from core.errors import CutoverError
from core.journal import OperatorMissing
from core.runbook.engine import StepBlocked, TicketExists
from core.runbook.model import ApplyProgress, PlanSummary, StepState
from core.runbook.tickets import TicketIncomplete
from tui.backend import plan_file_name, ticket_file_name
from tui.messages import ApplyFinished, ApplyProgressed, PlanReady, StepUpdated
from tui.screens.confirm import ConfirmWrite
from tui.screens.operator import with_operator
from tui.screens.reason import ReasonScreen
from tui.widgets.status import GLYPHS, state_key
from tui.widgets.step_panels import gate_text, head_summary, set_above, waiver_text, why_text
from tui.widgets.topbar import TopBar
from tui.widgets.variable_editor import VariableEditor

SAMPLE_LIMIT = 20


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def sample_cell(value) -> Text:
    """Amounts right-aligned with 2 decimals, dates and the rest as they are; too long a value ends in …."""
    if value is None:
        return Text("")
    if isinstance(value, float):
        return Text(f"{value:,.2f}", justify="right")
    if isinstance(value, int) and not isinstance(value, bool):
        return Text(f"{value:,}", justify="right")
    return Text(str(value), no_wrap=True, overflow="ellipsis")


def fit_widths(columns: list[str], cells: list[list[Text]], available: int) -> list[int]:
    """Each column as wide as its widest value (or label); when they do not all fit in `available` cells, the
    widest text columns are narrowed first (to 8 at least, labels too), so amounts and dates stay whole."""
    widths = [max([len(c), *(t.cell_len for t in (row[i] for row in cells))]) for i, c in enumerate(columns)]
    budget = available - 2 * len(columns)  # DataTable pads each cell by one on either side

    def whole(i: int) -> bool:  # amounts, counts and dates are never cut
        return all(row[i].justify == "right" or _DATE.match(row[i].plain) or not row[i].plain for row in cells)

    floors = [max(t.cell_len for t in (row[i] for row in cells)) if whole(i) else min(widths[i], 8)
              for i in range(len(columns))]
    while sum(widths) > budget:
        wide = [i for i in range(len(widths)) if widths[i] > floors[i]]
        if not wide:
            break
        i = max(wide, key=widths.__getitem__)
        widths[i] = max(floors[i], widths[i] - (sum(widths) - budget))
    return widths


class StepScreen(Screen):
    TITLE = "Step"
    AUTO_FOCUS = "#step-body"  # not an Input: single-key bindings must work until the person picks a field
    HELP = (
        "A step of the runbook.\n\n"
        "- **Why**: what goes wrong if this step is skipped.\n"
        "- **Needs**: the run variables the step (or its ticket) uses, edited in place with the same checks as "
        "`cutover set`; Enter saves one, Esc puts the stored value back.\n"
        "- **Check**: the exact query the tool runs on Zuora or NetSuite, and what it found.\n"
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
    BINDINGS = [
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
            sample = DataTable(id="sample", cursor_type="row", zebra_stripes=True)
            sample.border_title = "Records found"
            yield sample
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
                f"{set_above(head_summary(state), editable)}")
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
        self.query_one("#step-check", Static).update(set_above(self.app.backend.check_text(state), editable))
        if step.instructions:
            self.query_one("#step-instructions", Static).update(self.app.backend.instructions_text(self.step_id))
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
        self.refresh_state(f"{message.name} recorded")

    def render_sample(self, state: StepState) -> None:
        table = self.query_one("#sample", DataTable)
        table.clear(columns=True)
        rows = list(state.result.sample) if state.result else []
        table.display = bool(rows)
        if not rows:
            return
        rows = rows[:SAMPLE_LIMIT]
        columns = list(dict.fromkeys(k for r in rows for k in r))
        if len({r.get("part") for r in rows}) == 1:  # one counted part: its name is the panel's title already
            columns = [c for c in columns if c != "part"]
        cells = [[sample_cell(r.get(c)) for c in columns] for r in rows]
        available = (self.query_one("#step-body").size.width or self.app.size.width) - 8  # borders, scrollbars
        for column, width in zip(columns, fit_widths(columns, cells, available)):
            table.add_column(column, width=width)
        for row in cells:
            table.add_row(*row)
        # the total is what the sampled parts counted (a sample may mix parts: V9's 51 + 11), never fewer than shown
        details = state.result.details or {}
        sampled = sum(details.get(part, 0) for part in {r.get("part") for r in rows})
        total = max(sampled, state.result.count or 0, len(rows))
        table.border_title = (f"Records found ({total:,})" if total == len(rows)
                              else f"Records found ({len(rows)} of {total:,} shown)")

    def load_ticket(self, state: StepState) -> None:
        """The drafted ticket, once nothing it quotes is missing: otherwise what to record or check first."""
        area = self.query_one("#ticket-text", TextArea)
        needs = self.query_one("#ticket-needs", Static)
        checks = self.query_one("#ticket-checks", Button)
        checks.add_class("hidden")
        if state.blocked_by:
            self.set_draft(f"The ticket is drafted once {state.step.id} is no longer blocked: "
                                 f"{', '.join(state.blocked_by)} must be done first.")
            return
        try:
            text = self.app.backend.ticket_text(self.step_id)
        except TicketIncomplete as exc:
            self.set_draft(f"Before drafting: {exc.message.split(', ', 1)[-1]}."
                           + (" Record the values above." if exc.needs.variables else ""))
            checks.set_class(not exc.needs.checks, "hidden")
            return
        except CutoverError as exc:
            self.set_draft(f"The ticket cannot be drafted yet: {self.app.describe_error(exc)}")
            return
        if not self.ticket_drafted or area.read_only:  # never overwrite what the person edited
            area.text = text
        needs.add_class("hidden")
        area.read_only = False
        self.ticket_drafted = True

    def set_draft(self, why: str) -> None:
        area = self.query_one("#ticket-text", TextArea)
        needs = self.query_one("#ticket-needs", Static)
        needs.update(why)
        needs.remove_class("hidden")
        area.text, area.read_only = "", True
        self.ticket_drafted = False

    # ---- messages -------------------------------------------------------------------------------------------
    @on(StepUpdated)
    def step_updated(self, message: StepUpdated) -> None:
        self.render_state(message.state)
        if message.note:
            self.notify(message.note, timeout=3)

    @on(PlanReady)
    def plan_ready(self, message: PlanReady) -> None:
        self.plan = message.plan
        widget = self.query_one("#plan-text", Static)
        widget.update(message.text)
        widget.remove_class("hidden")
        plan = message.plan
        remaining = plan.remaining if plan.status != "planned" else plan.total
        self.query_one("#apply", Button).disabled = remaining == 0 or self.app.backend.read_only or self.applying
        self.query_one("#export", Button).disabled = False
        self.refresh_bindings()  # Export plan joins the footer once there is a plan
        if message.asked:  # the person pressed p: the plan, not the queries above it, is what they read next
            self.show_plan(widget)

    @work(group="step-show-plan", exclusive=True)
    async def show_plan(self, plan: Static) -> None:
        await asyncio.sleep(0)  # once the plan's text is laid out: its place is known only then
        body = self.query_one("#step-body", VerticalScroll)
        body.focus()  # the keys and the scroll act on the plan
        self.call_after_refresh(body.scroll_to_widget, plan, top=True, animate=False)

    @on(ApplyProgressed)
    def apply_progressed(self, message: ApplyProgressed) -> None:
        p = message.progress
        self.query_one("#apply-progress", ProgressBar).update(total=max(p.total, 1), progress=p.done)
        eta = "–" if p.eta_s is None else f"{p.eta_s:,.0f} s"
        self.query_one("#apply-status", Static).update(
            f"{p.done:,}/{p.total:,} written · {p.rate_per_s:,.1f}/s · ETA {eta} · {p.failed:,} failed · "
            + (f"{p.skipped:,} skipped · " if p.skipped else "") + "Esc cancels safely")

    @on(ApplyFinished)
    def apply_finished(self, message: ApplyFinished) -> None:
        self.applying = False
        status = self.query_one("#apply-status", Static)
        outcome = message.outcome
        if outcome is None:
            status.update(f"Stopped: {message.error}. Apply again to resume: confirmed writes are never "
                          "repeated.")
            self.notify(message.error or "the apply stopped", title="Apply stopped", severity="error", timeout=10)
        else:
            verb = "cancelled" if outcome.cancelled else "done"
            plan = outcome.plan
            what = "Apply" if plan.undoes is None else "Undo"
            self.applied = True
            self.refresh_bindings()
            status.update(f"{what} {verb}: {outcome.written:,} written, {outcome.already_set:,} already set, "
                          f"{outcome.failed:,} failed, "
                          + (f"{outcome.skipped:,} skipped ("
                             + ("no longer selected or changed since the plan" if plan.undoes is None else
                                "changed since the apply") + ": see the export), " if outcome.skipped else "")
                          + f"{outcome.write_calls:,} write calls in {message.took_s:,.1f} s"
                          f"; {plan.remaining:,} of {plan.total:,} still to write."
                          + (f" Re-check: {outcome.recheck.summary}" if outcome.recheck else ""))
            self.query_one("#apply-progress", ProgressBar).update(total=max(plan.total, 1),
                                                                 progress=plan.total - plan.remaining)
            self.notify(f"{self.step_id} {what.lower()} {verb}",
                        severity="warning" if outcome.failed or outcome.skipped else "information")
            self.post_message(PlanReady(plan, message.plan_text))  # the header is this run's, not the one before
        self.refresh_state()

    # ---- workers: they post, the handlers above render ------------------------------------------------------
    @work(group="step-state", exit_on_error=False)
    async def refresh_state(self, note: str = "") -> None:
        state = await asyncio.to_thread(self.app.backend.state, self.step_id)
        self.post_message(StepUpdated(state, note))

    @work(group="step-existing-plan", exit_on_error=False)
    async def load_existing_plan(self) -> None:
        if self.current.step.action:
            self.applied = await self.app.backend.has_applied(self.step_id)
            self.refresh_bindings()
        plan = await self.app.backend.latest_plan(self.step_id)
        if plan is not None:
            self.post_message(PlanReady(plan, await asyncio.to_thread(self.app.backend.plan_text, plan)))

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

    @work(exclusive=True, group="step-plan", exit_on_error=False)
    async def make_plan(self) -> None:
        self.notify(f"Planning {self.step_id}: reading the records to change…", timeout=3)
        try:
            plan = await self.app.backend.plan(self.step_id)
        except CutoverError as exc:
            self.notify(self.app.describe_error(exc), title="Plan failed", severity="error", timeout=8)
            return
        self.post_message(PlanReady(plan, await asyncio.to_thread(self.app.backend.plan_text, plan), asked=True))
        if plan.total == 0:
            self.notify("Nothing to change: every record already has the new value", timeout=4)

    @work(exclusive=True, group="step-apply", exit_on_error=False)
    async def run_apply(self, plan: PlanSummary) -> None:
        started = time.monotonic()

        def progress(p: ApplyProgress) -> None:
            self.post_message(ApplyProgressed(p))

        try:
            outcome = await self.app.backend.apply(plan, progress, self.cancel)
        except CutoverError as exc:
            self.post_message(ApplyFinished(None, error=self.app.describe_error(exc)))
            return
        text = await asyncio.to_thread(self.app.backend.plan_text, outcome.plan)
        self.post_message(ApplyFinished(outcome, text, took_s=time.monotonic() - started))
        if outcome.failed:  # each reason once, with what to do (a missing Zuora permission names it)
            for line in await self.app.backend.failure_lines(outcome.plan.plan_id):
                self.notify(line, title=f"{self.step_id}: refused", severity="error", timeout=15)

    @work(group="step-confirm", exit_on_error=False)
    async def confirm(self, note: str) -> None:
        try:
            await self.app.backend.confirm(self.step_id, note)
        except CutoverError as exc:
            self.notify(self.refusal(exc), title="Not confirmed", severity="error", timeout=10)
            return
        self.query_one("#note", Input).value = ""
        self.refresh_state(f"{self.step_id} confirmed")

    @work(group="step-confirm", exit_on_error=False)
    async def withdraw_confirmation(self) -> None:
        try:
            await self.app.backend.withdraw_confirmation(self.step_id)
        except CutoverError as exc:
            self.notify(self.refusal(exc), title="Not withdrawn", severity="error", timeout=8)
            return
        self.refresh_state(f"{self.step_id}: confirmation withdrawn (both stay in the journal)")

    @work(group="step-ticket", exit_on_error=False)
    async def record_ticket(self, number: str, replace: bool = False) -> None:
        try:
            await self.app.backend.record_ticket(self.step_id, number, replace=replace)
        except TicketExists as exc:
            self.ask_replace(exc, number)
            return
        except CutoverError as exc:
            self.notify(self.refusal(exc), title="Ticket not recorded", severity="error", timeout=10)
            return
        self.query_one("#ticket-number", Input).value = ""
        self.refresh_state(f"Ticket {number} recorded for {self.step_id}")

    def ask_replace(self, exc: TicketExists, number: str) -> None:
        old = exc.standing

        def decided(ok: bool | None) -> None:
            if ok:
                self.record_ticket(number, replace=True)

        self.app.push_screen(ConfirmWrite(
            f"Replace ticket {old.number}?",
            f"{self.step_id} has ticket {old.number}, recorded by {old.who} at {old.at}.\n"
            f"Record {number} instead? The old number stays in the journal and the sign-off report.",
            confirm_label="Replace", cancelled=f"Kept ticket {old.number}"), decided)

    def refusal(self, exc: BaseException) -> str:
        """Core's refusal in a line; a gate's refusal names the gates (the rest is on screen already)."""
        if isinstance(exc, StepBlocked):
            gates = self.current.blocked_by
            n = len(gates)
            return (f"{self.step_id} is blocked until {', '.join(gates)} {'is' if n == 1 else 'are'} done: nothing "
                    f"was recorded. Make {'it' if n == 1 else 'them'} pass, or waive "
                    f"{'it' if n == 1 else 'them'} with a reason (w on {'its' if n == 1 else 'their'} screen).")
        return set_above(self.app.describe_error(exc), self.app.backend.needed_variables(self.current))

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

    @on(Button.Pressed, "#ticket-checks")
    def check_quoted(self) -> None:
        needed = self.app.backend.ticket_checks(self.step_id)
        if needed:
            self.notify(f"Checking {', '.join(needed)} for the {self.step_id} ticket…", timeout=3)
            self.recheck(*needed)

    @on(Button.Pressed, "#plan")
    def action_plan(self) -> None:
        if self.applying:
            self.notify("An apply is running: a new plan waits until it ends (Esc cancels it safely)", timeout=5)
            return
        with_operator(self, self.make_plan)  # a plan is recorded under the operator

    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        if self.applying:
            self.notify(f"{self.step_id} is applying already: watch the progress above; Esc cancels it safely",
                        timeout=5)
            return
        if self.app.backend.read_only:
            self.notify(f"Profile {self.app.backend.profile_label} is read-only: Plan works, Apply is refused. "
                        "Make the profile writable to apply.", severity="warning", timeout=8)
            return
        if self.plan is None:
            self.notify("Plan first (p): the dry run lists every record that will change", timeout=4)
            return
        plan = self.plan
        if plan.remaining == 0:  # applied, undone, or nothing to change: its counts and estimate are spent
            what = f"undo plan #{plan.plan_id}" if plan.undoes is not None else f"plan #{plan.plan_id}"
            self.notify(f"Nothing left to write in {what}: make a new plan first (p), which reads the records "
                        "as they are now", timeout=6)
            return
        typed = self.app.backend.profile_name if self.app.backend.is_production else None
        what = self.app.backend.confirm_text(plan)

        def decided(ok: bool | None) -> None:
            if ok:
                self.start_apply(plan)  # a cancel says "Not applied" itself (ConfirmWrite)

        with_operator(self, lambda: self.app.push_screen(ConfirmWrite(f"Apply {plan.step_id}?", what,
                                                                      typed_word=typed), decided))

    def action_undo(self) -> None:
        if self.applying:
            self.notify(f"{self.step_id} is applying: an undo waits until it ends (Esc cancels it safely)", timeout=5)
            return
        if self.app.backend.read_only:
            self.notify(f"Profile {self.app.backend.profile_label} is read-only: an undo writes, so it is refused.",
                        severity="warning", timeout=8)
            return
        with_operator(self, self.make_undo_plan)  # an undo plan is recorded under the operator

    @work(exclusive=True, group="step-plan", exit_on_error=False)
    async def make_undo_plan(self, override_reason: str | None = None) -> None:
        from core.runbook.undo import UndoRefused

        try:
            plan = await self.app.backend.plan_undo(self.step_id, override_reason)
        except UndoRefused as exc:  # E1/E2 after H1: a person may still go ahead, saying why
            self.ask_override(exc)
            return
        except CutoverError as exc:
            self.notify(self.app.describe_error(exc), title="Undo not planned", severity="error", timeout=8)
            return
        text = await asyncio.to_thread(self.app.backend.plan_text, plan)
        if not plan.remaining:
            self.post_message(PlanReady(plan, text))
            self.notify(f"{self.step_id}: this apply is undone already; nothing to write", timeout=5)
            return
        what = await asyncio.to_thread(self.app.backend.confirm_text, plan)
        typed = self.app.backend.profile_name if self.app.backend.is_production else None

        def decided(ok: bool | None) -> None:
            if ok:
                self.post_message(PlanReady(plan, text))
                self.start_apply(plan)

        self.app.push_screen(ConfirmWrite(f"Undo {self.step_id}?", f"Undo plan {plan.plan_id}: each record back to "
                                          f"its value before plan {plan.undoes}.\n{what}", typed_word=typed,
                                          confirm_label="Undo", cancelled="Not undone"), decided)

    def ask_override(self, exc: CutoverError) -> None:
        reason: list[str] = []

        def keep(text: str) -> None:
            if len(text.strip()) < 5:
                raise CutoverError("say why in a few words: it is recorded with your name and goes in the report")
            reason.append(text.strip())

        def decided(ok: bool | None) -> None:
            if ok and reason:
                self.make_undo_plan(reason[-1])

        self.app.push_screen(ReasonScreen(f"Undo {self.step_id} after H1?", exc.message,
                                          placeholder="why the undo goes ahead (recorded)", save_label="Plan undo",
                                          fail_title="Undo not planned", save=keep), decided)

    def start_apply(self, plan: PlanSummary) -> None:
        self.applying = True
        self.cancel.clear()
        panel = self.query_one("#apply-panel")
        panel.remove_class("hidden")
        self.query_one("#apply-progress", ProgressBar).update(total=max(plan.total, 1),
                                                             progress=plan.total - plan.remaining)
        self.query_one("#apply-status", Static).update("Starting… Esc cancels safely")
        self.query_one("#apply", Button).disabled = True
        # The panel sits right under the head: back to the top once it is laid out (scrolled to before that it has
        # no place yet, and the view stayed on the plan p had scrolled to, the progress off screen).
        self.call_after_refresh(self.query_one("#step-body", VerticalScroll).scroll_home, animate=False)
        self.run_apply(plan)

    @on(Button.Pressed, "#export")
    def action_export_plan(self) -> None:
        if self.plan is None:
            self.notify("Plan first (p)", timeout=3)
            return
        self.export_plan(self.plan)

    @work(group="step-export", exit_on_error=False)
    async def export_plan(self, plan: PlanSummary) -> None:
        path = await asyncio.to_thread(self.app.backend.export_plan, plan)
        self.app.deliver_text(path, save_filename=plan_file_name(plan), mime_type="text/csv", name="plan export")

    def action_focus_note(self) -> None:
        self.query_one("#note", Input).focus()

    def action_withdraw_confirmation(self) -> None:
        c = self.current.confirmation
        if c is None:
            return

        def decided(ok: bool | None) -> None:
            if ok:
                with_operator(self, self.withdraw_confirmation)

        self.app.push_screen(ConfirmWrite(
            f"Withdraw the confirmation of {self.step_id}?",
            f"Confirmed by {c.who} at {c.at}: {c.note}\n\nThe step then needs confirming again; the confirmation "
            "and its withdrawal both stay in the journal.", confirm_label="Withdraw"), decided)

    @on(Input.Submitted, "#note")
    def note_submitted(self, event: Input.Submitted) -> None:
        note = event.value.strip()
        if not note:
            self.notify("Write a short note first: what was done, and where", severity="warning", timeout=4)
            return
        with_operator(self, lambda: self.confirm(note))

    @on(Input.Submitted, "#ticket-number")
    def ticket_submitted(self, event: Input.Submitted) -> None:
        number = event.value.strip()
        if not number:
            self.notify("Type the ticket number Zuora Support gave you", severity="warning", timeout=4)
            return
        with_operator(self, lambda: self.record_ticket(number))

    @on(Button.Pressed, "#save-ticket")
    def action_save_ticket(self) -> None:
        if not self.ticket_drafted:
            self.notify("Nothing to save yet: the ticket is drafted once what it quotes is ready", severity="warning",
                        timeout=5)
            return
        text = self.query_one("#ticket-text", TextArea).text
        self.app.deliver_text(io.StringIO(text), save_filename=ticket_file_name(self.step_id),
                              mime_type="text/plain", name="ticket text")

    @on(Button.Pressed, "#copy-ticket")
    def copy_ticket(self) -> None:
        if not self.ticket_drafted:
            self.notify("Nothing to copy yet: the ticket is drafted once what it quotes is ready",
                        severity="warning", timeout=5)
            return
        self.app.copy_to_clipboard(self.query_one("#ticket-text", TextArea).text)
        self.notify("Ticket text copied to the clipboard", timeout=3)

    # ---- waivers ----------------------------------------------------------------------------------------------
    @on(Button.Pressed, "#waive")
    def action_waive(self) -> None:
        state = self.current
        if not self.app.backend.can_waive(state):
            return
        with_operator(self, lambda: self.ask_waiver(state))

    def ask_waiver(self, state: StepState) -> None:
        step_id = state.step.id
        gated = self.app.backend.gated_steps(step_id)
        what = (f"{GLYPHS[str(state.status)]} {step_id} {state.status}: {state.summary}\n\n"
                f"Waiving accepts this on purpose: {step_id} shows ≈ waived"
                + (f", counts as done for {', '.join(gated)}" if gated else "")
                + f", and the sign-off report lists it under {self.app.backend.operator_label}.")
        self.app.push_screen(ReasonScreen(
            f"Waive {step_id}?", what, placeholder="why this is accepted (a few words), then Enter",
            save_label="Waive", fail_title="Not waived",
            save=lambda reason: self.app.backend.waive(step_id, reason)), self.waiver_done(f"{step_id} waived"))

    @on(Button.Pressed, "#withdraw-waiver")
    def action_withdraw_waiver(self) -> None:
        state = self.current
        if state.waiver is None:
            return
        with_operator(self, lambda: self.ask_withdrawal(state))

    def ask_withdrawal(self, state: StepState) -> None:
        step_id, waiver = state.step.id, state.waiver
        what = (f"Waived by {waiver.who} at {waiver.at}: {waiver.reason}\n\n"
                f"Withdrawing puts {step_id} back to what its check finds; the steps it gates wait for it again. "
                "Both the waiver and its withdrawal stay in the journal.")
        self.app.push_screen(ReasonScreen(
            f"Withdraw the waiver on {step_id}?", what, placeholder="why it is withdrawn, then Enter",
            save_label="Withdraw", fail_title="Waiver not withdrawn",
            save=lambda reason: self.app.backend.withdraw_waiver(step_id, reason)),
            self.waiver_done(f"Waiver on {step_id} withdrawn"))

    def waiver_done(self, what: str):
        def done(saved: bool | None) -> None:
            if saved:
                self.refresh_state(what)
        return done

    def action_back(self) -> None:
        if self.applying:
            self.cancel.set()
            self.query_one("#apply-status", Static).update(
                "Cancelling: the calls already sent or queued finish and are recorded; no new batch is taken…")
            self.notify("Cancelling: the calls already sent or queued finish and are recorded; no new batch is taken",
                        severity="warning", timeout=5)
            return
        self.app.pop_screen()
