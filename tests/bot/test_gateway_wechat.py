"""WeChat official account, protocol level: URL verification, plain and safe (AES) mode, signatures, malformed,
oversize and overlong bodies, retries and their dedupe (also across gateway processes), with requests signed and
AES-encrypted by wechatpy's own crypto. The helpers here (send, transcript) are shared by the other WeChat tests.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from gateway_harness import WECHAT_APP_ID, WECHAT_TOKEN, Running, wait_for

from bot.models import Reply
from bot.testing.wechat_standin import WeChatServer, sign

OPENID = "oABCD1234567890abcdefghijklm"


async def send(running: Running, server: WeChatServer, xml: str, **kwargs) -> tuple[int, str | None]:
    request = server.request(xml, **kwargs)
    response = await running.http.post("/wechat", params=request.params, content=request.body)
    if response.status_code != 200:
        return response.status_code, None
    return 200, server.read_reply(response.text, request.params)


async def transcript(running: Running, openid: str = OPENID) -> list[dict]:
    store = running.gateway.store
    return await store.call(store.messages, f"wechat:{openid}")


async def replies_in_transcript(running: Running, count: int, timeout: float = 5.0) -> list[str]:
    """The assistant's replies in the transcript, once there are ``count`` of them (or at the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = await transcript(running)
        replies = [r["text"] for r in rows if r["direction"] == "out" and r["kind"] == "reply"]
        if len(replies) >= count or time.monotonic() > deadline:
            return replies
        await asyncio.sleep(0.02)


async def test_url_verification_echoes_only_when_signed(wechat_gateway: Running) -> None:
    params = {"timestamp": "1700000000", "nonce": "n1", "echostr": "echo-123"}
    good = await wechat_gateway.http.get(
        "/wechat", params={**params, "signature": sign(WECHAT_TOKEN, "1700000000", "n1")}
    )
    assert good.status_code == 200 and good.text == "echo-123"
    bad = await wechat_gateway.http.get("/wechat", params={**params, "signature": "0" * 40})
    assert bad.status_code == 403


async def test_text_in_safe_mode_gets_encrypted_passive_reply(wechat_gateway, wechat_server, rasa) -> None:
    status, reply = await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, "你好"))
    assert status == 200
    assert reply == "收到：你好"
    assert rasa.received[-1]["sender"] == f"wechat:{OPENID}"
    assert rasa.received[-1]["metadata"] == {"channel": "wechat", "language": "zh"}
    # the inbound message's state is written after the passive reply left (a crash in between replays it)
    store = wechat_gateway.gateway.store
    await wait_for(lambda: store.messages(f"wechat:{OPENID}")[0]["status"] != "received")
    rows = await transcript(wechat_gateway)
    assert [(r["direction"], r["text"], r["status"]) for r in rows] == [
        ("in", "你好", "forwarded"),
        ("out", "收到：你好", "sent_passive"),
    ]


async def test_plain_mode_is_accepted_without_an_aes_key(rasa, gateway_factory) -> None:
    async with gateway_factory((rasa.url,), wechat_token=WECHAT_TOKEN, wechat_app_id=WECHAT_APP_ID) as gw:
        plain = WeChatServer(WECHAT_TOKEN, WECHAT_APP_ID)
        status, reply = await send(gw, plain, plain.text_xml(OPENID, "明文"))
        assert (status, reply) == (200, "收到：明文")


async def test_bad_signature_is_refused_and_nothing_stored(
    wechat_gateway, wechat_server, rasa, caplog
) -> None:
    request = wechat_server.request(wechat_server.text_xml(OPENID, "伪造"))
    request.params["signature"] = "f" * 40
    response = await wechat_gateway.http.post("/wechat", params=request.params, content=request.body)
    assert response.status_code == 403
    assert "invalid signature" in caplog.text
    forged = WeChatServer("another-token", WECHAT_APP_ID, wechat_server.aes_key)
    status, _ = await send(wechat_gateway, forged, forged.text_xml(OPENID, "伪造"))
    assert status == 403
    assert rasa.received == [] and await transcript(wechat_gateway) == []


async def test_message_signature_checked_in_safe_mode(wechat_gateway, wechat_server) -> None:
    request = wechat_server.request(wechat_server.text_xml(OPENID, "x"))
    request.params["msg_signature"] = "0" * 40
    response = await wechat_gateway.http.post("/wechat", params=request.params, content=request.body)
    assert response.status_code == 403


@pytest.mark.parametrize("body", [b"<xml><broken", b"not xml at all", b"<xml><Foo>1</Foo></xml>", b""])
async def test_malformed_bodies_get_400(rasa, gateway_factory, body) -> None:
    async with gateway_factory((rasa.url,), wechat_token=WECHAT_TOKEN, wechat_app_id=WECHAT_APP_ID) as gw:
        now = str(int(time.time()))
        params = {"timestamp": now, "nonce": "n", "signature": sign(WECHAT_TOKEN, now, "n")}
        response = await gw.http.post("/wechat", params=params, content=body)
        assert response.status_code == 400
        encrypted = await gw.http.post(
            "/wechat", params={**params, "encrypt_type": "aes", "msg_signature": "x"}, content=body
        )
        assert encrypted.status_code in (400, 403)


async def test_oversize_body_gets_413(wechat_gateway, wechat_server) -> None:
    request = wechat_server.request(wechat_server.text_xml(OPENID, "长" * 40000))
    response = await wechat_gateway.http.post("/wechat", params=request.params, content=request.body)
    assert response.status_code == 413


async def test_overlong_text_is_kept_but_not_forwarded(wechat_gateway, wechat_server, rasa) -> None:
    status, reply = await send(wechat_gateway, wechat_server, wechat_server.text_xml(OPENID, "问" * 1500))
    assert status == 200 and "太长" in reply
    assert rasa.received == []
    rows = await transcript(wechat_gateway)
    assert rows[0]["text"] == "问" * 1500


