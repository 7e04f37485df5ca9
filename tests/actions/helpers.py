"""Real rasa_sdk Trackers for action tests, built the way the Rasa server sends them."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswerPolicy
from actions.forms import ValidatePolicyForm

ROOT = Path(__file__).resolve().parents[2]

# a Qingpu master's with an associate senior title, renting there: the high-level rent subsidy, tier D
QINGPU_MASTER = {
    "district": "青浦",
    "education": "硕士",
    "full_time": True,
    "age": 30,
    "title": "副高级",
    "employer_registered_in_district": True,
    "tax_and_social_insurance_in_district": True,
    "owns_home_in_district": False,
    "rents_in_district": True,
    "spouse_receives_rent_subsidy": False,
}


# the engine's next question for Qingpu's rent subsidy with these facts is the age
AGE_NEXT = {
    "topic": "rent_subsidy",
    "district": "青浦",
    "employer_registered_in_district": True,
    "tax_and_social_insurance_in_district": True,
    "full_time": True,
    "education": "本科",
    "former_executive_of": "无",
    "title": "副高级",
    "requested_slot": "age",
}


@lru_cache(maxsize=1)
def domain() -> dict[str, Any]:
    """The domain as the action server receives it (a plain dict): Rasa's merge of the directory domain/
    (domain.yml, linked as domain/dialogue.yml, and the generated domain/profile.yml)."""
    from rasa.shared.core.domain import Domain

    return Domain.load(ROOT / "domain").as_dict()


def user_event(text: str, intent: str, entities: list[dict] | None = None, **extra: Any) -> dict[str, Any]:
    parse_data = {
        "text": text,
        "intent": {"name": intent, "confidence": extra.pop("confidence", 0.95)},
        "entities": entities or [],
        "intent_ranking": extra.pop("intent_ranking", [{"name": intent, "confidence": 0.95}]),
    }
    return {"event": "user", "text": text, "parse_data": parse_data, "metadata": extra.pop("metadata", {})}


def slot_event(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


def make_tracker(
    slots: dict[str, Any] | None = None,
    *,
    text: str = "",
    intent: str = "inform",
    entities: list[dict] | None = None,
    events: list[dict] | None = None,
    trailing_slots: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    intent_ranking: list[dict] | None = None,
    active_loop: str | None = None,
) -> Tracker:
    """A tracker whose latest event is the given user message, followed by `trailing_slots` as the
    slot candidates Rasa appends before it calls a validation action."""
    all_slots = {name: None for name in domain()["slots"]}
    all_slots.update(slots or {})
    all_slots.update(trailing_slots or {})
    message = user_event(
        text, intent, entities, metadata=metadata or {}, intent_ranking=intent_ranking or [{"name": intent}]
    )
    history = list(events or [])
    history.append(message)
    history.extend(slot_event(name, value) for name, value in (trailing_slots or {}).items())
    latest = dict(message["parse_data"])  # as in Rasa: the message's metadata stays on its event
    return Tracker(
        sender_id="test-user",
        slots=all_slots,
        latest_message=latest,
        events=history,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def responses(dispatcher: Any) -> list[str | None]:
    """Names of the responses the action asked for, in order (None for custom json)."""
    return [message.get("response") for message in dispatcher.messages]


def rendered(dispatcher: Any, language: str = "zh") -> list[str]:
    """Each message as the person reads it: the domain response in their language with its variables
    filled (as Rasa interpolates them), and the quick-reply titles one per line below."""
    from rasa.core.nlg.interpolator import interpolate_text

    texts = []
    for message in dispatcher.messages:
        name = message.get("response")
        if not name:
            continue
        variations = domain()["responses"][name]
        english = [v for v in variations if v.get("condition")]
        default = [v for v in variations if not v.get("condition")]
        variation = (english if language == "en" and english else default)[0]
        values = {key: value for key, value in message.items() if isinstance(value, str)}
        text = interpolate_text(variation["text"], {**values, "language": language})
        buttons = message.get("buttons") or variation.get("buttons") or []
        texts.append("\n".join([text, *(f"{i}. {b['title']}" for i, b in enumerate(buttons, 1))]))
    return texts


def reply_bytes(dispatcher: Any, language: str = "zh") -> int:
    """The whole reply of one turn in UTF-8, as one WeChat passive reply carries it."""
    return len("\n\n".join(rendered(dispatcher, language)).encode("utf-8"))


async def run_action(action: Any, slots: dict, **message: Any) -> tuple[list[dict], CollectingDispatcher]:
    """One run of `action` on a tracker with these slots whose latest event is the given message."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, make_tracker(slots, **message), domain())
    return events, dispatcher


async def form_turn(slots: dict, **message: Any) -> tuple[list[dict], CollectingDispatcher]:
    """The policy form's validation of the given message."""
    return await run_action(ValidatePolicyForm(), slots, **message)


async def answer_turn(slots: dict, **message: Any) -> tuple[list[dict], CollectingDispatcher]:
    """The policy answer to the given message."""
    return await run_action(ActionAnswerPolicy(), slots, **message)


async def run_form(tracker: Tracker) -> tuple[list[dict], CollectingDispatcher]:
    """The policy form's validation of a tracker built by the test."""
    dispatcher = CollectingDispatcher()
    events = await ValidatePolicyForm().run(dispatcher, tracker, domain())
    return events, dispatcher


def last_requested(events: list[dict]) -> Any:
    """The slot the turn asked for last, or None."""
    asks = [e["value"] for e in events if e.get("name") == "requested_slot"]
    return asks[-1] if asks else None


def only_requested(events: list[dict]) -> object:
    """The one slot the turn asked for (fails when it asked for none or several)."""
    asks = [e["value"] for e in events if e.get("name") == "requested_slot"]
    assert len(asks) == 1
    return asks[0]
