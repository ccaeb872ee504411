"""Bad input, the hostile tester's way (issue 11): every class of fault ends in one line on stderr that names the
fix, exit 2, no traceback on any output, and nothing changed: the config file, the profile's journal and the
simulator's tenant are the same bytes (and mtimes) after the refusal as before.

Two classes end differently on purpose: a closed stdout pipe (`cutover vars | head -1`) exits 0 with nothing on
stderr, as `head` wanted no more; Ctrl+C stays 130.

Most cases run `cutover` in process. A closed pipe, a read-only folder and a full disk need a real process: the
folders are made read-only with a read-only bind mount, and the disk full with a tiny tmpfs, in a private mount
namespace (`unshare -m`, or `unshare -rm` without root), because root writes into `chmod 500` folders anyway.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from core.config import config_path, get_profile, save_profile, validate_profile
from core.demo import DemoTenant
from core.errors import ConfigError
from core.logs import log_path
from core.secrets import SECRET_NAMES, env_var
from cli import build_parser, main

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
PASSWORD = "planted-url-password-41c7"
NEW = ("--zuora-env", "SBX", "--netsuite-account-id", "1234567_SB1")  # a valid new profile, but for its name


# ---- the world a case starts from ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tenant():
    with DemoTenant(scale=1) as demo:
        yield demo


@dataclass
class World:
    tmp: Path
    config: Path
    journal: Path
    sim: Path
    freeze: str

    def files(self) -> list[Path]:
        """The data a refused command must leave alone (SQLite's -shm index is rebuilt by any reader)."""
        found = [self.config, self.journal, self.journal.with_name("journal.db-wal")]
        found += sorted(p for p in self.sim.iterdir() if not p.name.endswith("-shm"))
        return found

    def snapshot(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for path in self.files():
            if path.is_file():
                out[str(path)] = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
            elif path.is_dir():
                out[str(path)] = ("folder", sorted(p.name for p in path.iterdir()))
        return out


@pytest.fixture
def world(tenant, monkeypatch, capsys, tmp_path) -> World:
    """Profile `keep` on the simulator (secrets in the CUTOVER_* variables), whose journal holds freeze_ts."""
    p = tenant.profile
    save_profile(validate_profile("keep", {"zuora_base_url": p.zuora_url(), "netsuite_base_url": p.netsuite_url(),
                                           "netsuite_account_id": p.netsuite_account_id,
                                           "netsuite_fields": p.netsuite_fields.model_dump()}))
    for name in SECRET_NAMES:
        monkeypatch.setenv(env_var(name), tenant.credentials.value(name))
    freeze = tenant.sim.store.setting("scenario.freeze_date")
    assert main(["set", "freeze_ts", freeze, "--profile", "keep"]) == 0
    capsys.readouterr()
    return World(tmp_path, config_path(), get_profile("keep").data_dir / "journal.db", tenant.sim.data_dir, freeze)


def cutover(capsys, *args: str) -> tuple[int, str, str]:
    """`cutover ARGS` in this process: (exit code, stdout, stderr); argparse's exit is an exit code too."""
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def refused(code: int, out: str, err: str, fix: str) -> str:
    assert code == 2, (code, out, err)
    assert "Traceback" not in out and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("cutover") and fix in lines[0], lines[0]
    return lines[0]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(ROOT)]),
            "PYTHON_KEYRING_BACKEND": "memkeyring.MemoryKeyring"}


# ---- 1. the config file ----------------------------------------------------------------------------------------------
def _latin1(world: World) -> bytes:
    return b"# caf\xe9: written by an editor in Latin-1\n" + world.config.read_bytes()


CONFIG_FILES = {
    "not-utf8": lambda w: b"\xff\xfe[\x00p\x00r\x00o\x00",
    "latin-1": _latin1,
    "bad-toml": lambda w: b"[profiles.keep\nzuora_env = 'SBX'\n",
    "secret-inside": lambda w: w.config.read_bytes() + b'zuora_client_secret = "planted"\n',
}


@pytest.mark.parametrize(("content", "args", "fix"), [
    ("not-utf8", ("profile", "list"), "is not UTF-8 text"),
    ("not-utf8", ("profile", "add", "new", *NEW), "save it as UTF-8"),
    ("latin-1", ("vars", "--profile", "keep"), "save it as UTF-8"),
    ("latin-1", ("profile", "show", "keep"), "is not UTF-8 text"),
    ("bad-toml", ("profile", "list"), "fix the syntax"),
    ("secret-inside", ("vars", "--profile", "keep"), "cutover credentials set"),
])
def test_a_config_file_cutover_cannot_read(world, capsys, content, args, fix):
    world.config.write_bytes(CONFIG_FILES[content](world))
    before = world.snapshot()
    refused(*cutover(capsys, *args), fix)
    assert world.snapshot() == before


