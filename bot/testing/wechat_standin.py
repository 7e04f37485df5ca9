"""WeChat's side of the protocol, offline.

``WeChatServer`` builds the requests WeChat's servers send to our URL: signed, and AES-encrypted with
wechatpy's own ``WeChatCrypto`` in safe mode; it decrypts our passive replies the way WeChat does.
``WeChatApiStandIn`` replaces api.weixin.qq.com/cgi-bin: ``stable_token`` and ``message/custom/send``,
answering with WeChat's real error codes (40001 invalid token, 45047 quota used, 45015 window closed).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import xmltodict
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from wechatpy.crypto import WeChatCrypto

ERRORS = {
    40001: "invalid credential, access_token is invalid or not latest",
    40013: "invalid appid",
    40125: "invalid appsecret",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
}


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


@dataclass
class WeChatRequest:
    params: dict[str, str]
    body: bytes


class WeChatServer:
    """Builds signed (and in safe mode encrypted) requests as WeChat's servers send them."""

    _ids = itertools.count(int(time.time() * 1000))

    def __init__(
        self, token: str, app_id: str, aes_key: str | None = None, account: str = "gh_rczdc"
    ) -> None:
        self.token, self.app_id, self.aes_key, self.account = token, app_id, aes_key, account
        self.crypto = WeChatCrypto(token, aes_key, app_id) if aes_key else None

    @staticmethod
    def new_aes_key() -> str:
        return secrets.token_urlsafe(32).replace("-", "a").replace("_", "b")[:43]

    def next_msg_id(self) -> int:
        return next(self._ids)

    def text_xml(
        self, openid: str, content: str, msg_id: int | None = None, create_time: int | None = None
    ) -> str:
        fields = {
            "ToUserName": self.account,
            "FromUserName": openid,
            "CreateTime": str(create_time or int(time.time())),
            "MsgType": "text",
            "Content": content,
            "MsgId": str(msg_id or self.next_msg_id()),
        }
        return xmltodict.unparse({"xml": fields}, full_document=False)

    def event_xml(
        self, openid: str, event: str, key: str | None = None, create_time: int | None = None
    ) -> str:
        fields = {
            "ToUserName": self.account,
            "FromUserName": openid,
            "CreateTime": str(create_time or int(time.time())),
            "MsgType": "event",
            "Event": event,
        }
        if key is not None:
            fields["EventKey"] = key
        return xmltodict.unparse({"xml": fields}, full_document=False)

    def media_xml(self, openid: str, msg_type: str = "image", recognition: str | None = None) -> str:
        fields = {
            "ToUserName": self.account,
            "FromUserName": openid,
            "CreateTime": str(int(time.time())),
            "MsgType": msg_type,
            "PicUrl": "http://example.invalid/p.jpg",
            "MediaId": "media1",
            "MsgId": str(self.next_msg_id()),
        }
        if recognition is not None:
            fields["Recognition"] = recognition
        return xmltodict.unparse({"xml": fields}, full_document=False)

    def request(
        self, xml: str, *, encrypt: bool | None = None, timestamp: str | None = None, nonce: str | None = None
    ) -> WeChatRequest:
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or secrets.token_hex(5)
        params = {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
        openid = xmltodict.parse(xml)["xml"]["FromUserName"]
        params["openid"] = openid
        if encrypt if encrypt is not None else self.crypto is not None:
            envelope = xmltodict.parse(self.crypto.encrypt_message(xml, nonce, timestamp))["xml"]
            params["encrypt_type"] = "aes"
            params["msg_signature"] = envelope["MsgSignature"]
            body = xmltodict.unparse(
                {"xml": {"ToUserName": self.account, "Encrypt": envelope["Encrypt"]}}, full_document=False
            )
            return WeChatRequest(params, body.encode("utf-8"))
        return WeChatRequest(params, xml.encode("utf-8"))

    def read_reply(self, response_text: str, params: dict[str, str]) -> str | None:
        """The text content of our passive reply, as WeChat would show it (None for 'success')."""
        if response_text in ("", "success"):
            return None
        xml = response_text
        if params.get("encrypt_type") == "aes":
            envelope = xmltodict.parse(response_text)["xml"]
            xml = self.crypto.decrypt_message(
                response_text, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"]
            )
        reply = xmltodict.parse(xml)["xml"]
        return reply.get("Content")


class WeChatApiStandIn:
    """api.weixin.qq.com/cgi-bin, offline. ``fail_next`` scripts error codes for the next sends."""

    def __init__(self, app_id: str, secret: str) -> None:
        self.app_id, self.secret = app_id, secret
        self.token = "TOKEN-" + secrets.token_hex(8)
        self.token_calls: list[dict[str, Any]] = []
        self.classic_token_calls = 0
        self.sent: list[dict[str, Any]] = []
        self.sent_at: list[float] = []  # time.monotonic() of each accepted message, parallel to sent
        self._arrivals = asyncio.Condition()
        self.refused: list[tuple[int, dict[str, Any]]] = []
        self.fail_next: list[int] = []
        self.revoked: set[str] = set()
        self.app = Starlette(
            routes=[
                Route("/cgi-bin/stable_token", self.stable_token, methods=["POST"]),
                Route("/cgi-bin/token", self.classic_token, methods=["GET"]),
                Route("/cgi-bin/message/custom/send", self.custom_send, methods=["POST"]),
            ]
        )

    def texts_to(self, openid: str) -> list[str]:
        return [m["text"]["content"] for m in self.sent if m["touser"] == openid]

    async def wait_for_messages(self, openid: str, count: int, timeout: float) -> float | None:
        """Wait until ``openid`` has received ``count`` messages; the monotonic time the last of them
        arrived, or None on timeout (the benchmark times answers sent after an acknowledgement)."""

        def arrived() -> list[float]:
            return [t for m, t in zip(self.sent, self.sent_at, strict=True) if m["touser"] == openid]

        async with self._arrivals:
            try:
                await asyncio.wait_for(self._arrivals.wait_for(lambda: len(arrived()) >= count), timeout)
            except asyncio.TimeoutError:
                return None
        return arrived()[count - 1]

    def expire_token(self) -> None:
        """As if another party forced a refresh: the token we handed out is no longer valid, and
        stable_token's normal mode hands out the new one."""
        self.token = "TOKEN-" + secrets.token_hex(8)

    def revoke_token(self) -> None:
        """The current token is refused, yet normal mode keeps returning it: only force_refresh helps."""
        self.revoked.add(self.token)

    async def stable_token(self, request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        self.token_calls.append(body)
        if body.get("appid") != self.app_id:
            return JSONResponse({"errcode": 40013, "errmsg": ERRORS[40013]})
        if body.get("secret") != self.secret:
            return JSONResponse({"errcode": 40125, "errmsg": ERRORS[40125]})
        if body.get("force_refresh"):
            self.token = "TOKEN-" + secrets.token_hex(8)
        return JSONResponse({"access_token": self.token, "expires_in": 7200})

    async def classic_token(self, request: Request) -> JSONResponse:
        self.classic_token_calls += 1
        return JSONResponse({"errcode": 40164, "errmsg": "the gateway should use stable_token"})

    async def custom_send(self, request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        token = request.query_params.get("access_token")
        if token != self.token or token in self.revoked:
            self.refused.append((40001, body))
            return JSONResponse({"errcode": 40001, "errmsg": ERRORS[40001]})
        if self.fail_next:
            code = self.fail_next.pop(0)
            self.refused.append((code, body))
            return JSONResponse({"errcode": code, "errmsg": ERRORS.get(code, "error")})
        content = body.get("text", {}).get("content", "")
        if len(content.encode("utf-8")) > 2048:
            self.refused.append((45002, body))
            return JSONResponse({"errcode": 45002, "errmsg": "content size out of limit"})
        self.sent.append(body)
        self.sent_at.append(time.monotonic())
        async with self._arrivals:
            self._arrivals.notify_all()
        return JSONResponse({"errcode": 0, "errmsg": "ok"})


def gateway_env(
    server: WeChatServer, api: WeChatApiStandIn, api_url: str, passive_deadline: float
) -> dict[str, str]:
    """The WECHAT_* environment of a ``python -m bot`` process that ``server`` signs requests for and that
    sends customer-service messages to ``api`` (served at ``api_url``)."""
    return {
        "WECHAT_TOKEN": server.token,
        "WECHAT_APP_ID": server.app_id,
        "WECHAT_APP_SECRET": api.secret,
        "WECHAT_ENCODING_AES_KEY": server.aes_key or "",
        "WECHAT_API_BASE_URL": f"{api_url}/cgi-bin/",
        "WECHAT_PASSIVE_DEADLINE": str(passive_deadline),
    }
