"""A seeded, bounded fuzz of every public endpoint (issue 10, item 7): a few hundred malformed, hostile or
merely odd requests on loopback — web chat, its poll and history, WeChat (signed, so the body is parsed),
Telegram (with its secret) and health — and never a 5xx, never a traceback in the log. The seed is fixed:
a failure reproduces. The staff console's endpoints (bot/console/) are another helper's part of issue 10
and not fuzzed here: its login answered 500 to deeply nested JSON when this was written."""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import random
import time

from gateway_harness import TELEGRAM_TOKEN, WECHAT_APP_ID, WECHAT_TOKEN

from bot.testing.telegram_standin import callback_update, text_update
from bot.testing.wechat_standin import WeChatServer, sign

SEED = 20261201
ROUNDS = 70  # × 5 endpoints = 350 requests

ODD_TEXT = [
    "",
    " ",
    "\x00",
    "\ud800",
    "𠀀" * 50,
    "/restart",
    "<script>alert(1)</script>",
    "1e23",
    "-1",
    "９９",
]
CALLBACKS = ["b:1:0", "b:1e23:0", "b:" + "9" * 30 + ":0", "b:2:999", "/restart", "", "b::", "b:-1:0"]
CHAT = 717171
ODD_VALUES = [None, True, 0, -1, 2**70, 1e23, 1.5, "", "zh", "x" * 300, [], {}, [[[]]], {"a": {"b": {}}}]


def odd_json(rng: random.Random, depth: int = 0):
    kind = rng.randrange(6 if depth < 4 else 3)
    if kind == 0:
        return rng.choice(ODD_VALUES)
    if kind == 1:
        return rng.choice(ODD_TEXT)
    if kind == 2:
        return rng.randint(-(2**64), 2**64)
    if kind == 3:
        return [odd_json(rng, depth + 1) for _ in range(rng.randrange(3))]
    keys = [
        "text",
        "session",
        "language",
        "button",
        "message_id",
        "index",
        "update_id",
        "message",
        "callback_query",
    ]
    return {rng.choice(keys): odd_json(rng, depth + 1) for _ in range(rng.randrange(4))}


def odd_body(rng: random.Random) -> bytes:
    choice = rng.randrange(5)
    if choice == 0:
        return rng.randbytes(rng.randrange(200))
    if choice == 1:
        return b"[" * rng.randrange(1, 3000)
    if choice == 2:
        return json.dumps(odd_json(rng), ensure_ascii=False).encode("utf-8", "surrogatepass")
    if choice == 3:
        return json.dumps(odd_json(rng)).encode()
    return json.dumps({"text": rng.choice(ODD_TEXT), "language": rng.choice(ODD_VALUES)}).encode(
        "utf-8", "surrogatepass"
    )


def odd_update(rng: random.Random) -> bytes:
    """Telegram: half plausible updates with odd contents (text, callback data), half odd bodies."""
    if rng.random() < 0.5:
        return odd_body(rng)
    text = rng.choice(ODD_TEXT).replace("\ud800", "?") or "x"
    chat = CHAT + rng.randrange(1000)  # many chats: Telegram's 1-message-a-second per chat would pace the run
    update = text_update(chat, text) if rng.random() < 0.5 else callback_update(chat, rng.choice(CALLBACKS))
    if rng.random() < 0.3:
        update["update_id"] = rng.choice([0, -1, 2**62, 1])
    return json.dumps(update).encode()


def odd_chat(rng: random.Random) -> bytes:
    """Web chat: half plausible turns with odd contents, half odd bodies."""
    if rng.random() < 0.5:
        return odd_body(rng)
    body = {
        "text": rng.choice(ODD_TEXT[1:]).replace("\ud800", "?") or "x",
        "language": rng.choice(["zh", "en", "fr"]),
    }
    if rng.random() < 0.3:
        body = {
            "session": "s" * 24,
            "button": {"message_id": rng.choice([1, 2, 3, 2**53]), "index": rng.randrange(3)},
        }
    return json.dumps(body).encode()


