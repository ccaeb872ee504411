"""What a person records on a step: a confirmation with a note (and its withdrawal), a ticket's draft, file and
number (a second number asks first), and a waiver with a reason (and its withdrawal). Every record goes through the
step's gate in core; a refusal is one notification that says what to do. StepScreen composes the widgets and owns
the keys."""

from __future__ import annotations

import io

from textual import on, work
from textual.screen import Screen
from textual.widgets import Button, Input, Static, TextArea

from core.errors import CutoverError
from core.runbook.engine import ConfirmationExists, StepBlocked, TicketExists
from core.runbook.model import StepState
from core.runbook.tickets import TicketIncomplete
from tui.person_records import ticket_file_name
from tui.screens.confirm import ConfirmWrite
from tui.screens.operator import with_operator
from tui.screens.reason import ReasonScreen
from tui.widgets.status import GLYPHS
from tui.widgets.step_panels import set_above


class StepRecords(Screen):
    """The confirmation, ticket and waiver part of StepScreen."""

    ticket_drafted: bool

    def refusal(self, exc: BaseException) -> str:
        """Core's refusal in a line; a gate's refusal names the gates (the rest is on screen already)."""
        if isinstance(exc, StepBlocked):
            gates = self.current.blocked_by
            n = len(gates)
            return (f"{self.step_id} is blocked until {', '.join(gates)} {'is' if n == 1 else 'are'} done: nothing "
                    f"was recorded. Make {'it' if n == 1 else 'them'} pass, or waive "
                    f"{'it' if n == 1 else 'them'} with a reason (w on {'its' if n == 1 else 'their'} screen).")
        return set_above(self.app.describe_error(exc), self.app.backend.needed_variables(self.current), self.step_id)

    # ---- confirmation ------------------------------------------------------------------------------------------
    def action_focus_note(self) -> None:
        self.query_one("#note", Input).focus()

    @on(Input.Submitted, "#note")
    def note_submitted(self, event: Input.Submitted) -> None:
        note = event.value.strip()
        if not note:
            self.notify("Write a short note first: what was done, and where", severity="warning", timeout=4)
            return
        with_operator(self, lambda: self.confirm(note))

    @work(group="step-confirm", exit_on_error=False)
    async def confirm(self, note: str, replace: bool = False) -> None:
        try:
            await self.app.backend.confirm(self.step_id, note, replace=replace)
        except ConfirmationExists as exc:  # a second note never silently replaces the first
            c = exc.standing
            self.ask_replace(f"Replace the confirmation of {self.step_id}?",
                             f"Confirmed by {c.who} at {c.at}: {c.note}\n\nRecord this note instead? Both stay in "
                             "the journal and the sign-off report.", "Kept the confirmation",
                             lambda: self.confirm(note, replace=True), "#note")
            return
        except CutoverError as exc:
            self.notify(self.refusal(exc), title="Not confirmed", severity="error", timeout=10)
            return
        self.query_one("#note", Input).value = ""
        self.query_one("#step-body").focus()  # done with the field: the step's keys (and Esc back) work again
        self.refresh_state(f"{self.step_id} confirmed")

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

    @work(group="step-confirm", exit_on_error=False)
    async def withdraw_confirmation(self) -> None:
        try:
            await self.app.backend.withdraw_confirmation(self.step_id)
        except CutoverError as exc:
            self.notify(self.refusal(exc), title="Not withdrawn", severity="error", timeout=8)
            return
        self.refresh_state(f"{self.step_id}: confirmation withdrawn (both stay in the journal)")

    # ---- ticket ------------------------------------------------------------------------------------------------
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

    @on(Button.Pressed, "#ticket-checks")
    def check_quoted(self) -> None:
        needed = self.app.backend.ticket_checks(self.step_id)
        if needed:
            self.notify(f"Checking {', '.join(needed)} for the {self.step_id} ticket…", timeout=3)
            self.recheck(*needed)

    @on(Input.Submitted, "#ticket-number")
    def ticket_submitted(self, event: Input.Submitted) -> None:
        number = event.value.strip()
        if not number:
            self.notify("Type the ticket number Zuora Support gave you", severity="warning", timeout=4)
            return
        with_operator(self, lambda: self.record_ticket(number))

    @work(group="step-ticket", exit_on_error=False)
    async def record_ticket(self, number: str, replace: bool = False) -> None:
        try:
            await self.app.backend.record_ticket(self.step_id, number, replace=replace)
        except TicketExists as exc:
            old = exc.standing
            self.ask_replace(f"Replace ticket {old.number}?",
                             f"{self.step_id} has ticket {old.number}, recorded by {old.who} at {old.at}.\nRecord "
                             f"{number} instead? The old number stays in the journal and the sign-off report.",
                             f"Kept ticket {old.number}", lambda: self.record_ticket(number, replace=True),
                             "#ticket-number")
            return
        except CutoverError as exc:
            self.notify(self.refusal(exc), title="Ticket not recorded", severity="error", timeout=10)
            return
        self.query_one("#ticket-number", Input).value = ""
        self.query_one("#step-body").focus()
        self.refresh_state(f"Ticket {number} recorded for {self.step_id}")

    def ask_replace(self, title: str, what: str, kept: str, replace, field: str) -> None:
        """A person's record stands (core said so): replace it only on purpose. Kept, the field is cleared: it shows
        what is recorded, not what was not."""
        def decided(ok: bool | None) -> None:
            if ok:
                replace()
            else:
                self.query_one(field, Input).value = ""

        self.app.push_screen(ConfirmWrite(title, what, confirm_label="Replace", cancelled=kept), decided)

    @on(Button.Pressed, "#save-ticket")
    def action_save_ticket(self) -> None:
        if not self.ticket_drafted:  # what is missing is the line above the (empty) draft
            why = str(self.query_one("#ticket-needs", Static).render()).strip()
            self.notify(f"Nothing to save yet. {why}" if why else "Nothing to save yet: the ticket is not drafted",
                        severity="warning", timeout=8)
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

    # ---- waivers -----------------------------------------------------------------------------------------------
    @on(Button.Pressed, "#waive")
    def action_waive(self) -> None:
        state = self.current
        if not self.app.backend.can_waive(state):
            return
        with_operator(self, lambda: self.ask_waiver(state))

    def ask_waiver(self, state: StepState) -> None:
        step_id = state.step.id
        gated = self.app.backend.gated_steps(step_id)
        found = set_above(state.summary, self.app.backend.needed_variables(state), step_id)  # said as this screen
        what = (f"{GLYPHS[str(state.status)]} {step_id} {str(state.status).replace('-', ' ')}: {found}\n\n"
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
