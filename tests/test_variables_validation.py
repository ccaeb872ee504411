"""Run-variable values are checked where they enter, and a stored value that no longer reads never makes the profile
unusable.

Entering (`cutover set`, the app's editors, both through Runbook.set_variable -> RunVariables.set): dates and times
outside 2000-01-01 … 2100-12-31 are refused, and so is anything that would not read back as itself once stored; the
message gives an example of a good value, and nothing is written (the journal's bytes are unchanged).
Reading: a value edited by hand (or written by an older version) shows as unreadable with its raw text, everything
else still reads, checks that need it say how to repair it, and `cutover set NAME VALUE` repairs it.
"""

from __future__ import annotations

import json

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cli_support import run

from core.config import get_profile
from core.demo import DemoTenant
from core.errors import ConfigError
from core.journal import Journal
from core.runbook.engine import Runbook
from core.runbook.model import Status
from core.runbook.variables import RunVariables
from core.session import Session

pytestmark = pytest.mark.timeout(120)
OPERATOR = "Ada Lovelace <ada@example.com>"

REFUSED = [
    ("freeze_ts", "1999-12-31 23:59", "is outside 2000-01-01 … 2100-12-31"),
    ("freeze_ts", "2101-01-01T00:00Z", "is outside 2000-01-01 … 2100-12-31"),
    ("go_live_ts", "1026-10-28 18:00", "is outside 2000-01-01 … 2100-12-31"),  # a typo of a century
    ("migration_date", "1970-01-01", "is outside 2000-01-01 … 2100-12-31"),
    ("old_cutover_dates.invoice", "2200-01-01", "is outside 2000-01-01 … 2100-12-31"),
    ("freeze_ts", "1700000000", "expected a UTC date and time"),  # a Unix timestamp: seconds or ms? refused
    ("target_migration_date", "20261028", "expected a date"),
    ("freeze_ts", "2026-10-28T18:00:00.250Z", "would not read back the same once stored (as '2026-10-28T18:00:00Z')"),
]
ACCEPTED = [
    ("migration_date", "2000-01-01", date(2000, 1, 1)),
    ("migration_date", "2100-12-31", date(2100, 12, 31)),
    ("freeze_ts", "2000-01-01T00:00:00Z", datetime(2000, 1, 1, tzinfo=UTC)),  # a time that happened: never later than now
    ("freeze_ts", "2026-10-28T18:00+02:00", datetime(2026, 10, 28, 16, 0, tzinfo=UTC)),
    ("freeze_ts", "2026-10-28 18:00", datetime(2026, 10, 28, 18, 0, tzinfo=UTC)),
    ("old_cutover_dates.invoice", "2024-01-01", date(2024, 1, 1)),
]


