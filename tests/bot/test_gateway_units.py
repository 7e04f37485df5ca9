"""Channel-independent parts: text helpers, consistent hashing, the store, the Rasa client."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from bot.config import Settings
from bot.models import Button, InboundMessage, Reply
from bot.rasa_client import HashRing, RasaClient, RasaUnavailable
from bot.store import MIGRATIONS, Store
from bot.testing.rasa_standin import RasaStandIn
from bot.testing.server import serve
from bot.textutil import merge_for_single_message, neutralise, parse_rasa_replies, split_text, utf8_len


@pytest.mark.parametrize(
    "given, expected",
    [("/restart", "／restart"), ("  //inform{}", "／inform{}"), ("a/b", "a/b"), ("你好", "你好")],
)
def test_neutralise(given: str, expected: str) -> None:
    assert neutralise(given) == expected


def test_split_text_respects_byte_limits_and_keeps_everything() -> None:
    text = "第一段说明。" * 300 + "\n\n" + "x" * 5000
    pieces = split_text(text, 2000, utf8_len)
    assert all(utf8_len(p) <= 2000 for p in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")
    assert split_text("short", 10) == ["short"]


def test_merge_numbers_buttons_of_all_replies() -> None:
    replies = [Reply("A", [Button("甲", "/a")]), Reply("B", [Button("乙", "/b")])]
    text, buttons = merge_for_single_message(replies, "请回复数字选择：")
    assert text == "A\n\nB\n\n请回复数字选择：\n1. 甲\n2. 乙"
    assert [b.payload for b in buttons] == ["/a", "/b"]


def test_parse_rasa_replies_keeps_custom_and_drops_empty() -> None:
    parsed = parse_rasa_replies(
        [{"text": "hi"}, {"custom": {"handoff": {"reason": "x"}}}, {"recipient_id": "a"}, "junk"]
    )
    assert [(r.text, r.custom) for r in parsed] == [("hi", None), (None, {"handoff": {"reason": "x"}})]


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


def test_settings_from_env() -> None:
    settings = Settings.from_env({"RASA_URLS": "http://a:1/, http://b:2", "BOT_PORT": "9000"})
    assert settings.rasa_urls == ("http://a:1", "http://b:2") and settings.port == 9000
    assert settings.disabled_channel_notes()[0].startswith("wechat: disabled")
    assert Settings.from_env({}).host == "127.0.0.1" and Settings.from_env({}).port == 8080
    tg = Settings.from_env({"TELEGRAM_BOT_TOKEN": "1:abc"})
    assert tg.telegram_secret == Settings.from_env({"TELEGRAM_BOT_TOKEN": "1:abc"}).telegram_secret
    assert "abc" not in repr(tg)


def test_store_schema_dedupe_quota_and_cache(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'g.db'}")
    latest = MIGRATIONS[-1][0]  # issue 5 appends its own versions
    assert store.migrate() == latest and store.migrate() == latest  # idempotent
    message = InboundMessage(channel="wechat", user_id="o1", text="hi", external_id="m1")
    first = store.record_inbound(message)
    assert first and store.record_inbound(message) is None
    assert store.find_inbound("wechat", "m1")["id"] == first
    store.open_quota("o1", 2, 60)
    assert [store.take_quota("o1") for _ in range(3)] == [True, True, False]
    store.open_quota("o1", 5, -1)  # an expired window gives nothing
    assert store.take_quota("o1") is False and store.quota("o1")["remaining"] == 0
    store.cache_set("k", "v", 60)
    assert store.cache_get("k") == "v"
    store.cache_set("k", "w", -1)
    assert store.cache_get("k") is None
    store.dispose()


def test_two_processes_share_one_database(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    a, b = Store(url), Store(url)
    a.migrate()
    b.migrate()
    message = InboundMessage(channel="wechat", user_id="o2", text="x", external_id="same")
    assert a.record_inbound(message) is not None and b.record_inbound(message) is None
    a.cache_set("wechat:token", "T1", 7200)
    assert b.cache_get("wechat:token") == "T1"
    a.open_quota("o2", 1, 60)
    assert b.take_quota("o2") is True and a.take_quota("o2") is False


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


def test_python_m_bot_starts_with_nothing_configured(tmp_path) -> None:
    """`python -m bot` with no credentials: web chat up, one line per disabled channel."""
    import os
    import subprocess
    import urllib.request

    from bot.testing.process import free_port, start_gateway, wait_until_reachable

    port = free_port()
    keep = {"PATH", "HOME", "LANG", "SYSTEMROOT"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(BOT_PORT=str(port), BOT_DATABASE_URL=f"sqlite:///{tmp_path / 'g.db'}", PYTHONUNBUFFERED="1")
    process = start_gateway(env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = [process.stdout.readline() for _ in range(3)]
        assert lines[0].startswith("wechat: disabled") and lines[1].startswith("telegram: disabled")
        assert lines[2].strip() == f"web chat: http://127.0.0.1:{port}/"
        wait_until_reachable(f"http://127.0.0.1:{port}/healthz", process, seconds=30)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
            assert "人才直达车" in page.read().decode()
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_process_helpers_find_a_listener_and_its_costs() -> None:
    """The benchmark measures servers it did not start by their port: the lookup must find the owner."""
    import os
    import socket

    from bot.testing.process import cpu_seconds, free_port_block, pid_listening_on, rss_mib

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert pid_listening_on(port) == os.getpid()
    assert pid_listening_on(port) is None
    assert cpu_seconds(os.getpid()) > 0 and rss_mib(os.getpid()) > 10
    base = free_port_block(3)
    for candidate in range(base, base + 3):
        with socket.socket() as s:
            s.bind(("127.0.0.1", candidate))  # all three really free


def test_gateway_benchmark_runs_end_to_end_against_the_standin() -> None:
    """benchmarks/bench_gateway.py stays runnable: both phases, every turn answered in time."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_gateway.py", "--rasa-url", "standin", "--users", "3"]
        + ["--turns", "2", "--think-median", "0.5", "--standin-delay", "0.01"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "[realistic] 3 users x 2 turns; think time: log-normal, median 0.5 s" in out
    assert "[stress] 3 users x 2 turns; think time: none" in out
    assert out.count("(6 turns in") == 2 and out.count("HTTP errors                0") == 2
    assert out.count("past WeChat's 5 s         0") == 2 and "gateway " in out
