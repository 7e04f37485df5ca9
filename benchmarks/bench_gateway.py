"""Drive N simulated WeChat users through the gateway and the assistant; print per-turn latency.

    .venv/bin/python benchmarks/bench_gateway.py                      # starts everything, 1 Rasa node
    .venv/bin/python benchmarks/bench_gateway.py --nodes 2            # 2 Rasa nodes (RASA_NODES=2)
    .venv/bin/python benchmarks/bench_gateway.py --rasa-url http://127.0.0.1:5005[,http://…:5006]
    .venv/bin/python benchmarks/bench_gateway.py --rasa-url standin   # the gateway alone

Without --rasa-url the benchmark starts the whole assistant with scripts/run_services.sh (RASA_NODES=N,
the trained model in $MODELS_DIR, fresh tracker and transcript databases in a temporary directory, ports
from ACTION_PORT/RASA_PORT/BOT_PORT or free ones) and stops it at the end. With --rasa-url it starts only
a gateway in front of the Rasa server(s) given.

Each user sends signed, AES-encrypted requests exactly as WeChat's servers do (wechatpy's crypto); the
customer-service API is a local stand-in that records when each message arrives. A user is a person:

* realistic phase: after seeing an answer the person reads it and types the next message. That pause
  ("think time") is drawn from a log-normal distribution, median 10 s, sigma 0.6 (5th-95th percentile
  about 3.7-27 s), clipped to [2 s, 60 s], from a seeded generator; each user's first message also
  comes after one such pause, so 20 users do not all press "send" in the same millisecond. Reading a
  100-300-character answer and typing a question on a phone takes longer than 10 s for most people:
  the median errs on the busy side.
* stress phase: no think time at all, the next message leaves as soon as the answer is there: the
  most a set of N users can ask of the system, not how people behave.

A person waits for the answer: when the gateway acknowledges at the 4-second deadline, the user waits
for the answer to arrive by customer-service message before thinking and typing again. Two latencies
per turn: what WeChat's server sees (the HTTP request; an acknowledged turn ends at ~4 s) and when the
answer reached the person (passive reply, or the customer-service message after an acknowledgement).

Printed per phase: p50/p95/max of both, turns per second, turns past WeChat's 5-second deadline,
acknowledgements and late answers delivered, CPU seconds per turn and cores used by the gateway, each
Rasa node, the action server and this benchmark process (client crypto and stand-ins), resident memory,
and the load average before and after (the machine may be shared).

The simulated users live in benchmarks/wechat_users.py, starting the gateway under test in
benchmarks/gateway_under_test.py; this file is the command line and the report.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.gateway_under_test import Services, assistant_started, gateway_env, gateway_started  # noqa: E402
from benchmarks.measure import load_average, percentile  # noqa: E402
from benchmarks.wechat_users import (  # noqa: E402
    APP_ID,
    LATE_ANSWER_WAIT,
    NO_THINK,
    QUESTIONS,
    SECRET,
    TOKEN,
    WECHAT_DEADLINE,
    Bench,
    ThinkTime,
    Turn,
    openids_per_node,
)
from bot.rasa_client import HashRing  # noqa: E402
from bot.testing.process import cpu_seconds, rss_mib  # noqa: E402
from bot.testing.rasa_standin import RasaStandIn  # noqa: E402
from bot.testing.server import serve  # noqa: E402
from bot.testing.wechat_standin import WeChatApiStandIn, WeChatServer  # noqa: E402


def unanswered_in_transcript(gateway_db: Path, openids: set[str]) -> str:
    """What the gateway's transcript says about acknowledged turns whose answer never arrived."""
    with contextlib.closing(sqlite3.connect(f"file:{gateway_db}?mode=ro", uri=True)) as db:
        marks = ",".join("?" * len(openids))
        rows = db.execute(
            f"SELECT kind, status, COUNT(*) FROM messages WHERE direction = 'out' AND conversation_id IN ({marks})"
            " GROUP BY kind, status",
            [f"wechat:{o}" for o in sorted(openids)],
        ).fetchall()
        handoffs = db.execute(
            f"SELECT COUNT(*) FROM handoffs WHERE conversation_id IN ({marks})",
            [f"wechat:{o}" for o in sorted(openids)],
        ).fetchone()[0]
    parts = ", ".join(f"{kind}/{status} {n}" for kind, status, n in rows)
    return f"their conversations' outbound messages: {parts}; handoffs {handoffs}"


