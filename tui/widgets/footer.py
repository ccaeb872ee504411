"""Textual's Footer, drawn with its keys from the first frame and rebuilt only when the keys it shows change.

Textual's Footer composes no keys until the screen first publishes its bindings, then rebuilds every key widget each
time they are published again: on every focus move, on the terminal's focus in and out, on each `refresh_bindings`.
Each rebuild mounts and styles a widget per key, tens of milliseconds on a busy laptop; at start-up that came three to
six times before the checklist showed.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeysFooter(Footer):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.set_reactive(Footer._bindings_ready, True)  # the screen's bindings are known when the footer composes
        self.composed: tuple | None = None  # what the key widgets show now

    def shown(self) -> tuple:
        """Everything the key widgets are made from: a footer whose keys would come out the same is not rebuilt."""
        keys = tuple((binding.key, binding.action, binding.description, binding.group, self.app.get_key_display(binding),
                      enabled, tooltip)
                     for _, binding, enabled, tooltip in self.screen.active_bindings.values() if binding.show)
        return keys, self.show_command_palette, self.compact

    def compose(self):
        self.composed = self.shown()
        yield from super().compose()

    def bindings_changed(self, screen: Screen) -> None:
        if screen is self.screen and self.is_attached and self.composed is not None and self.shown() == self.composed:
            return
        super().bindings_changed(screen)