@pytest.mark.parametrize(("where", "args", "fix"), [
    ("missing-folder", ("profile", "list"), "mkdir -p"),
    ("missing-folder", ("profile", "add", "new", *NEW), "or correct CUTOVER_CONFIG_FILE"),
    ("missing-folder", ("vars", "--profile", "keep"), "does not exist"),
    ("a-folder", ("profile", "list"), "name a file"),
])
def test_cutover_config_file_pointing_nowhere_useful(world, capsys, monkeypatch, where, args, fix):
    target = world.tmp / "nowhere" / "config.toml" if where == "missing-folder" else world.tmp
    monkeypatch.setenv("CUTOVER_CONFIG_FILE", str(target))
    before = world.snapshot()
    refused(*cutover(capsys, *args), fix)
    assert world.snapshot() == before
    assert not (world.tmp / "nowhere").exists()  # a typo in the variable never starts a config somewhere else


# ---- 2. profile values, refused where they enter -----------------------------------------------------------------
@pytest.mark.parametrize(("args", "fix"), [
    (("a" * 65, *NEW), "at most 64 characters"),
    (("a" * 300, *NEW), "at most 64 characters"),
    (("Acme Prod", *NEW), "use lower-case letters"),
    (("new", "--zuora-base-url", f"https://ada:{PASSWORD}@rest.zuora.com", "--netsuite-account-id", "1234567_SB1"),
     "give it without them, e.g. https://rest.zuora.com"),
    (("new", *NEW, "--netsuite-base-url", f"https://ada:{PASSWORD}@1234567-sb1.suitetalk.api.netsuite.com"),
     "e.g. https://1234567-sb1.suitetalk.api.netsuite.com"),
    (("new", "--zuora-base-url", "https://rest.zuora.com:70000", "--netsuite-account-id", "1234567_SB1"),
     "port 70000 is not a number from 1 to 65535"),
    (("new", "--zuora-base-url", "https://rest.zuora.com:0/", "--netsuite-account-id", "1234567_SB1"),
     "e.g. https://rest.zuora.com/"),
    (("new", "--zuora-base-url", "https://rest.zuora.com:https", "--netsuite-account-id", "1234567_SB1"),
     "give a port in that range"),
    (("new", *NEW, "--netsuite-base-url", "https://127.0.0.1:99999"), "from 1 to 65535"),
    (("new", "--zuora-base-url", "http://rest.zuora.com", "--netsuite-account-id", "1234567_SB1"),
     "use the https URL"),
    (("new", "--zuora-env", "SBX", "--netsuite-account-id", "acme"), "Setup > Company > Company Information"),
    (("new", "--zuora-env", "sandbox", "--netsuite-account-id", "1234567_SB1"), "use one of"),
    (("new", *NEW, "--field", "zuora_id"), "use KEY=SCRIPTID"),
    (("new", *NEW, "--operator-name", "Ada"), "give both --operator-name and --operator-email"),
    (("keep", *NEW), "pass --replace"),
])
def test_a_profile_value_that_would_not_work_is_refused_at_profile_add(world, capsys, args, fix):
    before = world.snapshot()
    line = refused(*cutover(capsys, "profile", "add", *args), fix)
    assert PASSWORD not in line
    assert world.snapshot() == before


# ---- 3. flags --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("args", "fix"), [
    (("--timeout", "0", "vars", "--profile", "keep"), "give one such as --timeout 30"),
    (("vars", "--profile", "keep", "--timeout", "-3"), "give one such as --timeout 30"),
    (("vars", "--profile", "keep", "--timeout", "soon"), "give one such as --timeout 30"),
    (("check", "A1", "--profile", "keep", "--timeout", "nan"), "give one such as --timeout 30"),
    (("vars",), "add --profile NAME"),
    (("vars", "--demo", "--profile", "keep"), "give --profile NAME or --demo, not both"),
    (("profile", "show", "keep", "--profile", "other"), "name one of them"),
    (("profile", "show"), "add --profile NAME"),
    (("open",), "add --profile NAME"),
    (("open", "--profile", "nobody"), "cutover profile add"),
    (("credentials", "test", "--profile", "nobody"), "cutover profile add"),
    (("vars", "--profile", "keep", "--bogus"), "see `cutover --help`"),
    (("plan", "G2", "--profile", "keep", "-o", "plan.txt"), "the file name must end in .csv or .json"),
    (("locate", "journal"), "add --profile NAME"),
])
def test_a_flag_that_cannot_be_used(world, capsys, args, fix):
    before = world.snapshot()
    refused(*cutover(capsys, *args), fix)
    assert world.snapshot() == before