async def test_retries_of_one_msgid_get_one_answer(wechat_gateway, wechat_server, rasa) -> None:
    xml = wechat_server.text_xml(OPENID, "重复", msg_id=987654321)
    first = await send(wechat_gateway, wechat_server, xml)
    second = await send(wechat_gateway, wechat_server, xml)
    third = await send(wechat_gateway, wechat_server, xml)
    assert first == (200, "收到：重复")
    # The retry repeats the same passive reply (WeChat shows it once), Rasa sees the message once.
    assert second == third == (200, "收到：重复")
    assert rasa.messages_of(f"wechat:{OPENID}") == ["重复"]
    assert [r["direction"] for r in await transcript(wechat_gateway)] == ["in", "out"]


async def test_concurrent_retries_while_processing_answer_once(wechat_gateway, wechat_server, rasa) -> None:
    xml = wechat_server.text_xml(OPENID, "slow 0.3 并发重试", msg_id=555)
    results = await asyncio.gather(*(send(wechat_gateway, wechat_server, xml) for _ in range(3)))
    assert len(rasa.messages_of(f"wechat:{OPENID}")) == 1
    assert {r for r in results} == {(200, "收到：slow 0.3 并发重试")}


async def test_retry_reaching_another_gateway_process_is_not_answered_twice(
    rasa, wechat_api, aes_key, wechat_server, tmp_path
) -> None:
    """Two gateway processes on one database: WeChat's retry lands on the second one."""
    from gateway_harness import WECHAT_SECRET, make_settings, running_gateway

    settings = make_settings(
        tmp_path,
        (rasa.url,),
        wechat_token=WECHAT_TOKEN,
        wechat_app_id=WECHAT_APP_ID,
        wechat_app_secret=WECHAT_SECRET,
        wechat_aes_key=aes_key,
        wechat_api_base_url=f"{wechat_api.url}/cgi-bin/",
    )
    async with running_gateway(settings) as first, running_gateway(settings) as second:
        xml = wechat_server.text_xml(OPENID, "两台网关", msg_id=777)
        assert await send(first, wechat_server, xml) == (200, "收到：两台网关")
        assert await send(second, wechat_server, xml) == (
            200,
            "收到：两台网关",
        )  # same passive reply, repeated
        assert rasa.messages_of(f"wechat:{OPENID}") == ["两台网关"]
        # Both processes share the access token through the database: one stable_token call in all.
        await first.gateway.router.send(f"wechat:{OPENID}", [Reply("一")])
        await second.gateway.router.send(f"wechat:{OPENID}", [Reply("二")])
        assert wechat_api.texts_to(OPENID) == ["一", "二"] and len(wechat_api.token_calls) == 1


async def test_two_gateway_os_processes_share_dedupe_and_token(
    rasa, wechat_api, aes_key, wechat_server, tmp_path
) -> None:
    """Item 9 with real processes: two `python -m bot` on one SQLite database (as two machines on one
    PostgreSQL would be), WeChat's retry reaching the other one, and one access token for both."""
    import os

    import httpx
    from gateway_harness import WECHAT_SECRET

    from bot.testing.process import free_port, start_gateway, wait_until_reachable

    keep = {"PATH", "HOME", "LANG"}
    base = {k: v for k, v in os.environ.items() if k in keep}
    base.update(
        BOT_DATABASE_URL=f"sqlite:///{tmp_path / 'shared.db'}",
        RASA_URL=rasa.url,
        WECHAT_TOKEN=WECHAT_TOKEN,
        WECHAT_APP_ID=WECHAT_APP_ID,
        WECHAT_APP_SECRET=WECHAT_SECRET,
        WECHAT_ENCODING_AES_KEY=aes_key,
        WECHAT_API_BASE_URL=f"{wechat_api.url}/cgi-bin/",
        WECHAT_PASSIVE_DEADLINE="1.0",
        RASA_TELEMETRY_ENABLED="false",
    )
    ports, processes = [free_port(), free_port()], []
    try:
        # One after the other: two processes migrating a fresh database at the same instant can collide
        # (store.migrate, reported to the store's owner); a rolling start is what a deployment does.
        for port in ports:
            processes.append(start_gateway(dict(base, BOT_PORT=str(port))))
            url = f"http://127.0.0.1:{port}/healthz"
            await asyncio.to_thread(wait_until_reachable, url, processes[-1], 60)
        first, second = (
            Running(
                f"http://127.0.0.1:{p}", None, httpx.AsyncClient(base_url=f"http://127.0.0.1:{p}", timeout=30)
            )
            for p in ports
        )
        xml = wechat_server.text_xml(OPENID, "两个进程", msg_id=8080)
        assert await send(first, wechat_server, xml) == (200, "收到：两个进程")
        assert await send(second, wechat_server, xml) == (200, "收到：两个进程")  # repeated, not re-asked
        assert rasa.messages_of(f"wechat:{OPENID}") == ["两个进程"]
        # A slow answer from each process goes by customer-service message with one shared token.
        for running, text in ((first, "slow 1.3 甲"), (second, "slow 1.3 乙")):
            _, reply = await send(running, wechat_server, wechat_server.text_xml(OPENID, text))
            assert "稍后" in reply
        await wait_for(lambda: len(wechat_api.sent) == 2, timeout=15)
        assert sorted(wechat_api.texts_to(OPENID)) == ["收到：slow 1.3 乙", "收到：slow 1.3 甲"]
        assert len(wechat_api.token_calls) == 1 and wechat_api.classic_token_calls == 0
        await first.http.aclose()
        await second.http.aclose()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            await asyncio.to_thread(process.wait, 20)
