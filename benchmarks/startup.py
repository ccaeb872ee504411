"""How fast cutover starts, against references measured in the same run: `cutover --help` against `python -c pass`,
and the first screen of `cutover demo` and `cutover open --profile PROFILE` (a profile whose systems do not answer) against a
bare Textual app (Header, Static, Footer), each in a real terminal (a pty), with peak RSS.

    .venv/bin/python -m compileall -q core cli tui && .venv/bin/python benchmarks/startup.py [--rounds 7] [--json]

Runs alternate (reference, subject, reference, subject ...) so a busy machine slows both alike; the figures are
medians. "First screen" is the moment known strings of that screen have all been written to the terminal:
- the bare app: its text;
- `open`: its first frame, drawn before pydantic, httpx, keyring or the runbook's definitions load: the header with
  the profile's name, the runbook's frame (the step table's title, the phase list) and the footer's keys
  (OPEN_MARKS); the profile's checklist fills in a moment later, from its journal;
- `demo`: a step row (A2's title), so "usable": the checklist is there to read and move through, while the
  simulated tenant still seeds.
Prints one JSON object with the ratios; makes no assertion.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.secrets import SECRET_NAMES, env_var  # noqa: E402

BARE_APP = '''
from textual.app import App
from textual.widgets import Footer, Header, Static

class Bare(App):
    def compose(self):
        yield Header()
        yield Static("bare textual app ready")
        yield Footer()

Bare().run()
'''
BARE_MARK = "bare textual app ready"
RUNBOOK_MARK = "Capture the old"  # A2's title in the runbook's first table: the checklist is on screen
# header, frame, footer (the footer's `c` key: its label was "Check phase", now "Check"; "Check" alone would match the
# table's "Checked" heading)
OPEN_MARKS = ("cutover ─ {profile}", "A · Discovery", "Readiness", "c Check")
LIMIT_S = 20.0
_ESCAPES = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|P[^\x1b]*\x1b\\|[@-Z\\-_])")


def _cutover() -> str:
    found = Path(sys.executable).with_name("cutover")
    return str(found) if found.exists() else shutil.which("cutover") or "cutover"


# A child's peak RSS counts the memory of the process it was forked from (Linux carries it over exec), so the
# command is started by a bare `python -S` that reports the exec'd child's own peak: both sides share that floor.
_LAUNCH = ("import os,sys,time;t=time.perf_counter();p=os.fork()\n"
           "if p==0:\n fd=os.open(os.devnull,os.O_WRONLY);os.dup2(fd,1);os.dup2(fd,2);os.execv(sys.argv[1],sys.argv[1:])\n"
           "_,s,u=os.wait4(p,0);print(time.perf_counter()-t,u.ru_maxrss,os.waitstatus_to_exitcode(s))")


def timed_exit(argv: list[str], env: dict) -> tuple[float, float]:
    """Seconds until the command exits, and its peak RSS in MiB."""
    out = subprocess.run([sys.executable, "-S", "-c", _LAUNCH, *argv], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    elapsed, maxrss_kib, code = float(out[0]), int(out[1]), int(out[2])
    if code != 0:
        raise SystemExit(f"startup: {' '.join(argv)} exited {code}")
    return elapsed, maxrss_kib / 1024


def _peak_rss_mib(pid: int) -> float:
    """VmHWM of a live process: its own peak, not its parent's."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed_screen(argv: list[str], mark: str | tuple[str, ...], env: dict, *, size=(120, 36),
                 limit_s: float = LIMIT_S) -> tuple[float, float]:
    """Seconds until `mark` (every one of several) is drawn in a pty of `size`, and the app's peak RSS in MiB by
    then."""
    marks = [m.encode() for m in ((mark,) if isinstance(mark, str) else mark)]
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
                            close_fds=True)
    os.close(slave)
    seen, found = b"", None
    try:
        while found is None and time.perf_counter() - start < limit_s:
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the app exited
                break
            seen += chunk
            text = _ESCAPES.sub(b"", seen)
            if all(m in text for m in marks):
                found = time.perf_counter() - start
        rss = _peak_rss_mib(proc.pid) if found is not None else float("nan")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        os.close(master)
    if found is None:  # counted as the limit, and the result says it timed out
        print(f"startup: {mark!r} not drawn within {limit_s:g} s by {' '.join(argv)}", file=sys.stderr)
        return limit_s, float("nan")
    return found, rss


def offline_profile(env: dict) -> str:
    """A profile whose Zuora and NetSuite are a closed loopback port, its secrets in env variables (CI style)."""
    subprocess.run([_cutover(), "profile", "add", "offline", "--zuora-base-url", "http://127.0.0.1:9",
                    "--netsuite-base-url", "http://127.0.0.1:9", "--netsuite-account-id", "1234567",
                    "--operator-name", "Bench", "--operator-email", "bench@example.com"],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    for name in SECRET_NAMES:
        env[env_var(name)] = "not-a-secret-0123456789"
    return "offline"


def median_pairs(rounds: int, reference, subject) -> dict:
    ref, sub, ref_rss, sub_rss = [], [], [], []
    for i in range(rounds):
        for fn, times, rss in ((reference, ref, ref_rss), (subject, sub, sub_rss))[::1 if i % 2 == 0 else -1]:
            t, m = fn()
            times.append(t)
            rss.append(m)
    r, s = statistics.median(ref), statistics.median(sub)
    return {"timed_out": any(t >= LIMIT_S for t in sub), "reference_s": round(r, 3), "subject_s": round(s, 3), "ratio": round(s / r, 2),
            "reference_rss_mib": _peak(ref_rss), "subject_rss_mib": _peak(sub_rss)}


def _peak(values: list[float]) -> float | None:
    known = [v for v in values if v == v]  # NaN: the screen never came, so nothing was read
    return round(max(known), 1) if known else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="JSON only (the default prints JSON and a summary)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cutover-startup-") as tmp:
        env = {**os.environ, "CUTOVER_CONFIG_FILE": f"{tmp}/config.toml", "XDG_DATA_HOME": f"{tmp}/data",
               "XDG_STATE_HOME": f"{tmp}/state", "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "36"}
        for name in ("TEXTUAL", "NO_COLOR"):
            env.pop(name, None)
        bare = Path(tmp, "bare.py")
        bare.write_text(BARE_APP)
        profile = offline_profile(env)
        cutover = _cutover()
        results = {
            "help": median_pairs(args.rounds, lambda: timed_exit([sys.executable, "-c", "pass"], env),
                                 lambda: timed_exit([cutover, "--help"], env)),
            "open_first_screen": median_pairs(
                args.rounds, lambda: timed_screen([sys.executable, str(bare)], BARE_MARK, env),
                lambda: timed_screen([cutover, "open", "--profile", profile],
                                     tuple(m.format(profile=profile) for m in OPEN_MARKS), env)),
            "demo_first_step": median_pairs(
                args.rounds, lambda: timed_screen([sys.executable, str(bare)], BARE_MARK, env),
                lambda: timed_screen([cutover, "demo"], RUNBOOK_MARK, env)),
        }
    results["targets"] = {"help_ratio_max": 4.0, "open_ratio_max": 1.3, "open_rss_mib_max": 60,
                          "demo_ratio_max": 3.0}
    print(json.dumps(results, indent=1))
    if not args.json:
        for name, r in results.items():
            if "ratio" in r:
                print(f"{name:<20} {r['subject_s']:.3f} s vs {r['reference_s']:.3f} s  ×{r['ratio']}  "
                      f"{r['subject_rss_mib']} MiB (reference {r['reference_rss_mib']} MiB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
