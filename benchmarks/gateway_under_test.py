"""Starting the gateway under test for the gateway benchmarks (benchmarks/bench_gateway.py,
bench_cluster.py): the whole assistant (scripts/run_services.sh) or the gateway alone in front of given
Rasa server(s), and the processes to measure (Services).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.testing.process import (
    cpu_seconds,
    free_port,
    free_port_block,
    pid_listening_on,
    start_gateway,
    wait_until_reachable,
)
from bot.testing.wechat_standin import WeChatApiStandIn, WeChatServer
from bot.testing.wechat_standin import gateway_env as wechat_gateway_env
from scripts.services import running_assistant


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
