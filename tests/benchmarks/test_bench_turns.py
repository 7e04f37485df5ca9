"""benchmarks/bench_turns.py's A/B (--against) and --distinct-people, against two Rasa stand-ins."""

from __future__ import annotations

import asyncio
import itertools

from benchmarks import bench_turns
from bot.testing.rasa_standin import RasaStandIn
from bot.testing.server import serve


def test_distinct_people_each_state_other_facts() -> None:
    assert bench_turns.script(None) == bench_turns.TURNS
    people = [bench_turns.script(n) for n in range(33)]
    assert len({tuple(p) for p in people}) == 33 and len({p[2] for p in people}) == 33  # 33 ages
    assert all(len(p) == len(bench_turns.TURNS) and p[1] == bench_turns.TURNS[1] for p in people)


async def test_two_rasas_take_turns_conversation_by_conversation_with_the_same_people() -> None:
    a, b = RasaStandIn(name="A"), RasaStandIn(name="B")
    b.received = a.received  # one record of both, in the order the requests came
    async with serve(a.app) as url_a, serve(b.app) as url_b:
        measured = await asyncio.to_thread(bench_turns.play, [url_a, url_b], 3, True)
    turns = len(bench_turns.TURNS)
    assert [len(m.latencies) for m in measured] == [3 * turns - 1] * 2  # the first turn is apart
    assert all(m.first is not None for m in measured)
    runs = [(node, len(list(group))) for node, group in itertools.groupby(r["node"] for r in a.received)]
    assert runs == [("A", turns), ("B", 2 * turns), ("A", 2 * turns), ("B", turns)]  # A B, B A, A B
    said = {node: [r["message"] for r in a.received if r["node"] == node] for node in "AB"}
    assert said["A"] == said["B"] == [m for n in range(3) for m in bench_turns.script(n)]
