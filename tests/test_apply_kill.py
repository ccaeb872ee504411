"""A killed apply resumes and never repeats a confirmed write.

`cutover apply E1 --yes --profile P` runs as a subprocess against a simulator served over loopback by this test
(with latency and a small concurrency limit so the apply takes a few seconds). It is SIGKILLed at several points
of its progress, read from the journal, then run again until it finishes. At the end every memo is Yes, no memo
was sent again after the request that confirmed it, and the journal matches the simulator's write log.

The second test kills the apply while the simulator holds the answer of a write it has already made (its
`write_before_latency` mode): the resumed apply finds those memos written, never sends them again, and says so.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sim_tenant import add_accounts, add_credit_memos, add_invoices

from core.config import save_profile
from core.profile import NetSuiteFields, Profile
from core.secrets import SECRET_NAMES, env_var
from core.sim.app import Simulator
from core.sim.catalog import NS_FIELD_IDS
from core.sim.config import SimConfig
from core.sim.server import SimServer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]
MEMOS = 1500  # 30 bulk calls
KILL_AT = (0.15, 0.4, 0.7)  # fractions of the plan confirmed in the journal when the apply is killed
ROOT = Path(__file__).resolve().parents[1]


class BulkRecorder:
    """ASGI wrapper: remembers, in answer order, each bulk update the simulator answered (request id, memo ids), and
    in arrival order the memo ids of every bulk update it received."""

    def __init__(self, app, log: list[tuple[str, list[str]]], received: list[list[str]]):
        self.app, self.log, self.received = app, log, received

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "PUT" or not scope["path"].endswith("/bulk"):
            return await self.app(scope, receive, send)
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.received.append([m["id"] for m in json.loads(body)["memos"]])
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def capture(message):
            if message["type"] == "http.response.start" and message["status"] == 200:
                request_id = dict(message["headers"]).get(b"zuora-request-id", b"").decode()
                self.log.append((request_id, [m["id"] for m in json.loads(body)["memos"]]))
            await send(message)

        await self.app(scope, replay, capture)


class RecordingSimulator(Simulator):
    bulk_log: list[tuple[str, list[str]]]
    bulk_received: list[list[str]]

    @property
    def app(self):
        return BulkRecorder(super().app, self.bulk_log, self.bulk_received)


def _tenant(tmp_path, memos: int = MEMOS, **config) -> RecordingSimulator:
    sim = RecordingSimulator(SimConfig(scale=1, **{"latency_ms": 100, "zuora_concurrency": 2, **config}),
                             data_dir=tmp_path / "sim", seed_data=False)
    sim.bulk_log, sim.bulk_received = [], []
    account = add_accounts(sim, 1)[0]
    negatives = add_invoices(sim, memos, account=account, amount=-1.0)  # already in NetSuite: E1 marks their memos
    add_credit_memos(sim, memos, account=account, invoices=negatives)
    sim.store.set_setting("invoice_settlement", True)
    return sim


def _cli(sim: RecordingSimulator, srv: SimServer, tmp_path) -> tuple[dict[str, str], list[str]]:
    """A saved profile on the served simulator; the environment and the command line that run cutover on it."""
    profile = Profile(name="kill", zuora_base_url=srv.base_url, netsuite_base_url=srv.base_url,
                      netsuite_account_id=sim.config.netsuite_account_id, data_dir=tmp_path / "data",
                      netsuite_fields=NetSuiteFields(**NS_FIELD_IDS))
    save_profile(profile)
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "memkeyring.MemoryKeyring",
           "PYTHONPATH": f"{ROOT / 'tests'}{os.pathsep}{ROOT}",
           **{env_var(n): getattr(sim.credentials, n) for n in SECRET_NAMES}}
    return env, [str(Path(sys.executable).with_name("cutover"))]


def _done(journal: Path) -> tuple[int, int]:
    """(items confirmed, items planned) of the latest E1 plan, read as another process would."""
    if not journal.exists():
        return 0, 0
    db = sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=5)
    try:
        row = db.execute("SELECT id, total, status FROM plan WHERE step_id = 'E1' ORDER BY id DESC LIMIT 1").fetchone()
        if row is None or row[2] == "planning":
            return 0, 0
        done = db.execute("SELECT count(*) FROM plan_item WHERE plan_id = ? AND status = 'done'", (row[0],)).fetchone()
        return done[0], row[1]
    except sqlite3.OperationalError:  # the schema is being created right now
        return 0, 0
    finally:
        db.close()


def test_a_killed_apply_resumes_without_repeating_a_confirmed_write(tmp_path):
    sim = _tenant(tmp_path)
    with SimServer(sim) as srv:
        env, cutover = _cli(sim, srv, tmp_path)
        journal = tmp_path / "data" / "journal.db"
        command = [*cutover, "apply", "E1", "--yes", "--profile", "kill"]

        killed_at = []
        for fraction in KILL_AT:
            proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            deadline = time.monotonic() + 30
            while True:
                done, total = _done(journal)
                if total and done >= fraction * total:
                    break
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the apply made no progress"
                time.sleep(0.02)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            killed_at.append(_done(journal)[0])
        assert 0 < killed_at[0] < killed_at[-1] < MEMOS, killed_at

        last = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert last.returncode == 0, last.stderr + last.stdout
        assert "Re-check E1: pass" in last.stdout
        finished = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert finished.returncode == 0 and "Nothing to write." in finished.stdout

    store = sim.store
    assert store.query("SELECT DISTINCT transferredtoaccounting AS t FROM creditmemo") == [{"t": "Yes"}]
    writes = store.query("SELECT record_id, request_id FROM sim_write_log WHERE field = 'TransferredToAccounting' "
                         "ORDER BY seq")
    assert len(writes) == MEMOS and len({w["record_id"] for w in writes}) == MEMOS  # each memo changed once

    db = sqlite3.connect(journal)
    db.row_factory = sqlite3.Row
    plan_id, status = db.execute("SELECT id, status FROM plan WHERE step_id = 'E1' AND total > 0").fetchone()
    assert status == "done"
    items = {r["record_id"]: dict(r) for r in db.execute("SELECT * FROM plan_item WHERE plan_id = ?", (plan_id,))}
    assert len(items) == MEMOS and {i["status"] for i in items.values()} == {"done"}
    runs = db.execute("SELECT count(*) FROM apply_run WHERE plan_id = ?", (plan_id,)).fetchone()[0]
    assert runs == len(KILL_AT) + 1
    written = {rid: i["request_id"] for rid, i in items.items() if i["outcome"] == "written"}
    by_memo = {w["record_id"]: w["request_id"] for w in writes}
    assert all(by_memo[rid] == request_id for rid, request_id in written.items())  # journal = simulator
    found = [rid for rid, i in items.items() if i["outcome"] == "found-written"]  # answer lost in a kill
    assert len(written) + len(found) == MEMOS
    audit = {r["record_id"] for r in db.execute("SELECT record_id FROM audit WHERE plan_id = ?", (plan_id,))}
    assert audit == set(items)

    # No memo was sent again after the answer that confirmed it.
    position = {request_id: n for n, (request_id, _) in enumerate(sim.bulk_log)}
    for n, (_, memo_ids) in enumerate(sim.bulk_log):
        for rid in memo_ids:
            confirmed = written.get(rid)
            assert confirmed is None or position[confirmed] >= n, f"{rid} re-sent after its confirmed write"
    sim.close()


def _unanswered(journal: Path, store) -> set[str]:
    """Memos the simulator has marked Yes while the journal still has them `sent` (their answers not back)."""
    db = sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=5)
    try:
        sent = {r[0] for r in db.execute("SELECT record_id FROM plan_item WHERE status = 'sent'")}
    except sqlite3.OperationalError:
        return set()
    finally:
        db.close()
    if not sent:
        return set()
    marked = store.query("SELECT id FROM creditmemo WHERE transferredtoaccounting = 'Yes'")
    return sent & {r["id"] for r in marked}


def test_a_write_that_landed_while_its_answer_was_lost_is_found_not_sent_again(tmp_path):
    memos = 400  # 8 bulk calls
    sim = _tenant(tmp_path, memos, latency_ms=0, write_before_latency=True)
    with SimServer(sim) as srv:
        env, cutover = _cli(sim, srv, tmp_path)
        journal = tmp_path / "data" / "journal.db"
        planned = subprocess.run([*cutover, "plan", "E1", "--profile", "kill"], env=env, cwd=ROOT,
                                 capture_output=True, text=True, timeout=60)
        assert planned.returncode == 0, planned.stderr
        sim.config.latency_ms = 1500  # each bulk update lands at once, then holds its answer for 1.5 s

        proc = subprocess.Popen([*cutover, "apply", "E1", "--yes", "--profile", "kill"], env=env, cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not _unanswered(journal, sim.store):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no write landed"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)  # killed while the answers are held: they never reach the journal
        proc.wait()
        time.sleep(0.3)  # what the server had received before the kill lands too
        lost = _unanswered(journal, sim.store)
        received_before = len(sim.bulk_received)
        assert lost and received_before <= 2  # one concurrency slot's worth was in flight, nothing answered

        sim.config.latency_ms = 50
        resumed = subprocess.run([*cutover, "apply", "E1", "--yes", "--profile", "kill"], env=env, cwd=ROOT,
                                 capture_output=True, text=True, timeout=60)
        assert resumed.returncode == 0, resumed.stderr + resumed.stdout
        assert f"{len(lost)} found written by an earlier run" in resumed.stdout
        assert f"{memos - len(lost)} written," in resumed.stdout and "Re-check E1: pass" in resumed.stdout

    store = sim.store
    assert store.scalar("SELECT count(*) FROM creditmemo WHERE transferredtoaccounting = 'Yes'") == memos
    writes = store.query("SELECT record_id FROM sim_write_log WHERE field = 'TransferredToAccounting'")
    assert len(writes) == len({w["record_id"] for w in writes}) == memos  # every memo changed exactly once
    resent = {rid for ids in sim.bulk_received[received_before:] for rid in ids} & lost
    assert not resent, f"{len(resent)} memos whose write had landed were sent again"

    db = sqlite3.connect(journal)
    items = dict(db.execute("SELECT record_id, outcome FROM plan_item WHERE plan_id = (SELECT max(id) FROM plan)"))
    assert {rid for rid, outcome in items.items() if outcome == "found-written"} == lost
    assert set(items.values()) == {"written", "found-written"}
    audit = [r[0] for r in db.execute("SELECT record_id FROM audit")]
    assert len(audit) == len(set(audit)) == memos  # one audit row per memo: none reported written twice
    sim.close()
