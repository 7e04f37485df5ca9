"""``python -m bot`` serves the gateway; ``python -m bot wechat-menu`` prints the official account's menu."""

from __future__ import annotations

import json
import logging
import sys

import uvicorn

from .app import create_app
from .config import Settings
from .logsafe import install_redaction


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_redaction([settings.telegram_token, settings.wechat_app_secret, settings.rasa_token])
    # httpx logs every request URL at INFO (Telegram's contain the bot token): keep only its warnings.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def main(argv: list[str]) -> int:
    if argv[:1] == ["wechat-menu"]:
        from .wechat import menu_definition

        print(json.dumps(menu_definition(), ensure_ascii=False, indent=2))
        return 0
    settings = Settings.from_env()
    configure_logging(settings)
    for note in settings.disabled_channel_notes():
        print(note, flush=True)
    print(f"web chat: http://{settings.host}:{settings.port}/", flush=True)
    # ws="none": Rasa pins an old `websockets` that uvicorn's automatic WebSocket support cannot import;
    # the gateway needs no WebSocket (a console can stream with server-sent events).
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=False,
        ws="none",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