def check_sticky(services: Services, openids: list[str]) -> str:
    """Every conversation must be in exactly one node's tracker store: the one the ring names."""
    ring = HashRing(services.rasa_urls)
    holders: dict[str, set[str]] = {}
    for url, path in services.tracker_files.items():
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            for (sender,) in db.execute("SELECT DISTINCT sender_id FROM events"):
                holders.setdefault(sender, set()).add(url)
    wrong = [o for o in openids if holders.get(f"wechat:{o}") != {ring.node_for(f"wechat:{o}")}]
    if wrong:
        return (
            f"FAILED: {len(wrong)} of {len(openids)} conversations not (only) on their node, e.g. {wrong[0]}"
        )
    return f"ok: each of {len(openids)} conversations is in exactly its own node's tracker store"


async def phase(
    bench: Bench, services: Services, name: str, users: int, turns: int, think: ThinkTime, seed: int
) -> list[str]:
    nonce = secrets.token_hex(3)
    openids = [f"oB{name[0]}{nonce}{i:04d}".ljust(28, "x") for i in range(users)]
    spread = {}
    if services.rasa_urls:
        ring = HashRing(services.rasa_urls)
        for openid in openids:
            node = ring.node_for(f"wechat:{openid}")
            spread[node] = spread.get(node, 0) + 1
    results: list[Turn] = []
    pauses: list[float] = []
    load_before = load_average()
    cpu_before = services.cpu()
    own_before = cpu_seconds(os.getpid())
    started = time.monotonic()
    await asyncio.gather(
        *(
            bench.user(openid, turns, think, random.Random(f"{seed}:{i}"), results, pauses)
            for i, openid in enumerate(openids)
        )
    )
    wall = time.monotonic() - started
    cpu_after = services.cpu()
    own = cpu_seconds(os.getpid()) - own_before
    requests = [t.request_s for t in results]
    answers = [t.answer_s for t in results if t.answer_s is not None]
    acked = [t for t in results if t.acknowledged]

    def row(label: str, values: list[float]) -> str:
        if not values:
            return f"  {label:<26} none"
        return (
            f"  {label:<26} p50 {statistics.median(values) * 1000:6.0f} ms   "
            f"p95 {percentile(values, 0.95) * 1000:6.0f} ms   max {max(values) * 1000:6.0f} ms"
        )

    print(f"\n[{name}] {users} users x {turns} turns; think time: {think.describe()}")
    if spread:
        print("  users per Rasa node       " + ", ".join(f"{u}: {n}" for u, n in sorted(spread.items())))
    print(row("request (WeChat's view)", requests))
    print(row("answer (the person's view)", answers))
    print(
        f"  throughput                 {len(results) / wall:.2f} turns/s  ({len(results)} turns in {wall:.1f} s;"
        f" think time drawn: mean {statistics.mean(pauses):.1f} s)"
    )
    print(f"  past WeChat's 5 s         {sum(1 for t in requests if t > WECHAT_DEADLINE)}")
    print(
        f"  acknowledged at 4 s        {len(acked)}   late answers delivered {sum(1 for t in acked if t.answer_s is not None)}"
    )
    unanswered = {t.openid for t in acked if t.answer_s is None}
    if unanswered and services.gateway_db:
        print(
            f"    no answer within {LATE_ANSWER_WAIT:.0f} s for {len(unanswered)} users; "
            + unanswered_in_transcript(services.gateway_db, unanswered)
        )
    print(f"  HTTP errors                {sum(1 for t in results if t.status != 200)}")
    print("  CPU                        per turn      cores used")
    for role in sorted(cpu_after):
        used = cpu_after[role] - cpu_before.get(role, cpu_after[role])
        print(f"    {role:<24} {used / len(results) * 1000:7.1f} ms   {used / wall:6.2f}")
    print(f"    {'this benchmark':<24} {own / len(results) * 1000:7.1f} ms   {own / wall:6.2f}")
    print(f"  load average (1/5/15 min) before {load_before}, after {load_average()}")
    return openids


