"""The gateway benchmark (benchmarks/bench_gateway.py: same simulated WeChat users, same phases, same
figures) against the scaled topology: HAProxy -> 2 gateways -> Rasa nodes -> 2 action servers, one
PostgreSQL, one Redis (scripts/cluster/topology.py). In one run, on one started cluster:

  1. the gateways route to 1 Rasa node  (RASA_URLS = node 0)
  2. the gateways route to 2 Rasa nodes (RASA_URLS = node 0, node 1)

same users, same think-time draws, same questions; only RASA_URLS changes (the gateways are restarted
between the two, gracefully). Every process of the cluster is measured (CPU per turn, cores used).

    .venv/bin/python benchmarks/bench_cluster.py --users 20 --turns 6

Everything runs on this one machine (2 cores, shared): the two Rasa nodes compete with each other, the
gateways, the action servers and PostgreSQL for the same two cores, so this shows what a second node
costs and gives on one machine, not what a second machine gives. The projection for N machines is
printed from the measured CPU per turn of each role (see the end of the output).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_gateway import phase  # noqa: E402
from benchmarks.gateway_under_test import Services, gateway_env  # noqa: E402
from benchmarks.measure import load_average  # noqa: E402
from benchmarks.wechat_users import (  # noqa: E402
    APP_ID,
    NO_THINK,
    QUESTIONS,
    SECRET,
    TOKEN,
    Bench,
    ThinkTime,
    openids_per_node,
)
from bot.testing.process import cpu_seconds, pid_listening_on, rss_mib  # noqa: E402
from bot.testing.server import serve  # noqa: E402
from bot.testing.wechat_standin import WeChatApiStandIn, WeChatServer  # noqa: E402
from scripts.cluster.topology import Cluster  # noqa: E402
from scripts.figures import markdown_table, record  # noqa: E402


class RecordingBench(Bench):
    """The simulated users' Bench (benchmarks/wechat_users.py) that also keeps every turn, for the figures file."""

    turns: list = []

    async def turn(self, openid: str, question: str):
        result = await super().turn(openid, question)
        self.turns.append(result)
        return result


def phase_row(nodes: int, name: str, turns: list, wall: float) -> list[object]:
    answers = sorted(t.answer_s for t in turns if t.answer_s is not None)
    pick = lambda share: answers[min(len(answers) - 1, round(share * (len(answers) - 1)))] * 1000  # noqa: E731
    return [
        nodes,
        name,
        len(turns),
        f"{pick(0.5):.0f} ms" if answers else "–",
        f"{pick(0.95):.0f} ms" if answers else "–",
        f"{len(turns) / wall:.2f}",
        sum(1 for t in turns if t.request_s > 5.0),
        sum(1 for t in turns if t.acknowledged),
        sum(1 for t in turns if t.status != 200),
    ]


def cluster_pids(cluster: Cluster) -> dict[str, int]:
    pids = {}
    for name, service in cluster.services.items():
        if service.process is not None and service.process.poll() is None:
            pids[name] = service.process.pid
    return pids  # PostgreSQL is measured over all its backends (postgres_cpu)


def postgres_cpu(cluster: Cluster) -> float:
    """CPU of every PostgreSQL process (one backend per connection, children of the postmaster)."""
    main = pid_listening_on(cluster.ports.postgres)
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(entry.name) == main or int(fields[1]) == main:
                total += cpu_seconds(int(entry.name))
    return total


def route_gateways_to(cluster: Cluster, urls: list[str]) -> None:
    for i in range(cluster.gateways):
        name = f"gateway{i}"
        service = cluster.services[name]
        service.env["RASA_URLS"] = ",".join(urls)
        service.process.terminate()
        service.process.wait(timeout=30)
        cluster.start_service(name)
    cluster.wait_public()
    time.sleep(3)  # HAProxy's health checks see both gateways up again (rise 2, inter 1 s)


