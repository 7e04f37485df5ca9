"""bot/wechat_inbound.py on inline XML, as WeChat sends it (wechatpy's own tests do the same)."""

from __future__ import annotations

import pytest
from wechatpy import parse_message

from bot.http_input import BadInput
from bot.texts import text as say
from bot.wechat_inbound import normalise, refuse_duplicated_fields


def xml(fields: str) -> str:
    return (
        "<xml><ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[oPerson]]></FromUserName>"
        f"<CreateTime>1764547200</CreateTime>{fields}</xml>"
    )


def inbound_of(fields: str):
    return normalise(parse_message(xml(fields)), "zh")


def test_a_text_message_is_keyed_by_its_msg_id() -> None:
    inbound, local = inbound_of(
        "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[租房补贴]]></Content><MsgId>1234567890</MsgId>"
    )
    assert local is None
    assert (inbound.channel, inbound.user_id, inbound.language) == ("wechat", "oPerson", "zh")
    assert (inbound.kind, inbound.text, inbound.external_id) == ("text", "租房补贴", "1234567890")


def test_a_subscription_is_welcomed_by_the_gateway() -> None:
    inbound, local = inbound_of("<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>")
    assert inbound.kind == "event" and inbound.meta == {"event": "subscribe", "key": None}
    assert inbound.external_id == "evt:oPerson:1764547200:subscribe:"
    assert [r.text for r in local] == [say("welcome", "zh"), say("privacy", "zh")]


def test_a_menu_click_becomes_its_button_payload() -> None:
    inbound, local = inbound_of(
        "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event>"
        "<EventKey><![CDATA[TOPIC_RENT_SUBSIDY]]></EventKey>"
    )
    assert local is None
    assert (inbound.kind, inbound.text, inbound.payload) == ("button", "租房补贴", "/ask_rent_subsidy")
    unknown, help_reply = inbound_of(
        "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[OLD]]></EventKey>"
    )
    assert unknown.kind == "event" and [r.text for r in help_reply] == [say("help", "zh")]


def test_recognised_voice_is_text_and_other_types_are_unsupported() -> None:
    voice, _ = inbound_of(
        "<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[m]]></MediaId><Format><![CDATA[amr]]></Format>"
        "<Recognition><![CDATA[青浦落户]]></Recognition><MsgId>42</MsgId>"
    )
    assert (voice.kind, voice.text, voice.meta) == ("text", "青浦落户", {"type": "voice", "recognised": True})
    image, local = inbound_of(
        "<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://x]]></PicUrl>"
        "<MediaId><![CDATA[m]]></MediaId><MsgId>43</MsgId>"
    )
    assert local is None and (image.kind, image.text, image.external_id) == ("unsupported", "[image]", "43")


def test_a_repeated_field_is_refused_by_name() -> None:
    with pytest.raises(BadInput, match="field Content repeated"):
        refuse_duplicated_fields(xml("<MsgType>text</MsgType><Content>a</Content><Content>b</Content>"))
    refuse_duplicated_fields(xml("<MsgType>text</MsgType><Content>a</Content>"))  # one of each: fine
