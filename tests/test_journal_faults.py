"""A journal that cannot be used ends in one JournalError naming the file and what to do, never an SQLite traceback,
and nothing is written into a file that is not ours: damaged (random bytes after a valid header, truncated, damage
found only when a table is read), not a database, a folder, another program's database, a schema that does not match
its version, a newer schema, a read-only folder, a full disk. A journal write-locked by another process is waited for
a bounded time, then the message names who has it open. The apply lock goes through filelock: nothing in core/
needs fcntl or os.pread.

Each harm is paired with its absence: the same journal, undamaged, opens and records.
Read-only and disk-full cases run in a private mount namespace (`unshare -m`: root ignores chmod, so a read-only
bind mount or a tiny tmpfs stands in); they skip, saying why, where that is not possible.
"""

from __future__ import annotations

import ast
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core.errors import JournalBusy, JournalError
from core.journal import BUSY_TIMEOUT_S, Journal
from core.locking import ApplyBusy, apply_lock, present, users_folder

pytestmark = pytest.mark.timeout(60)
OPERATOR = "Ada Lovelace <ada@example.com>"
ROOT = Path(__file__).resolve().parents[1]
ASIDE = "or move it aside"


def a_journal(path: Path, confirmations: int = 60) -> Path:
    """A real journal with a variable and enough rows to span many pages; closed (its WAL folded in)."""
    with Journal(path, operator=OPERATOR) as journal:
        journal.set_variable("freeze_ts", "2026-10-28 18:00")
        for i in range(confirmations):
            journal.confirm(f"A{i % 5}", f"note {i} " + "x" * 1500)
    return path


def edit(path: Path, sql: str) -> None:
    """Change the file behind the journal's back, as sqlite3 or another program would (then let go of it)."""
    db = sqlite3.connect(path)
    try:
        db.executescript(sql)
        db.commit()
    finally:
        db.close()


def uses_it(path: Path) -> None:
    """Open, read and record: what every command does."""
    with Journal(path, operator=OPERATOR) as journal:
        assert journal.variables().freeze_ts is not None
        journal.confirmations()
        journal.confirmation_history("A1")
        journal.set_variable("tenant_env", "us-cloud1-api-sandbox")


