"""WeChat's inbound side: a parsed wechatpy message becomes the gateway's one message shape
(``InboundMessage``), with the gateway's own replies where Rasa is not asked (subscription, menu help);
an XML body that repeats a field is refused before it is parsed."""

from __future__ import annotations

from typing import Any

import xmltodict

from .http_input import BadInput
from .models import InboundMessage, Reply
from .texts import text as say
from .wechat_menu import menu_payloads


def normalise(message: Any, language: str) -> tuple[InboundMessage, list[Reply] | None]:
    """wechatpy message -> InboundMessage (in the gateway's default ``language``), plus the gateway's own
    replies when Rasa is not asked."""
    raw = message._data
    inbound = InboundMessage(channel="wechat", user_id=message.source, language=language)
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


def refuse_duplicated_fields(xml: str) -> None:
    """WeChat sends each field once; a repeated one (41 ``<Content>`` elements) is refused with its name
    instead of reaching the parser and the database as a list."""
    root = xmltodict.parse(xml, disable_entities=True).get("xml")
    if not isinstance(root, dict):
        return  # parse_message reports what is wrong
    for name, value in root.items():
        if isinstance(value, list):
            raise BadInput(400, f"malformed request: field {name} repeated")
