"""What a person is told when the journal file cannot be used: one line that names the file and what to do.

`explain(path, exc)` turns the SQLite errors that come from the file or the disk (damaged, not a database, read-only,
a full disk, locked by another process) into a JournalError; any other error (a constraint, a bug) is left alone and
returns None. `check_schema` refuses a database that is not a cutover journal, or whose tables do not match its
schema version, before anything is written into it: a foreign SQLite file never gets our tables added.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path

from core.errors import JournalBusy, JournalError
from core.locking import Presence, apply_holder, present

# SQLite's primary result codes (an extended code keeps its primary one in the low byte).
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB, _PERM = 5, 6, 8, 10, 11, 13, 14, 26, 3


def aside(path: Path) -> str:
    return (f"restore {path.name} from a backup, or move it aside (rename it to {path.name}.damaged) and the next "
            f"command starts a new journal")


def explain(path: Path, exc: sqlite3.Error, *, waited: float = 0, me: Presence | None = None) -> JournalError | None:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return None
    code &= 0xFF
    if code in (_BUSY, _LOCKED):
        return busy(path, waited, me)
    if code == _FULL:
        return JournalError(f"the disk holding the journal {path} is full",
                            hint="free some space on it and run the command again; the change that failed was not "
                                 "recorded")
    if code in (_READONLY, _CANTOPEN, _PERM):
        return JournalError(f"cannot write the journal {path}: the file or its folder is read-only, or not yours",
                            hint=f"make {path.parent} and the files in it writable for you, or set the profile's "
                                 f"data_dir to a writable folder in the config file (`cutover locate config`)")
    if code == _NOTADB:
        return JournalError(f"the journal {path} is not an SQLite database (damaged or overwritten)", hint=aside(path))
    if code == _CORRUPT:
        return JournalError(f"the journal {path} is damaged ({exc})", hint=aside(path))
    if code == _IOERR:
        return JournalError(f"the journal {path} could not be read or written ({exc})",
                            hint="check the disk it is on (full, removed, a network share gone?) and run the command "
                                 "again")
    return None


def busy(path: Path, waited: float, me: Presence | None) -> JournalBusy:
    """Locked past the bounded wait: name the processes that have the journal open (SQLite cannot say which of them
    holds the lock); an apply among them says so."""
    others = present(path, besides=me)
    applying = apply_holder(path.parent)
    waited_text = f" for {waited:g} s" if waited else ""
    if not others:
        return JournalBusy(f"the journal {path} stayed locked{waited_text} by a program that is not cutover (a sqlite3 "
                           f"shell, a backup or sync tool?)", hint="close that program, then run the command again")
    names = []
    for holder in others[:3]:
        text = holder.describe()
        if applying is not None and applying.pid == holder.pid and applying.step:
            text += f", applying {applying.step}"
        names.append(text)
    more = f" and {len(others) - 3} more" if len(others) > 3 else ""
    return JournalBusy(f"the journal {path} stayed locked{waited_text}: it is in use by {'; '.join(names)}{more}",
                       hint="wait for it to finish, or stop it, then run the command again")


def tables(db: sqlite3.Connection) -> dict[str, set[str]]:
    """Each table's columns (SQLite's own tables left out)."""
    names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                                      "'sqlite_%'")]
    return {n: {r[1] for r in db.execute(f'PRAGMA table_info("{n}")')} for n in names}


def refuse_foreign(path: Path, found: Mapping[str, set[str]], ours: Mapping[str, set[str]]) -> None:
    """A database with no schema version whose tables are none of ours is another program's: never add ours to it.
    (Some of ours and not all: a first open that stopped half-way; creating the rest finishes it.)"""
    if found and not set(found) & set(ours):
        shown = ", ".join(sorted(found)[:4]) + (", …" if len(found) > 4 else "")
        raise JournalError(f"{path} is an SQLite database but not a cutover journal (its tables: {shown})",
                           hint=f"move it aside (rename it to {path.name}.other) and the next command starts a new "
                                f"journal, or set the profile's data_dir to another folder")


def check_schema(path: Path, found: Mapping[str, set[str]], expected: Mapping[str, set[str]], version: int) -> None:
    """JournalError unless every table and column schema `version` has is there (other tables may be: modules keep
    theirs in the journal too)."""
    missing = [t for t in expected if t not in found] + \
        [f"{t}.{c}" for t, cols in expected.items() if t in found for c in sorted(cols - found[t])]
    if missing:
        shown = ", ".join(missing[:4]) + (", …" if len(missing) > 4 else "")
        raise JournalError(f"the journal {path} does not match its schema version {version}: {shown} missing",
                           hint=aside(path))
