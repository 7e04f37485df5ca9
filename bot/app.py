"""Assemble the gateway: store, Rasa client, router, channels, routes and their lifecycle."""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from .config import Settings
from .events import event_bus
from .logsafe import install_redaction
from .rasa_client import RasaClient
from .router import Router, SenderRegistry
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
        self.bus = event_bus(settings.redis_url)  # cluster hook: relayed through Redis when set
        # set when shutdown begins: long-lived responses (the console's event streams) end on it
        self.stopping = False
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
        )
        self.senders.register(WebSender(self.store))
        self.webchat = WebChat(self.router)
        self.wechat = None
        self.telegram = None
        if settings.wechat_enabled:
            self._setup_wechat()
        if settings.telegram_enabled:
            self._setup_telegram()

    def _setup_wechat(self) -> None:
        from .wechat import StableTokenClient, WeChatChannel, WeChatSender, token_storage

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
        routes += console_routes(self)
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
        await self.store.call(self.store.migrate)
        for hook in self.on_start:
            await hook()
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

    async def stop(self) -> None:
        self.stopping = True
        if self.wechat:
            await self.wechat.close()
        if self.telegram:
            with contextlib.suppress(Exception):
                await self.telegram.stop()
        await self.bus.aclose()  # cluster hook: stops the Redis relay
        await self.rasa.aclose()
        self.store.dispose()


def _disabled(channel: str):
    async def endpoint(request: Request) -> Response:
        return PlainTextResponse(f"{channel} is not configured on this gateway", status_code=404)

    return endpoint


def console_routes(gateway: Gateway) -> list[BaseRoute]:
    """Issue 5's staff console plugs in as ``bot.console`` exposing ``routes(gateway)``."""
    try:
        console = importlib.import_module("bot.console")
    except ModuleNotFoundError:

        async def placeholder(request: Request) -> Response:
            return PlainTextResponse("staff console: not installed", status_code=404)

        return [Route("/console", placeholder, methods=["GET"])]
    return list(console.routes(gateway))


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
