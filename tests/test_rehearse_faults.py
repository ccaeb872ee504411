"""`cutover rehearse --faults SPEC` end to end (issue 11, items 6 and 8): real subprocesses, each with its own
simulator on loopback.

Under the issue's fault storm (429s at the concurrency gate, 5xx, held requests, dropped connections, expired
tokens, a failing token endpoint, memos that fail on their own) the rehearsal still passes with no duplicate in
NetSuite, and says nothing on stderr: no retry warning, no traceback from the simulator. A memo Zuora refuses for
good is listed with its reason and next step, and E1's check and gate catch it; the rehearsal never passes.
The two runs start together and take about as long as the storm (~60 s on two cores).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]
CUTOVER = str(Path(sys.executable).with_name("cutover"))
STORM = ("429=0.15,5xx=0.05,timeout=0.005,timeout_hold_s=2,reset=0.02,token_expiry=0.03,token_5xx=0.1,"
         "bulk_item=0.05")
RUNS = {
    "storm": ["--seed", "3", "--scale", "300", "--faults", STORM, "--timeout", "5", "--json"],
    "refused": ["--seed", "1", "--scale", "300", "--faults", "bulk_item_refused=0.1"],
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    home = tmp_path_factory.mktemp("rehearse-faults")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUTOVER_")}
    env.update(XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
               XDG_STATE_HOME=str(home / "state"))
    procs = {name: subprocess.Popen([CUTOVER, "rehearse", *args], env=env, text=True, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE) for name, args in RUNS.items()}
    done = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=280)
        done[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return done


def test_the_fault_storm_heals_with_no_duplicate_and_nothing_on_stderr(runs):
    proc = runs["storm"]
    assert proc.stderr == ""  # no retry warnings, no simulator traceback
    assert proc.returncode == 0, proc.stdout[-3000:]
    outcome = json.loads(proc.stdout)
    assert outcome["passed"] is True and outcome["duplicates_in_netsuite"] == 0
    steps = {s["id"]: s for s in outcome["steps"]}
    assert steps["E1"]["status"] == "pass" and steps["H2"]["status"] == "pass"
    injected = outcome["faults_injected"]
    assert injected.get("429", 0) > 0 and injected.get("5xx", 0) > 0  # the storm did blow
    assert sum(injected.values()) >= 20


def test_a_memo_refused_for_good_is_listed_and_caught_never_passed(runs):
    proc = runs["refused"]
    assert proc.stderr == "" and proc.returncode == 1, proc.stdout[-3000:] + proc.stderr
    lines = proc.stdout.splitlines()
    listed = [line for line in lines if line.startswith("E1") and "failed (e.g. CM" in line]
    assert listed and "look at the memo in Zuora, fix it there, then apply again" in listed[0]
    assert any(line.startswith("E1") and "fail" in line and "not marked transferred" in line
               for line in lines[lines.index(listed[0]):])  # the re-check after the apply still fails
    verdict = next(line for line in lines if line.startswith("rehearsal "))
    assert verdict.startswith("rehearsal FAILED") and "E1 fail" in verdict
    assert lines[-1].startswith("faults injected: bulk_item_refused ×")


def test_a_bad_fault_spec_is_one_line_and_exit_2():
    proc = subprocess.run([CUTOVER, "rehearse", "--faults", "429=0.1,lag=0.2"], text=True, capture_output=True,
                          timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "bad fault 'lag=0.2'" in proc.stderr and "KEY one of 429, 5xx" in proc.stderr