def refused(path: Path, *fragments: str) -> str:
    """The journal refused with one JournalError line holding each fragment; the file's bytes untouched."""
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(JournalError) as caught:
        uses_it(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    for fragment in fragments:
        assert fragment in message
    if before is not None:
        assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists()
    return message


# ---- damaged, not a database, a folder, a foreign or mismatched schema ---------------------------------------------
def test_an_undamaged_journal_opens_and_records(tmp_path):
    uses_it(a_journal(tmp_path / "journal.db"))
    assert not users_folder(tmp_path / "journal.db").exists()  # closed: nobody recorded as having it open


@pytest.mark.parametrize("damage", ["random bytes after the header", "random bytes after page 1", "truncated",
                                    "cut inside the header"])
def test_a_damaged_journal_says_restore_or_move_it_aside(tmp_path, damage):
    path = a_journal(tmp_path / "journal.db")
    data = path.read_bytes()
    rng = __import__("random").Random(7)
    noise = bytes(rng.randrange(256) for _ in range(len(data)))
    damaged = {"random bytes after the header": data[:100] + noise[100:],
               "random bytes after page 1": data[:4096] + noise[4096:],
               "truncated": data[:len(data) // 3],
               "cut inside the header": data[:60]}[damage]
    path.write_bytes(damaged)
    refused(path, "the journal", "restore journal.db from a backup", ASIDE)


def test_damage_found_only_when_a_table_is_read_is_the_same_clear_error(tmp_path):
    path = a_journal(tmp_path / "journal.db", confirmations=200)
    with Journal(path) as journal:  # the schema (page 1) reads; the confirmations' pages are what breaks
        pages = journal.query("SELECT rootpage FROM sqlite_master WHERE name = 'confirmation'")[0]["rootpage"]
    data = bytearray(path.read_bytes())
    data[(pages - 1) * 4096:(pages - 1) * 4096 + 64] = b"\xff" * 64  # the table's root page header
    path.write_bytes(bytes(data))
    with Journal(path, operator=OPERATOR) as journal:
        assert journal.variables().freeze_ts is not None  # what is not damaged still reads
        with pytest.raises(JournalError, match=r"is damaged .*restore journal.db from a backup"):
            journal.confirmations()


def test_a_file_that_is_not_a_database(tmp_path):
    path = tmp_path / "journal.db"
    path.write_text("these are someone's notes, saved over the journal\n" * 200, encoding="utf-8")
    refused(path, "is not an SQLite database", ASIDE)


def test_a_folder_where_the_journal_should_be(tmp_path):
    path = tmp_path / "journal.db"
    path.mkdir()
    (path / "keep.txt").write_text("x")
    refused(path, "is a folder, not a file", "rename it to journal.db.folder")
    assert sorted(p.name for p in path.iterdir()) == ["keep.txt"]


def test_another_programs_database_is_refused_and_left_as_it_was(tmp_path):
    path = tmp_path / "journal.db"
    edit(path, "CREATE TABLE bookmarks (url TEXT, title TEXT); INSERT INTO bookmarks VALUES ('https://x.org', 'x');")
    refused(path, "is an SQLite database but not a cutover journal (its tables: bookmarks)", "move it aside")
    db = sqlite3.connect(path)
    try:  # none of our tables added, still in its own journal mode
        assert [r[0] for r in db.execute("SELECT name FROM sqlite_master")] == ["bookmarks"]
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        db.close()


@pytest.mark.parametrize("mismatch", ["tables missing", "a column missing"])
def test_a_schema_that_does_not_match_its_version(tmp_path, mismatch):
    path = a_journal(tmp_path / "journal.db")
    edit(path, "DROP TABLE waiver; DROP TABLE baseline;" if mismatch == "tables missing" else
         "ALTER TABLE confirmation DROP COLUMN note;")
    expected = "waiver, baseline missing" if mismatch == "tables missing" else "confirmation.note missing"
    refused(path, "does not match its schema version", expected, "restore journal.db from a backup")


def test_a_newer_schema_says_upgrade(tmp_path):
    path = a_journal(tmp_path / "journal.db")
    edit(path, "PRAGMA user_version = 99;")
    refused(path, "was written by a newer cutover (schema 99", "upgrade cutover")


# ---- read-only folders and a full disk (a private mount namespace) -------------------------------------------------
def in_namespace(setup: str, code: str, *args: str) -> subprocess.CompletedProcess:
    """Run `code` in python inside a private mount namespace after the shell `setup` (mounts); skip if the machine
    offers none (not root and no user namespaces)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("no unshare(1): a read-only or full disk cannot be staged without root's chmod being ignored")
    flags = "-m" if os.geteuid() == 0 else "-rm"
    probe = subprocess.run([unshare, flags, "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"no private mount namespace here ({probe.stderr.decode().strip()})")
    script = f"{setup} && exec {sys.executable} -c \"$0\" \"$@\""
    return subprocess.run([unshare, flags, "sh", "-c", script, textwrap.dedent(code), *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=60, check=False)


READ_AND_WRITE = """
    import sys
    from pathlib import Path
    from core.errors import JournalError
    from core.journal import Journal
    try:
        with Journal(Path(sys.argv[1]), operator="A <a@b>") as journal:
            journal.set_variable("tenant_env", "x")
        print("recorded")
    except JournalError as exc:
        print(exc)
"""


@pytest.mark.parametrize("where", ["the journal's folder", "a new journal's folder"])
def test_a_read_only_folder_names_it_and_the_fix(tmp_path, where):
    folder = tmp_path / "data"
    path = a_journal(folder / "journal.db") if where == "the journal's folder" else folder / "journal.db"
    folder.mkdir(exist_ok=True)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    ro = f"mount --bind {folder} {folder} && mount -o remount,ro,bind {folder}"
    done = in_namespace(ro, READ_AND_WRITE, str(path))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert done.stdout.strip() == (f"cannot write the journal {path}: the file or its folder is read-only, or not "
                                   f"yours (make {folder} and the files in it writable for you, or set the profile's "
                                   f"data_dir to a writable folder in the config file (`cutover locate config`))")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    # Without the read-only mount, the same journal records.
    assert in_namespace("true", READ_AND_WRITE, str(path)).stdout.strip() == "recorded"


def test_a_full_disk_names_the_journal_and_loses_nothing_recorded(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    code = """
        import sys
        from pathlib import Path
        from core.errors import JournalError
        from core.journal import Journal
        journal = Journal(Path(sys.argv[1]) / "journal.db", operator="A <a@b>")
        journal.set_variable("freeze_ts", "2026-10-28 18:00")
        written = 0
        try:
            while True:
                journal.confirm("A1", "x" * 8000)
                written += 1
        except JournalError as exc:
            print(exc)
        kept = len(journal.confirmation_history("A1"))
        print(written, kept, journal.variables().dump()["freeze_ts"])
        journal.close()
    """
    done = in_namespace(f"mount -t tmpfs -o size=256k none {mount}", code, str(mount))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    message, counts = done.stdout.strip().splitlines()
    assert message == (f"the disk holding the journal {mount / 'journal.db'} is full (free some space on it and run "
                       f"the command again; the change that failed was not recorded)")
    written, kept, freeze = counts.split()
    assert int(written) > 0 and kept == written and freeze == "2026-10-28T18:00:00Z"  # every row before it kept


# ---- locked by another process ----------------------------------------------------------------------------------
HOLD = """
    import os, sqlite3, sys
    from pathlib import Path
    path, how = Path(os.environ["HOLD_JOURNAL"]), sys.argv[1]
    if how == "cutover":
        from core.journal import Journal
        from core.locking import apply_lock
        journal = Journal(path)
        if "apply" in sys.argv:
            lock = apply_lock(path.parent, "acme", "E1")
            lock.__enter__()
        db = journal._db
    else:
        db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    print("locked", flush=True)
    sys.stdin.readline()
"""


class Holding:
    """Another process that holds the journal's write lock until told to stop."""

    def __init__(self, path: Path, how: str, *extra: str):
        self.process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(HOLD), how, *extra],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
                                        env={**os.environ, "HOLD_JOURNAL": str(path)})
        assert self.process.stdout.readline().strip() == "locked"

    def __enter__(self) -> subprocess.Popen:
        return self.process

    def __exit__(self, *exc) -> None:
        self.process.stdin.write("\n")
        self.process.stdin.close()
        self.process.wait(timeout=10)


