"""`cutover rehearse` end to end: real subprocesses, each with its own simulator on loopback and its own journal.

The runs start together (they mostly wait on the simulator's Data Query jobs) so the module takes about as long as
the slowest one, on two cores. Seeds 1-5 must pass with every step done and nothing waived. The sabotage matrix
skips one step's act at a time; each must end with `passed: false` and another step failing or blocked, naming
the harm the step exists to prevent. The mistakes matrix does a step wrong instead (`--mistake`), with the same
demand.
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

pytestmark = pytest.mark.timeout(240)
CUTOVER = str(Path(sys.executable).with_name("cutover"))
SCALE = "300"
SEEDS = (1, 2, 3, 4, 5)
# sabotage -> (the step that must catch it, its status, the harm its summary must name)
MATRIX = {
    "E1": ("H2", "fail", "duplicate credit memos in NetSuite"),
    "G1": ("H3", "fail", "NetSuite payments since the freeze not in Zuora"),
    "G2": ("H3", "fail", "NetSuite payments since the freeze not in Zuora"),
    "C2": ("D1", "blocked", "negative invoices not yet in NetSuite"),
    "C7": ("E3", "blocked", "IIAs pushed to NetSuite after the freeze"),
    "F4": ("H3", "fail", "NetSuite transactions in error since IS"),
    "B3": ("D1", "blocked", "currencies without a valid migration charge"),
    # NetSuite Payment Sync is off on a new instance (R8.7) until F6 turns it on
    "F6": ("H3", "fail", "NetSuite payments since the freeze not in Zuora"),
}
# A step done wrong rather than left out (--mistake, runbook R8) -> (the step that must catch it, status, harm).
MISTAKES = {
    "late-cutovers": ("H3", "fail", "Zuora invoices, payments and refunds since the freeze not in NetSuite"),
    "late-memo-cutover": ("H3", "fail", "credit memos waiting for NetSuite"),
    # caught only because sign-off (I2) checks C7 again: its pass was taken before the restart
    "old-connector-restarted": ("C7", "fail", "IIAs pushed to NetSuite after the freeze"),
    # R8.9: the connector no longer knows their NetSuite copies, so its first run creates them again
    "integration-status-cleared": ("H2", "fail", "NetSuite copies of Zuora records sent twice"),
}
RUNS = {
    **{f"seed{n}": ["--seed", str(n), "--json"] for n in SEEDS},
    **{f"skip-{x}": ["--seed", "1", "--skip", x, "--json"] for x in MATRIX},
    **{f"mistake-{x}": ["--seed", "1", "--mistake", x, "--json"] for x in MISTAKES},
    "skip-E2": ["--seed", "1", "--skip", "E2", "--json"],
    "skip-C3-C5": ["--seed", "1", "--skip", "C3", "--skip", "C5", "--json"],  # the flag repeats, as well as lists
    "text": ["--seed", "2", "--path", "edit-instance", "--e2", "ignore"],
}
STEP_KEYS = {"id", "phase", "kind", "status", "count", "summary", "checked_at"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    home = tmp_path_factory.mktemp("rehearse")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUTOVER_")}
    env.update(XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
               XDG_STATE_HOME=str(home / "state"))
    done = {}
    names = list(RUNS)
    extra = {"text": ["-o", str(home / "reports" / "signoff.md")]}  # a folder that does not exist yet
    for first in range(0, len(names), 4):  # four at a time: two cores, each run half waiting on its simulator
        procs = {name: subprocess.Popen([CUTOVER, "rehearse", "--scale", SCALE, *RUNS[name], *extra.get(name, ())],
                                        env=env, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for name in names[first:first + 4]}
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=200)
            done[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return done


def _outcome(proc: subprocess.CompletedProcess) -> dict:
    assert not proc.stderr, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("seed", SEEDS)
def test_every_step_is_done_unattended_on_seeds_1_to_5(runs, seed):
    proc = runs[f"seed{seed}"]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    outcome = _outcome(proc)
    steps = {s["id"]: s for s in outcome["steps"]}
    assert list(steps) == [s.id for s in RUNBOOK]  # every step, in runbook order
    assert all(set(s) == STEP_KEYS for s in outcome["steps"])
    assert outcome["passed"] is True and outcome["stopped"] is None
    assert {s["status"] for s in steps.values()} == {"pass", "not-needed"}  # no waiver, nothing open
    assert [s for s in steps if steps[s]["status"] == "not-needed"] == ["F3a", "F3c"]
    assert outcome["waived"] == [] and outcome["left_open"] == [] and outcome["failing"] == []
    assert outcome["duplicates_in_netsuite"] == 0 and outcome["elapsed_s"] > 0
    for step_id in ("A1", "B3", "C1", "C2", "C5", "C6", "C7", "D1", "D2", "E1", "E2", "E3", "F1", "G1", "G2", "G3",
                    "H2", "H3", "I2"):
        assert steps[step_id]["checked_at"], step_id  # each checked for real, not only confirmed
    assert steps["H3"]["summary"].split()[0].isdigit()  # H3 saw real traffic sync; it never passes on zero
    done = {(d["step"], d["what"]) for d in outcome["done_for_people"]}
    assert {("A3", "confirm"), ("B3", "act"), ("C7", "confirm"), ("D1", "ticket"), ("D1", "act"), ("E1", "act"),
            ("F3b", "confirm"), ("F4", "act"), ("G2", "act"), ("H1", "confirm"), ("I1", "confirm")} <= done


def _caught(proc: subprocess.CompletedProcess, catcher: str, status: str, harm: str) -> dict:
    """The run failed (exit 1, passed false, nothing waived) and `catcher` has `status`, naming `harm`."""
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr
    outcome = _outcome(proc)
    failing = {f["id"]: f for f in outcome["failing"]}
    assert outcome["passed"] is False and outcome["waived"] == [] and catcher in failing, failing
    assert failing[catcher]["status"] == status and harm in failing[catcher]["summary"], failing[catcher]
    return outcome


@pytest.mark.parametrize("skipped", list(MATRIX))
def test_the_sabotage_matrix_each_harm_is_caught_by_another_step(runs, skipped):
    catcher, status, harm = MATRIX[skipped]
    assert catcher != skipped
    assert _caught(runs[f"skip-{skipped}"], catcher, status, harm)["skipped"] == [skipped]


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_each_mistake_is_caught_naming_its_harm(runs, mistake):
    outcome = _caught(runs[f"mistake-{mistake}"], *MISTAKES[mistake])
    assert outcome["mistakes"] == [mistake] and outcome["skipped"] == []
    assert next(f for f in outcome["failing"] if f["id"] == "I2")["status"] == "needs-action"  # nothing to sign


def test_skipping_e2_leaves_memos_in_netsuite_that_sign_off_sees(runs):
    """The first run sends the credit-balance memos the decision kept out; E2, checked again at sign-off, says so."""
    outcome = _outcome(runs["skip-E2"])
    failing = {f["id"]: f for f in outcome["failing"]}
    assert outcome["passed"] is False and failing["E2"]["status"] == "fail"
    assert "7 credit-balance memos reached NetSuite" in failing["E2"]["summary"]
    assert "delete their NetSuite credit memos" in failing["E2"]["summary"]


def test_the_help_names_every_mistake_the_steps_can_make():
    from cli.rehearse import MISTAKES as LISTED
    from core.rehearsal import known_mistakes

    assert set(LISTED) == set(known_mistakes()) == set(MISTAKES)


def test_the_pending_records_chain_is_caught_when_all_its_links_are_skipped(runs):
    """C3's records that a run leaves in error are C5's too, so skipping one of them alone is healed by the other
    (the customer is not hurt, and the rehearsal rightly passes). Skip both and D1 must refuse, naming each."""
    outcome = _caught(runs["skip-C3-C5"], "D1", "blocked", "C3 needs-action")
    assert outcome["skipped"] == ["C3", "C5"]
    failing = {f["id"]: f for f in outcome["failing"]}
    assert "invoices not yet in NetSuite" in failing["C3"]["summary"]
    assert "stuck or in error" in failing["C5"]["summary"] and "C5 needs-action" in failing["D1"]["summary"]


def test_skipping_e1_leaves_duplicates_that_h2_counts_and_the_gates_hold(runs):
    outcome = _outcome(runs["skip-E1"])
    steps = {s["id"]: s for s in outcome["steps"]}
    duplicates = outcome["duplicates_in_netsuite"]
    assert duplicates > 0 and steps["H2"]["count"] == duplicates
    assert steps["E1"]["status"] == "fail"  # its check still ran: the person skipped the apply, not the check
    # The gates held: nobody could record the first run, the schedule or the scheduler configuration without E1.
    assert {steps[s]["status"] for s in ("F7", "H1", "H4")} == {"blocked"}
    assert not any(d["step"] == "E1" and d["what"] == "act" for d in outcome["done_for_people"])


def test_a_refused_gate_stops_the_rehearsal_before_the_migration(runs):
    for skipped in ("B3", "C2"):
        outcome = _outcome(runs[f"skip-{skipped}"])
        steps = {s["id"]: s for s in outcome["steps"]}
        assert outcome["stopped"].startswith("D1: Invoice Settlement is not on")
        assert steps["D1"]["status"] == "blocked" and steps[skipped]["status"] == "fail"
        assert not any(d["step"] == "D1" for d in outcome["done_for_people"])  # no ticket, so no migration


def test_without_json_a_line_per_step_as_it_goes(runs):
    proc = runs["text"]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("A1") and "pass" in lines[0]
    assert any(line.startswith("F3a") and "confirmed" in line for line in lines)  # the edit-instance path
    assert any(line.startswith("E2") and "decision recorded: ignore" in line for line in lines)
    assert any(line.startswith("H2") and " pass " in line for line in lines)
    assert lines[-2].startswith("rehearsal passed: every step done; 0 duplicate credit memos in NetSuite")
    report = proc.args[-1]  # -o FILE: the sign-off report of this run, its folder made
    assert lines[-1] == f"sign-off report written to {report}"
    assert "E1" in Path(report).read_text(encoding="utf-8")


@pytest.mark.parametrize("args, message", [
    (["--scale", "huge"], "scale must be one of"),
    (["--skip", "Z9"], "no runbook step 'Z9'"),
    (["--skip", "H2"], "the rehearsal does nothing for H2 that could be skipped"),
    (["--mistake", "typo"], "no mistake named 'typo'"),
])
def test_bad_options_are_one_clear_line(capsys, args, message):
    code, out, err = run(capsys, "rehearse", *args)
    assert code == 2 and out == ""
    assert err.startswith("cutover: ") and message in err and len(err.strip().splitlines()) == 1