def odd_xml(rng: random.Random, server: WeChatServer) -> str:
    pieces = [
        server.text_xml("oFUZZ", rng.choice(ODD_TEXT[:3] + ["你好", "2"]).replace("\x00", "")),
        server.event_xml(
            "oFUZZ", rng.choice(["subscribe", "CLICK", "VIEW", "bogus"]), key=rng.choice(["", "x"])
        ),
        "<xml><MsgType>text</MsgType><Content>a</Content><Content>b</Content></xml>",
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Content>&a;</Content></xml>',
        "<xml>" + "<a>" * 500 + "</a>" * 500 + "</xml>",
        "<xml><ToUserName>gh</ToUserName><FromUserName></FromUserName><MsgType>text</MsgType></xml>",
    ]
    return rng.choice(pieces)


async def test_every_public_endpoint_survives_a_seeded_fuzz(
    rasa, telegram_api, aes_key, gateway_factory, caplog
) -> None:
    rng = random.Random(SEED)
    caplog.set_level(logging.WARNING)
    plain = WeChatServer(WECHAT_TOKEN, WECHAT_APP_ID)
    safe = WeChatServer(WECHAT_TOKEN, WECHAT_APP_ID, aes_key)
    async with gateway_factory(
        (rasa.url,),
        wechat_token=WECHAT_TOKEN,
        wechat_app_id=WECHAT_APP_ID,
        wechat_aes_key=aes_key,
        wechat_allow_plain_in_safe_mode=True,  # so plain bodies reach the parser too
        telegram_token=TELEGRAM_TOKEN,
        telegram_api_base_url=f"{telegram_api.url}/bot",
        webchat_session_per_minute=0,
        webchat_ip_per_minute=0,
    ) as gw:
        http = gw.http
        secret = {"X-Telegram-Bot-Api-Secret-Token": gw.gateway.settings.telegram_secret}
        statuses: list[tuple[str, int]] = []
        for _ in range(ROUNDS):
            session = rng.choice(["s" * 24, "bad session", "", "ö" * 20])
            requests = [
                ("POST /api/chat", http.post("/api/chat", content=odd_chat(rng))),
                (
                    "GET /api/chat/poll",
                    http.get(
                        "/api/chat/poll",
                        params={"session": session, "after": str(rng.choice(ODD_VALUES)), "wait": "0"},
                    ),
                ),
                ("GET /api/chat/history", http.get("/api/chat/history", params={"session": session})),
                (
                    "POST /telegram/webhook",
                    http.post("/telegram/webhook", content=odd_update(rng), headers=secret),
                ),
            ]
            server = rng.choice([plain, safe])
            xml = odd_xml(rng, server)
            try:
                signed = server.request(xml)
                params, body = signed.params, signed.body
            except Exception:  # the stand-in cannot even parse it: send it signed, plain
                now, nonce = str(int(time.time())), str(rng.getrandbits(32))
                params = {"timestamp": now, "nonce": nonce, "signature": sign(WECHAT_TOKEN, now, nonce)}
                body = xml.encode()
            requests.append(("POST /wechat", http.post("/wechat", params=params, content=body)))
            for name, call in requests:
                response = await call
                statuses.append((name, response.status_code))
        assert (await http.get("/healthz")).status_code == 200
        await asyncio.sleep(0.5)  # let queued Telegram updates run: their errors would be logged too
    answered = {name for name, status in statuses if status == 200}
    assert answered >= {"POST /api/chat", "POST /telegram/webhook", "POST /wechat"}, collections.Counter(
        statuses
    )
    server_errors = [s for s in statuses if s[1] >= 500]
    assert server_errors == [], server_errors
    assert len(statuses) == ROUNDS * 5
    assert "Traceback" not in caplog.text
