"""A small client that talks to the real Rasa server as the gateway does, and a driver that answers
the assistant's questions from a given profile — so conversation tests do not depend on the order
in which the assistant chooses to ask."""

from __future__ import annotations

import json
import uuid

import httpx

# How a person would type each fact when asked for it without buttons.
TYPED_ANSWERS_ZH = {
    "age": "{}岁",
    "annual_salary_wan": "年薪{}万",
    "residence_permit_points": "{}分",
}
TYPED_ANSWERS_EN = {
    "age": "{} years old",
    "annual_salary_wan": "{} wan a year",
    "residence_permit_points": "{} points",
}


class AssistantClient:
    def __init__(self, rasa_url: str, token: str, language: str = "zh", channel: str = "e2e"):
        self.rasa_url = rasa_url
        self.token = token
        self.language = language
        self.channel = channel
        self.sender = f"{channel}:{uuid.uuid4().hex[:12]}"
        self.http = httpx.Client(timeout=30)

    def say(self, text: str) -> list[dict]:
        response = self.http.post(
            f"{self.rasa_url}/webhooks/rest/webhook",
            json={
                "sender": self.sender,
                "message": text,
                "metadata": {"channel": self.channel, "language": self.language},
            },
        )
        response.raise_for_status()
        return response.json()

    def tracker(self) -> dict:
        response = self.http.get(
            f"{self.rasa_url}/conversations/{self.sender}/tracker", params={"token": self.token}
        )
        response.raise_for_status()
        return response.json()

    def answer_until_done(self, first_message: str, profile: dict, max_turns: int = 12) -> list[dict]:
        """Send `first_message`, then answer every question from `profile` until the assistant stops asking.

        Returns every reply of the conversation in order."""
        transcript = self.say(first_message)
        replies = list(transcript)
        for _ in range(max_turns):
            requested = self.tracker().get("slots", {}).get("requested_slot")
            if not requested:
                return transcript
            if requested not in profile:
                raise AssertionError(
                    f"the assistant asked for {requested!r}, which this profile does not give"
                )
            replies = self.say(self.answer_text(requested, profile[requested], replies))
            transcript.extend(replies)
        raise AssertionError(f"still asking after {max_turns} answers: {transcript}")

    def answer_text(self, slot: str, value, replies: list[dict]) -> str:
        """Pick the offered button for this value if there is one; otherwise type the answer."""
        for reply in replies:
            for button in reply.get("buttons") or []:
                if _button_means(button["payload"], slot, value):
                    return button["payload"]
        if isinstance(value, list):
            if not value:
                return "没有" if self.language == "zh" else "none"
            return "，".join(value)
        if isinstance(value, bool):
            return ("是的" if value else "不是") if self.language == "zh" else ("yes" if value else "no")
        templates = TYPED_ANSWERS_ZH if self.language == "zh" else TYPED_ANSWERS_EN
        return templates.get(slot, "{}").format(value)


def _button_means(payload: str, slot: str, value) -> bool:
    if value in (None, "无", []) and payload == "/deny":
        return True  # "none of these" is offered as a plain no
    if isinstance(value, bool) and payload in ("/affirm", "/deny"):
        return payload == ("/affirm" if value else "/deny")
    if "{" not in payload:
        return False
    try:
        entities = json.loads(payload[payload.index("{") :])
    except ValueError:
        return False
    return value is not None and value in (entities.get(slot), entities.get(slot.rstrip("s")))


def texts(replies: list[dict]) -> str:
    return "\n".join(reply.get("text", "") for reply in replies if reply.get("text"))