async def run(args: argparse.Namespace) -> None:
    think = ThinkTime(args.think_median, args.think_sigma)
    async with contextlib.AsyncExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-cluster-")))
        work.chmod(0o711)  # PostgreSQL runs as its own account (as root: postgres) and must reach its folder
        api = WeChatApiStandIn(APP_ID, SECRET)
        api_url = await stack.enter_async_context(serve(api.app))
        server = WeChatServer(TOKEN, APP_ID, WeChatServer.new_aes_key())
        env = gateway_env(dict(os.environ), server, api, api_url, work / "unused.db")
        env["WEBCHAT_IP_PER_MINUTE"] = "0"
        cluster = Cluster(work / "cluster", env=env, rasa=args.rasa)
        print(
            f"starting the cluster (Rasa: {args.rasa}); this machine has {os.cpu_count()} cores ...",
            flush=True,
        )
        started = time.monotonic()
        await asyncio.to_thread(cluster.start)
        stack.callback(cluster.stop)
        print(f"  up after {time.monotonic() - started:.0f} s", flush=True)
        http = await stack.enter_async_context(
            httpx.AsyncClient(
                base_url=cluster.public_url, timeout=60, limits=httpx.Limits(max_connections=args.users + 10)
            )
        )
        bench = RecordingBench(http, server, api)
        rows: list[list[object]] = []
        per_turn: dict[tuple[int, str], dict[str, float]] = {}
        for nodes in (1, 2):
            urls = cluster.rasa_urls[:nodes]
            await asyncio.to_thread(route_gateways_to, cluster, urls)
            services = Services(rasa_urls=urls, pids=cluster_pids(cluster))
            print(
                f"\n=== gateways -> {nodes} Rasa node(s) behind HAProxy ({', '.join(urls)}) ===", flush=True
            )
            warm = openids_per_node(urls, f"oWarm{nodes}{secrets.token_hex(3)}", 2)
            for question in QUESTIONS[:3]:
                await asyncio.gather(*(bench.turn(openid, question) for openid in warm))
            for name in args.phases.split(","):
                pg_before, wall_before = postgres_cpu(cluster), time.monotonic()
                cpu_before = services.cpu()
                bench.turns = []
                await phase(
                    bench,
                    services,
                    f"{name}, {nodes} node(s)",
                    args.users,
                    args.turns,
                    think if name == "realistic" else NO_THINK,
                    args.seed,
                )
                pg = postgres_cpu(cluster) - pg_before
                turns = args.users * args.turns
                cpu = {r: services.cpu()[r] - cpu_before[r] for r in cpu_before if r in services.cpu()}
                cpu["postgres"] = pg
                per_turn[(nodes, name)] = {r: used / turns * 1000 for r, used in cpu.items()}
                rows.append(phase_row(nodes, name, bench.turns, time.monotonic() - wall_before))
                print(
                    f"    {'postgres (all backends)':<24} {pg / turns * 1000:7.1f} ms   {pg / (time.monotonic() - wall_before):6.2f}"
                )
        projection = tiers(per_turn[(2, "stress")]) if (2, "stress") in per_turn else {}
        print_projection(projection)
        memory = ", ".join(f"{r} {rss_mib(p):.0f} MiB" for r, p in sorted(cluster_pids(cluster).items()))
        print(f"\nresident memory: {memory}")
        print(f"load average at the end: {load_average()}")
        if args.record:
            record_figures(args, rows, projection, memory)


def record_figures(args: argparse.Namespace, rows: list, projection: dict[str, float], memory: str) -> None:
    header = [
        "Rasa nodes",
        "phase",
        "turns",
        "answer p50",
        "answer p95",
        "turns/s",
        "past 5 s",
        "acknowledged",
        "HTTP errors",
    ]
    body = (
        f"HAProxy → 2 gateways → 1 or 2 Rasa nodes ({'the trained model' if args.rasa == 'model' else 'the Rasa stand-in'}) "
        "→ 2 action servers, PostgreSQL + Redis, all on this one "
        f"machine; {args.users} simulated WeChat users × {args.turns} turns per phase, the same users and "
        "draws for both node counts, in one run (stress: no think time; realistic: log-normal think time, "
        f"median {args.think_median:g} s).\n\n" + markdown_table(header, rows) + "\n\n"
        "CPU per turn (stress, 2 nodes) and what one core of each tier sustains:\n\n"
        + markdown_table(
            ["tier", "CPU per turn", "turns/s per core"],
            [[t, f"{c:.1f} ms", f"{1000 / c:.1f}" if c > 0 else "–"] for t, c in projection.items()],
        )
        + f"\n\nResident memory: {memory}. Projection (not measured on several machines): N machines with c "
        "free cores for Rasa + actions serve about N·c times the Rasa tier's turns/s per core, until the one "
        "PostgreSQL saturates at its own row times its cores."
    )
    record(
        "cluster-benchmark", "Scaled topology: 1 vs 2 Rasa nodes behind HAProxy", body, "make bench-cluster"
    )


def tiers(ms: dict[str, float]) -> dict[str, float]:
    """CPU per turn by tier, from the per-process figures (ms)."""
    return {
        "Rasa node + action server": sum(v for r, v in ms.items() if r.startswith(("rasa", "actions"))),
        "gateway": sum(v for r, v in ms.items() if r.startswith("gateway")),
        "PostgreSQL (one, shared)": ms.get("postgres", 0.0),
        "HAProxy + Redis": ms.get("haproxy", 0.0) + ms.get("redis", 0.0),
    }


def print_projection(costs: dict[str, float]) -> None:
    """Turns per second one core of each tier sustains, from the CPU each tier spent per turn (stress
    phase, 2 nodes). CPU time is what the work costs; on 2 shared cores wall-clock figures are not."""
    print("\nprojection from CPU per turn (stress phase, 2 Rasa nodes):")
    for tier, cost in costs.items():
        rate = f"{1000 / cost:7.1f} turns/s per core" if cost > 0 else "   (below the clock's resolution)"
        print(f"  {tier:<28} {cost:7.1f} ms/turn  {rate}")
    rasa = costs.get("Rasa node + action server", 0.0)
    if rasa > 0:
        print(
            f"  N machines of c cores running Rasa + actions: about N x c x {1000 / rasa:.1f} turns/s, "
            "while the one PostgreSQL keeps up (its row above) and the hash ring spreads people evenly."
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--phases", default="stress,realistic", help="stress, realistic or both")
    parser.add_argument("--think-median", type=float, default=10.0)
    parser.add_argument("--think-sigma", type=float, default=0.6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rasa", choices=["model", "standin"], default="model")
    parser.add_argument("--record", action="store_true", help="write the figures to docs/FIGURES.md")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
