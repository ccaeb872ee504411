"""One step: why it matters, what the tool checks (the exact query), the records it found, and the actions of
its kind. AUTO: re-check, plan, apply. VERIFY: re-check. HUMAN: confirm with a note. TICKET: the drafted text,
save it, record the number. Every network call runs in a worker; Esc during an apply cancels safely.

A blocked step says which gates hold it and why; a waived one says who accepted it, when and why. `w` waives a
row with a reason (or withdraws a standing waiver). The first thing recorded under a name asks who is doing it
when the profile names no operator (tui.screens.operator)."""

from __future__ import annotations

import asyncio
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, ProgressBar, Static, TextArea

from core.errors import CutoverError
from core.journal import OperatorMissing
from core.runbook.engine import StepBlocked
from core.runbook.model import ApplyProgress, PlanSummary, Status, StepState
from tui.screens.confirm import ConfirmWrite
from tui.screens.operator import with_operator
from tui.screens.reason import ReasonScreen
from tui.widgets.status import GLYPHS, STYLES, state_key
from tui.widgets.topbar import TopBar

SAMPLE_LIMIT = 20


class StepScreen(Screen):
    TITLE = "Step"
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
        "the ticket number.\n"
        "- **Blocked** (■): the steps it waits for are listed with what each found. Nothing here can be confirmed, "
        "recorded or applied until they pass, or a person waives them on their own screens.\n"
        "- **Waive** (`w`): accept what a row's check found, on purpose, with a reason. The row then shows ≈ "
        "waived (who, when, why), counts as done for the steps it gates, and is listed in the sign-off report. "
        "On a waived row `w` withdraws the waiver (with a reason too). Groups (B2), the sign-off (I2), passing, "
        "blocked and not yet checked rows cannot be waived.\n"
        "- The first record asks for your name and email when the profile names no operator; they are saved in "
        "the profile and recorded with everything you do."
    )
    DEFAULT_CSS = """
    StepScreen .status-blocked { color: $text-error; }
    StepScreen .status-waived { color: $text-primary; }
    StepScreen .status-not-needed { color: $text-muted; }
    StepScreen #step-gate { border-left: thick $error; padding-left: 1; margin-bottom: 1; }
    StepScreen #step-waiver { border-left: thick $primary; padding-left: 1; margin-bottom: 1; }
    """
    BINDINGS = [
        Binding("r", "recheck", "Re-check", id="step.recheck"),
        Binding("p", "plan", "Plan", id="step.plan"),
        Binding("a", "apply", "Apply…", id="step.apply"),
        Binding("e", "export_plan", "Export plan", id="step.export"),
        Binding("n", "focus_note", "Note/confirm", id="step.note"),
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
        self.shown: StepState | None = None  # the state last drawn (the footer asks it, not the journal)
        self.ticket_drafted = False

    @property
    def state(self) -> StepState:
        return self.app.backend.state(self.step_id)

    @property
    def help_title(self) -> str:
        return f"Step {self.step_id} · {self.current.step.title}"

    @property
    def current(self) -> StepState:
        return self.shown if self.shown is not None else self.state

    # ---- layout ---------------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        step = self.state.step
        yield TopBar(id="topbar")
        with VerticalScroll(id="step-body"):
            yield Static(id="step-head", markup=False)
            yield Static(id="step-gate", markup=False, classes="hidden")
            yield Static(id="step-waiver", markup=False, classes="hidden")
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
                    yield Button("Save ticket", id="save-ticket")
                    yield Button("Copy", id="copy-ticket")
                yield Button("Waive…", id="waive", classes="hidden")
                yield Button("Withdraw waiver…", id="withdraw-waiver", classes="hidden")
        yield Footer()

    def on_mount(self) -> None:
        self.app.backend.bind_topbar(self.query_one(TopBar))
        self.render_state()
        if self.state.step.action:
            self.load_existing_plan()

    # ---- rendering ------------------------------------------------------------------------------------------
    def render_state(self) -> None:
        state = self.state
        step = state.step
        self.shown = state
        key = state_key(state)
        head = f"{GLYPHS[key]} {step.id} · {step.title}   [{step.kinds}]   {self.head_summary(state)}"
        self.query_one("#step-head", Static).update(head)
        self.query_one("#step-head").set_classes(f"status-{key}")
        self.render_gate(state)
        self.render_waiver(state)
        why = f"Why  {step.why}\nDoc  {step.doc_url}"
        if state.missing:
            why += f"\nNeeds  run variables not yet recorded: {', '.join(state.missing)} (cutover set VAR VALUE)"
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
        if step.ticket and not self.ticket_drafted:
            self.load_ticket(state)
        self.query_one("#waive", Button).set_class(not self.app.backend.can_waive(state), "hidden")
        self.query_one("#withdraw-waiver", Button).set_class(state.waiver is None, "hidden")
        self.refresh_bindings()  # Waive / Withdraw waiver follow the state

    @staticmethod
    def head_summary(state: StepState) -> str:
        """The status line's words: a blocked step names its gates (the panel below says why), a waived one what its
        check found (the waiver panel says who and why)."""
        if state.status is Status.BLOCKED:
            n = len(state.blocked_by)
            if n > 4:  # the panel below lists them
                return f"blocked until {n} steps are done"
            return f"blocked until {', '.join(state.blocked_by)} {'is' if n == 1 else 'are'} done"
        if state.status is Status.WAIVED:
            return "waived · found: " + (state.result.summary if state.result else "not checked")
        return state.summary

    def render_gate(self, state: StepState) -> None:
        """What blocks the step: each gate not done with its glyph and what it found; gates not run yet on one
        line. One line per gate, cut at the width (the gate's own screen has the rest)."""
        panel = self.query_one("#step-gate", Static)
        panel.set_class(not state.blocked_by, "hidden")
        if not state.blocked_by:
            return
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("Blocked", style=STYLES["blocked"])
        text.append(" until these are done (pass, or waived with a reason):")
        not_run = []
        for gate in self.app.backend.blockers(state):
            status = str(gate.status)
            if gate.status is Status.NOT_RUN:
                not_run.append(gate.step.id)
                continue
            why = f"blocked by {', '.join(gate.blocked_by)}" if gate.blocked_by else gate.summary
            text.append("\n")
            text.append(f"{GLYPHS[status]} ", style=STYLES[status])
            text.append(f"{gate.step.id:<6}", style="bold")
            text.append(f"{status}: {why}")
        if not_run:
            text.append("\n")
            text.append(f"{GLYPHS['not-run']} ", style=STYLES["not-run"])
            lines = textwrap.wrap(", ".join(not_run), width=54)  # every id stays on screen, even at 80 columns
            text.append("not done yet: " + "\n                ".join(lines))
        text.append("\nNothing here is recorded before; waive a gate on its own screen (w).", style="dim")
        panel.update(text)

    def render_waiver(self, state: StepState) -> None:
        panel = self.query_one("#step-waiver", Static)
        waiver = state.waiver
        panel.set_class(waiver is None, "hidden")
        if waiver is None:
            return
        text = Text()
        text.append(f"{GLYPHS['waived']} Waived", style=STYLES["waived"])
        text.append(f"  by {waiver.who} at {waiver.at}\n")
        text.append("Why", style="bold")
        text.append(f"  {waiver.reason}\n")
        if state.status is Status.PASS:
            text.append("The step now passes on its own; the waiver stands until withdrawn (w).", style="dim")
        else:
            text.append("It counts as done for the steps it gates. w withdraws it.", style="dim")
        panel.update(text)

    def load_ticket(self, state: StepState) -> None:
        """The drafted ticket, once the step is free to ask Support (a blocked step has nothing to ask yet)."""
        area = self.query_one("#ticket-text", TextArea)
        area.read_only = True  # until there is a draft to edit
        if state.blocked_by:
            area.text = (f"(The ticket is drafted once {state.step.id} is no longer blocked: "
                         f"{', '.join(state.blocked_by)} must be done first.)")
            return
        try:
            area.text = self.app.backend.ticket_text(self.step_id)
        except CutoverError as exc:
            area.text = f"(The ticket cannot be drafted yet: {self.app.describe_error(exc)})"
            return
        area.read_only = False
        self.ticket_drafted = True

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
        except OperatorMissing:  # a check that records a run variable (D1's is_enabled_ts) needs a name
            self.render_state()
            with_operator(self, self.recheck)
            return
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
            self.notify(self.refusal(exc), title="Not confirmed", severity="error", timeout=10)
            self.render_state()
            return
        self.notify(f"{self.step_id} confirmed", timeout=3)
        self.render_state()

    @work(group="step-ticket", exit_on_error=False)
    async def record_ticket(self, number: str) -> None:
        try:
            await self.app.backend.record_ticket(self.step_id, number)
        except Exception as exc:
            self.notify(self.refusal(exc), title="Ticket not recorded", severity="error", timeout=10)
            self.render_state()
            return
        self.notify(f"Ticket {number} recorded for {self.step_id}", timeout=3)
        self.render_state()

    def refusal(self, exc: BaseException) -> str:
        """Core's refusal in a line; a gate's refusal names the gates, not every gate's whole story (that is on
        screen already), and says what to do in the app."""
        if isinstance(exc, StepBlocked):
            gates = self.state.blocked_by
            n = len(gates)
            return (f"{self.step_id} is blocked until {', '.join(gates)} {'is' if n == 1 else 'are'} done: nothing "
                    f"was recorded. Make {'it' if n == 1 else 'them'} pass, or waive "
                    f"{'it' if n == 1 else 'them'} with a reason (w on {'its' if n == 1 else 'their'} screen).")
        return self.app.describe_error(exc)

    # ---- actions --------------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """The footer shows only the actions of this step's kind (False hides a binding, None would grey it)."""
        step = self.current.step
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
        if action == "waive":
            return self.app.backend.can_waive(self.current)
        if action == "withdraw_waiver":
            return self.current.waiver is not None
        return True

    @on(Button.Pressed, "#recheck")
    def action_recheck(self) -> None:
        self.recheck()

    @on(Button.Pressed, "#plan")
    def action_plan(self) -> None:
        with_operator(self, self.make_plan)  # a plan is recorded under the operator

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

        with_operator(self, lambda: self.app.push_screen(ConfirmWrite(f"Apply {plan.step_id}?", what,
                                                                      typed_word=typed), decided))

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
            self.notify("Nothing to save yet: the ticket is drafted once the step is no longer blocked",
                        severity="warning", timeout=5)
            return
        text = self.query_one("#ticket-text", TextArea).text
        self.write_file(lambda: self.app.backend.save_ticket(self.step_id, text), "Ticket text saved to")

    @on(Button.Pressed, "#copy-ticket")
    def copy_ticket(self) -> None:
        if not self.ticket_drafted:
            self.notify("Nothing to copy yet: the ticket is drafted once the step is no longer blocked",
                        severity="warning", timeout=5)
            return
        self.app.copy_to_clipboard(self.query_one("#ticket-text", TextArea).text)
        self.notify("Ticket text copied to the clipboard", timeout=3)

    # ---- waivers ----------------------------------------------------------------------------------------------
    @on(Button.Pressed, "#waive")
    def action_waive(self) -> None:
        state = self.state
        if not self.app.backend.can_waive(state):
            self.render_state()
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
            save=lambda reason: self.app.backend.waive(step_id, reason)), self.waiver_done("{step} waived"))

    @on(Button.Pressed, "#withdraw-waiver")
    def action_withdraw_waiver(self) -> None:
        state = self.state
        if state.waiver is None:
            self.render_state()
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
            self.waiver_done("Waiver on {step} withdrawn: back to {status}"))

    def waiver_done(self, what: str) -> Callable[[bool | None], None]:
        def done(saved: bool | None) -> None:
            if saved:
                self.render_state()
                self.notify(what.format(step=self.step_id, status=self.shown.status), timeout=4)
        return done

    def action_back(self) -> None:
        if self.applying:
            self.cancel.set()
            self.notify("Cancelling: the batch in flight finishes and is recorded; nothing else is sent",
                        severity="warning", timeout=5)
            return
        self.app.pop_screen()
