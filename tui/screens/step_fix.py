"""A step's fix (AUTO steps): the plan and its dry run, the apply with its progress under the step's head, the undo of
an apply, and the plan's export. Workers post PlanReady, ApplyProgressed and ApplyFinished; the handlers here render
them. StepScreen composes the widgets (#plan-text, #apply-panel, the buttons) and owns the keys."""

from __future__ import annotations

import asyncio
import time

from textual import on, work
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, ProgressBar, Static

from core.errors import CutoverError
from core.runbook.model import ApplyProgress, PlanSummary
from core.words import plural
from tui.backend import plan_file_name
from tui.messages import ApplyFinished, ApplyProgressed, PlanReady
from tui.screens.confirm import ConfirmWrite
from tui.screens.operator import with_operator
from tui.screens.reason import ReasonScreen
from tui.widgets.step_panels import set_above


class StepFix(Screen):
    """The plan, apply and undo part of StepScreen (its state: plan, applying, applied, cancel)."""

    plan: PlanSummary | None
    applying: bool
    applied: bool
    cancel: asyncio.Event

    # ---- handlers: they render what the workers below post -------------------------------------------------
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
                          + f"{plural(outcome.write_calls, 'write call')} in {message.took_s:,.1f} s"
                          f"; {plan.remaining:,} of {plan.total:,} still to write."
                          + (f" Re-check: {set_above(outcome.recheck.summary, [], self.step_id)}"
                             if outcome.recheck else ""))
            self.query_one("#apply-progress", ProgressBar).update(total=max(plan.total, 1),
                                                                 progress=plan.total - plan.remaining)
            self.notify(f"{self.step_id} {what.lower()} {verb}",
                        severity="warning" if outcome.failed or outcome.skipped else "information")
            self.post_message(PlanReady(plan, message.plan_text))  # the header is this run's, not the one before
        self.refresh_state()

    # ---- workers ----------------------------------------------------------------------------------------------
    @work(group="step-existing-plan", exit_on_error=False)
    async def load_existing_plan(self) -> None:
        if self.current.step.action:
            self.applied = await self.app.backend.has_applied(self.step_id)
            self.refresh_bindings()
        plan = await self.app.backend.latest_plan(self.step_id)
        if plan is not None:
            self.post_message(PlanReady(plan, await asyncio.to_thread(self.app.backend.plan_text, plan)))

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

    # ---- actions ----------------------------------------------------------------------------------------------
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

    # ---- undo -------------------------------------------------------------------------------------------------
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

        # core's refusal ends "nothing was planned or written": true of the refusal, but the dialog goes on to offer
        # the override, so it says what the override does instead
        why = exc.message.split("; nothing was planned or written")[0]
        self.app.push_screen(ReasonScreen(f"Undo {self.step_id} after H1?",
                                          f"{why}.\n\nCheck NetSuite for them first. To undo anyway, say why: "
                                          "the undo is then planned (nothing is written until you apply it), and "
                                          "your reason is recorded with your name.",
                                          placeholder="why the undo goes ahead (recorded)", save_label="Plan undo",
                                          fail_title="Undo not planned", save=keep), decided)

    # ---- export -----------------------------------------------------------------------------------------------
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