def data_files(folder: Path) -> dict[str, bytes]:
    """Every file in the profile's data folder, by name, with its bytes."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def hand_edit(journal: Path, name: str, value: str) -> None:
    """What a person with sqlite3 (or an older cutover) leaves behind: a stored value the parser does not take."""
    with sqlite3.connect(journal) as db:
        db.execute("INSERT INTO variable(name, value, set_at, set_by) VALUES (?, ?, '2026-01-01T00:00:00Z', 'x') "
                   "ON CONFLICT(name) DO UPDATE SET value = excluded.value", (name, value))
    sqlite3.connect(journal).close()


@pytest.fixture
def acme(capsys) -> Path:
    """A profile with a journal holding two variables; its data folder."""
    assert run(capsys, "profile", "add", "acme", "--zuora-env", "us-cloud1-api-sandbox", "--netsuite-account-id",
               "1234567_SB1")[0] == 0
    assert run(capsys, "set", "migration_date", "2026-11-02", "--profile", "acme")[0] == 0
    assert run(capsys, "set", "tenant_env", "us-cloud1-api-sandbox", "--profile", "acme")[0] == 0
    return Path(get_profile("acme").data_dir)


# ---- entering -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "text", "why"), REFUSED, ids=[f"{n}={t}" for n, t, _ in REFUSED])
def test_an_implausible_or_lossy_value_is_refused_with_an_example(name, text, why):
    with pytest.raises(ConfigError) as caught:
        RunVariables().set(name, text)
    message = str(caught.value)
    assert message.startswith(f"{name}: ") and why in message
    assert "like 2026-10-28" in message  # an example of a value that is taken


@pytest.mark.parametrize(("name", "text", "value"), ACCEPTED, ids=[f"{n}={t}" for n, t, _ in ACCEPTED])
def test_a_plausible_value_is_taken_and_reads_back_as_itself(name, text, value):
    variables = RunVariables().set(name, text)
    assert variables.get(name) == value
    again = RunVariables.load(variables.dump())
    assert again.get(name) == value and again.unreadable == {}


@pytest.mark.parametrize("name", ["freeze_ts", "is_enabled_ts", "go_live_ts"])
def test_a_time_that_records_what_happened_cannot_be_in_the_future(name):
    from datetime import timedelta

    later = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    with pytest.raises(ConfigError, match=f"{name}: '{later}' is in the future .* enter it once it has happened"):
        RunVariables().set(name, later)
    just_now = (datetime.now(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")  # a clock a minute ahead
    assert RunVariables().set(name, just_now).get(name) is not None
    assert RunVariables().set("target_migration_date", (date.today() + timedelta(days=20)).isoformat())  # a plan


def test_a_refused_set_leaves_the_journal_as_it_was_and_a_good_one_records(capsys, acme):
    before = data_files(acme)
    code, out, err = run(capsys, "set", "freeze_ts", "1999-12-31 23:59", "--profile", "acme")
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.count("\n") == 1 and "freeze_ts" in err and "2000-01-01 … 2100-12-31" in err
    assert "like 2026-10-28T18:00Z" in err  # what to type instead
    assert data_files(acme) == before  # not one byte written

    code, out, err = run(capsys, "set", "freeze_ts", "2026-10-28 18:00", "--profile", "acme")
    assert code == 0 and out.strip() == "freeze_ts = 2026-10-28T18:00:00Z"
    assert data_files(acme)["journal.db"] != before["journal.db"]


# ---- reading a value that no longer parses -------------------------------------------------------------------------
def test_a_hand_edited_value_reads_as_unreadable_and_the_rest_still_reads(tmp_path):
    path = tmp_path / "journal.db"
    with Journal(path, operator=OPERATOR) as journal:
        journal.set_variable("freeze_ts", "2026-10-28 18:00")
        journal.set_variable("migration_date", "2026-11-02")
        journal.set_variable("provisioning_path", "new-tenant")
    hand_edit(path, "freeze_ts", "garbage")
    hand_edit(path, "provisioning_path", "sideways")
    with Journal(path, operator=OPERATOR) as journal:
        variables = journal.variables()  # never raises on a stored value
        assert variables.unreadable == {"freeze_ts": "garbage", "provisioning_path": "sideways"}
        assert variables.freeze_ts is None and variables.migration_date == date(2026, 11, 2)
        assert variables.dump()["freeze_ts"] == "garbage"  # the raw text, as stored
        with pytest.raises(ConfigError, match=r"run variable freeze_ts is unreadable: the journal holds 'garbage'.*"
                                              r"cutover set freeze_ts VALUE"):
            variables.require("freeze_ts")
        assert variables.require("migration_date") == date(2026, 11, 2)

        # Setting another variable keeps the unreadable one as it is; setting it repairs it.
        journal.set_variable("tenant_env", "us-cloud1-api-sandbox")
        assert journal.variables().unreadable == {"freeze_ts": "garbage", "provisioning_path": "sideways"}
        journal.set_variable("freeze_ts", "2026-10-29 06:00")
        assert journal.variables().unreadable == {"provisioning_path": "sideways"}
        assert journal.variables().freeze_ts == datetime(2026, 10, 29, 6, 0, tzinfo=UTC)


def test_cutover_vars_lists_everything_and_set_repairs_the_unreadable_one(capsys, acme):
    hand_edit(acme / "journal.db", "freeze_ts", "garbage")
    code, out, err = run(capsys, "vars", "--profile", "acme")
    assert code == 0 and "Traceback" not in err
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert set(lines) == set(RunVariables.names())  # every variable listed
    assert "✗ unreadable: 'garbage' (repair it: cutover set freeze_ts VALUE)" in lines["freeze_ts"]
    assert "2026-11-02" in lines["migration_date"] and "us-cloud1-api-sandbox" in lines["tenant_env"]
    code, out, _ = run(capsys, "vars", "--profile", "acme", "--json")
    listed = json.loads(out)
    assert code == 0 and set(listed) == set(RunVariables.names())
    assert listed["freeze_ts"] == {"value": None, "state": "unreadable", "raw": "garbage",
                                   "fix": "cutover set freeze_ts VALUE"}
    assert listed["migration_date"] == {"value": "2026-11-02", "state": "recorded"}
    assert {v["state"] for n, v in listed.items() if n not in ("freeze_ts", "migration_date", "tenant_env")} <= {
        "not recorded", "recorded"}

    code, out, err = run(capsys, "set", "freeze_ts", "2026-10-28T18:00Z", "--profile", "acme")
    assert code == 0 and out.strip() == "freeze_ts = 2026-10-28T18:00:00Z", err
    code, out, _ = run(capsys, "vars", "--profile", "acme")
    assert code == 0 and "unreadable" not in out and "2026-10-28T18:00:00Z" in out


async def test_a_check_that_needs_an_unreadable_value_says_how_to_repair_it(tmp_path):
    async with DemoTenant(scale=1, connector_pace_s=0) as demo, Session(demo.profile, demo.credentials) as session:
        with Journal.for_profile(demo.profile) as journal:
            runbook = Runbook(demo.profile, journal, session)
            runbook.set_variable("freeze_ts", demo.sim.store.setting("scenario.freeze_date"))
            [good] = await runbook.check(["C6"])
            assert "freeze_ts" not in good.summary and good.status is not Status.NEEDS_ACTION

            hand_edit(journal.path, "freeze_ts", "28/10/2026 18:00")
            [state] = await runbook.check(["C6"])
            assert state.status is Status.NEEDS_ACTION
            assert "run variable freeze_ts is unreadable: the journal holds '28/10/2026 18:00'" in state.summary
            assert "repair it: cutover set freeze_ts VALUE" in state.summary
            assert runbook.states()["C2"].step.id == "C2"  # the rest of the runbook still folds

            runbook.set_variable("freeze_ts", demo.sim.store.setting("scenario.freeze_date"))
            [again] = await runbook.check(["C6"])
            assert again.status == good.status and again.summary == good.summary
