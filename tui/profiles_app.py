"""`cutover profiles`: the Profiles screen with no profile open (its own App, beside the checklist's)."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from tui.app import CutoverApp
from tui.hangup import watch_terminal
from tui.preferences import Preferences
from tui.screens.profiles import ProfilesScreen


class ProfilesApp(App):
    """`cutover profiles`: manage profiles with none open. `run()` returns the name of the profile to open, if any.

    A plain App, not a CutoverApp: that one's mount and unmount handlers open and close a profile's backend."""

    CSS_PATH = CutoverApp.CSS_PATH
    TITLE = CutoverApp.TITLE
    BINDINGS = [Binding("f1", "help", "Help", id="app.help"), Binding("q", "quit", "Quit", id="app.quit")]
    describe_error = CutoverApp.describe_error

    def action_help(self) -> None:
        """F1: the Profiles screen's help (CutoverApp's asks its backend whether this is the demo; here none is open)."""
        from tui.screens.help import HelpScreen, help_markdown

        self.push_screen(HelpScreen(help_markdown(self.screen, demo=False)))

    def on_mount(self) -> None:
        watch_terminal(self)
        Preferences(self).start()  # the saved theme and the keymap, as in the checklist's app
        self.push_screen(ProfilesScreen(opener=self.exit))
