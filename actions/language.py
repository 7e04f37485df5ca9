"""The conversation's language: from the channel at session start, from the person's words, or guessed
from the first message's script. Once set it sticks until the person changes it."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.config import LANGUAGES, settings

CJK = re.compile(r"[\u3400-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")
# slots that belong to one session only and are not carried into the next
SESSION_ONLY_SLOTS = {"requested_slot", "session_started_metadata", "questions_asked"}


def language_of_text(text: str | None) -> str | None:
    """zh if the text has Chinese characters, en if it has Latin letters only, else None.
    Intent payloads ("/greet") say nothing about the person's language."""
    if not text or text.startswith("/"):
        return None
    if CJK.search(text):
        return "zh"
    if LATIN.search(text):
        return "en"
    return None


def requested_language(text: str | None) -> str | None:
    """The language a switch_language message asks for when NLU found no language entity."""
    lowered = (text or "").lower()
    for language, words in settings()["language"]["keywords"].items():
        if any(word in lowered for word in words):
            return language
    return None


def metadata_language(metadata: Any) -> str | None:
    language = (metadata or {}).get("language") if isinstance(metadata, dict) else None
    if isinstance(language, str):
        language = language.split("-")[0].lower()  # Telegram language_code "en-GB" -> "en"
    return language if language in LANGUAGES else None


def latest_user_metadata(tracker: Tracker) -> dict[str, Any]:
    """Metadata of the latest user message: Rasa keeps it on the event, not in latest_message."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event.get("metadata") or {}
    return {}


class ActionDetectLanguage(Action):
    """Custom slot mapping of `language`, run by action_extract_slots on every user turn."""

    def name(self) -> str:
        return "action_detect_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name")
        if intent == "switch_language":
            if any(e.get("entity") == "language" for e in message.get("entities", [])):
                return []  # the from_entity mapping sets it
            language = requested_language(message.get("text"))
            return [SlotSet("language", language)] if language else []
        if tracker.get_slot("language") in LANGUAGES:
            return []
        language = (
            metadata_language(latest_user_metadata(tracker))
            or metadata_language(tracker.get_slot("session_started_metadata"))
            or language_of_text(message.get("text"))
        )
        return [SlotSet("language", language)] if language else []


class ActionSessionStart(Action):
    """Starts a session keeping the profile, and takes the language the channel reports."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        for name, value in tracker.slots.items():
            if value is not None and name not in SESSION_ONLY_SLOTS:
                events.append(SlotSet(name, value))
        language = metadata_language(tracker.get_slot("session_started_metadata"))
        if language:
            events.append(SlotSet("language", language))
        events.append(ActionExecuted("action_listen"))
        return events