async def run(args: argparse.Namespace) -> None:
    think = ThinkTime(args.think_median, args.think_sigma)
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    if not phases or set(phases) - {"realistic", "stress"}:
        raise SystemExit(f"--phases: realistic, stress or both, not {args.phases!r}")
    async with contextlib.AsyncExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-gateway-")))
        api = WeChatApiStandIn(APP_ID, SECRET)
        api_url = await stack.enter_async_context(serve(api.app))
        server = WeChatServer(TOKEN, APP_ID, WeChatServer.new_aes_key())
        env = gateway_env(dict(os.environ), server, api, api_url, work / "gateway.db")
        if args.rasa_url is None:
            where = f"the trained assistant ({args.nodes} Rasa node(s), started here)"
            gateway_url, services = stack.enter_context(assistant_started(args.nodes, env, work))
        else:
            if args.rasa_url == "standin":
                standin = RasaStandIn(base_delay=args.standin_delay)
                urls = [await stack.enter_async_context(serve(standin.app))]
                where = f"the Rasa stand-in ({args.standin_delay * 1000:.0f} ms per answer)"
            else:
                urls = [u.strip().rstrip("/") for u in args.rasa_url.split(",") if u.strip()]
                where = f"Rasa at {', '.join(urls)}"
            gateway_url, services = await stack.enter_async_context(gateway_started(urls, env))
        limits = httpx.Limits(max_connections=args.users + 10)
        http = await stack.enter_async_context(
            httpx.AsyncClient(base_url=gateway_url, timeout=60, limits=limits)
        )
        services.gateway_db = work / "gateway.db"
        bench = Bench(http, server, api)
        print(f"gateway benchmark against {where}", flush=True)
        # Warm-up, not counted: every Rasa node answers a short conversation first.
        warm = openids_per_node(services.rasa_urls or ["standin"], f"oWarm{secrets.token_hex(3)}", 2)
        for question in QUESTIONS[:3]:
            await asyncio.gather(*(bench.turn(openid, question) for openid in warm))
        print(f"  (warm-up: {len(warm) * 3} turns over {len(warm)} users, not counted)")
        users_seen = list(warm)
        for name in phases:
            think_time = think if name == "realistic" else NO_THINK
            users_seen += await phase(bench, services, name, args.users, args.turns, think_time, args.seed)
        memory = ", ".join(f"{r} {rss_mib(p):.0f} MiB" for r, p in sorted(services.pids.items()))
        print(f"\nresident memory: {memory}")
        if len(services.tracker_files) > 1:
            print(f"sticky routing: {check_sticky(services, users_seen)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rasa-url",
        help="Rasa server URL(s), comma-separated, or 'standin'; default: start the whole assistant",
    )
    parser.add_argument("--nodes", type=int, default=1, help="Rasa nodes to start (without --rasa-url)")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--turns", type=int, default=6, help="turns per user per phase")
    parser.add_argument("--phases", default="realistic,stress", help="realistic, stress or both")
    parser.add_argument("--think-median", type=float, default=10.0, help="median think time (s)")
    parser.add_argument("--think-sigma", type=float, default=0.6, help="log-normal sigma of think time")
    parser.add_argument("--seed", type=int, default=1, help="seed of the think-time draws")
    parser.add_argument("--standin-delay", type=float, default=0.05, help="stand-in Rasa's answer time (s)")
    args = parser.parse_args()
    if args.nodes < 1 or args.users < 1 or args.turns < 1:
        parser.error("--nodes, --users and --turns must be at least 1")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
