"""Web chat: a self-contained page at / and a small JSON API behind it.

Buttons are shown as buttons, but the browser only ever sends back (message id, index): the payload is
looked up server-side among the buttons this conversation was offered, never taken from the client.

Turns are rate-limited per web session and per client address (token buckets, ``WebChatLimits``). A
refused turn is answered 429 before anything is stored or forwarded, with ``stored: false`` and the
reason in the person's language; the page puts the text back into the input box, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .config import Settings
from .models import Button, Delivery, InboundMessage, Reply
from .router import Router
from .store import Store
from .texts import LANGUAGES, normalise_language
from .texts import text as say

PAGE = Path(__file__).with_name("web") / "webchat.html"
# the topic names' one home (the assistant's quick replies use them too)
TOPIC_LABELS = Path(__file__).resolve().parent.parent / "actions" / "labels.yml"
SESSION_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
POLL_SECONDS = 20.0


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """One token bucket per key: ``burst`` tokens at most, refilled at ``per_minute``.

    Per process: with several gateway processes a person may get up to that many times the rate, which
    is acceptable for a limit meant to stop floods, not to meter. Buckets that have refilled completely
    are forgotten when the table grows, so memory stays bounded however many addresses come by.
    """

    def __init__(
        self,
        per_minute: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 50_000,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = max(1, burst)
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def _refilled(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            return _Bucket(float(self.burst), now)
        tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
        return _Bucket(tokens, now)

    def wait_seconds(self, key: str) -> float:
        """0 when ``key`` may go now, else how long until it may (nothing is taken)."""
        if not self.enabled:
            return 0.0
        bucket = self._refilled(key, self.clock())
        return 0.0 if bucket.tokens >= 1 else (1 - bucket.tokens) / self.rate

    def take(self, key: str) -> None:
        if not self.enabled:
            return
        bucket = self._refilled(key, self.clock())
        bucket.tokens -= 1
        self._buckets[key] = bucket
        if len(self._buckets) > self.max_keys:
            self._forget_full(bucket.updated)

    def _forget_full(self, now: float) -> None:
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.updated) * self.rate >= self.burst]
        for key in full:
            del self._buckets[key]


class WebChatLimits:
    """The web chat's two limits: per session (one person) and per client address (one office, or a
    script opening new sessions). A turn must fit both; a refused turn takes no token from either."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_session = TokenBuckets(
            settings.webchat_session_per_minute, settings.webchat_session_burst, clock=clock
        )
        self.per_address = TokenBuckets(
            settings.webchat_ip_per_minute, settings.webchat_ip_burst, clock=clock
        )

    def admit(self, session: str, address: str) -> float:
        """Take a token from both buckets and return 0, or return the seconds to wait (nothing taken)."""
        wait = max(self.per_session.wait_seconds(session), self.per_address.wait_seconds(address))
        if wait > 0:
            return wait
        self.per_session.take(session)
        self.per_address.take(address)
        return 0.0


def client_address(request: Request) -> str:
    """The client's address. Behind a reverse proxy uvicorn takes it from X-Forwarded-For when the proxy
    is trusted (``--forwarded-allow-ips`` / FORWARDED_ALLOW_IPS, 127.0.0.1 by default)."""
    return request.client.host if request.client else "unknown"


class WebSender:
    """The web chat's outbound sender: a message is delivered once it is stored; the page fetches it."""

    channel = "web"

    def __init__(self, store: Store) -> None:
        self.store = store

    async def send(
        self, user_id: str, replies: list[Reply], *, reply_to: int | None = None, author: str = "bot"
    ) -> list[Delivery]:
        deliveries = []
        for reply in replies:
            message_id = await self.store.call(
                self.store.record_outbound,
                f"web:{user_id}",
                reply.text,
                status="sent",
                author=reply.author or author,
                data={"buttons": [b.as_dict() for b in reply.buttons], "image": reply.image}
                if (reply.buttons or reply.image)
                else None,
                reply_to=reply_to,
            )
            deliveries.append(Delivery("sent", message_id))
        return deliveries


def render_row(row: dict[str, Any]) -> dict[str, Any]:
    data = row.get("data") or {}
    return {
        "id": row["id"],
        "direction": row["direction"],
        "author": row["author"],
        "text": row["text"],
        "buttons": [{"index": i, "title": b["title"]} for i, b in enumerate(data.get("buttons", []))]
        if row["direction"] == "out"
        else [],
        "image": data.get("image") if row["direction"] == "out" else None,
    }


def greeting() -> dict[str, dict[str, Any]]:
    """What the page shows before the person types, per language: the greeting and the topic buttons
    (tapping one sends its name as the person's message)."""
    labels = yaml.safe_load(TOPIC_LABELS.read_text(encoding="utf-8"))["topic_labels"]

    def topics(lang: str) -> list[str]:
        # "what can I get" first: the question most people come with
        return sorted(labels[lang].values(), key=lambda title: title != labels[lang]["eligibility"])

    return {lang: {"text": say("webchat_greeting", lang), "topics": topics(lang)} for lang in LANGUAGES}


