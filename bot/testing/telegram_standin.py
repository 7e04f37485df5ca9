"""A local Telegram Bot API server python-telegram-bot can be pointed at with ``base_url``.

Records every call (``calls``), answers getMe/sendMessage/answerCallbackQuery/setWebhook/deleteWebhook/
getUpdates, and can answer the next sendMessage calls with flood control (429 retry_after).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BOT_ID = 7000001


class TelegramStandIn:
    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.updates: asyncio.Queue = asyncio.Queue()
        self.flood_next = 0
        self.wrong_token_calls = 0
        self._message_ids = itertools.count(100)
        self.app = Starlette(routes=[Route("/bot{token}/{method}", self.method, methods=["GET", "POST"])])

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        return [
            p
            for m, p in self.calls
            if m == "sendMessage" and (chat_id is None or int(p["chat_id"]) == chat_id)
        ]

    async def method(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            self.wrong_token_calls += 1
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401
            )
        name = request.path_params["method"]
        params = await self._params(request)
        self.calls.append((name, params))
        handler = getattr(self, f"on_{name}", None)
        if handler is None:
            return JSONResponse({"ok": True, "result": True})
        return await handler(params)

    @staticmethod
    async def _params(request: Request) -> dict[str, Any]:
        if request.headers.get("content-type", "").startswith("application/json"):
            return await request.json()
        # python-telegram-bot posts url-encoded forms, each value JSON-encoded (no multipart without files).
        form = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True)
        params: dict[str, Any] = {}
        for key, value in form:
            try:
                params[key] = json.loads(value)
            except (TypeError, ValueError):
                params[key] = value
        return params

    async def on_getMe(self, params: dict[str, Any]) -> JSONResponse:
        return JSONResponse(
            {
                "ok": True,
                "result": {
                    "id": BOT_ID,
                    "is_bot": True,
                    "first_name": "人才直达车",
                    "username": "rczdc_test_bot",
                },
            }
        )

    async def on_sendMessage(self, params: dict[str, Any]) -> JSONResponse:
        if self.flood_next:
            self.flood_next -= 1
            return JSONResponse(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                },
                status_code=429,
            )
        chat_id = int(params["chat_id"])
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "人才直达车"},
            "text": params.get("text", ""),
        }
        return JSONResponse({"ok": True, "result": message})

    async def on_getUpdates(self, params: dict[str, Any]) -> JSONResponse:
        # Capped: a test that stops polling should not wait out a 10-second long poll.
        timeout = min(float(params.get("timeout") or 0), 0.3)
        updates = []
        try:
            updates.append(await asyncio.wait_for(self.updates.get(), timeout=max(timeout, 0.01)))
        except asyncio.TimeoutError:
            pass
        while not self.updates.empty():
            updates.append(self.updates.get_nowait())
        offset = int(params.get("offset") or 0)
        return JSONResponse({"ok": True, "result": [u for u in updates if u["update_id"] >= offset]})


_update_ids = itertools.count(1000)


def text_update(
    chat_id: int, text: str, *, language_code: str = "en", update_id: int | None = None
) -> dict[str, Any]:
    """A private-chat text update, as Telegram posts it to a webhook."""
    update = {
        "update_id": update_id or next(_update_ids),
        "message": {
            "message_id": next(_update_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Test"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Test", "language_code": language_code},
            "text": text,
        },
    }
    if text.startswith("/"):
        command = text.split()[0]
        update["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return update


def callback_update(chat_id: int, data: str, *, language_code: str = "en") -> dict[str, Any]:
    """An inline-keyboard press."""
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": str(next(_update_ids)),
            "chat_instance": "ci",
            "from": {"id": chat_id, "is_bot": False, "first_name": "Test", "language_code": language_code},
            "data": data,
            "message": {
                "message_id": next(_update_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "bot"},
                "text": "options",
            },
        },
    }


def photo_update(chat_id: int) -> dict[str, Any]:
    return {
        "update_id": next(_update_ids),
        "message": {
            "message_id": next(_update_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Test", "language_code": "zh-hans"},
            "photo": [{"file_id": "f1", "file_unique_id": "u1", "width": 10, "height": 10}],
        },
    }
