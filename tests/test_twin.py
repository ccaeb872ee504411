"""A twin of a tenant (core.twin, issue 15): captured from the simulator itself over loopback HTTP, served, compared.

One small seeded tenant (the demo's seed 1) is captured once for the module; the rehearsals and checks then run on
it and on the seeded original. Every comparison is count for count.
"""

from __future__ import annotations

import asyncio
import json
import re
import stat
from pathlib import Path

import pytest
from cli_support import run as cli

from core.demo import DemoTenant
from core.rehearsal import Rehearsal
from core.run import Run
from core.twin.capture import Capture, capture_tenant
from core.twin.demo import demo_cutover_dates
from core.twin.forecast import forecast
from core.twin.mask import key_path
from core.twin.scope import OUT_OF_SCOPE, captured_tables, tables_the_checks_read
from core.twin.snapshot import Snapshot

SEED, SCALE = 1, "small"  # the demo's tenant, as `cutover twin capture --demo` takes it
PLAN = re.compile(r"plan \S+ of ([\d,]+) records applied")


def _capture(demo: DemoTenant, root: Path, **kw):
    return asyncio.run(capture_tenant(demo.profile, demo.credentials, root, old_cutover_dates=demo_cutover_dates(demo),
                                      **kw))


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.fixture(scope="module")
def captured(tmp_path_factory):
    """The demo's tenant, captured; with what the capture saw that must not leak, and the write log around it."""
    root = tmp_path_factory.mktemp("twin") / "demo"
    with DemoTenant(seed=SEED, scale=SCALE) as demo:
        store = demo.sim.store
        writes_before = store.scalar("SELECT count(*) FROM sim_write_log")
        report = _capture(demo, root)
        writes_after = store.scalar("SELECT count(*) FROM sim_write_log")
        secrets = [demo.credentials.value(n) for n in ("zuora_client_secret", "netsuite_consumer_secret",
                                                       "netsuite_token_secret", "netsuite_token_id")]
        secrets += list(demo.sim.tokens)  # the bearer tokens the capture was issued
        secrets += [r["client_secret"] for r in store.query("SELECT client_secret FROM sim_oauth_client")]
        yield {"root": root, "report": report, "writes": (writes_before, writes_after), "secrets": secrets}


C_STEPS = ("C1", "C2", "C3", "C4", "C5")
B_FIXES = ("B2/V1", "B2/V2", "B2/V3", "B2/V4", "B2/V5", "B2/V6", "B3")


def _seen(rehearsal: Rehearsal) -> None:
    """Before the rehearsal's journal and tenant go: each C check's first count (with its fix skipped, what stays
    stranded), and the new instance's first runs (the only runs that sync customers since 1970)."""
    journal, store = rehearsal.opened.journal, rehearsal.tenant.sim.store
    rehearsal.first_counts = {step: journal.result_history(step)[-1].count for step in C_STEPS}
    runs = [json.loads(r["summary"]) for r in store.query("SELECT summary FROM sim_connector_run "
                                                          "WHERE summary IS NOT NULL ORDER BY id")]
    rehearsal.first_runs = [r for r in runs if r.get("customers_since_1970")]
    from core.report import report_bytes

    rehearsal.report = report_bytes(rehearsal.opened, "md").decode()


@pytest.fixture(scope="module")
def rehearsals(captured):
    """The seeded demo rehearsed, and its twin rehearsed with E1 skipped (the duplicates that leaves)."""
    original = asyncio.run(Rehearsal(seed=SEED, scale=SCALE).run())
    # Nothing fixed at the source (B) and no C step done: what the forecast says a skipped C step strands.
    unfixed = Rehearsal(twin=captured["root"], skip=[*B_FIXES, *C_STEPS], before_close=_seen)
    asyncio.run(unfixed.run())
    twin = Rehearsal(twin=captured["root"], skip=["E1"], before_close=_seen)  # the latest: the monitor replays it
    on_twin = asyncio.run(twin.run())
    on_twin.seen, on_twin.unfixed = twin, unfixed
    return original, on_twin


def _plan_sizes(outcome) -> dict[str, int]:
    sizes = {}
    for e in outcome.events:
        m = PLAN.search(e.text) if e.what == "act" else None
        if m:
            sizes[e.step_id] = int(m.group(1).replace(",", ""))
    return sizes


def test_scope_covers_every_table_the_checks_read():
    read = tables_the_checks_read()
    assert {"invoice", "creditmemo", "transaction", "nexttransactionlinelink", "customfield"} <= set(read)
    assert set(read) <= captured_tables(), f"checks read tables a twin lacks: {set(read) - captured_tables()}"


