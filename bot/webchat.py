"""Web chat: a self-contained page at / and a small JSON API behind it.

Buttons are shown as buttons, but the browser only ever sends back (message id, index): the payload is
looked up server-side among the buttons this conversation was offered, never taken from the client.

A button belongs to the question it came with: once the person has sent anything after it, pressing
it gets "this option has expired" and the current question again.

Turns are rate-limited per web session and per client address (token buckets, ``WebChatLimits``). A
refused turn is answered 429 before anything is stored or forwarded, with ``stored: false`` and the
reason in the person's language; the page puts the text back into the input box, so nothing is lost.

The page gives each message a client id and keeps it until the gateway answered; after no response or a
5xx (its gateway died mid-turn, the load balancer said 502) it sends it again with the same id. The
message is stored once per (session, client id); a resend gets the stored answer, or "the answer follows"
while the first attempt is still being answered (the replay answers a message whose gateway died).

Input is bounded (bot/http_input.py): body size before parsing, JSON depth, types and ranges → 400/413
with a reason. A turn still waiting for Rasa when the gateway is asked to stop is answered "the answer
follows" and stays stored for the replay (bot/replay.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import re
import secrets
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from policies.topics import overview_ids, topic_ids, topic_label

from .config import Settings
from .conversation_locks import Place
from .http_input import BadInput, bounded_int, guarded, parse_json, read_body
from .models import Button, Delivery, InboundMessage, Reply, Turn
from .router import Router
from .shared_limits import RedisWebChatLimits
from .store import PENDING, Store
from .texts import LANGUAGES, normalise_language
from .texts import text as say
from .webchat_limits import WebChatLimits, client_address

log = logging.getLogger(__name__)

PAGE = Path(__file__).with_name("web") / "webchat.html"
SESSION_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,40}$")  # the page's id for one message (session/id: 105 chars)
POLL_SECONDS = 20.0
HISTORY_LIMIT = 500
MAX_BUTTONS = 100
# once the gateway is asked to stop, a turn still waiting for Rasa gets this long before the person is
# told the answer follows (uvicorn's grace in bot/__main__.py is longer)
STOP_GRACE_SECONDS = 2.0


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

    def topics(lang: str) -> list[str]:
        # "what can I get" (the overview) first: the question most people come with
        return [topic_label(topic, lang) for topic in (*overview_ids(), *topic_ids())]

    return {lang: {"text": say("webchat_greeting", lang), "topics": topics(lang)} for lang in LANGUAGES}


def render_page() -> str:
    """The page with the greeting filled in (as JSON inside a non-executed script element)."""
    data = json.dumps(greeting(), ensure_ascii=False).replace("</", "<\\/")
    return PAGE.read_text(encoding="utf-8").replace("{{GREETING}}", data)


class WebChat:
    def __init__(self, router: Router, settings: Settings, stopped: asyncio.Event | None = None) -> None:
        self.router = router
        self.store = router.store
        self.settings = settings
        self.stopped = stopped or asyncio.Event()
        self._page = render_page()
        self.limits: WebChatLimits | RedisWebChatLimits = WebChatLimits(settings)
        if settings.redis_url:  # the same limits, held across gateway processes
            self.limits = RedisWebChatLimits(settings, fallback=self.limits)
        self.turns: set[asyncio.Future] = set()  # turns cut short at shutdown are cancelled, then replayed

    def routes(self) -> list[Route]:
        return [
            Route("/", self.page, methods=["GET"]),
            Route("/api/chat", self.chat, methods=["POST"]),
            Route("/api/chat/poll", self.poll, methods=["GET"]),
            Route("/api/chat/history", self.history, methods=["GET"]),
        ]

    async def page(self, request: Request) -> Response:
        return HTMLResponse(
            self._page,
            headers={
                "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'",
                "Cache-Control": "no-store",
            },
        )

    @guarded("web chat", log)
    async def chat(self, request: Request) -> Response:
        body = parse_json(await read_body(request, self.settings.max_body_bytes))
        if not isinstance(body, dict):
            raise BadInput(400, "body must be a JSON object")
        session = body.get("session")
        if not (isinstance(session, str) and SESSION_RE.match(session)):
            session = secrets.token_urlsafe(18)
        # The message takes its place in the session's line before anything awaits: two messages sent
        # at once keep their order even when a look-up below finishes first for the later one.
        place = self.router.locks.join(f"web:{session}")
        try:
            return await self._chat_turn(request, body, session, place)
        finally:
            place.abandon()  # unless its turn took it over

    async def _chat_turn(self, request: Request, body: dict, session: str, place: Place) -> Response:
        language = self._language(body.get("language"))
        # only a language the person chose is stated; otherwise the assistant reads it from their words
        stated = language if body.get("language") is not None else None
        message = InboundMessage(channel="web", user_id=session, language=stated)
        message.external_id = self._client_message_id(session, body.get("client_id"))
        button = body.get("button")
        if button is None:
            message.text = self._text(body.get("text"))
        stored = None
        if message.external_id:
            stored = await self.store.call(self.store.find_inbound, "web", message.external_id)
            if stored is not None and stored["status"] not in PENDING:
                return await self._stored_answer(session, stored["id"], language, pending=False)
        if stored is None:  # a resend of a stored message is not a new turn: it is not metered
            wait = self.limits.admit(session, client_address(request))  # the one place turns are metered
            if wait > 0:
                return rate_limited(session, language, wait)
        conversation_id = f"web:{session}"
        local_replies = None
        if button is not None:
            offered, chosen = await self._chosen_button(conversation_id, button)
            if await self.store.call(self.store.person_spoke_after, conversation_id, offered["id"]):
                message.kind, message.text = "event", f"[{chosen.title}]"
                local_replies = await self.router.stale_button_replies(conversation_id, language)
            else:
                message.kind, message.text, message.payload = "button", chosen.title, chosen.payload
        if body.get("language") is not None:
            await self.store.call(self.store.set_language, "web", session, language)
        turn = await self._run_turn(message, local_replies, place)
        if turn is None:
            return JSONResponse({"session": session, "messages": [notice(say("shutting_down", language))]})
        if turn.duplicate:  # a resend (same client id) of a message stored before: never a second turn
            return await self._stored_answer(session, turn.inbound_id, language, pending=turn.pending)
        rows = await self.store.call(
            self.store.messages, conversation_id, after_id=turn.inbound_id, direction="out"
        )
        return JSONResponse(
            {
                "session": session,
                "inbound_id": turn.inbound_id or None,
                "messages": [render_row(r) for r in rows if r["status"] == "sent"],
            }
        )

    @staticmethod
    def _client_message_id(session: str, client_id: Any) -> str | None:
        """The page's own id for a message (kept until the gateway answered it, resent after a failure):
        stored as the message's external id, so a resend is stored once per conversation."""
        if client_id is None:
            return None
        if not (isinstance(client_id, str) and CLIENT_ID_RE.match(client_id)):
            raise BadInput(400, "client_id must be 8-40 letters, digits, '-' or '_'")
        return f"{session}/{client_id}"

    async def _stored_answer(
        self, session: str, inbound_id: int, language: str, *, pending: bool
    ) -> Response:
        """What a resent message gets: the answer stored for it, or, while its first attempt is still
        being answered (or its gateway died and the replay will answer it), "the answer follows"; the
        page's poll shows it when it comes."""
        rows = await self.store.call(self.store.replies_to, inbound_id)
        messages = [render_row(r) for r in rows if r["status"] == "sent"]
        if pending and not messages:
            messages = [notice(say("slow_ack", language))]
        return JSONResponse(
            {"session": session, "inbound_id": inbound_id, "pending": pending, "messages": messages}
        )

    async def _run_turn(
        self, message: InboundMessage, local_replies: list[Reply] | None, place: Place
    ) -> Turn | None:
        """The turn, or None when the gateway began to stop while it waited for Rasa: the message stays
        stored and unanswered, and the replay answers it (the page's poll shows the answer)."""
        turn = asyncio.ensure_future(self.router.handle(message, local_replies=local_replies, place=place))
        turn.add_done_callback(lambda _: place.abandon())  # a turn cancelled before it ever ran
        self.turns.add(turn)
        turn.add_done_callback(self.turns.discard)
        stopping = asyncio.ensure_future(self.stopped.wait())
        try:
            await asyncio.wait({turn, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not turn.done():
                await asyncio.wait({turn}, timeout=STOP_GRACE_SECONDS)
        finally:
            stopping.cancel()
        if turn.done():
            return turn.result()
        turn.add_done_callback(lambda t: t.cancelled() or t.exception())  # ends with the process
        return None

    async def cancel_turns(self) -> None:
        """At shutdown: stop turns still waiting for Rasa (their messages stay stored for the replay)."""
        for turn in list(self.turns):
            turn.cancel()
        if self.turns:
            await asyncio.wait(list(self.turns), timeout=1)

    def _language(self, value: Any) -> str:
        if value is None:
            return self.router.default_language
        if not isinstance(value, str) or len(value) > 16:
            raise BadInput(400, "language must be a language code such as zh or en")
        return normalise_language(value, self.router.default_language)

    def _text(self, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise BadInput(400, "text is required")
        # longer than the limit is kept and answered "please shorten" (router); far longer is refused
        if len(value) > 4 * self.settings.max_text_chars:
            raise BadInput(413, f"text too long (at most {self.settings.max_text_chars} characters)")
        return value

    async def _chosen_button(self, conversation_id: str, button: Any) -> tuple[dict[str, Any], Button]:
        if not isinstance(button, dict):
            raise BadInput(400, "button must be an object {message_id, index}")
        message_id = bounded_int(button.get("message_id"), "button.message_id", 1)
        index = bounded_int(button.get("index"), "button.index", 0, MAX_BUTTONS)
        row = await self.store.call(self.store.message, message_id)
        if row and row["conversation_id"] == conversation_id and row["direction"] == "out":
            offered = Store.offered_buttons(row)
            if index < len(offered):
                return row, offered[index]
        raise BadInput(400, "that button was not offered in this conversation")

    def _session(self, request: Request) -> str:
        session = request.query_params.get("session", "")
        if not SESSION_RE.match(session):
            raise BadInput(400, "unknown session")
        return session

    @guarded("web chat", log)
    async def poll(self, request: Request) -> Response:
        """Long poll for messages that arrive outside a turn (an officer's reply, a replayed answer)."""
        session = self._session(request)
        after = query_number(request, "after", 0, 2**53, int)
        wait = query_number(request, "wait", 0, POLL_SECONDS, float, default=POLL_SECONDS)
        conversation_id = f"web:{session}"
        with self.router.bus.subscription(conversation_id) as queue:
            rows = await self.store.call(
                self.store.messages, conversation_id, after_id=after, direction="out"
            )
            if not rows and wait > 0:
                with contextlib.suppress(asyncio.TimeoutError):
                    # Another process may write too: wake on our own events, re-read the database anyway.
                    await asyncio.wait_for(queue.get(), timeout=wait)
                rows = await self.store.call(
                    self.store.messages, conversation_id, after_id=after, direction="out"
                )
        return JSONResponse({"messages": [render_row(r) for r in rows if r["status"] == "sent"]})

    @guarded("web chat", log)
    async def history(self, request: Request) -> Response:
        """The whole conversation, both sides, for a page that was reloaded; only the last message's
        buttons are current (``stale`` on the others)."""
        conversation_id = f"web:{self._session(request)}"
        rows = await self.store.call(self.store.messages, conversation_id, limit=100_000)
        shown = [r for r in rows if r["direction"] == "in" or r["status"] == "sent"][-HISTORY_LIMIT:]
        rendered = [render_row(r) for r in shown]
        for item in rendered[:-1]:
            item["stale"] = True
        return JSONResponse({"messages": rendered})


def notice(text: str) -> dict[str, Any]:
    """A line from the gateway that is not stored (the page shows it once)."""
    return {"id": None, "direction": "out", "author": "gateway", "text": text, "buttons": []}


def query_number(request: Request, name: str, low: float, high: float, kind: type, default: float = 0) -> Any:
    """A bounded number from the query string (digits only for integers; no nan, no inf) or 400."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return kind(default)
    if len(raw) > 20 or (kind is int and not raw.isdigit()):
        raise BadInput(400, f"{name} must be a number between {low} and {high:g}")
    try:
        value = kind(raw)
    except ValueError:
        raise BadInput(400, f"{name} must be a number between {low} and {high:g}") from None
    if not (low <= value <= high):  # also false for nan
        raise BadInput(400, f"{name} must be a number between {low} and {high:g}")
    return value


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
