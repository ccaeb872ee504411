"""ReadAhead (core.runbook.recheck): slices are re-checked in order, the reads running ahead of the writes."""

from __future__ import annotations

import asyncio

from core.runbook.recheck import ReadAhead, slices


class Reads:
    """A re-check read that answers when told to, and remembers what was in flight as each read started."""

    def __init__(self):
        self.started: list[list[str]] = []
        self.in_flight_at_start: list[int] = []
        self.in_flight = 0
        self.answer: dict[str, asyncio.Event] = {}

    async def __call__(self, ids: list[str]) -> dict[str, str]:
        self.in_flight_at_start.append(self.in_flight)
        self.started.append(ids)
        self.in_flight += 1
        event = self.answer.setdefault(ids[0], asyncio.Event())
        try:
            await event.wait()
        finally:
            self.in_flight -= 1
        return {i: "No" for i in ids}

    def release(self, first_id: str) -> None:
        self.answer.setdefault(first_id, asyncio.Event()).set()


def planned(n: int):
    return ({"record_id": f"m{k}", "current": "No"} for k in range(n))


async def test_the_reads_ahead_start_with_the_first_slice_and_go_out_after_it():
    reads = Reads()
    ahead = ReadAhead("E1", slices(planned(10), 2), reads, depth=3)
    first = asyncio.ensure_future(ahead.next())
    await asyncio.sleep(0.01)
    # The first slice's read goes out first, and three reads run ahead of it without waiting for its answer: after
    # its writes (one round of bulk calls) the next slice is already read.
    assert [ids[0] for ids in reads.started] == ["m0", "m2", "m4", "m6"]
    assert reads.in_flight_at_start == [0, 1, 2, 3]
    reads.release("m0")
    checked = await first
    assert [i["record_id"] for i in checked.keep] == ["m0", "m1"] and not checked.skip
    second = asyncio.ensure_future(ahead.next())
    await asyncio.sleep(0.01)
    # Waiting on the second slice starts the next read: the awaited slice and three ahead, no more.
    assert [ids[0] for ids in reads.started][-1] == "m8" and reads.in_flight_at_start[-1] == 3
    for first_id in ("m2", "m4", "m6", "m8"):
        reads.release(first_id)
    rest = [await second] + [await ahead.next() for _ in range(3)]
    assert [r.items[0]["record_id"] for r in rest] == ["m2", "m4", "m6", "m8"]
    assert await ahead.next() is None and ahead.queries == 5


async def test_a_plan_smaller_than_one_slice_reads_once():
    reads = Reads()
    reads.release("m0")
    ahead = ReadAhead("E1", slices(planned(3), 5), reads)
    checked = await ahead.next()
    assert len(checked.keep) == 3 and await ahead.next() is None and ahead.queries == 1
    await ahead.aclose()
