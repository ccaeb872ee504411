"""`cutover rehearse` end to end: real subprocesses, each with its own simulator on loopback and its own journal.

The runs start together (they mostly wait on the simulator's Data Query jobs) so the module takes about as long as
the slowest one. Seeds 1-3 must pass H2/H3; `--skip E1` must leave duplicates that H2 counts in NetSuite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import run

from core.runbook.phases import RUNBOOK

pytestmark = pytest.mark.timeout(180)
CUTOVER = str(Path(sys.executable).with_name("cutover"))
SCALE = "300"
RUNS = {
    "seed1": ["--seed", "1", "--json"],
    "seed2": ["--seed", "2", "--json"],
    "seed3": ["--seed", "3", "--json"],
    "skip-e1": ["--seed", "1", "--skip", "E1", "--json"],
    "text": ["--seed", "2", "--path", "edit-instance", "--e2", "ignore"],
}
STEP_KEYS = {"id", "phase", "kind", "status", "count", "summary", "checked_at"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    home = tmp_path_factory.mktemp("rehearse")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUTOVER_")}
    env.update(XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
               XDG_STATE_HOME=str(home / "state"))
    procs = {name: subprocess.Popen([CUTOVER, "rehearse", "--scale", SCALE, *args], env=env, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for name, args in RUNS.items()}
    done = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=170)
        done[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return done


def _outcome(proc: subprocess.CompletedProcess) -> dict:
    assert not proc.stderr, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("name", ["seed1", "seed2", "seed3"])
def test_the_whole_runbook_passes_h2_and_h3_unattended(runs, name):
    proc = runs[name]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    outcome = _outcome(proc)
    steps = {s["id"]: s for s in outcome["steps"]}
    assert list(steps) == [s.id for s in RUNBOOK]  # every step, in runbook order
    assert all(set(s) == STEP_KEYS for s in outcome["steps"])
    assert outcome["passed"] is True and outcome["duplicates_in_netsuite"] == 0 and outcome["elapsed_s"] > 0
    # The path through the runbook: checks ran for real, fixes were applied, people's parts recorded.
    for step_id in ("A1", "C1", "C6", "C7", "D1", "D2", "E1", "E2", "F1", "G1", "G2", "G3", "H2", "H3"):
        assert steps[step_id]["status"] == "pass", steps[step_id]
        assert steps[step_id]["checked_at"], step_id
    assert steps["H2"]["count"] == 0 and steps["H3"]["count"] == 0
    assert steps["F3a"]["summary"].startswith("Not needed") and "ticket REHEARSAL-F4" in steps["F4"]["summary"]
    done = {(d["step"], d["what"]) for d in outcome["done_for_people"]}
    assert {("A3", "confirm"), ("C7", "confirm"), ("D1", "ticket"), ("D1", "act"), ("E1", "act"),
            ("F3b", "confirm"), ("G2", "act"), ("H1", "confirm"), ("I1", "confirm")} <= done
    # Seeded bad data nobody fixed stays visible, never confirmed away.
    assert steps["B2/V1"]["status"] == "needs-action" and steps["I2"]["status"] == "needs-action"
    assert {"B2/V1", "B3", "C5"} <= {o["step"] for o in outcome["left_open"]}


def test_skipping_e1_leaves_duplicates_that_h2_counts_in_netsuite(runs):
    proc = runs["skip-e1"]
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr
    outcome = _outcome(proc)
    steps = {s["id"]: s for s in outcome["steps"]}
    duplicates = outcome["duplicates_in_netsuite"]
    assert outcome["passed"] is False and outcome["skipped"] == ["E1"]
    assert duplicates > 0 and steps["H2"]["status"] == "fail" and steps["H2"]["count"] == duplicates
    assert steps["H2"]["summary"].startswith(f"{duplicates} duplicate credit memos in NetSuite")
    assert steps["E1"]["status"] == "not-run"
    # The gates held: nobody confirmed the first run or the schedule without E1.
    assert steps["H1"]["status"] == "not-run" and steps["H4"]["status"] == "not-run"
    assert not any(d["step"] == "E1" for d in outcome["done_for_people"])


def test_without_json_a_line_per_step_as_it_goes(runs):
    proc = runs["text"]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("A1") and "pass" in lines[0]
    assert any(line.startswith("F3a") and "confirmed" in line for line in lines)  # the edit-instance path
    assert any(line.startswith("E2") and "decision recorded: ignore" in line for line in lines)
    assert any(line.startswith("H2") and " pass " in line for line in lines)
    assert lines[-1].startswith("rehearsal passed: H2 and H3 pass; 0 duplicate credit memos in NetSuite")


@pytest.mark.parametrize("args, message", [
    (["--scale", "huge"], "scale must be one of"),
    (["--skip", "Z9"], "no runbook step 'Z9'"),
])
def test_bad_options_are_one_clear_line(capsys, args, message):
    code, out, err = run(capsys, "rehearse", *args)
    assert code == 2 and out == ""
    assert err.startswith("cutover: ") and message in err and len(err.strip().splitlines()) == 1
