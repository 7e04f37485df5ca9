"""WeChat official account adapter (wechatpy 1.8): passive replies within 5 seconds, the customer-service
API after that, retries deduplicated, quotas tracked.

Flow per request, as in wechatpy's own examples: check signature -> decrypt -> parse -> answer -> encrypt.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import requests
import yaml
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from wechatpy import parse_message
from wechatpy.client import WeChatClient
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException, WeChatClientException
from wechatpy.replies import TextReply
from wechatpy.session import SessionStorage
from wechatpy.session.memorystorage import MemoryStorage
from wechatpy.utils import check_signature

from .config import Settings
from .models import Button, Delivery, InboundMessage, Reply, Turn
from .router import Router
from .store import Store
from .texts import text as say
from .textutil import merge_for_single_message, split_text, utf8_len

log = logging.getLogger(__name__)

MENU_FILE = Path(__file__).with_name("wechat_menu.yml")
# Customer-service rations since June 2023: a person's message opens 5 messages valid 48 hours;
# a menu click or a subscription opens 3 valid one minute.
QUOTA_AFTER_MESSAGE = (5, 48 * 3600)
QUOTA_AFTER_EVENT = (3, 60)
TOKEN_ERRORS = {40001, 40014, 42001}  # invalid credential, invalid token, token expired
QUOTA_ERRORS = {45047: "customer-service quota used up", 45015: "48-hour window closed"}
QUOTA_EVENTS = {"subscribe", "subscribe_scan", "click", "scan"}


@lru_cache(maxsize=1)
def menu_payloads() -> dict[str, tuple[str, str]]:
    """CLICK key -> (label, payload) from wechat_menu.yml."""
    menu = yaml.safe_load(MENU_FILE.read_text(encoding="utf-8"))["menu"]
    found: dict[str, tuple[str, str]] = {}
    for item in menu:
        for entry in item.get("sub_button", [item]):
            if "key" in entry:
                found[entry["key"]] = (entry["name"], entry["payload"])
    return found


def menu_definition() -> dict[str, Any]:
    """The menu in the JSON shape of WeChat's menu/create API."""
    menu = yaml.safe_load(MENU_FILE.read_text(encoding="utf-8"))["menu"]

    def button(entry: dict[str, Any]) -> dict[str, Any]:
        if "sub_button" in entry:
            return {"name": entry["name"], "sub_button": [button(e) for e in entry["sub_button"]]}
        return {"type": "click", "name": entry["name"], "key": entry["key"]}

    return {"button": [button(e) for e in menu]}


# -- access token ---------------------------------------------------------------------------------
class StoreTokenStorage(SessionStorage):
    """wechatpy session storage in the gateway database, so every gateway process shares one token."""

    margin_seconds = 60  # refresh a little before WeChat's expiry

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, key: str, default: Any = None) -> Any:
        value = self.store.cache_get(f"wechat:{key}")
        return default if value is None else value

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        if value is None:
            return
        if ttl and ttl > 2 * self.margin_seconds:
            ttl -= self.margin_seconds
        self.store.cache_set(f"wechat:{key}", str(value), ttl)

    def delete(self, key: str) -> None:
        self.store.cache_delete(f"wechat:{key}")


def token_storage(kind: str, store: Store) -> SessionStorage:
    """``db`` (default, shared by processes), ``memory`` (one process) or a ``redis://`` URL."""
    if kind == "memory":
        return MemoryStorage()
    if kind.startswith("redis://") or kind.startswith("rediss://"):
        import redis
        from wechatpy.session.redisstorage import RedisStorage

        return RedisStorage(redis.Redis.from_url(kind), prefix="rczdc")
    return StoreTokenStorage(store)