def timed_write(path: Path, busy_timeout: float) -> tuple[float, str | None]:
    with Journal(path, operator=OPERATOR, busy_timeout=busy_timeout) as journal:
        start = time.monotonic()
        assert journal.variables().freeze_ts is not None  # WAL: a reader is never blocked by the writer
        assert time.monotonic() - start < 0.5
        try:
            journal.set_variable("tenant_env", "us-cloud1-api-sandbox")
        except JournalBusy as exc:
            return time.monotonic() - start, str(exc)
        return time.monotonic() - start, None


def test_the_wait_for_a_locked_journal_is_bounded_by_default():
    with Journal(":memory:") as journal:
        waited_ms = journal.query("PRAGMA busy_timeout")[0]["timeout"]
    assert 2 <= BUSY_TIMEOUT_S <= 15 and waited_ms == BUSY_TIMEOUT_S * 1000  # seconds: not forever, not zero


def test_a_journal_locked_by_another_cutover_names_it_after_a_bounded_wait(tmp_path):
    path = a_journal(tmp_path / "journal.db", confirmations=1)
    with Holding(path, "cutover") as holder:
        waited, message = timed_write(path, busy_timeout=1.5)
    assert 1.4 <= waited < 4, waited
    assert message is not None and message.startswith(f"the journal {path} stayed locked for 1.5 s: it is in use by "
                                                      f"pid {holder.pid} (python -c cutover) since ")
    assert message.endswith("(wait for it to finish, or stop it, then run the command again)")
    # Once it lets go, the same write goes through at once.
    waited, message = timed_write(path, busy_timeout=1.5)
    assert message is None and waited < 0.5


