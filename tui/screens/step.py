"""One step: why it matters, what the tool checks (the exact query), the records it found, and the actions of
its kind. AUTO: re-check, plan, apply. VERIFY: re-check. HUMAN: confirm with a note. TICKET: the drafted text,
save it, record the number. Every network call runs in a worker; Esc during an apply cancels safely."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, ProgressBar, Static, TextArea

from core.runbook.model import ApplyProgress, Kind, PlanSummary, StepState
from tui.screens.confirm import ConfirmWrite
from tui.widgets.status import GLYPHS, state_key
from tui.widgets.topbar import TopBar

SAMPLE_LIMIT = 20


class StepScreen(Screen):
    AUTO_FOCUS = "#step-body"  # not an Input: single-key bindings must work until the person picks a field
    HELP = (
        "A step of the runbook.\n\n"
        "- **Why**: what goes wrong if this step is skipped.\n"
        "- **Check**: the exact query the tool runs on Zuora or NetSuite, and what it found.\n"
        "- AUTO steps: `p` plans the fix (a dry run listing every record with its current and new value), "
        "`a` applies it after a confirmation, with a progress bar; Esc cancels safely (what is confirmed stays "
        "confirmed); the step is re-checked at the end. `e` exports the plan.\n"
        "- HUMAN steps: follow the numbered instructions, then confirm with a note (`n`).\n"
        "- TICKET steps: the drafted ticket has every id, date and count filled in; save it (`s`) and record "
        "the ticket number."
    )
    BINDINGS = [
        Binding("r", "recheck", "Re-check", id="step.recheck"),
        Binding("p", "plan", "Plan", id="step.plan"),
        Binding("a", "apply", "Apply…", id="step.apply"),
        Binding("e", "export_plan", "Export plan", id="step.export"),
        Binding("n", "focus_note", "Note/confirm", id="step.note"),
        Binding("s", "save_ticket", "Save ticket", id="step.save_ticket"),
        Binding("escape", "back", "Back", id="step.back"),
    ]

    def __init__(self, step_id: str):
        super().__init__()
        self.step_id = step_id
        self.plan: PlanSummary | None = None
        self.cancel = asyncio.Event()
        self.applying = False

    @property
    def state(self) -> StepState:
        return self.app.backend.state(self.step_id)

    # ---- layout ---------------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        step = self.state.step
        yield TopBar(id="topbar")
        with VerticalScroll(id="step-body"):
            yield Static(id="step-head", markup=False)
            yield Static(id="step-why", markup=False)
            yield Static(id="step-check", markup=False)
            sample = DataTable(id="sample", cursor_type="row", zebra_stripes=True)
            sample.border_title = "Records found"
            yield sample
            if step.instructions:
                yield Static(id="step-instructions", markup=False)
            if step.action:
                yield Static(id="plan-text", markup=False, classes="hidden")
                yield ProgressBar(id="apply-progress", classes="hidden", show_eta=False)
                yield Static(id="apply-status", markup=False, classes="hidden")
            if step.ticket:
                yield Label("Drafted ticket (edit freely, then save or copy):")
                yield TextArea(id="ticket-text", read_only=False, soft_wrap=True)
                yield Input(id="ticket-number", placeholder="ticket number, e.g. 00412345, then Enter")
            if step.kind in (Kind.HUMAN, Kind.TICKET) or step.also in (Kind.HUMAN,) or step.confirm:
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
                    yield Button("Save ticket", id="save-ticket")
                    yield Button("Copy", id="copy-ticket")
        yield Footer()

    def on_mount(self) -> None:
        self.app.backend.bind_topbar(self.query_one(TopBar))
        self.render_state()
        if self.state.step.ticket:
            self.query_one("#ticket-text", TextArea).text = self.app.backend.ticket_text(self.step_id)
        if self.state.step.action:
            self.load_existing_plan()

    # ---- rendering ------------------------------------------------------------------------------------------
    def render_state(self) -> None:
        state, step = self.state, self.state.step
        key = state_key(state)
        head = f"{GLYPHS[key]} {step.id} · {step.title}   [{step.kinds}]   {state.summary}"
        self.query_one("#step-head", Static).update(head)
        self.query_one("#step-head").set_classes(f"status-{key}")
        why = f"Why  {step.why}\nDoc  {step.doc_url}"
        if state.missing:
            why += f"\nNeeds  run variables not yet recorded: {', '.join(state.missing)} (cutover set VAR VALUE)"
        if state.blocked_by:
            why += f"\nWaits  for {', '.join(state.blocked_by)} to pass first"
        if state.confirmation:
            c = state.confirmation
            why += f"\nConfirmed  by {c.who} at {c.at}: {c.note}"
        if state.ticket:
            why += f"\nTicket  {state.ticket.number} (recorded {state.ticket.at} by {state.ticket.who})"
        self.query_one("#step-why", Static).update(why)
        self.query_one("#step-check", Static).update(self.app.backend.check_text(state))
        if step.instructions:
            self.query_one("#step-instructions", Static).update(self.app.backend.instructions_text(self.step_id))
        self.render_sample(state)

    def render_sample(self, state: StepState) -> None:
        table = self.query_one("#sample", DataTable)
        table.clear(columns=True)
        rows = list(state.result.sample) if state.result else []
        table.display = bool(rows)
        if not rows:
            return
        columns = list(dict.fromkeys(k for r in rows for k in r))
        table.add_columns(*columns)
        for r in rows[:SAMPLE_LIMIT]:
            table.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in columns))
        total = state.result.count or len(rows)
        table.border_title = f"Records found ({len(rows)} of {total:,} shown)"

    def render_plan(self, plan: PlanSummary) -> None:
        self.plan = plan
        self.refresh_bindings()  # Export plan joins the footer once there is a plan
        text = self.app.backend.plan_text(plan)
        widget = self.query_one("#plan-text", Static)
        widget.update(text)
        widget.remove_class("hidden")
        remaining = plan.remaining if plan.status != "planned" else plan.total
        self.query_one("#apply", Button).disabled = remaining == 0 or self.app.backend.read_only
        self.query_one("#export", Button).disabled = False

    # ---- workers --------------------------------------------------------------------------------------------
    @work(group="step-existing-plan", exit_on_error=False)
    async def load_existing_plan(self) -> None:
        plan = await self.app.backend.latest_plan(self.step_id)
        if plan is not None:
            self.render_plan(plan)

    @work(exclusive=True, group="step-check", exit_on_error=False)
    async def recheck(self) -> None:
        self.query_one("#step-head", Static).update(f"… {self.step_id} · checking …")
        try:
            await self.app.backend.check(self.step_id)
        except Exception as exc:
            self.notify(self.app.describe_error(exc), title=f"{self.step_id} check failed", severity="error")
        self.render_state()

    @work(exclusive=True, group="step-plan", exit_on_error=False)
    async def make_plan(self) -> None:
        self.notify(f"Planning {self.step_id}: reading the records to change…", timeout=3)
        try:
            plan = await self.app.backend.plan(self.step_id)
        except Exception as exc:
            self.notify(self.app.describe_error(exc), title="Plan failed", severity="error", timeout=8)
            return
        self.render_plan(plan)
        if plan.total == 0:
            self.notify("Nothing to change: every record already has the new value", timeout=4)

    @work(exclusive=True, group="step-apply", exit_on_error=False)
    async def run_apply(self, plan: PlanSummary) -> None:
        bar = self.query_one("#apply-progress", ProgressBar)
        status = self.query_one("#apply-status", Static)
        bar.remove_class("hidden")
        status.remove_class("hidden")
        bar.update(total=max(plan.total, 1), progress=0)
        self.applying, started = True, time.monotonic()
        self.cancel.clear()

        def progress(p: ApplyProgress) -> None:
            bar.update(total=max(p.total, 1), progress=p.done)
            eta = "–" if p.eta_s is None else f"{p.eta_s:,.0f} s"
            status.update(f"{p.done:,}/{p.total:,} written · {p.rate_per_s:,.1f}/s · ETA {eta} · "
                          f"{p.failed:,} failed · Esc cancels safely")

        try:
            outcome = await self.app.backend.apply(plan, progress, self.cancel)
        except Exception as exc:
            self.notify(self.app.describe_error(exc), title="Apply stopped", severity="error", timeout=10)
            status.update(f"Stopped: {self.app.describe_error(exc)}. Apply again to resume: confirmed writes "
                          "are never repeated.")
        else:
            took = time.monotonic() - started
            verb = "cancelled" if outcome.cancelled else "done"
            status.update(f"Apply {verb}: {outcome.written:,} written, {outcome.already_set:,} already set, "
                          f"{outcome.failed:,} failed, {outcome.write_calls:,} write calls in {took:,.1f} s."
                          + (f" Re-check: {outcome.recheck.summary}" if outcome.recheck else ""))
            self.notify(f"{self.step_id} apply {verb}", severity="warning" if outcome.failed else "information")
            self.render_plan(outcome.plan)
        finally:
            self.applying = False
            self.render_state()

    @work(group="step-confirm", exit_on_error=False)
    async def confirm(self, note: str) -> None:
        try:
            await self.app.backend.confirm(self.step_id, note)
        except Exception as exc:
            self.notify(self.app.describe_error(exc), title="Not confirmed", severity="error", timeout=8)
            return
        self.notify(f"{self.step_id} confirmed", timeout=3)
        self.render_state()

    @work(group="step-ticket", exit_on_error=False)
    async def record_ticket(self, number: str) -> None:
        try:
            await self.app.backend.record_ticket(self.step_id, number)
        except Exception as exc:
            self.notify(self.app.describe_error(exc), title="Ticket not recorded", severity="error")
            return
        self.notify(f"Ticket {number} recorded for {self.step_id}", timeout=3)
        self.render_state()

    # ---- actions --------------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """The footer shows only the actions of this step's kind (False hides a binding, None would grey it)."""
        step = self.state.step
        if action == "export_plan":
            return bool(step.action) and self.plan is not None
        if action in ("plan", "apply"):
            return bool(step.action)
        if action == "recheck":
            return step.check is not None
        if action == "save_ticket":
            return bool(step.ticket)
        if action == "focus_note":
            return bool(self.query("#note"))
        return True

    @on(Button.Pressed, "#recheck")
    def action_recheck(self) -> None:
        self.recheck()

    @on(Button.Pressed, "#plan")
    def action_plan(self) -> None:
        self.make_plan()

    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        if self.applying:
            return
        if self.app.backend.read_only:
            self.notify(f"Profile {self.app.backend.profile_label} is read-only: Plan works, Apply is refused. "
                        "Make the profile writable to apply.", severity="warning", timeout=8)
            return
        if self.plan is None:
            self.notify("Plan first (p): the dry run lists every record that will change", timeout=4)
            return
        plan = self.plan
        typed = self.app.backend.profile_name if self.app.backend.is_production else None
        what = self.app.backend.confirm_text(plan)

        def decided(ok: bool | None) -> None:
            if ok:
                self.run_apply(plan)

        self.app.push_screen(ConfirmWrite(f"Apply {plan.step_id}?", what, typed_word=typed), decided)

    @on(Button.Pressed, "#export")
    def action_export_plan(self) -> None:
        if self.plan is None:
            self.notify("Plan first (p)", timeout=3)
            return
        plan = self.plan
        self.write_file(lambda: self.app.backend.export_plan(plan), "Plan exported to")

    @work(group="step-export", exit_on_error=False, thread=True)
    def write_file(self, write: Callable[[], Path], done: str) -> None:
        """Exports and saved tickets are written off the event loop; the path is announced when it is there."""
        path = write()
        self.app.call_from_thread(self.notify, f"{done} {path}", timeout=6)

    def action_focus_note(self) -> None:
        self.query_one("#note", Input).focus()

    @on(Input.Submitted, "#note")
    def note_submitted(self, event: Input.Submitted) -> None:
        note = event.value.strip()
        if not note:
            self.notify("Write a short note first: what was done, and where", severity="warning", timeout=4)
            return
        self.confirm(note)

    @on(Input.Submitted, "#ticket-number")
    def ticket_submitted(self, event: Input.Submitted) -> None:
        number = event.value.strip()
        if not number:
            self.notify("Type the ticket number Zuora Support gave you", severity="warning", timeout=4)
            return
        self.record_ticket(number)

    @on(Button.Pressed, "#save-ticket")
    def action_save_ticket(self) -> None:
        text = self.query_one("#ticket-text", TextArea).text
        self.write_file(lambda: self.app.backend.save_ticket(self.step_id, text), "Ticket text saved to")

    @on(Button.Pressed, "#copy-ticket")
    def copy_ticket(self) -> None:
        self.app.copy_to_clipboard(self.query_one("#ticket-text", TextArea).text)
        self.notify("Ticket text copied to the clipboard", timeout=3)

    def action_back(self) -> None:
        if self.applying:
            self.cancel.set()
            self.notify("Cancelling: the batch in flight finishes and is recorded; nothing else is sent",
                        severity="warning", timeout=5)
            return
        self.app.pop_screen()
