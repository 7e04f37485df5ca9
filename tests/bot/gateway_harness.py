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
