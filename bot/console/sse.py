"""``GET /console/api/events``: the gateway's event bus as server-sent events, rendered for the viewer.

uvicorn runs with ws="none", so live updates are SSE over a StreamingResponse. A stream ends when the
client goes away (Starlette cancels it on http.disconnect) or when the gateway begins shutting down
(``gateway.stopping``, checked every second), so it never holds up a shutdown.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ..events import ALL
from . import render
from .api import ConsoleApi
from .api_common import ApiError, error
from .auth import Session
from .settings import config

log = logging.getLogger(__name__)
CHECK_SECONDS = 1.0


def sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"


class EventStream:
    def __init__(self, api: ConsoleApi) -> None:
        self.api = api
        self.gateway = api.gateway
        self.store = api.store
        self.cases = api.desk.cases
        self.ping_seconds = float(config()["events"]["ping_seconds"])

    async def endpoint(self, request: Request) -> Response:
        try:
            session = await self.api.session_of(request)
        except ApiError as problem:
            return error(problem.status, problem.code)
        return StreamingResponse(
            self.events(session),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    def stopping(self) -> bool:
        return bool(getattr(self.gateway, "stopping", False))

    async def events(self, session: Session) -> AsyncIterator[str]:
        with self.gateway.bus.subscription(ALL) as queue:
            yield "retry: 3000\n\n"
            last_write = time.monotonic()
            while not self.stopping():
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=CHECK_SECONDS)
                except asyncio.TimeoutError:
                    if time.monotonic() - last_write >= self.ping_seconds:
                        # also how a stream notices an expired session or a disabled account
                        if (await self.store.call(self.api.accounts.session_still_valid, session)) is False:
                            return
                        yield ": ping\n\n"
                        last_write = time.monotonic()
                    continue
                try:
                    chunk = await self.render(event, session)
                except Exception:  # one bad event must not end every officer's stream
                    log.exception("console event could not be rendered")
                    continue
                if chunk:
                    yield chunk
                    last_write = time.monotonic()

    async def render(self, event: dict[str, Any], session: Session) -> str | None:
        kind = event.get("type")
        names = await self.api.names()
        if kind in ("case_opened", "case_updated"):
            case = await self.store.call(self.cases.get, event["case_id"])
            if case is None:
                return None
            return sse(kind, {"case": await self.api.summary(case, names)})
        if kind == "note":
            rows = await self.store.call(self.cases.notes, event["case_id"])
            note = next((n for n in rows if n["id"] == event.get("note_id")), None)
            return (
                sse("note", {"case_id": event["case_id"], "note": render.note(note, names)}) if note else None
            )
        if kind == "message" and event.get("id"):
            row = await self.store.call(self.store.message, event["id"])
            if row is None or row["status"] == "suppressed":
                return None
            case = await self.store.call(self.cases.open_case_for, event["conversation_id"])
            unmasked = bool(case) and await self.api.sees_clear(case, session)
            return sse(
                "message",
                {
                    "case_id": case["id"] if case else None,
                    "conversation_id": event["conversation_id"],
                    "message": render.message(row, names, unmasked=unmasked),
                },
            )
        return None