def test_global_flags_are_taken_after_the_subcommand_and_the_positional_name_still_works(world, capsys):
    parse = build_parser().parse_args
    assert parse(["vars", "--demo"]).timeout is None
    assert parse(["--timeout", "3", "vars", "--demo"]).timeout == 3.0
    assert parse(["vars", "--demo", "--timeout", "2.5"]).timeout == 2.5
    assert parse(["--timeout", "3", "check", "--profile", "keep", "--timeout", "7"]).timeout == 7.0
    after = parse(["profile", "show", "--profile", "keep", "-v", "--debug"])
    assert (after.profile, after.verbose, after.debug) == ("keep", True, True)
    for args in (("-v", "--profile", "keep", "vars"), ("vars", "-v", "--profile", "keep")):
        code, out, err = cutover(capsys, *args)
        assert code == 0 and re.search(rf"^freeze_ts +{world.freeze}", out, re.MULTILINE) and err == ""
    shown = [cutover(capsys, "profile", "show", *how)[1] for how in (("keep",), ("--profile", "keep"))]
    assert shown[0] == shown[1] and "keep" in shown[0]
    assert cutover(capsys, "locate", "journal", "keep")[1].strip() == str(world.journal)


def test_output_files_go_into_folders_made_for_them(world, capsys):
    plan = world.tmp / "out" / "new" / "g2.json"
    code, out, err = cutover(capsys, "plan", "G2", "--profile", "keep", "-o", str(plan))
    assert code == 0, err
    assert plan.read_text().startswith('{"plan": ') and f"to {plan}" in out
    parsed = build_parser().parse_args(["ticket", "B1", "--demo", "--output", "d.md"])
    assert parsed.save == "d.md"  # --save is the older spelling


@pytest.mark.parametrize(("args", "fix"), [
    (("plan", "G2", "--profile", "keep", "-o", "{blocker}/plans/g2.csv"), "is a file where a folder should be"),
    (("ticket", "B1", "--profile", "keep", "--save", "{blocker}/b1.md"), "is a file where a folder should be"),
    (("report", "--profile", "keep", "-o", "{blocker}/report.md"), "choose a folder you can write to"),
])
def test_an_output_file_whose_folder_cannot_be(world, capsys, args, fix):
    blocker = world.tmp / "blocker"
    blocker.write_text("a file, not a folder")
    before = world.snapshot()
    refused(*cutover(capsys, *(a.format(blocker=blocker) for a in args)), fix)
    assert world.snapshot() == before


# ---- 4. the journal --------------------------------------------------------------------------------------------------
def _damage(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:100] + bytes((b * 7 + 13) % 256 for b in data[100:]))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:3000])


def _not_a_database(path: Path) -> None:
    path.write_text("these are somebody's notes, not a journal\n")


def _a_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()
    (path / "inside.txt").write_text("x")


def _newer_schema(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 999")
    db.commit()
    db.close()


def _foreign(path: Path) -> None:
    path.unlink()
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, taken TEXT)")
    db.commit()
    db.close()


@pytest.mark.parametrize(("harm", "args", "fix"), [
    (_damage, ("vars", "--profile", "keep"), "move it aside"),
    (_damage, ("set", "freeze_ts", "2026-10-29T18:00Z", "--profile", "keep"), "restore journal.db from a backup"),
    (_truncate, ("vars", "--profile", "keep"), "move it aside"),
    (_not_a_database, ("vars", "--profile", "keep"), "move it aside"),
    (_not_a_database, ("report", "--profile", "keep"), "move it aside"),
    (_a_folder, ("vars", "--profile", "keep"), "move it aside"),
    (_newer_schema, ("vars", "--profile", "keep"), "upgrade cutover"),
    (_foreign, ("confirm", "A1", "--note", "done", "--profile", "keep"), "move it aside"),
], ids=lambda v: v.__name__.strip("_") if callable(v) else None)
def test_a_journal_cutover_cannot_use(world, capsys, harm, args, fix):
    harm(world.journal)
    before = world.snapshot()
    refused(*cutover(capsys, *args), fix)
    assert world.snapshot() == before


HOLDERS = {
    # a cutover process in the middle of a write, as an apply would be
    "cutover": "from core.journal import Journal\n"
               "j = Journal({path!r}, operator='Other Operator <other@example.com>')\n"
               "tx = j.transaction(); tx.__enter__()\n",
    # a program that is not cutover (an sqlite3 shell, a backup tool) holding the write lock
    "sqlite3": "import sqlite3\n"
               "db = sqlite3.connect({path!r}, isolation_level=None); db.execute('BEGIN EXCLUSIVE')\n",
}