def test_an_apply_holding_the_journal_is_named_with_its_step(tmp_path):
    path = a_journal(tmp_path / "journal.db", confirmations=1)
    with Holding(path, "cutover", "apply") as holder:
        _, message = timed_write(path, busy_timeout=0.5)
        refused_apply = pytest.raises(ApplyBusy, match=f"pid {holder.pid}, step E1")  # a second apply is refused
        with refused_apply, apply_lock(tmp_path, "acme", "E1"):
            pass
    assert message is not None and f"pid {holder.pid} (python -c cutover apply) since " in message
    assert ", applying E1" in message


def test_a_lock_held_by_another_program_says_so(tmp_path):
    path = a_journal(tmp_path / "journal.db", confirmations=1)
    with Holding(path, "sqlite"):
        waited, message = timed_write(path, busy_timeout=1.0)
    assert 0.9 <= waited < 3.5
    assert message == (f"the journal {path} stayed locked for 1 s by a program that is not cutover (a sqlite3 shell, a "
                       f"backup or sync tool?) (close that program, then run the command again)")


def test_a_killed_process_is_not_named_and_its_record_is_swept(tmp_path):
    path = a_journal(tmp_path / "journal.db", confirmations=1)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sys, time
        from core.journal import Journal
        journal = Journal(sys.argv[1])
        print("open", flush=True)
        time.sleep(60)
    """), str(path)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "open"
        assert [h.pid for h in present(path)] == [holder.pid]
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        assert present(path) == []
        assert list(users_folder(path).glob("*.json")) == []
    finally:
        holder.kill()
        holder.wait()


# ---- portable locking ----------------------------------------------------------------------------------------------
def test_the_apply_lock_keeps_no_holder_record_after_release(tmp_path):
    with apply_lock(tmp_path, "acme", "E1"):
        assert (tmp_path / "apply.holder").exists()
    assert not (tmp_path / "apply.holder").exists()
    with apply_lock(tmp_path, "acme", "G2"):  # free again
        pass


def test_nothing_in_core_needs_fcntl_or_pread():
    """Locking and journal access work wherever Python and filelock do (Windows included)."""
    offenders = []
    for source in (ROOT / "core").rglob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import | ast.ImportFrom) else []
            module = node.module if isinstance(node, ast.ImportFrom) else ""
            if "fcntl" in names or module == "fcntl" or (isinstance(node, ast.Attribute) and node.attr == "pread"):
                offenders.append(str(source.relative_to(ROOT)))
    assert offenders == []


# ---- the app: one notification, the app still running ------------------------------------------------------------
async def test_the_app_says_a_damaged_journal_in_one_notification(capsys):
    from cli_support import run

    from core.config import get_profile
    from tui.app import CutoverApp
    from tui.backend import Backend

    assert run(capsys, "profile", "add", "acme", "--zuora-env", "us-cloud1-api-sandbox", "--netsuite-account-id",
               "1234567_SB1")[0] == 0
    path = Path(get_profile("acme").data_dir) / "journal.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("not a journal\n" * 300, encoding="utf-8")
    app = CutoverApp(Backend(profile_name="acme"))
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        deadline = time.monotonic() + 20

        def said() -> list[str]:
            return [f"{n.title}: {n.message}" for n in app._notifications if n.severity == "error"]

        # notify() posts a message: the notification lands a tick after the status line, so wait for it
        while not said() and time.monotonic() < deadline:
            await pilot.pause(0.05)
        await pilot.pause(0.2)  # a second, duplicate notification would have landed by now
        errors = said()
        assert errors == [(f"Not connected: Could not open the profile: the journal {path} is not an SQLite database "
                           f"(damaged or overwritten) (restore journal.db from a backup, or move it aside (rename it "
                           f"to journal.db.damaged) and the next command starts a new journal)")]
        assert app.is_running and not app.backend.ready
    assert path.read_text(encoding="utf-8") == "not a journal\n" * 300
