"""The Data Query poll pace: the first poll comes quickly, follows how long this tenant's jobs take, and backs off."""

from __future__ import annotations

from core.zuora.dataquery import PollPace


def test_the_first_poll_comes_quickly_on_a_fresh_client():
    assert PollPace().first_wait() <= 0.05


def test_slow_jobs_move_the_first_poll_out_so_they_stop_paying_extra_polls():
    pace = PollPace()
    for _ in range(10):
        pace.finished(took=2.4, polls=4, first_wait=pace.first_wait())
    assert 2.0 <= pace.first_wait() <= 2.4


def test_jobs_done_at_the_first_poll_bring_it_sooner_down_to_a_floor():
    pace = PollPace(first=1.0, floor=0.01)
    waits = []
    for _ in range(40):
        first = pace.first_wait()
        waits.append(first)
        pace.finished(took=first, polls=1, first_wait=first)
    assert waits[-1] < waits[0] / 10
    assert pace.first_wait() >= 0.01


def test_the_first_wait_never_passes_the_cap():
    pace = PollPace(cap=5.0)
    for _ in range(20):
        pace.finished(took=600.0, polls=9, first_wait=pace.first_wait())
    assert pace.first_wait() == 5.0


async def test_the_simulator_answers_a_submit_as_accepted_and_one_poll_finds_a_small_job_done(tmp_path):
    """As Zuora does: a submitted job is never already done, so a run's floor is submit + one poll + download."""
    from test_zuora_client import tenant

    polls = []
    async with tenant(tmp_path, memos=5, on_request=lambda r: polls.append(r.url.path)) as (_, zuora):
        for _ in range(8):
            submitted = await zuora.call("POST", "/query/jobs", json={
                "query": "SELECT id FROM creditmemo", "outputFormat": "JSON", "compression": "NONE",
                "output": {"target": "S3"}})
            assert submitted["data"]["queryStatus"] == "accepted"
        polls.clear()
        for _ in range(8):
            assert len(await zuora.data_query_rows("SELECT id FROM creditmemo")) == 5
    status_reads = [p for p in polls if "/query/jobs/" in p]
    assert 8 <= len(status_reads) <= 12  # the pace learns to poll once, when the job is done