@pytest.mark.parametrize("holder", sorted(HOLDERS))
def test_a_journal_locked_by_another_process_is_waited_for_with_a_bound_and_its_holder_named(world, capsys, holder):
    code = HOLDERS[holder].format(path=str(world.journal)) + "print('held', flush=True)\nimport time; time.sleep(60)\n"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=_env(), stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        before = world.snapshot()
        started = time.monotonic()
        line = refused(*cutover(capsys, "set", "freeze_ts", "2026-10-29T18:00Z", "--profile", "keep"),
                       "then run the command again")
        assert time.monotonic() - started < 20  # a bound, not forever
        assert (f"pid {proc.pid}" in line) if holder == "cutover" else ("close that program" in line)
        assert world.snapshot() == before
    finally:
        proc.kill()
        proc.wait()


# ---- 5. read-only folders and a full disk (real processes in a private mount namespace) -------------------------
@cache
def _namespace() -> tuple[str, ...] | None:
    """How to get a private mount namespace where tmpfs can be mounted: as root, or in a user namespace."""
    with tempfile.TemporaryDirectory() as spot:
        for prefix in (("unshare", "-m"), ("unshare", "-rm")):
            try:
                probe = subprocess.run([*prefix, "mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", spot],
                                       capture_output=True, timeout=10, check=False)
            except (OSError, subprocess.TimeoutExpired):
                continue
            if probe.returncode == 0:
                return prefix
    return None


def _in_namespace(setup: str, args: tuple[str, ...], after: str = "") -> subprocess.CompletedProcess:
    prefix = _namespace()
    if prefix is None:
        pytest.skip("no private mount namespace here (needs root or user namespaces for unshare -m / -rm), so no "
                    "read-only mount or tiny tmpfs to test with")
    script = (f"set -e\n{setup}\nset +e\n{shlex.quote(sys.executable)} -m cli \"$@\"\nrc=$?\n{after}\nexit $rc\n")
    return subprocess.run([*prefix, "sh", "-c", script, "sh", *args], cwd=ROOT, env=_env(), capture_output=True,
                          text=True, timeout=60, check=False)


def _read_only(folder: Path) -> str:
    q = shlex.quote(str(folder))
    return f"mount --bind {q} {q}\nmount -o remount,ro,bind {q}"


def _full(folder: Path, keep: Path, size: str) -> str:
    """A tmpfs of `size` over `folder` holding a copy of `keep` (saved beside the folder first), then filled to the
    last byte."""
    q, saved = shlex.quote(str(folder)), shlex.quote(str(folder.parent / f"{keep.name}.outside"))
    return (f"cp -p {shlex.quote(str(keep))} {saved}\nmount -t tmpfs -o size={size} tmpfs {q}\n"
            f"cp -p {saved} {shlex.quote(str(keep))}\n"
            f"dd if=/dev/zero of={q}/filler bs=4k 2>/dev/null || true")


def _same_inside(path: Path, world: World) -> str:
    """Inside the namespace, after the run: the file's bytes, for the test to compare with the original's."""
    return f"cat {shlex.quote(str(path))} > {shlex.quote(str(world.tmp / 'after'))}"


def _ns_refused(run: subprocess.CompletedProcess, fix: str) -> None:
    refused(run.returncode, run.stdout, run.stderr, fix)


@pytest.mark.parametrize("args", [("profile", "add", "new", *NEW), ("profile", "remove", "keep"),
                                  ("profile", "operator", "keep", "--name", "Ada", "--email", "ada@example.com")],
                         ids=["add", "remove", "operator"])
def test_a_read_only_config_folder(world, args):
    before = world.snapshot()
    _ns_refused(_in_namespace(_read_only(world.config.parent), args), "is on a read-only file system")
    assert world.snapshot() == before


def test_a_read_only_data_folder_with_a_journal(world):
    before = world.snapshot()
    _ns_refused(_in_namespace(_read_only(world.journal.parent), ("set", "freeze_ts", "2026-10-29T18:00Z",
                                                                  "--profile", "keep")), "writable")
    assert world.snapshot() == before


def test_a_read_only_data_folder_for_a_new_profile(world, capsys):
    assert main(["profile", "add", "fresh", *NEW]) == 0
    capsys.readouterr()
    before = world.snapshot()
    _ns_refused(_in_namespace(_read_only(world.journal.parent.parent), ("vars", "--profile", "fresh")), "writable")
    assert world.snapshot() == before


