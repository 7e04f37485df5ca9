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
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.measure import load_average, percentile  # noqa: E402
from bot.rasa_client import HashRing  # noqa: E402
from bot.testing.process import (  # noqa: E402
    cpu_seconds,
    free_port,
    free_port_block,
    pid_listening_on,
    rss_mib,
    start_gateway,
    wait_until_reachable,
)
from bot.testing.rasa_standin import RasaStandIn  # noqa: E402
from bot.testing.server import serve  # noqa: E402
from bot.testing.wechat_standin import WeChatApiStandIn, WeChatServer  # noqa: E402
from bot.testing.wechat_standin import gateway_env as wechat_gateway_env  # noqa: E402
from bot.texts import text as say  # noqa: E402
from scripts.services import running_assistant  # noqa: E402

TOKEN, APP_ID, SECRET = "bench-token", "wxbench000000000", "bench-secret"
# One person's conversation: a greeting, topic questions with facts, a fact on its own, thanks.
QUESTIONS = [
    "你好",
    "我是硕士，在青浦区工作，能申请租房补贴吗？",
    "我今年28岁",
    "松江区的人才公寓怎么申请？",
    "落户需要什么条件？",
    "谢谢",
]
ACKS = {say("slow_ack", "zh"), say("slow_ack_write_again", "zh")}
WECHAT_DEADLINE = 5.0
LATE_ANSWER_WAIT = 60.0


@dataclass(frozen=True)
class ThinkTime:
    """Seconds from seeing an answer to sending the next message (reading + typing on a phone)."""

    median: float = 10.0
    sigma: float = 0.6
    low: float = 2.0
    high: float = 60.0

    def draw(self, rng: random.Random) -> float:
        if self.median <= 0:
            return 0.0
        return min(self.high, max(self.low, rng.lognormvariate(math.log(self.median), self.sigma)))

    def describe(self) -> str:
        if self.median <= 0:
            return "none (next message as soon as the answer is there)"
        return (
            f"log-normal, median {self.median:g} s, sigma {self.sigma:g}, "
            f"clipped to [{self.low:g} s, {self.high:g} s]"
        )


NO_THINK = ThinkTime(median=0.0)


@dataclass
class Turn:
    openid: str
    request_s: float  # what WeChat's server waited for
    answer_s: float | None  # when the person had the answer (None: never arrived)
    status: int
    acknowledged: bool


@dataclass
class Services:
    """The processes to measure, by role (found by the port they listen on)."""

    pids: dict[str, int] = field(default_factory=dict)
    rasa_urls: list[str] = field(default_factory=list)
    log_dir: Path | None = None
    tracker_files: dict[str, Path] = field(default_factory=dict)  # Rasa URL -> its SQLite tracker store
    gateway_db: Path | None = None

    def cpu(self) -> dict[str, float]:
        out = {}
        for role, pid in self.pids.items():
            with contextlib.suppress(OSError):
                out[role] = cpu_seconds(pid)
        return out


def gateway_env(base: dict[str, str], server: WeChatServer, api: WeChatApiStandIn, api_url: str, db: Path):
    env = dict(
        base,
        **wechat_gateway_env(server, api, api_url, passive_deadline=4.0),
        BOT_DATABASE_URL=f"sqlite:///{db}",
        RASA_TELEMETRY_ENABLED="false",
    )
    env.pop("TELEGRAM_BOT_TOKEN", None)
    return env


