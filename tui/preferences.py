"""The person's theme and keys, for every profile (issue 13; Posting's habits).

Theme: TEXTUAL_THEME (Textual reads it itself as the default of `App.theme`) beats the theme saved in the config,
which beats Textual's default. Picking one in the palette ("Theme") saves it to the config.
Keys: the config's `[keymap]` table (binding id = "keys") overrides the bindings' default keys through Textual's
`App.set_keymap`. An entry that names no binding or no key is a one-line warning, never a crash; the rest apply.

The config is read in a thread, so the first frame never waits for it; the saved theme follows a moment later.
"""

from __future__ import annotations

import importlib
import os
import pkgutil

from textual.app import App
from textual.dom import DOMNode
from textual.keys import REPLACED_KEYS, Keys, _character_to_key, key_to_character
from textual.theme import Theme

THEME_ENV = "TEXTUAL_THEME"
MODIFIERS = {"ctrl", "shift", "alt", "meta", "super", "hyper"}
# Named keys Textual delivers (escape, f1 ... f24, pageup ...), and the short names of punctuation (slash, minus).
NAMED_KEYS = {k.value for k in Keys if "+" not in k.value and not k.value.startswith("<") and "-" not in k.value}
NAMED_KEYS |= set(REPLACED_KEYS)
SCREEN_PACKAGES = ("tui.screens", "tui.widgets")  # where the app's bindings live, besides the app itself
MAX_WARNINGS = 4  # a keymap with many mistakes: the first few, then how many more


def key_problem(keys: str) -> str | None:
    """Why `keys` ("ctrl+o", "f9,ctrl+o", "?") is not something Textual can bind, or None when it is."""
    for key in (k.strip() for k in keys.split(",")):
        if not key:
            return f"{keys!r} has an empty key: separate several keys with single commas, e.g. \"ctrl+o,f9\""
        *modifiers, name = key.split("+") if len(key) > 1 else [key]
        if not name:
            return f"{key!r} ends without a key: e.g. \"ctrl+o\""
        unknown = [m for m in modifiers if m not in MODIFIERS]
        if unknown:
            return (f"{unknown[0]!r} in {key!r} is not a modifier: use ctrl, shift, alt, meta or super, e.g. "
                    f"\"ctrl+o\"")
        if len(name) == 1:
            if not name.isprintable() or name.isspace():
                return f"{key!r} is not a key: write a space as \"space\""
            continue
        if name in NAMED_KEYS or key_to_character(name) is not None:
            continue
        return (f"{name!r} in {key!r} is not a key Textual knows: use a letter, a digit, a name such as f9, "
                f"escape, pageup or question_mark, or the character itself")
    return None


def _normalised(keys: str) -> str:
    """Keys as Textual compares them ("?" -> "question_mark"), for spotting clashes."""
    return ",".join(_character_to_key(k) if len(k) == 1 else k for k in (k.strip() for k in keys.split(",")))


def binding_ids(app: App) -> dict[str, str]:
    """Every binding id the app has (its own and every screen's and widget's), with what it does. Blocking: it
    imports the screens' modules, so it runs in a thread, and only when a keymap needs checking."""
    classes: list[type] = [type(app)]
    for package in SCREEN_PACKAGES:
        root = importlib.import_module(package)
        for info in pkgutil.iter_modules(root.__path__, package + "."):
            module = importlib.import_module(info.name)
            classes += [c for c in vars(module).values() if isinstance(c, type) and issubclass(c, DOMNode)
                        and c.__module__ == module.__name__]
    out: dict[str, str] = {}
    for cls in classes:
        merged = cls._merged_bindings
        for bindings in (merged.key_to_bindings.values() if merged is not None else ()):
            for binding in bindings:
                if binding.id:
                    out.setdefault(binding.id, binding.description or binding.action)
    return out