def render_page() -> str:
    """The page with the greeting filled in (as JSON inside a non-executed script element)."""
    data = json.dumps(greeting(), ensure_ascii=False).replace("</", "<\\/")
    return PAGE.read_text(encoding="utf-8").replace("{{GREETING}}", data)


class WebChat:
    def __init__(self, router: Router, settings: Settings | None = None) -> None:
        self.router = router
        self.store = router.store
        self._page = render_page()
        self._limits = WebChatLimits(settings) if settings else None

    def limits(self, request: Request) -> WebChatLimits:
        """Built from the running gateway's settings the first time (the app assembles ``WebChat``
        with the router only)."""
        if self._limits is None:
            self._limits = WebChatLimits(request.app.state.gateway.settings)
        return self._limits

    def routes(self) -> list[Route]:
        return [
            Route("/", self.page, methods=["GET"]),
            Route("/api/chat", self.chat, methods=["POST"]),
            Route("/api/chat/poll", self.poll, methods=["GET"]),
        ]

    async def page(self, request: Request) -> Response:
        return HTMLResponse(
            self._page,
            headers={
                "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'",
                "Cache-Control": "no-store",
            },
        )

    async def chat(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "body must be JSON"}, status_code=400)
        if not isinstance(body, dict):
            return JSONResponse({"error": "body must be a JSON object"}, status_code=400)
        session = body.get("session")
        if not (isinstance(session, str) and SESSION_RE.match(session)):
            session = secrets.token_urlsafe(18)
        language = normalise_language(body.get("language"), self.router.default_language)
        wait = self.limits(request).admit(session, client_address(request))
        if wait > 0:
            return rate_limited(session, language, wait)
        conversation_id = f"web:{session}"
        message = InboundMessage(channel="web", user_id=session, language=language)
        button = body.get("button")
        if button is not None:
            chosen = await self._chosen_button(conversation_id, button)
            if chosen is None:
                return JSONResponse(
                    {"error": "that button was not offered in this conversation"}, status_code=400
                )
            message.kind, message.text, message.payload = "button", chosen.title, chosen.payload
        else:
            text = body.get("text")
            if not isinstance(text, str) or not text.strip():
                return JSONResponse({"error": "text is required"}, status_code=400)
            message.text = text
        if body.get("language"):
            await self.store.call(self.store.set_language, "web", session, language)
        turn = await self.router.handle(message)
        rows = await self.store.call(
            self.store.messages, conversation_id, after_id=turn.inbound_id, direction="out"
        )
        return JSONResponse(
            {"session": session, "messages": [render_row(r) for r in rows if r["status"] == "sent"]}
        )

    async def _chosen_button(self, conversation_id: str, button: Any) -> Button | None:
        if not isinstance(button, dict):
            return None
        message_id, index = button.get("message_id"), button.get("index")
        if not isinstance(message_id, int) or not isinstance(index, int):
            return None
        row = await self.store.call(self.store.message, message_id)
        if not row or row["conversation_id"] != conversation_id or row["direction"] != "out":
            return None
        offered = Store.offered_buttons(row)
        return offered[index] if 0 <= index < len(offered) else None

    async def poll(self, request: Request) -> Response:
        """Long poll for messages that arrive outside a turn (an officer's reply, a handoff notice)."""
        session = request.query_params.get("session", "")
        if not SESSION_RE.match(session):
            return JSONResponse({"error": "unknown session"}, status_code=400)
        try:
            after = int(request.query_params.get("after", "0"))
            wait = min(float(request.query_params.get("wait", POLL_SECONDS)), POLL_SECONDS)
        except ValueError:
            return JSONResponse({"error": "after and wait must be numbers"}, status_code=400)
        conversation_id = f"web:{session}"
        with self.router.bus.subscription(conversation_id) as queue:
            rows = await self.store.call(
                self.store.messages, conversation_id, after_id=after, direction="out"
            )
            if not rows and wait > 0:
                try:
                    # Another process may write too: wake on our own events, re-read the database anyway.
                    await asyncio.wait_for(queue.get(), timeout=wait)
                except asyncio.TimeoutError:
                    pass
                rows = await self.store.call(
                    self.store.messages, conversation_id, after_id=after, direction="out"
                )
        return JSONResponse({"messages": [render_row(r) for r in rows if r["status"] == "sent"]})


def rate_limited(session: str, language: str, wait: float) -> JSONResponse:
    """429 with the reason in the person's language; nothing was stored, so the client resends."""
    seconds = max(1, math.ceil(wait))
    return JSONResponse(
        {
            "error": "rate_limited",
            "message": say("rate_limited", language, seconds=seconds),
            "retry_after": seconds,
            "stored": False,
            "session": session,
        },
        status_code=429,
        headers={"Retry-After": str(seconds)},
    )