@contextlib.contextmanager
def assistant_started(nodes: int, env: dict[str, str], work: Path):
    """scripts/run_services.sh with RASA_NODES=nodes (scripts/services.py); yields (gateway URL, Services).

    Synchronous on purpose: start-up blocks the event loop (nothing in it is needed until the first turn),
    so Ctrl-C lands in running_assistant, which stops the half-started services."""
    rasa_port = int(env.get("RASA_PORT") or free_port_block(nodes))
    action_port = int(env.get("ACTION_PORT") or free_port())
    bot_port = int(env.get("BOT_PORT") or free_port())
    log_dir = Path(env.get("LOG_DIR") or work / "logs")
    env = dict(
        env,
        RASA_NODES=str(nodes),
        RASA_PORT=str(rasa_port),
        ACTION_PORT=str(action_port),
        BOT_PORT=str(bot_port),
        BOT_HOST="127.0.0.1",
        RASA_TRACKER_DB=str(work / "tracker.db"),
    )
    print(f"starting the assistant with {nodes} Rasa node(s); logs in {log_dir}/ ...", flush=True)
    started = time.monotonic()
    with running_assistant(secrets.token_urlsafe(24), log_dir, 200 + 90 * nodes, env) as assistant:
        print(f"  up after {time.monotonic() - started:.0f} s", flush=True)
        ports = [rasa_port + i for i in range(nodes)]
        services = Services(log_dir=log_dir, rasa_urls=[f"http://127.0.0.1:{p}" for p in ports])
        # scripts/run_services.sh: node 0 keeps RASA_TRACKER_DB, node i writes tracker.node<i>.db
        services.tracker_files = {
            url: work / ("tracker.db" if i == 0 else f"tracker.node{i}.db")
            for i, url in enumerate(services.rasa_urls)
        }
        services.pids["gateway"] = pid_listening_on(bot_port)
        for i, port in enumerate(ports):
            services.pids[f"rasa node {i}"] = pid_listening_on(port)
        services.pids["action server"] = pid_listening_on(action_port)
        services.pids = {k: v for k, v in services.pids.items() if v}
        yield assistant.gateway_url, services


@contextlib.asynccontextmanager
async def gateway_started(rasa_urls: list[str], env: dict[str, str]):
    """Only the gateway (``python -m bot``) in front of the given Rasa server(s)."""
    port = free_port()
    env = dict(env, BOT_PORT=str(port), BOT_HOST="127.0.0.1", RASA_URLS=",".join(rasa_urls))
    process = start_gateway(env)
    try:
        url = f"http://127.0.0.1:{port}"
        await asyncio.to_thread(wait_until_reachable, f"{url}/healthz", process, 60)
        services = Services(rasa_urls=rasa_urls, pids={"gateway": process.pid})
        for i, rasa_url in enumerate(rasa_urls):
            pid = pid_listening_on(httpx.URL(rasa_url).port or 80)
            if pid and pid != os.getpid():  # the stand-in runs inside this process
                services.pids[f"rasa node {i}"] = pid
        yield url, services
    finally:
        process.terminate()
        await asyncio.to_thread(process.wait, 30)


class Bench:
    def __init__(self, http: httpx.AsyncClient, server: WeChatServer, api: WeChatApiStandIn) -> None:
        self.http, self.server, self.api = http, server, api

    async def turn(self, openid: str, question: str) -> Turn:
        already = len(self.api.texts_to(openid))
        request = self.server.request(self.server.text_xml(openid, question))
        started = time.monotonic()
        response = await self.http.post("/wechat", params=request.params, content=request.body)
        request_s = time.monotonic() - started
        if response.status_code != 200:
            return Turn(openid, request_s, None, response.status_code, False)
        reply = self.server.read_reply(response.text, request.params)
        if reply not in ACKS:
            return Turn(openid, request_s, request_s, 200, False)
        arrived = await self.api.wait_for_messages(openid, already + 1, LATE_ANSWER_WAIT)
        return Turn(openid, request_s, None if arrived is None else arrived - started, 200, True)

    async def user(
        self,
        openid: str,
        turns: int,
        think: ThinkTime,
        rng: random.Random,
        out: list[Turn],
        pauses: list[float],
    ) -> None:
        for index in range(turns):
            pause = think.draw(rng)
            pauses.append(pause)
            await asyncio.sleep(pause)
            out.append(await self.turn(openid, QUESTIONS[index % len(QUESTIONS)]))


def openids_per_node(rasa_urls: list[str], prefix: str, per_node: int) -> list[str]:
    """Sender ids that cover every Rasa node (the gateway routes 'wechat:<openid>' on the ring)."""
    ring, chosen, counts = HashRing(rasa_urls), [], dict.fromkeys(rasa_urls, 0)
    for n in range(10_000):
        openid = f"{prefix}{n:06d}".ljust(28, "0")
        node = ring.node_for(f"wechat:{openid}")
        if counts[node] < per_node:
            counts[node] += 1
            chosen.append(openid)
        if all(c >= per_node for c in counts.values()):
            break
    return chosen


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