def checked_keymap(keymap: dict[str, str], known: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The entries that apply, and one line for each that does not (what is wrong, what to do)."""
    good, problems = {}, []
    for binding_id, keys in keymap.items():
        if binding_id not in known:
            close = sorted(k for k in known if k.split(".")[-1] == binding_id.split(".")[-1])
            hint = f" (did you mean {close[0]}?)" if close else " (F1 lists the ids of each screen's keys)"
            problems.append(f"keymap: {binding_id!r} is not a binding id{hint}")
        elif problem := key_problem(keys):
            problems.append(f"keymap {binding_id}: {problem}")
        else:
            good[binding_id] = keys
    return good, problems


class Preferences:
    """Applies the saved theme and the keymap to `app` once, then saves the theme each time the person picks one."""

    def __init__(self, app: App):
        self.app = app
        self.saved_theme: str | None = None  # the theme the config holds (or the one just written to it)
        self.current: str | None = None  # the theme on screen once applied; a change from it is the person's pick
        self.applied = False

    def start(self) -> None:
        self.app.run_worker(self._read, thread=True, group="preferences", exit_on_error=False)

    def _read(self) -> None:
        from core.config import app_settings
        from core.errors import CutoverError

        try:
            settings = app_settings()
        except CutoverError as exc:
            self.app.call_from_thread(self.apply, None, {}, [f"Theme and keymap not read: {exc}"])
            return
        good, problems = {}, list(settings.problems)
        if settings.keymap:
            good, more = checked_keymap(settings.keymap, binding_ids(self.app))
            problems += more
        self.app.call_from_thread(self.apply, settings.theme, good, problems)

    def apply(self, saved: str | None, keymap: dict[str, str], problems: list[str]) -> None:
        app = self.app
        self.saved_theme = saved
        themes = app.available_themes
        wanted = os.environ.get(THEME_ENV)
        if wanted and wanted not in themes:
            problems.insert(0, f"{THEME_ENV}={wanted} is not a theme: unset it, or use one of "
                               f"{', '.join(sorted(themes)[:6])} … (Ctrl+P, Theme, lists them all)")
            wanted = None
            app.theme = saved if saved in themes else "textual-dark"
        elif wanted and app.theme != wanted:  # Textual read it when it was imported; the variable now is what counts
            app.theme = wanted
        if not wanted and saved is not None:
            if saved in themes:
                app.theme = saved
            else:
                problems.append(f"the saved theme {saved!r} is not a theme: pick one with Ctrl+P, Theme")
        if keymap:
            app.set_keymap(keymap)
            problems += self.clashes(keymap)
        for line in problems[:MAX_WARNINGS]:
            app.notify(line, title="Settings", severity="warning", timeout=12)
        if len(problems) > MAX_WARNINGS:
            app.notify(f"… and {len(problems) - MAX_WARNINGS} more problems in the config's theme and keymap",
                       title="Settings", severity="warning", timeout=12)
        self.current = app.theme  # what the person sees now; a change from here on is their choice
        app.theme_changed_signal.subscribe(app, self.theme_changed)
        self.applied = True

    def clashes(self, keymap: dict[str, str]) -> list[str]:
        """Two ids the keymap gives the same key: the second would never fire."""
        owner: dict[str, str] = {}
        out = []
        for binding_id, keys in keymap.items():
            for key in _normalised(keys).split(","):
                if key in owner:
                    out.append(f"keymap: {binding_id} and {owner[key]} both use {key}: give one another key")
                owner.setdefault(key, binding_id)
        return out

    def theme_changed(self, theme: Theme) -> None:
        redraw = getattr(self.app, "refresh_screens", None)
        if redraw is not None:  # the status glyphs' colours come from the theme when they are drawn
            redraw()
        if theme.name in (self.current, self.saved_theme):
            self.current = theme.name
            return
        self.current = theme.name
        self.app.run_worker(lambda: self._save(theme.name), thread=True, group="theme-save", exit_on_error=False)

    def _save(self, name: str) -> None:
        from core.config import save_theme
        from core.errors import CutoverError

        try:
            save_theme(name)
        except CutoverError as exc:
            self.app.call_from_thread(self.app.notify, f"Theme not saved: {exc}", title="Settings",
                                      severity="warning", timeout=10)
            return
        self.saved_theme = name