def test_capture_is_read_only_private_and_within_the_floor(captured):
    before, after = captured["writes"]
    assert after == before, "the capture wrote to the tenant"
    root = captured["root"]
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in _files(root))
    report = captured["report"]
    assert report.rows["zuora.invoice"] > 2000 and report.rows["netsuite.transaction"] > 0
    # One count job on top of one job per table; the NetSuite COUNTs on top of one page per 1,000 rows.
    assert report.zuora_jobs == report.floor_jobs + 1
    assert report.floor_pages <= report.netsuite_pages <= report.floor_pages + 4


def test_no_credential_token_or_signed_url_in_the_snapshot(captured):
    text = "\n".join(p.read_text() for p in _files(captured["root"]))
    assert len(captured["secrets"]) >= 6
    for secret in captured["secrets"]:
        assert secret not in text
    for marker in ("X-Amz-Signature", "X-Amz-Credential", "data-query-results", "Bearer ", "access_token"):
        assert marker not in text


def test_mask_leaves_no_original_name_or_email(tmp_path):
    with DemoTenant(seed=3, scale=200) as demo:
        store = demo.sim.store
        store.execute("UPDATE main.account SET name = 'jane.doe@example.com' WHERE rowid = 1")
        store.execute('UPDATE ns."transaction" SET memo = ? WHERE rowid = 1', ('Call Ada Lovelace, ada@example.org',))
        names = {r["name"] for r in store.query("SELECT name FROM main.account")}
        names |= {r["companyname"] for r in store.query('SELECT companyname FROM ns."customer"')}
        names |= {r["memo"] for r in store.query('SELECT memo FROM ns."transaction" WHERE memo IS NOT NULL')}
        ids = [r["id"] for r in store.query("SELECT id FROM main.account")]
        _capture(demo, tmp_path / "masked", mask=True)
    text = "\n".join(p.read_text() for p in _files(tmp_path / "masked"))
    assert "jane.doe@example.com" in names and len(names) > 20
    leaked = [n for n in names if n and n in text]
    assert not leaked
    assert all(i in text for i in ids)  # ids stay
    assert "@masked.invalid" in text
    assert not key_path(tmp_path / "masked").exists()  # the key is gone once the capture finished


def test_every_data_check_counts_the_same_on_the_twin(captured):
    async def results(demo: DemoTenant) -> dict[str, tuple]:
        async with Run(demo.profile, demo.credentials) as run:
            run.journal.set_variable("freeze_ts", "2026-10-27 18:00")
            run.journal.set_variable("target_migration_date", "2026-11-02")
            states = await run.runbook.check()
        return {s.step.id: (str(s.status), s.result.count if s.result else None,
                            dict(s.result.details) if s.result else None)
                for s in states if s.step.check is not None and s.step.check.parts and s.step.id not in OUT_OF_SCOPE}

    with DemoTenant(seed=SEED, scale=SCALE) as demo:
        original = asyncio.run(results(demo))
    with DemoTenant(twin=str(captured["root"])) as twin:
        on_twin = asyncio.run(results(twin))
    assert original == on_twin
    assert sum(1 for status, count, _ in original.values() if count) >= 10  # they found things, not all zero


def test_rehearsal_on_the_twin_plans_the_same_e1_e2_and_g2(rehearsals):
    original, on_twin = rehearsals
    sizes = _plan_sizes(original)
    assert set(sizes) == {"E1", "E2", "G2"} and all(sizes.values())
    twin_sizes = _plan_sizes(on_twin)
    e1 = next(s for s in on_twin.states if s.step.id == "E1")
    assert e1.result.count == sizes["E1"]  # E1 skipped: its check still lists what the plan would hold
    assert twin_sizes == {"E2": sizes["E2"], "G2": sizes["G2"]}


def test_forecast_matches_what_the_rehearsal_then_does(captured, rehearsals):
    original, on_twin = rehearsals
    sizes = _plan_sizes(original)
    result = asyncio.run(forecast(captured["root"]))
    assert result.plans["E1"]["records"] == sizes["E1"]
    assert result.plans["E2"]["records"] == sizes["E2"]
    assert result.if_skipped["E1"].startswith(f"{on_twin.duplicates_in_netsuite:,} AR Mig memos")
    assert on_twin.duplicates_in_netsuite == sizes["E1"]
    c2 = next(c for c in result.checks if c["id"] == "C2")  # the E1 line quotes C2's own count, never another
    assert f"({c2['count']:,} not there yet, as C2 finds)" in result.if_skipped["E1"] and c2["count"] > 0
    # What skipping a C step would strand on the tenant as captured: what its check finds when it is skipped.
    stranded = {step: int(text.split(" ", 1)[0].replace(",", "")) for step, text in result.if_skipped.items()
                if step in C_STEPS}
    assert stranded == on_twin.unfixed.first_counts and all(stranded.values())
    # The new instance's first run: one run, syncing every account the forecast counted (R12, from 1970).
    (first,) = on_twin.seen.first_runs
    customers = first["steps"]["customers"]
    assert result.first_run["accounts"] == customers["synced"] + customers["errors"] > 0
    # G2's payments are typed in after the capture: the forecast says its plan grows with them.
    assert {"G2", "first_run.credit_memos"} <= set(result.after_capture)
    assert "A1" in result.out_of_scope and "F1" in result.out_of_scope
    assert {c["id"] for c in result.checks} >= {"B2/V1", "C1", "C2", "C4", "G1"}


