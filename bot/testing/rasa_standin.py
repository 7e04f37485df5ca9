"""A small stand-in for Rasa's REST channel and tracker API, scripted by the message text.

    "slow 2.5 ..."   answers after 2.5 s          "buttons"   a text with two buttons
    "handoff"        a handoff custom payload (and the conversation pauses, as action_handoff does)
    "long 5000"      a 5000-character answer      "two"       two separate texts
    "crash"          HTTP 500                     "/intent"   echoes the payload it got
    "noanswer"       [] (what Rasa answers when a custom action fails: the action server is down)
    "personal rent_subsidy songjiang [en]"   a personalised answer with the action's mark (custom
                     answer/topic/district, and its language when given)
    "fallback"       the assistant's fallback (utter_default)
    anything else    "收到：<text>"
``GET /conversations/{id}/tracker`` gives the latest message's intent: confidence 0.3 for a text that
starts with "unsure", else 0.95.
``python -m bot.testing.rasa_standin --port N`` serves it as a process of its own (tests that kill it).
While paused, messages are recorded and the answer is [] (Rasa 3.6 behaviour); {"event": "resume"} on the
tracker API ends the pause; ``slot`` events set ``slots[sender]``, which ``GET …/tracker`` returns (tests
may fill ``slots`` as the assistant would have). Every request is kept in ``received``.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


class RasaStandIn:
    def __init__(self, name: str = "rasa", token: str | None = None, base_delay: float = 0.0) -> None:
        self.name = name
        self.token = token
        self.base_delay = base_delay
        self.received: list[dict[str, Any]] = []
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.paused: set[str] = set()
        self.slots: dict[str, dict[str, Any]] = {}
        self.tracker_delay = 0.0  # seconds before GET …/tracker answers (a slow Rasa)
        self.app = Starlette(
            routes=[
                Route("/webhooks/rest/webhook", self.webhook, methods=["POST"]),
                Route("/conversations/{sender:path}/tracker/events", self.tracker_events, methods=["POST"]),
                Route("/conversations/{sender:path}/tracker", self.tracker, methods=["GET"]),
                Route("/", self.root, methods=["GET"]),
            ]
        )

    async def root(self, request: Request) -> JSONResponse:
        return JSONResponse({"version": "stand-in"})

    def messages_of(self, sender: str) -> list[str]:
        return [r["message"] for r in self.received if r["sender"] == sender]

    async def webhook(self, request: Request) -> JSONResponse:
        body = await request.json()
        sender, text = body["sender"], body.get("message") or ""
        self.received.append({**body, "node": self.name})
        if self.base_delay:
            await asyncio.sleep(self.base_delay)
        slow = re.match(r"slow (\d+(?:\.\d+)?)", text)
        if slow:
            await asyncio.sleep(float(slow.group(1)))
        if text.startswith("crash"):
            return JSONResponse({"error": "boom"}, status_code=500)
        if sender in self.paused or text.startswith("noanswer"):
            return JSONResponse([])
        return JSONResponse(self.answer(sender, text))

    def answer(self, sender: str, text: str) -> list[dict[str, Any]]:
        out = lambda **kw: {"recipient_id": sender, **kw}  # noqa: E731
        if text.startswith("/"):
            return [out(text=f"payload {text}")]
        if "handoff" in text or "转人工" in text:
            self.paused.add(sender)
            # Like action_handoff: "转人工" gets the assistant's own notice with the payload, "handoff" only
            # the payload (then the gateway speaks).
            notice = [out(text="好的，已为您转接工作人员，请稍候。")] if "转人工" in text else []
            return notice + [
                out(
                    custom={
                        "handoff": {
                            "reason": "request_human",
                            "summary": "wants a person",
                            "profile": {"district": "songjiang"},
                            "result": None,
                            "language": "zh",
                        }
                    }
                )
            ]
        if text.startswith("buttons"):
            return [
                out(
                    text="您想了解哪一项？",
                    buttons=[
                        {"title": "租房补贴", "payload": "/ask_rent_subsidy"},
                        {"title": "购房补贴", "payload": "/ask_purchase_subsidy"},
                    ],
                )
            ]
        long = re.match(r"long (\d+)", text)
        if long:
            size = int(long.group(1))
            sentence = "这是一段很长的政策说明。"
            return [out(text=(sentence * (size // len(sentence) + 1))[:size])]
        personal = re.match(r"personal (\w+) (\w+)(?: (en|zh))?", text)
        if personal:
            topic, district, language = personal.groups()
            mark = {"answer": "personal", "topic": topic, "district": district}
            if language:  # the answer's language, as the action marks it
                mark["language"] = language
            # Rasa's REST channel sends a message's custom part as an item of its own
            return [out(text=f"按您的情况，{district}的{topic}：预计可以申请。"), out(custom=mark)]
        if text.startswith("fallback"):
            return [out(text="抱歉，我没太明白，您能换个说法吗？")]
        if text.startswith("two"):
            return [out(text="第一段"), out(text="第二段")]
        return [out(text=f"收到：{text}")]

    def _refused(self, request: Request) -> JSONResponse | None:
        if self.token and request.query_params.get("token") != self.token:
            return JSONResponse({"reason": "NotAuthenticated"}, status_code=401)
        return None

    @staticmethod
    def _sender(request: Request, tail: str) -> str:
        # Like Rasa's Sanic server: the sender is the raw path segment, not percent-decoded.
        raw = request.scope.get("raw_path", b"").decode("latin-1")
        return raw.split("/conversations/", 1)[1].rsplit(tail, 1)[0]

    async def tracker(self, request: Request) -> JSONResponse:
        refused = self._refused(request)
        if refused is not None:
            return refused
        sender = self._sender(request, "/tracker")
        if self.tracker_delay:
            await asyncio.sleep(self.tracker_delay)
        said = self.messages_of(sender)
        latest: dict[str, Any] = {}
        if said:  # the review queue reads the intent's confidence: low for a text starting "unsure"
            confidence = 0.3 if said[-1].startswith("unsure") else 0.95
            latest = {"text": said[-1], "intent": {"name": "inform", "confidence": confidence}}
        return JSONResponse(
            {
                "sender_id": sender,
                "slots": dict(self.slots.get(sender, {})),
                "paused": sender in self.paused,
                "latest_message": latest,
            }
        )

    async def tracker_events(self, request: Request) -> JSONResponse:
        refused = self._refused(request)
        if refused is not None:
            return refused
        sender = self._sender(request, "/tracker/events")
        body = await request.json()
        for event in body if isinstance(body, list) else [body]:  # Rasa takes one event or a list
            self.events.append((sender, event))
            if event.get("event") == "resume":
                self.paused.discard(sender)
            elif event.get("event") == "pause":
                self.paused.add(sender)
            elif event.get("event") == "slot":
                self.slots.setdefault(sender, {})[event["name"]] = event.get("value")
        return JSONResponse({"sender_id": sender, "events": []})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Rasa REST stand-in on 127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token")
    args = parser.parse_args(argv)
    app = RasaStandIn(token=args.token).app
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", ws="none")


if __name__ == "__main__":
    main()
