"""Stable pseudonyms for what names a person or a company: `--mask`.

Each value becomes an HMAC-SHA256 of itself under a key drawn for this snapshot, so the same name gives the same
pseudonym everywhere in the twin (joins and duplicates still show) while the key stays out of the snapshot: it
lives in a file beside the folder for as long as the capture may resume, and is deleted when it finishes, after
which nobody can turn a pseudonym back into a name, not even by guessing names and hashing them.
Ids, amounts, dates and statuses are never masked: the runbook reads them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

# (system, table) -> the columns that hold names, emails or addresses in the scope's tables.
PERSONAL: dict[tuple[str, str], tuple[str, ...]] = {
    ("zuora", "account"): ("name",),
    ("netsuite", "customer"): ("companyname", "entityid"),  # entityid is the name where auto-numbering is off
    ("netsuite", "transaction"): ("memo",),
}


class Masker:
    def __init__(self, key: bytes):
        self._key = key

    @classmethod
    def for_snapshot(cls, root: Path) -> Masker:
        """The key of the capture going into `root`: drawn once, reused by a resumed capture."""
        path = key_path(root)
        try:
            return cls(path.read_bytes())
        except FileNotFoundError:
            key = secrets.token_bytes(32)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(key)
            return cls(key)

    def pseudonym(self, value: str) -> str:
        digest = hmac.new(self._key, value.strip().lower().encode(), hashlib.sha256).hexdigest()[:12]
        if "@" in value:
            return f"{digest}@masked.invalid"
        return f"Masked {digest}"

    def row(self, system: str, table: str, row: dict) -> dict:
        for column in PERSONAL.get((system, table), ()):
            value = row.get(column)
            if isinstance(value, str) and value:
                row[column] = self.pseudonym(value)
        return row


def key_path(root: Path) -> Path:
    root = Path(root)
    return root.with_name(f".{root.name}.mask-key")


def forget_key(root: Path) -> None:
    key_path(root).unlink(missing_ok=True)
