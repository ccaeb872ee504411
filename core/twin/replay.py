"""A rehearsal on a twin, played back in the monitor.

The rehearsal's Sampler keeps a sample in its journal as each phase ends (core.monitor.keeping); that journal is
temporary, so the samples are copied into a journal of their own beside the twin's folder (`DIR.rehearsal.db`,
like the mask key), and `cutover monitor --replay DIR` plays them back in order. Only counts per object and
direction are kept: no record, name or credential.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.monitor.keeping import KEPT_COUNTS


def replay_path(root: Path | str) -> Path:
    root = Path(root)
    return root.with_name(f"{root.name}.rehearsal.db")


def keep_for_replay(root: Path | str, samples: Iterable[dict[str, Any]]) -> Path:
    """The latest rehearsal's samples, replacing an earlier rehearsal's."""
    from core.journal import Journal

    path = replay_path(root)
    for old in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        old.unlink(missing_ok=True)
    with Journal(path, operator="rehearsal") as journal:
        for s in samples:
            journal.keep_monitor_sample(s["taken_at"], s["invoice_settlement"], s["rows"])
    os.chmod(path, 0o600)
    return path


def replay_samples(root: Path | str) -> list[dict[str, Any]]:
    from core.journal import Journal

    path = replay_path(root)
    if not path.is_file():
        raise ConfigError(f"no rehearsal on the twin in {root} kept monitor samples",
                          hint=f"rehearse on it first: cutover rehearse --twin {root}")
    with Journal(path) as journal:
        return journal.monitor_samples()


_HEADS = {"pending": "Pend", "processing": "Proc", "done": "Done", "error": "Err", "ignored": "Ign",
          "waiting": "Wait"}


def render_kept(sample: dict[str, Any], n: int, total: int) -> str:
    """One kept sample as a compact table (the counts the journal keeps; rates and errors are not kept), as narrow
    as its numbers allow: a demo-sized tenant's fits 80 columns."""
    head = f"{n}/{total}  {sample['taken_at']}  IS {'on' if sample['invoice_settlement'] else 'off'}  (replay)"
    rows = sample["rows"]
    name = max([len("Object"), *(len(r["object"]) for r in rows)]) + 1
    width = max([5, *(len(f"{r.get(k, 0):,}") for r in rows for k in KEPT_COUNTS)]) + 1
    lines = [head, f"{'Object':<{name}}{'Side':<9}" + "".join(f"{_HEADS[k]:>{width}}" for k in KEPT_COUNTS)]
    lines += [f"{r['object']:<{name}}{r['side']:<9}" + "".join(f"{r.get(k, 0):>{width},}" for k in KEPT_COUNTS)
              for r in rows]
    return "\n".join(lines) + "\n"
