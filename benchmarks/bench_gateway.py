"""Drive N simulated WeChat users through the gateway and a Rasa server; print per-turn latency.

Each user sends signed, AES-encrypted requests exactly as WeChat's servers do (wechatpy's crypto), one
turn after another; users run concurrently. The gateway runs as its own process (`python -m bot`),
with a temporary SQLite database and a local stand-in for WeChat's customer-service API.

    .venv/bin/python benchmarks/bench_gateway.py --rasa-url standin --users 20 --turns 5
    .venv/bin/python benchmarks/bench_gateway.py --rasa-url http://127.0.0.1:5005 --users 20 --turns 5

Prints p50/p95/max per-turn latency as WeChat sees it, turns per second, how many turns passed the
5-second deadline, and how many were acknowledged and answered later by customer-service message.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.testing.rasa_standin import RasaStandIn  # noqa: E402
from bot.testing.server import serve  # noqa: E402
from bot.testing.wechat_standin import WeChatApiStandIn, WeChatServer  # noqa: E402
from bot.texts import text as say  # noqa: E402

TOKEN, APP_ID, SECRET = "bench-token", "wxbench000000000", "bench-secret"
QUESTIONS = [
    "你好",
    "我是硕士，在青浦区工作，能申请租房补贴吗？",
    "松江区的人才公寓怎么申请？",
    "我今年28岁",
    "落户需要什么条件？",
    "谢谢",
]
ACKS = {say("slow_ack", "zh"), say("slow_ack_write_again", "zh")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), to tell gateway cost from machine load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def wait_healthy(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit("the gateway exited during start-up")
            try:
                if (await http.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("the gateway did not become healthy")


async def user(index: int, turns: int, server: WeChatServer, http: httpx.AsyncClient, results: list) -> None:
    openid = f"oBENCH{index:022d}"
    for turn in range(turns):
        question = QUESTIONS[turn % len(QUESTIONS)]
        request = server.request(server.text_xml(openid, question))
        started = time.perf_counter()
        response = await http.post("/wechat", params=request.params, content=request.body)
        elapsed = time.perf_counter() - started
        reply = server.read_reply(response.text, request.params) if response.status_code == 200 else None
        results.append((elapsed, response.status_code, reply))


async def run(args: argparse.Namespace) -> None:
    async with contextlib_exit_stack() as stack:
        rasa_url = args.rasa_url
        if rasa_url == "standin":
            standin = RasaStandIn(base_delay=args.standin_delay)
            rasa_url = await stack.enter_async_context(serve(standin.app))
        wechat_api = WeChatApiStandIn(APP_ID, SECRET)
        api_url = await stack.enter_async_context(serve(wechat_api.app))
        aes_key = WeChatServer.new_aes_key()
        port = free_port()
        db = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "bench.db"
        env = dict(
            os.environ,
            BOT_PORT=str(port),
            BOT_DATABASE_URL=f"sqlite:///{db}",
            RASA_URL=rasa_url,
            WECHAT_TOKEN=TOKEN,
            WECHAT_APP_ID=APP_ID,
            WECHAT_APP_SECRET=SECRET,
            WECHAT_ENCODING_AES_KEY=aes_key,
            WECHAT_API_BASE_URL=f"{api_url}/cgi-bin/",
        )
        env.pop("TELEGRAM_BOT_TOKEN", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stack.callback(process.wait)
        stack.callback(process.terminate)
        gateway_url = f"http://127.0.0.1:{port}"
        await wait_healthy(gateway_url, process)
        server = WeChatServer(TOKEN, APP_ID, aes_key)
        results: list = []
        limits = httpx.Limits(max_connections=args.users + 10)
        async with httpx.AsyncClient(base_url=gateway_url, timeout=30, limits=limits) as http:
            await user(9999, 1, server, http, [])  # warm-up turn, not counted
            cpu_before = cpu_seconds(process.pid)
            started = time.perf_counter()
            await asyncio.gather(*(user(i, args.turns, server, http, results) for i in range(args.users)))
            wall = time.perf_counter() - started
            gateway_cpu = cpu_seconds(process.pid) - cpu_before
        acked = sum(1 for _, _, reply in results if reply in ACKS)
        if acked:
            deadline = time.monotonic() + 60
            while len(wechat_api.sent) < acked and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
        latencies = [r[0] for r in results]
        errors = sum(1 for _, status, _ in results if status != 200)
        print(f"gateway benchmark: {args.users} WeChat users x {args.turns} turns, Rasa at {args.rasa_url}")
        print(
            f"  per-turn latency  p50 {statistics.median(latencies) * 1000:.0f} ms   p95 {percentile(latencies, 0.95) * 1000:.0f} ms"
            f"   max {max(latencies) * 1000:.0f} ms"
        )
        print(
            f"  throughput        {len(results) / wall:.1f} turns/s  ({len(results)} turns in {wall:.1f} s)"
        )
        print(
            f"  gateway CPU       {gateway_cpu / len(results) * 1000:.1f} ms per turn   (load average {os.getloadavg()[0]:.1f})"
        )
        print(f"  past 5 s          {sum(1 for t in latencies if t > 5.0)}")
        print(
            f"  acknowledged, answered later by customer-service message: {acked} (delivered {len(wechat_api.sent)})"
        )
        print(f"  HTTP errors       {errors}")


def contextlib_exit_stack():
    import contextlib

    return contextlib.AsyncExitStack()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rasa-url", required=True, help="Rasa server URL, or 'standin' for the local stand-in"
    )
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--standin-delay", type=float, default=0.05, help="stand-in Rasa's answer time (s)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
