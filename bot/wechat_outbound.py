"""WeChat's outbound side (wechatpy 1.8): the access token through ``stable_token``, shared by gateway
processes in a pluggable session storage, and customer-service messages within the person's quota."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import requests
from wechatpy.client import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage
from wechatpy.session.memorystorage import MemoryStorage

from .models import Button, Delivery, Reply
from .store import Store
from .texts import text as say
from .textutil import merge_for_single_message, split_text, utf8_len

log = logging.getLogger(__name__)

TOKEN_ERRORS = {40001, 40014, 42001}  # invalid credential, invalid token, token expired
QUOTA_ERRORS = {45047: "customer-service quota used up", 45015: "48-hour window closed"}


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
