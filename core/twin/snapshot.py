"""The snapshot on disk: a folder readable by its owner only (0700), one JSON Lines file per finished slice, and
a manifest naming every finished slice, so a capture that stopped carries on where it was.

    DIR/manifest.json           what was captured, when, from which kind of tenant; the finished slices
    DIR/zuora/invoice.0001.jsonl     one Data Query job's rows (at most 500,000)
    DIR/netsuite/transaction.0001.jsonl   up to 50,000 rows of SuiteQL keyset pages

Nothing secret is written: no URL, token or credential enters a manifest or a row file (rows hold only the
scope's columns). A slice is written under a `.part` name and renamed when complete; the manifest is replaced
atomically after each, so a crash loses at most the slice in flight.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from core.errors import ConfigError

FORMAT = "cutover-twin/1"
MANIFEST = "manifest.json"


def _private_file(path: Path) -> Any:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, "wb")


def make_private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)  # an existing folder, or a umask that widened it


@dataclass
class Snapshot:
    root: Path
    manifest: dict[str, Any]

    # ---- opening ----------------------------------------------------------------------------------------------
    @classmethod
    def create_or_resume(cls, root: Path, header: dict[str, Any]) -> Snapshot:
        """A new snapshot, or the unfinished one already in `root` if it was taken of the same tenant."""
        root = Path(root)
        if (root / MANIFEST).exists():
            snap = cls.open(root)
            if snap.manifest.get("complete"):
                raise ConfigError(f"{root} already holds a finished twin", hint="give another -o DIR")
            if snap.manifest.get("tenant") != header.get("tenant") or snap.manifest["masked"] != header["masked"]:
                raise ConfigError(f"{root} holds an unfinished capture of another tenant or masking",
                                  hint="give another -o DIR, or the same --profile and --mask to resume it")
            make_private_dir(root)
            return snap
        if root.exists() and any(root.iterdir()):
            raise ConfigError(f"{root} is not empty and holds no twin", hint="give a new or empty -o DIR")
        make_private_dir(root)
        snap = cls(root, {"format": FORMAT, "complete": False, "tables": {}, **header})
        snap.save()
        return snap

    @classmethod
    def open(cls, root: Path | str) -> Snapshot:
        root = Path(root)
        try:
            manifest = orjson.loads((root / MANIFEST).read_bytes())
        except FileNotFoundError:
            raise ConfigError(f"{root} holds no twin (no {MANIFEST})",
                              hint="take one with `cutover twin capture --profile P -o DIR`") from None
        except orjson.JSONDecodeError as exc:
            raise ConfigError(f"{root / MANIFEST} is not readable JSON ({exc})",
                              hint="capture the twin again into a new folder") from None
        if manifest.get("format") != FORMAT:
            raise ConfigError(f"{root} holds a twin in format {manifest.get('format')!r}, not {FORMAT}",
                              hint="capture it again with this version of cutover")
        return cls(root, manifest)

    def require_complete(self) -> Snapshot:
        if not self.manifest.get("complete"):
            raise ConfigError(f"the capture in {self.root} did not finish",
                              hint="run the same `cutover twin capture ... -o DIR` again to resume it")
        return self

    # ---- the manifest -----------------------------------------------------------------------------------------
    def save(self) -> None:
        tmp = self.root / (MANIFEST + ".part")
        with _private_file(tmp) as out:
            out.write(orjson.dumps(self.manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
        os.replace(tmp, self.root / MANIFEST)

    def table(self, system: str, table: str) -> dict[str, Any]:
        return self.manifest["tables"].setdefault(f"{system}.{table}", {"files": [], "done": False})

    def resume_after(self, system: str, table: str) -> Any:
        files = self.table(system, table)["files"]
        return files[-1]["last"] if files else None

    # ---- slices -----------------------------------------------------------------------------------------------
    def slice_writer(self, system: str, table: str) -> SliceWriter:
        entry = self.table(system, table)
        folder = self.root / system
        make_private_dir(folder)
        return SliceWriter(self, entry, folder / f"{table}.{len(entry['files']) + 1:04d}.jsonl")

    def rows(self, system: str, table: str) -> Iterator[dict[str, Any]]:
        """Every captured row of a table, streamed file by file."""
        for f in self.table(system, table)["files"]:
            with open(self.root / system / f["name"], "rb") as src:
                for line in src:
                    yield orjson.loads(line)

    def count(self, system: str, table: str) -> int:
        return sum(f["rows"] for f in self.table(system, table)["files"])


class SliceWriter:
    """One slice file: rows appended as they stream in, then `finish(last_key)` makes it count."""

    def __init__(self, snap: Snapshot, entry: dict, path: Path):
        self.snap, self.entry, self.path = snap, entry, path
        self.part = path.with_name(path.name + ".part")
        self.out = _private_file(self.part)
        self.rows = 0

    def write(self, row: dict[str, Any]) -> None:
        self.out.write(orjson.dumps(row))
        self.out.write(b"\n")
        self.rows += 1

    def finish(self, last: Any, *, done: bool) -> None:
        self.out.close()
        if self.rows:
            os.replace(self.part, self.path)
            self.entry["files"].append({"name": self.path.name, "rows": self.rows, "last": last})
        else:
            self.part.unlink(missing_ok=True)
        self.entry["done"] = done
        self.snap.save()

    def abandon(self) -> None:
        self.out.close()
        self.part.unlink(missing_ok=True)
