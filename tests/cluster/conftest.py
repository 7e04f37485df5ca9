"""The scaled topology as a session fixture (scripts/cluster/topology.py), with stand-ins for WeChat's and
Telegram's APIs served from a thread of this process.

Tests here are marked ``cluster`` and run only when asked for (``make test-cluster``: ``-m cluster``), so
``make test-unit`` (``-m "not e2e"``) never starts a cluster. Rasa: the trained model when
``$MODELS_DIR/assistant.tar.gz`` exists, else the Rasa stand-in; ``CLUSTER_RASA=model|standin`` decides.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cluster_harness import (
    STAFF_PASSWORD,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    WECHAT_APP_ID,
    WECHAT_SECRET,
    WECHAT_TOKEN,
    RunningCluster,
)

from bot.testing.server import serve
from bot.testing.telegram_standin import TelegramStandIn
from bot.testing.wechat_standin import WeChatApiStandIn, WeChatServer
from scripts.cluster.datastores import PG_BIN
from scripts.cluster.topology import ROOT, Cluster

MODEL = ROOT / os.environ.get("MODELS_DIR", "models") / "assistant.tar.gz"


def missing_binaries() -> list[str]:
    missing = [b for b in ("redis-server", "haproxy") if shutil.which(b) is None]
    return missing + ([] if (PG_BIN / "pg_ctl").exists() else [str(PG_BIN / "pg_ctl")])


def pytest_collection_modifyitems(config, items):
    chosen = "cluster" in (config.getoption("markexpr") or "") and "not cluster" not in config.getoption(
        "markexpr"
    )
    missing = missing_binaries()
    for item in items:
        if not item.get_closest_marker("cluster"):
            continue
        if not chosen:
            item.add_marker(pytest.mark.skip(reason="cluster tests run with -m cluster (make test-cluster)"))
        elif missing:
            item.add_marker(
                pytest.mark.skip(reason=f"not installed: {', '.join(missing)} (make system-deps)")
            )


class StandIns:
    """WeChat's API and Telegram's Bot API on an event loop of their own (the cluster's gateways call them)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.stop_event: asyncio.Event | None = None
        self.wechat_api: WeChatApiStandIn | None = None
        self.telegram: TelegramStandIn | None = None
        self.urls: dict[str, str] = {}
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self.stop_event = asyncio.Event()
        self.wechat_api = WeChatApiStandIn(WECHAT_APP_ID, WECHAT_SECRET)
        self.telegram = TelegramStandIn(TELEGRAM_TOKEN)
        async with serve(self.wechat_api.app) as wechat_url, serve(self.telegram.app) as telegram_url:
            self.urls = {"wechat": wechat_url, "telegram": telegram_url}
            self.ready.set()
            await self.stop_event.wait()

    def __enter__(self) -> StandIns:
        self.thread.start()
        if not self.ready.wait(30):
            raise RuntimeError("stand-ins did not start")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def running_cluster() -> Iterator[RunningCluster]:
    mode = os.environ.get("CLUSTER_RASA") or ("model" if MODEL.exists() else "standin")
    run_dir = Path(tempfile.mkdtemp(prefix="rczd-cluster-"))
    with StandIns() as standins:
        env = dict(
            os.environ,
            WECHAT_TOKEN=WECHAT_TOKEN,
            WECHAT_APP_ID=WECHAT_APP_ID,
            WECHAT_APP_SECRET=WECHAT_SECRET,
            WECHAT_ENCODING_AES_KEY="",
            WECHAT_API_BASE_URL=f"{standins.urls['wechat']}/cgi-bin/",
            WECHAT_PASSIVE_DEADLINE="4.0",
            TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
            TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET,
            TELEGRAM_API_BASE_URL=f"{standins.urls['telegram']}/bot",
            STAFF_PASSWORD=STAFF_PASSWORD,
            # every simulated person comes from this machine's one address: the per-address web chat limit
            # (an office behind one NAT address) would meter the whole test, not a person
            WEBCHAT_IP_PER_MINUTE="6000",
            WEBCHAT_IP_BURST="1000",
        )
        env.pop("PUBLIC_BASE_URL", None)
        cluster = Cluster(run_dir, rasa=mode, model=MODEL, env=env)
        try:
            with cluster.running():
                yield RunningCluster(cluster, standins, WeChatServer(WECHAT_TOKEN, WECHAT_APP_ID), mode)
        finally:
            if os.environ.get("CLUSTER_KEEP_LOGS"):
                print(f"cluster logs kept in {run_dir}/log")
            else:
                shutil.rmtree(run_dir, ignore_errors=True)
