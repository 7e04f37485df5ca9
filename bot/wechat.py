"""WeChat official account adapter (wechatpy 1.8): passive replies within 5 seconds, the customer-service
API after that, retries deduplicated, quotas tracked.

Flow per request, as in wechatpy's own examples: check signature -> decrypt -> parse -> answer -> encrypt.
Before any of it: the body's size; the timestamp within ``WECHAT_TIMESTAMP_WINDOW`` of now; a nonce not
seen before with another body (store-backed, shared by processes); in safe mode, ``encrypt_type=aes``
(plain only with ``WECHAT_ALLOW_PLAIN_IN_SAFE_MODE``), whose ``msg_signature`` covers the body.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from .config import Settings
from .conversation_locks import Place
from .http_input import BadInput, guarded, read_body
from .models import Delivery, InboundMessage, Reply, Turn
from .router import Router
from .store import Store
from .texts import text as say
from .wechat_inbound import normalise, refuse_duplicated_fields
from .wechat_outbound import WeChatSender

log = logging.getLogger(__name__)

# Customer-service rations since June 2023: a person's message opens 5 messages valid 48 hours;
# a menu click or a subscription opens 3 valid one minute.
QUOTA_AFTER_MESSAGE = (5, 48 * 3600)
QUOTA_AFTER_EVENT = (3, 60)
QUOTA_EVENTS = {"subscribe", "subscribe_scan", "click", "scan"}


# -- inbound --------------------------------------------------------------------------------------
class PassiveSlot:
    """The one passive reply a WeChat request may carry, shared by the turn and the waiting request."""

    def __init__(self) -> None:
        self.filled = asyncio.Event()
        self.claimed = False
        self.expired = False
        self.text: str | None = None
        self.inbound_id: int | None = None

    def claim(self) -> bool:
        if self.expired:
            return False
        self.claimed = True
        return True

    def fill(self, text: str | None) -> None:
        self.text = text
        self.filled.set()

    def expire(self) -> bool:
        """Called at the deadline: True if the turn has not claimed the passive reply (ack instead)."""
        if self.claimed:
            return False
        self.expired = True
        return True


class WeChatChannel:
    def __init__(self, settings: Settings, router: Router, sender: WeChatSender) -> None:
        self.settings = settings
        self.router = router
        self.store = router.store
        self.sender = sender
        self.token = settings.wechat_token or ""
        self.crypto = (
            WeChatCrypto(self.token, settings.wechat_aes_key, settings.wechat_app_id or "")
            if settings.wechat_aes_key
            else None
        )
        self.deadline = settings.wechat_passive_deadline
        self.slots: dict[str, PassiveSlot] = {}
        self.tasks: set[asyncio.Task] = set()

    def routes(self) -> list[Route]:
        return [
            Route("/wechat", self.verify, methods=["GET"]),
            Route("/wechat", self.receive, methods=["POST"]),
        ]

    async def close(self) -> None:
        """Let turns still running (slow answers on their way) finish before shutdown."""
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=30)

    # -- HTTP --------------------------------------------------------------------------------------
    def _signed(self, request: Request) -> bool:
        q = request.query_params
        try:
            check_signature(self.token, q.get("signature", ""), q.get("timestamp", ""), q.get("nonce", ""))
            return True
        except InvalidSignatureException:
            log.warning("wechat: invalid signature from %s", request.client.host if request.client else "?")
            return False

    async def verify(self, request: Request) -> Response:
        """URL verification when the server address is saved in the WeChat admin console."""
        if not self._signed(request):
            return PlainTextResponse("invalid signature", status_code=403)
        return PlainTextResponse(request.query_params.get("echostr", ""))

    @guarded("wechat", log, json_errors=False)
    async def receive(self, request: Request) -> Response:
        started = time.monotonic()
        body = await read_body(request, self.settings.max_body_bytes)
        if not self._signed(request):
            return PlainTextResponse("invalid signature", status_code=403)
        q = request.query_params
        encrypted = q.get("encrypt_type") == "aes"
        refusal = self._refusal(q, encrypted)
        if refusal:
            log.warning("wechat: refused (%s)", refusal)
            return PlainTextResponse(refusal, status_code=403)
        try:
            xml = self._decrypt(body, q) if encrypted else body.decode("utf-8")
            refuse_duplicated_fields(xml)
            message = parse_message(xml)
            if message is None or not message.source:
                raise ValueError("empty message")
        except InvalidSignatureException:
            log.warning("wechat: invalid message signature")
            return PlainTextResponse("invalid signature", status_code=403)
        except InvalidAppIdException:
            log.warning("wechat: message for another app id")
            return PlainTextResponse("invalid app id", status_code=403)
        except BadInput:
            raise
        except Exception as error:  # malformed XML, bad base64/padding, missing fields: the sender's fault
            log.warning("wechat: malformed request (%s)", type(error).__name__)
            return PlainTextResponse("malformed request", status_code=400)
        inbound, local_replies = normalise(message, self.router.default_language)
        # The message takes its place in the person's line before anything awaits: two messages sent at
        # once keep their order even when the nonce check below finishes first for the later one.
        place = self.router.locks.join(inbound.conversation_id)
        try:
            # only a request that proved itself may mark its nonce as used
            if not await self.store.call(
                self.store.remember_nonce,
                q.get("timestamp", ""),
                q.get("nonce", ""),
                body,
                2 * self.settings.wechat_timestamp_window,
            ):
                log.warning("wechat: refused (nonce reused with another body)")
                return PlainTextResponse("nonce already used", status_code=403)
            reply_text = await self.answer(inbound, local_replies, place, started)
        finally:
            place.abandon()  # unless its turn took it over
        return self._respond(message, reply_text, q, encrypted)

    def _refusal(self, q: Any, encrypted: bool) -> str | None:
        """Why a correctly signed request is still refused: an old (or future) timestamp, a plain request
        to an account in safe mode, a nonce missing."""
        timestamp = q.get("timestamp", "")
        if not timestamp.isdigit() or len(timestamp) > 12:
            return "timestamp missing or not a number"
        if abs(time.time() - int(timestamp)) > self.settings.wechat_timestamp_window:
            return "timestamp outside the allowed window"
        if not q.get("nonce"):
            return "nonce missing"
        if self.crypto is not None and not encrypted and not self.settings.wechat_allow_plain_in_safe_mode:
            return "safe mode: encrypt_type=aes and msg_signature required"
        if encrypted and not q.get("msg_signature"):
            return "msg_signature missing"
        return None

    def _decrypt(self, body: bytes, q: Any) -> str:
        if self.crypto is None:
            raise ValueError("encrypted message but WECHAT_ENCODING_AES_KEY is not set")
        return self.crypto.decrypt_message(
            body, q.get("msg_signature", ""), q.get("timestamp", ""), q.get("nonce", "")
        )

    def _respond(self, message: Any, reply_text: str | None, q: Any, encrypted: bool) -> Response:
        if not reply_text:
            return PlainTextResponse("success")  # WeChat's "nothing to say, do not retry"
        xml = TextReply(source=message.target, target=message.source, content=reply_text).render()
        if encrypted:
            xml = self.crypto.encrypt_message(xml, q.get("nonce", ""), q.get("timestamp") or None)
        return Response(xml, media_type="application/xml")

    # -- one message ---------------------------------------------------------------------------------
    async def _numbered_choice(self, inbound: InboundMessage) -> None:
        """'2' (or an option's exact title) after a message with numbered options picks that option."""
        if inbound.kind != "text" or not inbound.text or len(inbound.text) > 40:
            return  # options are numbers or short titles: spare the lookup for real questions
        last = await self.store.call(self.store.last_outbound, inbound.conversation_id)
        offered = Store.offered_buttons(last)
        choice = inbound.text.strip()
        for index, button in enumerate(offered, start=1):
            if choice == str(index) or choice == button.title:
                inbound.kind, inbound.payload = "button", button.payload
                inbound.meta = {**inbound.meta, "choice": choice, "offered_in": last["id"]}
                return

    def _open_quota(self, inbound: InboundMessage) -> tuple[int, int] | None:
        if inbound.kind == "event" and inbound.meta.get("event") not in QUOTA_EVENTS:
            return None
        if inbound.kind == "button" and inbound.meta.get("event") == "click":
            return QUOTA_AFTER_EVENT
        return QUOTA_AFTER_EVENT if inbound.kind == "event" else QUOTA_AFTER_MESSAGE

    async def answer(
        self, inbound: InboundMessage, local_replies: list[Reply] | None, place: Place, started: float
    ) -> str | None:
        """Run the turn at the message's ``place`` in the person's line; return the passive reply text
        (None = 'success'). Slow turns continue in the background and deliver through the
        customer-service API."""
        key = inbound.external_id or ""
        if key in self.slots:
            return await self._answer_retry(key, started)  # WeChat re-sent a message we are handling
        slot = self.slots[key] = PassiveSlot()
        task = asyncio.create_task(self._run_turn(inbound, local_replies, slot, key, place))
        task.add_done_callback(lambda _: place.abandon())  # a task cancelled before it ever ran
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return await self._await_slot(slot, inbound, started)

    async def _run_turn(
        self, inbound: InboundMessage, local_replies, slot: PassiveSlot, key: str, place: Place
    ) -> None:
        async def deliver(turn: Turn) -> None:
            await self._deliver(turn, slot)

        async def recorded(message: InboundMessage, inbound_id: int) -> None:
            slot.inbound_id = inbound_id
            quota = self._open_quota(message)
            if quota:
                await self.store.call(self.store.open_quota, message.user_id, *quota)

        try:
            turn = await self.router.handle(
                inbound,
                deliver,
                local_replies=local_replies,
                prepare=self._numbered_choice,
                recorded=recorded,
                place=place,
            )
            if turn.duplicate and slot.claim():
                # Another gateway process (or this one before a restart) had it: repeat its passive reply;
                # if it never answered and still holds the message, say the answer follows (the replay
                # sends it by customer-service message) rather than nothing.
                earlier = await self._earlier_passive_reply(turn.inbound_id)
                if earlier is None and turn.pending:
                    earlier = await self._acknowledge(inbound, turn.inbound_id)
                slot.fill(earlier)
        except Exception:
            log.exception("wechat turn failed")
            if slot.claim():
                slot.fill(None)
        finally:
            # Keep the slot a little for WeChat's retries (sent at ~5 s intervals), then forget it.
            asyncio.get_running_loop().call_later(20, self.slots.pop, key, None)

    async def _await_slot(self, slot: PassiveSlot, inbound: InboundMessage, started: float) -> str | None:
        # Waiting on the Event directly, not through asyncio.shield: a shielded wait left behind at the
        # deadline stayed pending forever on a slot that is never filled (the answer goes by
        # customer-service message) and was logged as "Task was destroyed but it is pending".
        remaining = self.deadline - (time.monotonic() - started)
        try:
            await asyncio.wait_for(slot.filled.wait(), timeout=max(0.0, remaining))
            return slot.text
        except asyncio.TimeoutError:
            pass
        if not slot.expire():
            await slot.filled.wait()  # the turn is writing its passive reply right now
            return slot.text
        return await self._acknowledge(inbound, slot.inbound_id)

    async def _acknowledge(self, inbound: InboundMessage, inbound_id: int | None) -> str:
        language = await self.router.language_of(inbound)
        can_follow = (
            self.sender.client is not None
            and (await self.store.call(self.store.quota, inbound.user_id))["remaining"] > 0
        )
        ack = say("slow_ack" if can_follow else "slow_ack_write_again", language)
        await self.store.call(
            self.store.record_outbound,
            inbound.conversation_id,
            ack,
            status="sent_passive",
            kind="notice",
            author="gateway",
            reply_to=inbound_id,
        )
        return ack

    async def _answer_retry(self, key: str, started: float) -> str | None:
        """WeChat re-sent a message (no answer seen within 5 s): never answer it twice. While the first
        attempt may still answer passively, wait for it; otherwise say nothing ('success')."""
        slot = self.slots[key]
        if slot.expired:
            return None
        remaining = self.deadline - (time.monotonic() - started)
        try:
            await asyncio.wait_for(slot.filled.wait(), timeout=max(0.0, remaining))
        except asyncio.TimeoutError:
            return None
        return slot.text

    async def _earlier_passive_reply(self, inbound_id: int) -> str | None:
        """The passive reply already given to this message, if any. The first response may have been lost
        on its way, and WeChat shows a message's passive reply at most once; a reply that went by the
        customer-service API is never repeated."""
        if not inbound_id:
            return None
        replies = await self.store.call(self.store.replies_to, inbound_id)
        passive = [r["text"] for r in replies if r["status"] == "sent_passive" and r["text"]]
        return passive[-1] if passive else None

    async def _deliver(self, turn: Turn, slot: PassiveSlot) -> None:
        openid = turn.conversation_id.split(":", 1)[1]
        if turn.status == "rasa_unavailable" and self.sender.client is None and not turn.suppressed:
            # without customer-service messages the replayed answer waits for the person's next message
            turn.replies = [
                Reply(say("rasa_down_write_again", await self.sender.language(openid)), author="gateway")
            ]
        held = await self.store.call(self.store.held_replies, turn.conversation_id) if turn.replies else []
        prefix = ""
        if held:
            language = await self.sender.language(openid)
            prefix = say("held_replies", language) + "\n" + "\n\n".join(r["text"] for r in held if r["text"])
        chunks, buttons = await self.sender.render(openid, turn.replies, prefix)
        for row in held:
            await self.store.call(self.store.set_status, row["id"], "resent")
        if not chunks:
            if slot.claim():
                slot.fill(None)
            return
        author = turn.replies[0].author if turn.replies else "bot"
        if slot.claim():
            first, rest = chunks[0], chunks[1:]
            data = {"via": "passive"}
            if buttons and not rest:
                data["buttons"] = [b.as_dict() for b in buttons]
            message_id = await self.store.call(
                self.store.record_outbound,
                turn.conversation_id,
                first,
                status="sent_passive",
                author=author,
                data=data,
                reply_to=turn.inbound_id,
            )
            slot.fill(first)
            self.router.published_outbound(turn.conversation_id, [Delivery("sent_passive", message_id)])
            chunks = rest
        if chunks:
            deliveries = await self.sender.send_chunks(
                openid, chunks, buttons, reply_to=turn.inbound_id, author=author
            )
            self.router.published_outbound(turn.conversation_id, deliveries)
