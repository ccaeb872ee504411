"""`cutover profiles`: the Profiles screen with no profile open (its own App, beside the checklist's)."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from tui.app import CutoverApp
from tui.preferences import Preferences
from tui.screens.profiles import ProfilesScreen


class ProfilesApp(App):
    """`cutover profiles`: manage profiles with none open. `run()` returns the name of the profile to open, if any.

    A plain App, not a CutoverApp: that one's mount and unmount handlers open and close a profile's backend."""

    CSS_PATH = CutoverApp.CSS_PATH
    TITLE = CutoverApp.TITLE
    BINDINGS = [Binding("f1", "help", "Help", id="app.help"), Binding("q", "quit", "Quit", id="app.quit")]
    describe_error = CutoverApp.describe_error
    action_help = CutoverApp.action_help

    def on_mount(self) -> None:
        Preferences(self).start()  # the saved theme and the keymap, as in the checklist's app
        self.push_screen(ProfilesScreen(opener=self.exit))