def test_the_sign_off_report_of_a_rehearsal_on_a_twin_has_the_forecast_beside_the_run(captured, rehearsals):
    original, on_twin = rehearsals
    sizes = _plan_sizes(original)
    report = on_twin.seen.report
    appendix = report.split("## Appendix J: forecast on the twin", 1)[1]
    rows = {cells[0]: cells[1:] for line in appendix.splitlines()
            if (cells := [c.strip() for c in line.strip().strip("|").split("|")]) and len(cells) == 3}
    assert rows["AR Mig memos to mark (E1)"][0].startswith(f"{sizes['E1']:,} in ")
    assert rows["AR Mig memos to mark (E1)"][1] == "—"  # skipped on this run: no plan
    assert rows["credit-balance memos to mark (E2)"][0].startswith(f"{sizes['E2']:,} in ")
    assert rows["credit-balance memos to mark (E2)"][1] == f"{sizes['E2']:,}"
    first = rows["accounts in the new connector's first run (customer sync from 1970)"]
    assert first[0].split(" ", 1)[0] == first[1] != "—"
    assert rows["payments G2 back-fills"][1] == f"{sizes['G2']:,}"
    assert "Appendix J" not in asyncio.run(_seeded_report())  # no twin, no forecast page


async def _seeded_report() -> str:
    from core.report import report_bytes

    async with DemoTenant(seed=3, scale=200) as demo, Run(demo.profile, demo.credentials) as run:
        return report_bytes(run, "md").decode()


def test_an_interrupted_capture_resumes_where_it_stopped(tmp_path):
    root = tmp_path / "twin"

    class Stop(Exception):
        pass

    def stop_at_netsuite(key, done, total):
        if key.startswith("netsuite."):
            raise Stop()

    with DemoTenant(seed=3, scale=200) as demo:
        async def go(progress=None):
            from core.session import Session

            fields = demo.profile.netsuite_fields.model_dump(exclude={"sync_updates_yes"})
            async with Session(demo.profile, demo.credentials) as s:
                return await Capture(s.zuora, s.netsuite, fields, root, tenant="demo", progress=progress).run()

        with pytest.raises(Stop):
            asyncio.run(go(stop_at_netsuite))
        assert not Snapshot.open(root).manifest["complete"]
        report = asyncio.run(go())
    assert report.zuora_jobs == 1  # the count job only: every Zuora table was finished before the stop
    manifest = Snapshot.open(root).manifest
    assert manifest["complete"] and manifest["rows"] == manifest["expected"]


def test_twin_commands_say_what_to_do_on_a_folder_without_a_twin(capsys, tmp_path):
    code, _, err = cli(capsys, "twin", "forecast", str(tmp_path))
    assert code == 2 and "holds no twin" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli(capsys, "rehearse", "--twin", str(tmp_path))
    assert code == 2 and "cutover twin capture" in err


