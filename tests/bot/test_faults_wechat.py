"""Issue 10, WeChat findings 1, 2 and 11: a safe-mode account refuses plain requests, signatures expire
and nonces are single-use (across gateway processes), duplicated XML fields are refused with a reason.
Requests are signed and encrypted with wechatpy's own crypto (bot/testing/wechat_standin.py)."""

from __future__ import annotations

import time

from gateway_harness import WECHAT_APP_ID, WECHAT_TOKEN, cases_of, make_settings, running_gateway

from bot.testing.wechat_standin import WeChatServer

OPENID = "oFAULT1234567890abcdefghijk"
INVENTED = "oINVENTED000000000000000000"


async def post(running, request) -> tuple[int, str]:
    response = await running.http.post("/wechat", params=request.params, content=request.body)
    return response.status_code, response.text


async def test_safe_mode_refuses_a_plain_request_for_an_invented_openid(wechat_gateway, rasa) -> None:
    """Finding 1: without encrypt_type only the URL signature (token + timestamp + nonce) was checked, so
    any body for any openid was accepted — here a handoff that would open a staff case."""
    plain = WeChatServer(WECHAT_TOKEN, WECHAT_APP_ID)
    status, text = await post(wechat_gateway, plain.request(plain.text_xml(INVENTED, "转人工")))
    assert status == 403 and "encrypt_type=aes" in text
    raw = plain.request(plain.text_xml(INVENTED, "转人工"))
    raw.params["encrypt_type"] = "raw"
    assert (await post(wechat_gateway, raw))[0] == 403
    assert rasa.received == [] and cases_of(wechat_gateway.gateway, f"wechat:{INVENTED}") == []
    store = wechat_gateway.gateway.store
    assert await store.call(store.messages, f"wechat:{INVENTED}") == []


async def test_plain_requests_in_safe_mode_only_with_the_compatibility_setting(
    rasa, aes_key, gateway_factory
) -> None:
    plain = WeChatServer(WECHAT_TOKEN, WECHAT_APP_ID)
    async with gateway_factory(
        (rasa.url,),
        wechat_token=WECHAT_TOKEN,
        wechat_app_id=WECHAT_APP_ID,
        wechat_aes_key=aes_key,
        wechat_allow_plain_in_safe_mode=True,
    ) as gw:
        status, _ = await post(gw, plain.request(plain.text_xml(OPENID, "兼容模式")))
        assert status == 200
        assert rasa.messages_of(f"wechat:{OPENID}") == ["兼容模式"]


async def test_safe_mode_needs_a_message_signature(wechat_gateway, wechat_server, rasa) -> None:
    request = wechat_server.request(wechat_server.text_xml(OPENID, "无签名"))
    del request.params["msg_signature"]
    status, text = await post(wechat_gateway, request)
    assert status == 403 and "msg_signature" in text
    assert rasa.received == []


async def test_timestamps_outside_five_minutes_are_refused(wechat_gateway, wechat_server, rasa) -> None:
    """Finding 2: a 30-day-old timestamp and one a year ahead were accepted."""
    # each timestamp is taken just before its request, 5 s past the window: a machine that stalls for a
    # second under load must not carry "now + 301" back inside it
    for offset in (-30 * 86400, 365 * 86400, -305, 305):
        timestamp = int(time.time()) + offset
        request = wechat_server.request(wechat_server.text_xml(OPENID, "旧签名"), timestamp=str(timestamp))
        status, text = await post(wechat_gateway, request)
        assert (status, text) == (403, "timestamp outside the allowed window"), timestamp
    ok = wechat_server.request(
        wechat_server.text_xml(OPENID, "新签名"), timestamp=str(int(time.time()) - 200)
    )
    assert (await post(wechat_gateway, ok))[0] == 200
    assert rasa.messages_of(f"wechat:{OPENID}") == ["新签名"]


async def test_a_captured_signature_cannot_sign_another_body(rasa, gateway_factory) -> None:
    """Finding 2: one signature/timestamp/nonce from an access log signed any number of bodies. In plain
    mode the signature does not cover the body; the nonce, bound to the first body, now does."""
    plain = WeChatServer(WECHAT_TOKEN, WECHAT_APP_ID)
    async with gateway_factory((rasa.url,), wechat_token=WECHAT_TOKEN, wechat_app_id=WECHAT_APP_ID) as gw:
        first = plain.request(plain.text_xml(OPENID, "原文"))
        assert (await post(gw, first))[0] == 200
        # WeChat's own retry of that request (same body) is still accepted, and deduplicated by MsgId
        assert (await post(gw, first))[0] == 200
        forged = plain.request(
            plain.text_xml(INVENTED, "伪造"), timestamp=first.params["timestamp"], nonce=first.params["nonce"]
        )
        assert forged.params["signature"] == first.params["signature"]
        assert await post(gw, forged) == (403, "nonce already used")
        assert (
            rasa.messages_of(f"wechat:{OPENID}") == ["原文"] and rasa.messages_of(f"wechat:{INVENTED}") == []
        )


async def test_nonces_are_shared_by_gateway_processes(rasa, tmp_path) -> None:
    """Two gateways on one database: a nonce used at one is used at the other."""
    plain = WeChatServer(WECHAT_TOKEN, WECHAT_APP_ID)
    settings = make_settings(tmp_path, (rasa.url,), wechat_token=WECHAT_TOKEN, wechat_app_id=WECHAT_APP_ID)
    async with running_gateway(settings) as a, running_gateway(settings) as b:
        first = plain.request(plain.text_xml(OPENID, "甲"))
        assert (await post(a, first))[0] == 200
        forged = plain.request(
            plain.text_xml(OPENID, "乙"), timestamp=first.params["timestamp"], nonce=first.params["nonce"]
        )
        assert await post(b, forged) == (403, "nonce already used")


async def test_duplicated_xml_fields_are_refused_with_a_reason(wechat_gateway, wechat_server, rasa) -> None:
    """Finding 11 (and the insert failure behind finding 6): 41 <Content> elements."""
    xml = wechat_server.text_xml(OPENID, "身份证310101199001011234")
    xml = xml.replace("</Content>", "</Content>" + "<Content>13812345678</Content>" * 40)
    status, text = await post(wechat_gateway, wechat_server.request(xml))
    assert (status, text) == (400, "malformed request: field Content repeated")
    assert rasa.received == []
