"""An app whose terminal vanishes without a hangup signal ends (tui.hangup) instead of spinning a core forever:
the app runs on a real pseudo-terminal that is then closed under it, as a harness or a killed multiplexer does."""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tui.hangup import HANGUP_EXIT

pytestmark = pytest.mark.timeout(120)
CUTOVER = str(Path(sys.executable).with_name("cutover"))
_ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=$]*[A-Za-z~]|\x1b[()][A-Z0-9]|\x1b[=>]")


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


@pytest.mark.parametrize(("argv", "mark"), [(["profiles"], b"Profiles"), (["demo", "--scale", "50"], b"IS: off")],
                         ids=["profiles", "demo"])
def test_the_app_ends_when_its_terminal_goes_away_without_a_hangup(tmp_path, argv, mark):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUTOVER_")}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_STATE_HOME=str(tmp_path / "state"), TERM="xterm-256color")
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    # A session of its own and no controlling terminal: closing the master sends it no SIGHUP.
    proc = subprocess.Popen([CUTOVER, *argv], stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True, close_fds=True)
    os.close(slave)
    try:
        drawn, deadline = b"", time.monotonic() + 60
        while mark not in _ESCAPES.sub(b"", drawn) and time.monotonic() < deadline:  # drawn, and (demo) connected
            if select.select([master], [], [], 0.1)[0]:
                drawn += os.read(master, 65536)
        assert mark in _ESCAPES.sub(b"", drawn) and proc.poll() is None
        os.close(master)
        master = None
        assert proc.wait(timeout=60) == HANGUP_EXIT
    finally:
        if master is not None:
            os.close(master)
        if proc.poll() is None:
            spun = _cpu_ticks(proc.pid)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            pytest.fail(f"the app outlived its terminal ({spun} CPU ticks used)")
