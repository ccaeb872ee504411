"""An app whose terminal is gone ends, as it would on a hangup.

When a terminal vanishes without sending SIGHUP (a pty closed by a harness, a multiplexer killed without its
clients), Textual's input thread reads end-of-file in a loop and the app spins a core for as long as it lives. The
kernel then answers every terminal call on standard input with EIO, so `os.isatty` turns False: a watch every few
seconds notices, and the app exits the way a hangup ends it. Workers are cancelled; everything recorded stays
recorded, and an apply resumes where it stopped (a finished write is never repeated).
"""

from __future__ import annotations

import os
import sys

from textual.app import App

HANGUP_EXIT = 129  # 128 + SIGHUP, what a shell reports for a process a hangup ended
WATCH_EVERY_S = 2.0


def watch_terminal(app: App, every_s: float = WATCH_EVERY_S) -> None:
    """From the app's mount: exit with HANGUP_EXIT once standard input stops being the terminal it was."""
    if app.is_headless or app.is_web:
        return
    try:
        fd = sys.__stdin__.fileno()
        if not os.isatty(fd):  # not started on a terminal: nothing to watch
            return
    except (AttributeError, ValueError, OSError):
        return

    def check() -> None:
        if not os.isatty(fd):
            app.exit(return_code=HANGUP_EXIT)

    app.set_interval(every_s, check, name="terminal-watch")
