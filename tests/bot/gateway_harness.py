"""Shared helpers for the gateway tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from bot.app import Gateway, create_app
from bot.config import Settings
from bot.store import cases
from bot.testing.server import serve

WECHAT_TOKEN = "rczdc-test-token"
WECHAT_APP_ID = "wx0123456789abcdef"
WECHAT_SECRET = "test-app-secret-0123456789"
TELEGRAM_TOKEN = "123456:TEST-token-AbCdEfGhIjKl"
RASA_TOKEN = "rasa-test-token"


@dataclasses.dataclass
class Running:
    url: str
    gateway: Gateway
    http: httpx.AsyncClient


def make_settings(tmp_path: Path, rasa_urls: tuple[str, ...], **overrides: Any) -> Settings:
    base = Settings(
        database_url=f"sqlite:///{tmp_path / 'gateway.db'}",
        rasa_urls=rasa_urls,
        rasa_token=RASA_TOKEN,
        rasa_timeout=10.0,
        rasa_connect_retries=2,
    )
    return dataclasses.replace(base, **overrides)


@contextlib.asynccontextmanager
async def running_gateway(settings: Settings) -> AsyncIterator[Running]:
    app = create_app(settings)
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        yield Running(url, app.state.gateway, http)


async def wait_for(condition, timeout: float = 5.0) -> None:
    """Poll a condition briefly (the only kind of waiting these tests do)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def cases_of(gateway: Gateway, conversation_id: str) -> list[dict[str, Any]]:
    """The staff cases opened for a conversation, oldest first."""
    with gateway.store.engine.connect() as conn:
        rows = conn.execute(
            select(cases).where(cases.c.conversation_id == conversation_id).order_by(cases.c.id)
        )
        return [dict(r._mapping) for r in rows]


class GatewayProcess:
    """``python -m bot`` as a real process on a free port with a given environment (killed by the tests)."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        import os

        from bot.testing.process import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        keep = {"PATH", "HOME", "LANG"}
        self.env = {k: v for k, v in os.environ.items() if k in keep}
        self.env.update(
            BOT_PORT=str(self.port),
            BOT_DATABASE_URL=f"sqlite:///{tmp_path / 'gateway.db'}",
            PYTHONUNBUFFERED="1",
            **env,
        )
        self.log = tmp_path / "gateway.log"
        self.process = None

    async def start(self) -> None:
        from bot.testing.process import start_gateway

        with open(self.log, "ab") as log:
            self.process = start_gateway(self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient() as http:
            while True:
                if self.process.poll() is not None:
                    raise AssertionError(f"gateway exited: {self.log.read_text()[-2000:]}")
                try:
                    if (await http.get(f"{self.url}/healthz", timeout=2)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError("gateway did not start")
                await asyncio.sleep(0.1)

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    async def wait(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                self.process.kill()
                raise AssertionError("gateway did not stop")
            await asyncio.sleep(0.05)
        return self.process.returncode

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def logs(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")