class StableTokenClient(WeChatClient):
    """wechatpy's client with a configurable API host and the ``stable_token`` endpoint.

    ``fetch_access_token`` in wechatpy hard-codes api.weixin.qq.com and the classic ``token`` endpoint,
    where each call invalidates the token other processes hold; ``stable_token`` returns the same valid
    token to every caller unless ``force_refresh`` is asked for.
    """

    def __init__(
        self, appid: str, secret: str, *, api_base_url: str, session: SessionStorage, timeout: float = 10.0
    ) -> None:
        super().__init__(appid, secret, session=session, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = api_base_url if api_base_url.endswith("/") else api_base_url + "/"

    def fetch_access_token(self, force_refresh: bool = False) -> dict[str, Any]:
        body = {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
        if force_refresh:
            body["force_refresh"] = True
        response = self._http.post(
            self.API_BASE_URL + "stable_token",
            data=json.dumps(body),
            headers={"Content-Type": "application/json"},
            timeout=self.timeout,
        )
        try:
            response.raise_for_status()
        except requests.RequestException as error:
            raise WeChatClientException(None, str(error), client=self, response=response) from error
        result = response.json()
        if result.get("errcode"):
            raise WeChatClientException(
                result["errcode"], result.get("errmsg"), client=self, response=response
            )
        expires_in = int(result.get("expires_in", 7200))
        self.session.set(self.access_token_key, result["access_token"], expires_in)
        self.expires_at = int(time.time()) + expires_in
        return result

    @property
    def access_token(self) -> str:
        token = self.session.get(self.access_token_key)
        if token:
            return token
        self.fetch_access_token()
        return self.session.get(self.access_token_key)


# -- outbound: customer-service messages ----------------------------------------------------------
class WeChatSender:
    """Sends through the customer-service API, merging a turn into as few messages as WeChat allows and
    keeping (status ``held``) whatever the quota refuses: it goes out with the person's next reply."""

    channel = "wechat"

    def __init__(
        self, store: Store, client: StableTokenClient | None, *, max_bytes: int, default_language: str
    ) -> None:
        self.store = store
        self.client = client
        self.max_bytes = max_bytes
        self.default_language = default_language

    async def language(self, openid: str) -> str:
        conversation = await self.store.call(self.store.conversation, f"wechat:{openid}")
        return (conversation or {}).get("language") or self.default_language

    async def render(
        self, openid: str, replies: list[Reply], prefix: str = ""
    ) -> tuple[list[str], list[Button]]:
        language = await self.language(openid)
        text, buttons = merge_for_single_message(replies, say("options_header", language))
        if prefix:
            text = f"{prefix}\n\n{text}" if text else prefix
        return (split_text(text, self.max_bytes, utf8_len) if text else []), buttons

    async def send(
        self, user_id: str, replies: list[Reply], *, reply_to: int | None = None, author: str = "bot"
    ) -> list[Delivery]:
        chunks, buttons = await self.render(user_id, replies)
        author = replies[0].author if replies and replies[0].author else author
        return await self.send_chunks(user_id, chunks, buttons, reply_to=reply_to, author=author)

    async def send_chunks(
        self, openid: str, chunks: list[str], buttons: list[Button], *, reply_to: int | None, author: str
    ) -> list[Delivery]:
        deliveries = []
        holding = False
        for index, chunk in enumerate(chunks):
            status, detail = ("held", "earlier part held") if holding else await self._send_one(openid, chunk)
            holding = holding or status == "held"
            data: dict[str, Any] = {"via": "customer_service"}
            if detail:
                data["detail"] = detail
            if buttons and index == len(chunks) - 1:
                data["buttons"] = [b.as_dict() for b in buttons]
            message_id = await self.store.call(
                self.store.record_outbound,
                f"wechat:{openid}",
                chunk,
                status=status,
                author=author,
                data=data,
                reply_to=reply_to,
            )
            deliveries.append(Delivery(status, message_id, detail))
        return deliveries

    async def _send_one(self, openid: str, text: str) -> tuple[str, str | None]:
        if self.client is None:
            return "held", "customer-service API not configured"
        if not await self.store.call(self.store.take_quota, openid):
            return "held", "no customer-service quota left"
        try:
            await asyncio.to_thread(self._send_text, openid, text)
            return "sent", None
        except WeChatClientException as error:
            if error.errcode in QUOTA_ERRORS:
                await self.store.call(self.store.exhaust_quota, openid)
                log.warning(
                    "wechat customer-service refused (%s): %s", error.errcode, QUOTA_ERRORS[error.errcode]
                )
                return "held", QUOTA_ERRORS[error.errcode]
            log.error("wechat customer-service error %s: %s", error.errcode, error.errmsg)
            await self.store.call(self.store.give_back_quota, openid)
            return "held", f"wechat error {error.errcode}"
        except requests.RequestException as error:
            log.error("wechat customer-service unreachable: %s", type(error).__name__)
            await self.store.call(self.store.give_back_quota, openid)
            return "held", "wechat API unreachable"

    def _send_text(self, openid: str, text: str) -> None:
        used = self.client.access_token
        try:
            self.client.message.send_text(openid, text)
        except WeChatClientException as error:
            if error.errcode not in TOKEN_ERRORS:
                raise
            self._renew_token(rejected=used)
            self.client.message.send_text(openid, text)

    def _renew_token(self, rejected: str) -> None:
        """Replace a rejected access token, gently: usually another holder force-refreshed it, and
        stable_token's normal mode already returns the new one. Only when WeChat still hands out the
        rejected token is ``force_refresh`` used: it invalidates the token every other gateway process
        holds, and WeChat allows it 20 times a day, 30 s apart."""
        self.client.session.delete(self.client.access_token_key)
        self.client.fetch_access_token()
        if self.client.session.get(self.client.access_token_key) == rejected:
            self.client.fetch_access_token(force_refresh=True)


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

    async def receive(self, request: Request) -> Response:
        started = time.monotonic()
        body = await request.body()
        if len(body) > self.settings.max_body_bytes:
            return PlainTextResponse("too large", status_code=413)
        if not self._signed(request):
            return PlainTextResponse("invalid signature", status_code=403)
        q = request.query_params
        encrypted = q.get("encrypt_type") == "aes"
        try:
            xml = self._decrypt(body, q) if encrypted else body.decode("utf-8")
            message = parse_message(xml)
            if message is None or not message.source:
                raise ValueError("empty message")
        except InvalidSignatureException:
            log.warning("wechat: invalid message signature")
            return PlainTextResponse("invalid signature", status_code=403)
        except InvalidAppIdException:
            log.warning("wechat: message for another app id")
            return PlainTextResponse("invalid app id", status_code=403)
        except Exception as error:  # malformed XML, bad base64/padding, missing fields: the sender's fault
            log.warning("wechat: malformed request (%s)", type(error).__name__)
            return PlainTextResponse("malformed request", status_code=400)
        reply_text = await self.answer(message, started)
        return self._respond(message, reply_text, q, encrypted)

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
    def normalise(self, message: Any) -> tuple[InboundMessage, list[Reply] | None]:
        """wechatpy message -> InboundMessage, plus the gateway's own replies when Rasa is not asked."""
        raw = message._data
        inbound = InboundMessage(
            channel="wechat", user_id=message.source, language=self.router.default_language
        )
        if message.type == "text":
            inbound.kind, inbound.text = "text", message.content or ""
            inbound.external_id = str(raw.get("MsgId") or f"{message.source}:{raw.get('CreateTime')}")
            return inbound, None
        if message.type == "event":
            event = str(raw.get("Event", "")).lower()
            inbound.kind = "event"
            # WeChat's advice: events have no MsgId, deduplicate by FromUserName + CreateTime (with the
            # event and key, so a subscription and a click in the same second are both kept).
            inbound.external_id = (
                f"evt:{message.source}:{raw.get('CreateTime')}:{event}:{raw.get('EventKey') or ''}"[:120]
            )
            inbound.meta = {"event": event, "key": raw.get("EventKey")}
            if event in ("subscribe", "subscribe_scan"):
                lang = inbound.language
                return inbound, [
                    Reply(say("welcome", lang), author="gateway"),
                    Reply(say("privacy", lang), author="gateway"),
                ]
            if event == "click":
                label_payload = menu_payloads().get(str(raw.get("EventKey", "")))
                if label_payload:
                    inbound.kind, (inbound.text, inbound.payload) = "button", label_payload
                    return inbound, None
                return inbound, [Reply(say("help", inbound.language), author="gateway")]
            return inbound, []  # unsubscribe, view, location report ...: recorded, nothing to say
        if message.type == "voice" and str(raw.get("Recognition") or "").strip():
            # Accounts with speech recognition switched on get WeChat's transcript: answer it as text.
            inbound.kind, inbound.text = "text", str(raw["Recognition"]).strip()
            inbound.external_id = str(raw.get("MsgId") or f"{message.source}:{raw.get('CreateTime')}")
            inbound.meta = {"type": "voice", "recognised": True}
            return inbound, None
        inbound.kind = "unsupported"
        inbound.text = f"[{message.type}]"
        inbound.external_id = str(raw.get("MsgId") or f"{message.source}:{raw.get('CreateTime')}")
        inbound.meta = {"type": message.type}
        return inbound, None

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

    async def answer(self, message: Any, started: float) -> str | None:
        """Run the turn; return the passive reply text (None = 'success'). Slow turns continue in the
        background and deliver through the customer-service API."""
        inbound, local_replies = self.normalise(message)
        key = inbound.external_id or ""
        if key in self.slots:
            return await self._answer_retry(key, started)  # WeChat re-sent a message we are handling
        slot = self.slots[key] = PassiveSlot()
        # The task takes the conversation lock as soon as it runs: tasks run in creation order, so one
        # person's messages keep their arrival order.
        task = asyncio.create_task(self._run_turn(inbound, local_replies, slot, key))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return await self._await_slot(slot, inbound, started)

    async def _run_turn(self, inbound: InboundMessage, local_replies, slot: PassiveSlot, key: str) -> None:
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
            )
            if turn.duplicate and slot.claim():
                # Another gateway process (or this one before a restart) had it: repeat its passive reply.
                slot.fill(await self._earlier_passive_reply(turn.inbound_id))
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
