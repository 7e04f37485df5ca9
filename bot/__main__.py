"""``python -m bot`` serves the gateway; ``python -m bot wechat-menu`` prints the official account's menu;
``python -m bot staff add|list|disable`` manages staff console accounts."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from types import FrameType

import uvicorn

from .app import create_app
from .config import Settings
from .logsafe import install_redaction

# open responses (web chat long polls, console event streams) get at most this long once a stop is asked
GRACEFUL_SHUTDOWN_SECONDS = 5


class GatewayServer(uvicorn.Server):
    """uvicorn's server that tells the gateway the moment a stop is asked (SIGTERM, Ctrl-C), before it
    waits for open responses: web chat turns still waiting for Rasa then answer "the answer follows"
    within the grace period instead of being cut off."""

    def __init__(self, config: uvicorn.Config, on_stop: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_stop = on_stop

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.on_stop()
        super().handle_exit(sig, frame)


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_redaction([settings.telegram_token, settings.wechat_app_secret, settings.rasa_token])
    # httpx logs every request URL at INFO (Telegram's contain the bot token): keep only its warnings.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def main(argv: list[str]) -> int:
    if argv[:1] == ["wechat-menu"]:
        from .wechat_menu import menu_definition

        print(json.dumps(menu_definition(), ensure_ascii=False, indent=2))
        return 0
    if argv[:1] == ["staff"]:
        from .console.cli import main as staff_main

        return staff_main(argv[1:])
    settings = Settings.from_env()
    configure_logging(settings)
    for note in settings.disabled_channel_notes():
        print(note, flush=True)
    print(f"web chat: http://{settings.host}:{settings.port}/", flush=True)
    print(f"staff console: http://{settings.host}:{settings.port}/console", flush=True)
    app = create_app(settings)
    # ws="none": Rasa pins an old `websockets` that uvicorn's automatic WebSocket support cannot import;
    # the gateway needs no WebSocket (the console streams with server-sent events).
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=False,
        ws="none",
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    GatewayServer(config, app.state.gateway.begin_shutdown).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
