"""Command palette: "Go to step E1" for every step, and "Check phase C" for every phase."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from core.runbook.vocabulary import Phase


class StepCommands(Provider):
    def _commands(self):
        app = self.app
        backend = app.backend
        if not backend.ready:
            return
        for state in backend.states():
            step = state.step
            yield (f"Go to step {step.id}: {step.title}", partial(app.go_to_step, step.id),
                   f"{step.kinds} · {state.summary}")
            if step.action:
                yield (f"Undo step {step.id}: take back its last apply", partial(self._undo, step.id),
                       "each record it wrote back to its value before (shows the plan and asks first)")
        for phase in Phase:
            yield (f"Check phase {phase.letter}: {phase.title}", partial(self._check_phase, phase),
                   "run every automated check of the phase")
        yield ("Twin: capture this tenant read-only and rehearse on it", self._twin,
               "a snapshot of what the runbook reads, then the whole runbook played on it (cutover twin)")

    def _twin(self) -> None:
        from tui.screens.twin import TwinScreen

        backend = self.app.backend
        self.app.push_screen(TwinScreen(backend.profile, backend.credentials))

    def _undo(self, step_id: str) -> None:
        from tui.screens.step import StepScreen

        screen = self.app.screen
        if not (isinstance(screen, StepScreen) and screen.step_id == step_id):
            self.app.go_to_step(step_id)
        self.app.call_after_refresh(lambda: self.app.screen.run_action("undo"))

    def _check_phase(self, phase: Phase) -> None:
        from tui.screens.runbook import RunbookScreen

        home = next((s for s in self.app.screen_stack if isinstance(s, RunbookScreen)), None)
        if home is not None:
            while self.app.screen is not home:
                self.app.pop_screen()
            home.show_phase(phase)
            home.action_check_phase()

    async def discover(self) -> Hits:
        for text, command, help_text in self._commands():
            yield DiscoveryHit(text, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, command, help_text in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), command, help=help_text)
