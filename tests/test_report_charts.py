"""The report's charts: the monitor's Sampler keeps each sample in the journal as it runs (real clients against the
simulator over loopback), within a bounded size that still covers the whole watch; the report then draws sync
progress from them, and the cutover's timeline from the journal."""

from __future__ import annotations

import re

import pytest

import core.journal
from core.demo import DemoTenant
from core.monitor import Sampler
from core.monitor.keeping import keeper
from core.report import write_report
from core.report_charts import Event, parse_at, timeline_svg
from core.run import Run

pytestmark = pytest.mark.timeout(60)


async def test_the_sampler_keeps_its_samples_in_the_journal_and_the_report_charts_them(tmp_path):
    async with DemoTenant(scale=200, connector_pace_s=0) as demo:
        async with Run(demo.profile, demo.credentials) as run:
            sampler = Sampler(run.session.zuora, run.session.netsuite, demo.profile.netsuite_fields,
                              keep=keeper(run.journal))
            taken = [await sampler.sample() for _ in range(2)]
            kept = run.journal.monitor_samples()
            assert [k["taken_at"] for k in kept] == [s.taken_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
                                                     for s in taken]
            for sample, k in zip(taken, kept, strict=True):
                assert k["invoice_settlement"] == sample.invoice_settlement
                assert [(r["object"], r["side"], r["pending"], r["done"]) for r in k["rows"]] == [
                    (r.object, r.side, r.pending, r.done) for r in sample.rows]
            waiting = [r for r in taken[0].rows if r.backlog]
            assert waiting  # the demo has records waiting for the connector
            html = write_report(run, tmp_path / "r.html", "html").read_text()
            md = write_report(run, tmp_path / "r.md", "md").read_text()
    assert html.count("<svg") == 1 and "<polyline" in html and "Sync progress" in html  # a fresh journal:
    assert "Timeline: nothing recorded in the journal yet." in html  # no step has a time to draw
    for row in waiting:
        assert f"{row.object} {row.side}" in html and f"{row.object} {row.side}" in md


def test_kept_samples_are_bounded_and_still_span_the_whole_watch(tmp_path, monkeypatch):
    monkeypatch.setattr(core.journal, "MONITOR_SAMPLES_KEPT", 20)
    with core.journal.Journal(tmp_path / "journal.db") as journal:
        for i in range(200):
            journal.keep_monitor_sample(f"2026-11-24T10:{i // 60:02d}:{i % 60:02d}Z", True,
                                        [{"object": "Invoices", "side": "Zuora→NS", "pending": 200 - i,
                                          "processing": 0, "done": i, "error": 0, "ignored": 0, "waiting": 0}])
            assert len(journal.monitor_samples()) <= 20
        kept = journal.monitor_samples()
    done = [k["rows"][0]["done"] for k in kept]
    assert done[0] == 0 and done[-1] == 199 and done == sorted(done) and len(kept) > 10


def test_the_timeline_draws_each_phase_and_an_apply_as_a_bar():
    at = parse_at("2026-11-24T10:00:00Z")
    later = parse_at("2026-11-24T16:00:00Z")
    svg = timeline_svg([Event(at, "A", "A1", "good"), Event(later, "E", "E1", "good", until=parse_at(
        "2026-11-24T16:30:00Z")), Event(later, "H", "H3", "bad")])
    assert svg.startswith("<svg") and svg.count("<circle") == 2 and svg.count("<rect") == 2 + 9 + 0
    assert re.search(r"<text[^>]*>11-24 10:00 UTC</text>", svg)
    assert 'fill="#b3261e"' in svg  # the failing check in red
    assert timeline_svg([]) is None
