"""bot/rasa_client.py: consistent hashing over the Rasa nodes, retries, fail-over, timeouts, resume."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from bot.rasa_client import HashRing, RasaClient, RasaUnavailable
from bot.testing.rasa_standin import RasaStandIn
from bot.testing.server import serve


def test_hash_ring_is_sticky_balanced_and_moves_little() -> None:
    nodes = ["http://r1:5005", "http://r2:5005", "http://r3:5005"]
    ring = HashRing(nodes)
    senders = [f"wechat:user{i}" for i in range(3000)]
    owners = {s: ring.node_for(s) for s in senders}
    assert all(HashRing(nodes).node_for(s) == owners[s] for s in senders[:200])  # same answer in any process
    spread = Counter(owners.values())
    assert min(spread.values()) > 600
    bigger = HashRing([*nodes, "http://r4:5005"])
    moved = sum(bigger.node_for(s) != owners[s] for s in senders)
    assert moved < 0.4 * len(senders)  # about a quarter, not everything
    assert ring.nodes_for("x")[0] == ring.node_for("x") and sorted(ring.nodes_for("x")) == sorted(nodes)


async def test_rasa_client_sticky_routing_over_two_nodes() -> None:
    one, two = RasaStandIn("one"), RasaStandIn("two")
    async with serve(one.app) as url1, serve(two.app) as url2:
        client = RasaClient([url1, url2])
        senders = [f"web:s{i}" for i in range(40)]
        for _ in range(3):
            await asyncio.gather(*(client.send(s, "hi") for s in senders))
        for sender in senders:
            nodes = {r["node"] for r in one.received + two.received if r["sender"] == sender}
            assert len(nodes) == 1  # every message of a person went to the same Rasa
        assert one.received and two.received
        await client.aclose()


async def test_rasa_client_retries_connection_errors_then_fails_over() -> None:
    standin = RasaStandIn("up")
    async with serve(standin.app) as url:
        client = RasaClient(["http://127.0.0.1:9", url], connect_retries=2, retry_backoff=0.01)
        replies = [await client.send(f"web:{i}", "hello") for i in range(6)]
        assert all(r[0]["text"] == "收到：hello" for r in replies)
        await client.aclose()
    client = RasaClient(["http://127.0.0.1:9"], connect_retries=2, retry_backoff=0.01)
    with pytest.raises(RasaUnavailable):
        await client.send("web:x", "hello")
    await client.aclose()


async def test_rasa_client_does_not_resend_after_a_read_timeout() -> None:
    standin = RasaStandIn("slow")
    async with serve(standin.app) as url:
        client = RasaClient([url], timeout=0.3)
        started = time.monotonic()
        with pytest.raises(RasaUnavailable):
            await client.send("web:t", "slow 1 hello")
        assert time.monotonic() - started < 1.0
        assert len(standin.received) == 1  # the turn may have happened: never sent twice
        with pytest.raises(RasaUnavailable):
            await client.send("web:t", "crash")
        await client.aclose()


async def test_rasa_client_resume_uses_token() -> None:
    standin = RasaStandIn(token="tok")
    async with serve(standin.app) as url:
        client = RasaClient([url], token="tok")
        await client.resume("wechat:oAb-_9")
        assert standin.events == [("wechat:oAb-_9", {"event": "resume"})]  # ':' not percent-encoded
        wrong = RasaClient([url], token="nope")
        with pytest.raises(RasaUnavailable):
            await wrong.resume("wechat:o1")
        await client.aclose()
        await wrong.aclose()
