"""Assemble the gateway: store, Rasa client, router, channels, routes and their lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from . import console
from .config import Settings
from .events import event_bus
from .logsafe import install_redaction
from .rasa_client import RasaClient
from .replay import Replayer
from .router import Router
from .senders import SenderRegistry
from .store import Store
from .webchat import WebChat, WebSender

log = logging.getLogger(__name__)


class Gateway:
    """Everything one gateway process holds; ``app.state.gateway`` for extensions such as the console."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        install_redaction(
            [
                settings.telegram_token,
                settings.telegram_webhook_secret,
                settings.wechat_app_secret,
                settings.rasa_token,
            ]
        )
        self.store = Store(settings.database_url)
        self.rasa = RasaClient(
            settings.rasa_urls,
            token=settings.rasa_token,
            timeout=settings.rasa_timeout,
            connect_retries=settings.rasa_connect_retries,
        )
        self.bus = event_bus(settings.redis_url)  # relayed through Redis when set (several gateways)
        # set when shutdown begins: long-lived responses (the console's event streams) end on it, and web
        # chat turns still waiting for Rasa answer "the answer follows" (``stopped``)
        self.stopping = False
        self.stopped = asyncio.Event()
        # run after the database is migrated (the console announces a missing staff account)
        self.on_start: list[Callable[[], Awaitable[None]]] = []
        self.senders = SenderRegistry()
        self.router = Router(
            self.store,
            self.rasa,
            self.bus,
            self.senders,
            default_language=settings.default_language,
            max_text_chars=settings.max_text_chars,
            lease_seconds=settings.lease_seconds,
        )
        self.replayer = Replayer(
            self.router,
            interval=settings.replay_interval,
            give_up_after=settings.replay_give_up_seconds,
            retention_days=settings.retention_days,
            tracker_urls=settings.rasa_tracker_urls,
        )
        self.senders.register(WebSender(self.store))
        self.webchat = WebChat(self.router, settings, self.stopped)
        self.wechat = None
        self.telegram = None
        if settings.wechat_enabled:
            self._setup_wechat()
        if settings.telegram_enabled:
            self._setup_telegram()

    def _setup_wechat(self) -> None:
        from .wechat import WeChatChannel
        from .wechat_outbound import StableTokenClient, WeChatSender, token_storage

        client = None
        if self.settings.wechat_customer_service_enabled:
            client = StableTokenClient(
                self.settings.wechat_app_id,
                self.settings.wechat_app_secret,
                api_base_url=self.settings.wechat_api_base_url,
                session=token_storage(self.settings.wechat_token_store, self.store),
            )
        sender = WeChatSender(
            self.store,
            client,
            max_bytes=self.settings.wechat_max_bytes,
            default_language=self.settings.default_language,
        )
        self.senders.register(sender)
        self.wechat = WeChatChannel(self.settings, self.router, sender)

    def _setup_telegram(self) -> None:
        from .telegram_channel import TelegramChannel, TelegramSender, build_application

        application = build_application(self.settings, polling=self.settings.telegram_mode == "polling")
        self.senders.register(TelegramSender(self.store, application))
        self.telegram = TelegramChannel(self.settings, self.router, application)

    def routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = [Route("/healthz", self.healthz, methods=["GET"])]
        routes += self.webchat.routes()
        if self.wechat:
            routes += self.wechat.routes()
        if self.telegram:
            routes += self.telegram.routes()
        else:
            routes.append(Route("/telegram/webhook", _disabled("telegram"), methods=["POST"]))
        if not self.wechat:
            routes.append(Route("/wechat", _disabled("wechat"), methods=["GET", "POST"]))
        # the staff console installs its case desk as the router's handoff hook
        routes += console.routes(self)
        return routes

    async def healthz(self, request: Request) -> Response:
        try:
            version = await self.store.call(self.store.version)
        except Exception as error:  # the database is the one thing we cannot run without
            return JSONResponse({"status": "error", "database": type(error).__name__}, status_code=503)
        return JSONResponse(
            {
                "status": "ok",
                "schema_version": version,
                "channels": {"web": True, "wechat": bool(self.wechat), "telegram": bool(self.telegram)},
                "rasa_nodes": len(self.rasa.ring.nodes),
            }
        )

    async def start(self) -> None:
        self.stopping = False
        self.stopped.clear()
        await self.store.call(self.store.migrate)
        for hook in self.on_start:
            await hook()
        self.replayer.start()
        if self.telegram:
            try:
                await self.telegram.start()
            except Exception as error:
                log.error(
                    "telegram: could not start (%s); the other channels keep running", type(error).__name__
                )
                self.telegram_error = error

    def begin_shutdown(self) -> None:
        """Called as soon as the server is asked to stop, before it waits for open responses."""
        self.stopping = True
        try:  # from uvicorn's signal handler: wake the loop safely
            asyncio.get_running_loop().call_soon_threadsafe(self.stopped.set)
        except RuntimeError:
            self.stopped.set()

    async def stop(self) -> None:
        self.begin_shutdown()
        await self.replayer.stop()
        # turns cut short by the shutdown: the next process (or another one) replays them without waiting
        # for their lease to run out
        cut_short = set(self.router.in_flight)
        await self.webchat.cancel_turns()
        if self.wechat:
            await self.wechat.close()
        if self.telegram:
            with contextlib.suppress(Exception):
                await self.telegram.stop()
        await self.bus.aclose()  # cluster hook: stops the Redis relay
        await self.rasa.aclose()
        for inbound_id in cut_short | self.router.in_flight:
            with contextlib.suppress(Exception):
                await self.store.call(self.store.drop_lease, inbound_id)
        self.store.dispose()


def _disabled(channel: str):
    async def endpoint(request: Request) -> Response:
        return PlainTextResponse(f"{channel} is not configured on this gateway", status_code=404)

    return endpoint


def create_app(settings: Settings | None = None, **overrides: Any) -> Starlette:
    settings = settings or Settings.from_env()
    gateway = Gateway(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await gateway.start()
        try:
            yield
        finally:
            await gateway.stop()

    app = Starlette(routes=gateway.routes(), lifespan=lifespan)
    app.state.gateway = gateway
    return app