async def test_the_app_captures_a_twin_with_a_progress_bar_and_rehearses_on_it(tmp_path):
    from textual.widgets import ProgressBar
    from tui_helpers import wait_until

    from core.config import save_profile
    from core.profile import Profile
    from core.secrets import CredentialStore
    from tui.profiles_app import ProfilesApp
    from tui.screens.profiles import ProfilesScreen
    from tui.screens.twin import TwinScreen

    async with DemoTenant(seed=3, scale=200) as demo:
        save_profile(Profile(name="sim", zuora_base_url=demo.base_url, netsuite_base_url=demo.base_url,
                             netsuite_account_id=demo.profile.netsuite_account_id,
                             data_dir=tmp_path / "data", netsuite_fields=demo.profile.netsuite_fields))
        CredentialStore().save("sim", demo.credentials)
        app = ProfilesApp()
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, ProfilesScreen) and app.screen.editing == "sim")
            await pilot.press("ctrl+t")
            await wait_until(pilot, lambda: isinstance(app.screen, TwinScreen))
            screen = app.screen
            assert screen.twin is None and screen.check_action("rehearse", ()) is None
            await pilot.press("c")
            await wait_until(pilot, lambda: screen.twin is not None and screen.busy is None)
            bar = screen.query_one("#twin-progress", ProgressBar)
            assert bar.total and bar.progress == bar.total  # the last table's rows, all read
            assert Snapshot.open(screen.twin).manifest["complete"]
            assert any("Data Query jobs" in line for line in screen.lines)
            await pilot.press("r")
            await wait_until(pilot, lambda: screen.busy is None and any(
                line.startswith("Rehearsal on the twin") for line in screen.lines), timeout=60)
            assert any(line.startswith("E1") and "plan" in line for line in screen.lines)
            # p replays the rehearsal as the monitor sampled it, phase by phase, ending on IS on.
            screen.replay_tick_s = 0.05
            assert screen.check_action("replay", ()) is True
            # A sample per phase and one at the end; on a loaded machine a sample may be missed (the rehearsal says
            # "monitor sample not taken" and goes on), so the replay is measured against what was kept.
            from core.twin.replay import replay_samples
            n = len(replay_samples(screen.twin))
            missed = [line for line in screen.lines if "monitor sample not taken" in line]
            assert n + len(missed) == 10 and n >= 2, (n, missed)
            await pilot.press("p")
            await wait_until(pilot, lambda: screen.busy is None and any(
                line.startswith(f"{n}/{n} ") for line in screen.lines), timeout=30)
            last = next(line for line in screen.lines if line.startswith(f"{n}/{n} "))
            assert "IS on" in last and "Credit memos" in last


async def test_the_palette_opens_the_twin_of_the_open_tenant_with_its_credentials():
    from tui_helpers import demo_app, wait_ready, wait_until

    from tui.commands import StepCommands
    from tui.screens.twin import TwinScreen

    app = demo_app(scale=200)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ready(pilot)
        commands = {text: run for text, run, _ in StepCommands(app.screen)._commands()}
        twin = next(run for text, run in commands.items() if text.startswith("Twin:"))
        twin()
        await wait_until(pilot, lambda: isinstance(app.screen, TwinScreen))
        assert app.screen.credentials is app.backend.credentials  # the demo's, in memory: no keyring asked
        assert app.screen.check_action("capture", ()) is True


def test_the_monitor_replays_the_rehearsal_on_the_twin_phase_by_phase(capsys, captured, rehearsals):
    from core.twin.replay import replay_path

    assert stat.S_IMODE(replay_path(captured["root"]).stat().st_mode) == 0o600
    code, out, _ = cli(capsys, "monitor", "--replay", str(captured["root"]), "--interval", "0.1", "--json")
    samples = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(samples) == 10  # as each of the nine phases starts, and at the end
    assert [s["invoice_settlement"] for s in (samples[0], samples[-1])] == [False, True]  # IS went on at D1

    def done(sample, obj):
        return sum(r["done"] for r in sample["rows"] if r["object"] == obj and r["side"] == "Zuora→NS")

    # The new connector's first run (H1) is in the replay: between phase H's start (samples[7]) and phase I's,
    # the memos it synced turn done.
    assert done(samples[8], "Credit memos") > done(samples[7], "Credit memos")
    code, out, _ = cli(capsys, "monitor", "--replay", str(captured["root"]), "--once")
    assert code == 0 and out.startswith("1/10 ") and "Customer accounts" in out


def test_replay_without_a_rehearsal_says_what_to_do(capsys, tmp_path):
    code, _, err = cli(capsys, "monitor", "--replay", str(tmp_path / "twin"))
    assert code == 2 and "cutover rehearse --twin" in err and len(err.strip().splitlines()) == 1


def test_a_rehearsal_on_a_twin_names_the_twin_not_a_seed_and_scale():
    from types import SimpleNamespace

    from cli.rehearse import _played_on

    outcome = SimpleNamespace(seed=1, scale=2000)
    assert _played_on(SimpleNamespace(twin="/work/acme-twin"), outcome) == "twin /work/acme-twin"
    assert _played_on(SimpleNamespace(twin=None), outcome) == "seed 1, scale 2000"


def test_twin_serve_answers_the_captured_tenant_and_stops_on_sigint(captured):
    """`cutover twin serve DIR`: the connection info first, the twin's own records over loopback, a clean stop."""
    import signal

    import httpx
    from cli_support import served

    with served("twin", "serve", str(captured["root"]), "--port", "0") as proc:
        info = json.loads(proc.stdout.readline())
        base = info["zuora_base_url"]
        assert base.startswith("http://127.0.0.1:")
        token = httpx.post(f"{base}/oauth/token", data={"grant_type": "client_credentials",
                                                        "client_id": info["zuora_client_id"],
                                                        "client_secret": info["zuora_client_secret"]})
        assert token.status_code == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0
        err = proc.stderr.read()
        assert f"twin {captured['root']} serving on {base}" in err and "Traceback" not in err
