"""Who holds what: the apply lock of a profile, and who has its journal open.

- `apply_lock(data_dir, profile, step)` keeps two applies off one profile. `<data_dir>/apply.lock` is held through
  filelock (fcntl on POSIX, msvcrt on Windows), so the OS drops it when the holder dies, however it dies; a killed
  apply resumes where it stopped. The holder's pid, step and start time sit beside it in `apply.holder` for
  ApplyBusy's message: filelock owns the lock file's bytes, so nothing of ours is written into it.
- `Presence`: a process that opens a journal announces itself in `<journal>.users/` (pid, host, command, since) and
  holds a filelock there for as long as it has the journal open. SQLite cannot say who holds its write lock, so when
  the journal stays locked past the bounded wait, `present(journal)` reads back who else has it open. A record whose
  lock nobody holds is a dead process's: it is swept away, not reported.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from core.errors import CutoverError

APPLY_LOCK = "apply.lock"
APPLY_HOLDER = "apply.holder"


class ApplyBusy(CutoverError):
    """Another apply holds this profile's lock."""


@dataclass(frozen=True)
class Holder:
    """A process that holds a lock or has a journal open."""

    pid: int | None = None
    host: str = ""
    command: str = ""
    since: str = ""  # ISO 8601 UTC, as the journal writes times
    step: str = ""  # the step an apply runs

    @classmethod
    def me(cls, step: str = "") -> Holder:
        return cls(os.getpid(), socket.gethostname(), _command(), _utc_now(), step)

    @classmethod
    def read(cls, path: Path) -> Holder | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**{k: data[k] for k in ("pid", "host", "command", "since", "step") if k in data})
        except (OSError, ValueError, TypeError):
            return None

    def write(self, path: Path) -> None:
        """Replace the record whole (a reader never sees half of one)."""
        part = path.with_name(f"{path.name}.{os.getpid()}.part")
        part.write_text(json.dumps(asdict(self)), encoding="utf-8")
        os.replace(part, path)

    def describe(self) -> str:
        """'pid 1234 (cutover apply E1) since 16:02' (the host too when it is another machine's)."""
        text = f"pid {self.pid if self.pid is not None else '?'}"
        if self.host and self.host != socket.gethostname():
            text += f" on {self.host}"
        if self.command:
            text += f" ({self.command})"
        if self.since:
            text += f" since {clock(self.since)}"
        return text


# ---- one apply per profile ---------------------------------------------------------------------------------------
@contextmanager
def apply_lock(data_dir: Path | str, profile_name: str, step_id: str) -> Iterator[None]:
    """Hold `<data_dir>/apply.lock` for one apply. ApplyBusy names the holder's pid and step."""
    folder = Path(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(folder / APPLY_LOCK, timeout=0, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        holder = Holder.read(folder / APPLY_HOLDER) or Holder()
        raise ApplyBusy(
            f"another apply is running on profile {profile_name} (pid {holder.pid or '?'}, step "
            f"{holder.step or '?'}, since {holder.since or '?'})",
            hint="wait for it to finish, or stop that process; a killed apply resumes where it stopped") from None
    try:
        Holder.me(step_id).write(folder / APPLY_HOLDER)
        yield
    finally:
        with suppress(OSError):
            (folder / APPLY_HOLDER).unlink()
        lock.release()  # the OS drops it too if we die first


def apply_holder(data_dir: Path | str) -> Holder | None:
    """The apply that last took the profile's lock and has not released it (a killed one's record stays)."""
    return Holder.read(Path(data_dir) / APPLY_HOLDER)


# ---- who has a journal open -----------------------------------------------------------------------------------
def users_folder(journal: Path) -> Path:
    return journal.with_name(journal.name + ".users")


class Presence:
    """This process's record among a journal's users, for as long as it has the journal open. Best effort: a folder
    it cannot write leaves it unannounced (the journal's own error then says why)."""

    def __init__(self, journal: Path):
        self.record: Path | None = None
        self._lock: FileLock | None = None
        folder = users_folder(journal)
        stem = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        for _ in range(2):  # twice: the last user out may remove the folder between our mkdir and our files
            try:
                folder.mkdir(exist_ok=True)
                lock = FileLock(folder / f"{stem}.lock", timeout=0, thread_local=False)
                lock.acquire()  # first: a record without a held lock reads as a dead process's
                self._lock = lock
                Holder.me().write(folder / f"{stem}.json")
                self.record = folder / f"{stem}.json"
                return
            except (OSError, Timeout):
                self.leave()

    def leave(self) -> None:
        if self.record is not None:
            with suppress(OSError):
                self.record.unlink()
            self.record = None
        if self._lock is not None:
            lock, self._lock = self._lock, None
            with suppress(OSError):
                lock.release()
            with suppress(OSError):
                Path(lock.lock_file).unlink()
            with suppress(OSError):
                Path(lock.lock_file).parent.rmdir()  # the last one out leaves no folder behind


def present(journal: Path, *, besides: Presence | None = None) -> list[Holder]:
    """The live processes that have the journal open (oldest first), other than `besides`; dead ones' records are
    swept away."""
    folder = users_folder(journal)
    try:
        records = sorted(folder.glob("*.json"))
    except OSError:
        return []
    out: list[Holder] = []
    for record in records:
        if besides is not None and record == besides.record:
            continue
        lock = FileLock(record.with_suffix(".lock"), timeout=0, thread_local=False)
        try:
            lock.acquire()
        except Timeout:  # its owner holds it: alive
            holder = Holder.read(record)
            if holder is not None:
                out.append(holder)
            continue
        except OSError:
            continue
        with suppress(OSError):
            record.unlink()
        lock.release()
        with suppress(OSError):
            Path(lock.lock_file).unlink()
    return sorted(out, key=lambda h: h.since)


# ---- small helpers -------------------------------------------------------------------------------------------------
def clock(iso: str) -> str:
    """'2026-10-28T15:02:00Z' -> '16:02' in local time today, else '2026-10-28 16:02'."""
    try:
        at = datetime.fromisoformat(iso).astimezone()
    except ValueError:
        return iso
    today = datetime.now().astimezone().date()
    return at.strftime("%H:%M" if at.date() == today else "%Y-%m-%d %H:%M")


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _command() -> str:
    """How this process was started, short: 'cutover apply E1', 'python -m cli vars'. Arguments never carry
    secrets (they come from the keyring or the environment), so they are safe to show."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if spec is not None and spec.name:
        head = f"python -m {spec.name.removesuffix('.__main__')}"
    elif sys.argv and sys.argv[0] == "-c":
        head = "python -c"
    else:
        head = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    text = " ".join([head, *sys.argv[1:]])
    return text if len(text) <= 80 else text[:79] + "…"