def test_a_full_disk_under_the_config_file(world):
    before = world.snapshot()
    run = _in_namespace(_full(world.config.parent, world.config, "64k"), ("profile", "add", "new", *NEW),
                        _same_inside(world.config, world))
    _ns_refused(run, "free some space")
    assert (world.tmp / "after").read_bytes() == world.config.read_bytes()  # the old file, whole
    assert world.snapshot() == before


def test_a_full_disk_under_the_journal(world):
    before = world.snapshot()
    run = _in_namespace(_full(world.journal.parent, world.journal, "1m"),
                        ("confirm", "A1", "--note", "done", "--profile", "keep"), _same_inside(world.journal, world))
    _ns_refused(run, "full")
    assert (world.tmp / "after").read_bytes() == world.journal.read_bytes()
    assert world.snapshot() == before


def test_a_full_disk_under_an_output_file(world):
    out = world.tmp / "out"
    out.mkdir()
    (out / "placeholder").write_text("x")
    before = world.snapshot()
    run = _in_namespace(_full(out, out / "placeholder", "64k"), ("report", "--profile", "keep", "-o",
                                                                 str(out / "report.md")))
    _ns_refused(run, "choose a folder you can write to")
    assert world.snapshot() == before


# ---- 6. a closed stdout pipe -------------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [
    ("vars", "--profile", "keep"), ("vars", "--profile", "keep", "--json"), ("profile", "list"),
    ("profile", "show", "keep"), ("report", "--profile", "keep"), ("check", "A1", "--demo"),
    ("rehearse", "--scale", "tiny"),
], ids=" ".join)
def test_a_closed_stdout_pipe_is_one_line_and_exit_2(world, args):
    """`cutover ... | head -1`: the reader is gone before cutover writes; one line naming the fix, exit 2 (a script
    with pipefail learns the output is cut), no 'Exception ignored'."""
    before = world.snapshot()
    reader, writer = os.pipe()
    os.close(reader)
    try:
        run = subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, env=_env(), stdout=writer,
                             stderr=subprocess.PIPE, text=True, timeout=60, check=False)
    finally:
        os.close(writer)
    assert run.returncode == 2 and "Traceback" not in run.stderr and "Exception ignored" not in run.stderr
    assert run.stderr.count("\n") == 1 and "output cut short" in run.stderr and "> FILE" in run.stderr
    assert world.snapshot() == before


# ---- 7. anything else: the last-resort handler -------------------------------------------------------------------
def _boom(args):
    raise RuntimeError("a bug nobody foresaw, at https://h/x?X-Amz-Signature=planted-sig")


def test_an_unforeseen_error_is_one_line_pointing_at_the_log_with_the_details_there(world, capsys, monkeypatch):
    monkeypatch.setattr("cli.locate.cmd_locate", _boom)
    before = world.snapshot()
    line = refused(*cutover(capsys, "locate", "config"), "attach that file when you report it")
    assert str(log_path()) in line and "RuntimeError" in line and "planted-sig" not in line
    details = log_path().read_text()
    assert "Traceback" in details and "a bug nobody foresaw" in details and "planted-sig" not in details
    assert world.snapshot() == before


def test_an_unforeseen_error_when_the_log_cannot_be_written_still_is_one_line(world, capsys, monkeypatch):
    monkeypatch.setattr("cli.locate.cmd_locate", _boom)
    blocker = world.tmp / "state-is-a-file"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))
    line = refused(*cutover(capsys, "locate", "config"), "could not be written")
    assert "a bug nobody foresaw" in line and "planted-sig" not in line


def test_a_file_error_deep_inside_names_the_path_and_a_task_group_is_never_the_message(world, capsys, monkeypatch):
    def disk_full(args):
        raise OSError(errno.ENOSPC, "No space left on device", str(world.tmp / "somewhere.csv"))

    def grouped(args):
        raise ExceptionGroup("unhandled errors in a TaskGroup", [ConfigError("the real reason", hint="do this")])

    monkeypatch.setattr("cli.locate.cmd_locate", disk_full)
    line = refused(*cutover(capsys, "locate", "config"), "free some space")
    assert "somewhere.csv" in line
    monkeypatch.setattr("cli.locate.cmd_locate", grouped)
    line = refused(*cutover(capsys, "locate", "config"), "the real reason (do this)")
    assert "TaskGroup" not in line and "ExceptionGroup" not in line


def test_ctrl_c_stays_130(world, capsys, monkeypatch):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr("cli.locate.cmd_locate", interrupted)
    code, out, err = cutover(capsys, "locate", "config")
    assert (code, err.strip()) == (130, "cutover: interrupted") and "Traceback" not in out + err
