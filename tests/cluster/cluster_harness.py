"""What the cluster tests do as people, officers and channel servers: real protocols through real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from bot.testing.wechat_standin import WeChatServer
from scripts.cluster.topology import ROOT, Cluster

WECHAT_TOKEN, WECHAT_APP_ID, WECHAT_SECRET = "clustertoken", "wxcluster0001", "cluster-secret"
TELEGRAM_TOKEN = "123456:CLUSTER-TEST-TOKEN"
TELEGRAM_SECRET = "cluster-webhook-secret"
STAFF_PASSWORD = "cluster-officer-password-1"


@dataclass
class RunningCluster:
    cluster: Cluster
    standins: Any  # conftest.StandIns
    wechat: WeChatServer
    rasa_mode: str

    @property
    def url(self) -> str:
        return self.cluster.public_url


def add_officer(rc: RunningCluster, login: str) -> None:
    env = dict(rc.cluster.services["gateway0"].env)
    subprocess.run(
        [sys.executable, "-m", "bot", "staff", "add", login, "--role", "officer", "--name", f"干部{login}"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )


async def officer(base_url: str, login: str) -> httpx.AsyncClient:
    """A logged-in console client (cookie + CSRF header)."""
    client = httpx.AsyncClient(base_url=base_url, timeout=30)
    response = await client.post("/console/api/login", json={"login": login, "password": STAFF_PASSWORD})
    response.raise_for_status()
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


async def read_events(response: httpx.Response, into: list[tuple[str, dict]]) -> None:
    event = None
    with contextlib.suppress(httpx.ReadError, httpx.StreamClosed, httpx.RemoteProtocolError):
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: ") and event:
                into.append((event, json.loads(line[len("data: ") :])))
                event = None


def query(rc: RunningCluster, sql: str, **params: Any) -> list[dict[str, Any]]:
    engine = create_engine(rc.cluster.database_url("gateway"), future=True)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


async def wechat_post(
    client: httpx.AsyncClient, rc: RunningCluster, xml: str, base_url: str | None = None
) -> tuple[int, str | None]:
    """POST a message as WeChat's servers do; (HTTP status, passive reply text or None)."""
    request = rc.wechat.request(xml)
    response = await client.post(
        f"{base_url or rc.url}/wechat",
        params=request.params,
        content=request.body,
        headers={"Content-Type": "text/xml"},
    )
    if response.status_code != 200:
        return response.status_code, None
    return 200, rc.wechat.read_reply(response.text, request.params)


async def telegram_post(client: httpx.AsyncClient, rc: RunningCluster, update: dict[str, Any]) -> int:
    response = await client.post(
        f"{rc.url}/telegram/webhook",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
    )
    return response.status_code


async def eventually(predicate, seconds: float, step: float = 0.2) -> bool:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if predicate():
            return True
        await asyncio.sleep(step)
    return predicate()
