"""Fixtures: every party the gateway talks to runs as a real HTTP server on 127.0.0.1 with a free port."""

from __future__ import annotations

import os
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from gateway_harness import (
    RASA_TOKEN,
    TELEGRAM_TOKEN,
    WECHAT_APP_ID,
    WECHAT_SECRET,
    WECHAT_TOKEN,
    Running,
    make_settings,
    running_gateway,
)

from bot.testing.rasa_standin import RasaStandIn
from bot.testing.server import serve
from bot.testing.telegram_standin import TelegramStandIn
from bot.testing.wechat_standin import WeChatApiStandIn, WeChatServer

ROOT = Path(__file__).resolve().parents[2]


def _assistant_available() -> bool:
    url = os.environ.get("RASA_E2E_URL")
    if url:
        try:
            with urllib.request.urlopen(f"{url}/", timeout=2):
                return True
        except OSError:
            pass
    model = Path(os.environ.get("MODELS_DIR", ROOT / "models")) / "assistant.tar.gz"
    return model.exists()


def pytest_collection_modifyitems(config, items):
    """Skip the gateway's e2e tests, with the reason, when there is no assistant to run them against."""
    mine = [i for i in items if i.get_closest_marker("e2e") and "tests/bot/" in str(i.fspath)]
    if mine and not _assistant_available():
        reason = "e2e: no Rasa reachable at RASA_E2E_URL and no trained model to start one (make train)"
        for item in mine:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
async def rasa() -> AsyncIterator[RasaStandIn]:
    standin = RasaStandIn(token=RASA_TOKEN)
    async with serve(standin.app) as url:
        standin.url = url
        yield standin


@pytest.fixture
async def wechat_api() -> AsyncIterator[WeChatApiStandIn]:
    standin = WeChatApiStandIn(WECHAT_APP_ID, WECHAT_SECRET)
    async with serve(standin.app) as url:
        standin.url = url
        yield standin


@pytest.fixture
async def telegram_api() -> AsyncIterator[TelegramStandIn]:
    standin = TelegramStandIn(TELEGRAM_TOKEN)
    async with serve(standin.app) as url:
        standin.url = url
        yield standin


@pytest.fixture
def aes_key() -> str:
    return WeChatServer.new_aes_key()


@pytest.fixture
def wechat_server(aes_key: str) -> WeChatServer:
    return WeChatServer(WECHAT_TOKEN, WECHAT_APP_ID, aes_key)


@pytest.fixture
def gateway_factory(tmp_path: Path):
    """``async with gateway_factory(rasa_urls, **settings) as gw:`` starts a gateway on a free port."""

    def factory(rasa_urls: tuple[str, ...], **overrides: Any):
        return running_gateway(make_settings(tmp_path, rasa_urls, **overrides))

    return factory


@pytest.fixture
async def wechat_gateway(rasa, wechat_api, aes_key, gateway_factory) -> AsyncIterator[Running]:
    """A gateway with the WeChat channel in safe (AES) mode and the customer-service API stand-in."""
    async with gateway_factory(
        (rasa.url,),
        wechat_token=WECHAT_TOKEN,
        wechat_app_id=WECHAT_APP_ID,
        wechat_app_secret=WECHAT_SECRET,
        wechat_aes_key=aes_key,
        wechat_api_base_url=f"{wechat_api.url}/cgi-bin/",
        wechat_passive_deadline=1.0,
    ) as running:
        yield running
