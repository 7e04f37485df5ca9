"""What the case card knows about the person beyond the transcript (issue 13, item 1): the assistant's profile
and its last result, the officer's corrections and the re-run, and the corrected facts handed back.

Where it comes from:
- a case the assistant opened: its handoff payload (``profile``, ``result``);
- a takeover: the person's Rasa tracker (``RasaClient.tracker``), read once and kept in the case's payload
  (``source: tracker``), so the card does not ask Rasa again on every refresh.
Corrections are kept in the payload too (``corrections``: field -> value, ``rechecked``: the engine's result
on the corrected profile); on hand-back they go to the tracker as ``slot`` events (``hand_back_facts``).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import update

from ..models import split_conversation_id
from ..rasa_client import RasaUnavailable
from ..store import cases
from . import profile_check
from .privacy import TAKEOVER
from .render import profile_items, profile_labels, profile_value

log = logging.getLogger(__name__)


def save_payload(engine: Any, case_id: int, payload: dict[str, Any]) -> None:
    with engine.begin() as conn:
        conn.execute(update(cases).where(cases.c.id == case_id).values(payload=payload))


def base_profile(payload: dict[str, Any]) -> dict[str, Any]:
    """The assistant's profile as the engine reads it (values it rejects left out, as the assistant does)."""
    return profile_check.profile_from_slots(payload.get("profile") or {})


def corrected_profile(payload: dict[str, Any]) -> dict[str, Any]:
    return {**base_profile(payload), **(payload.get("corrections") or {})}


def result_policy_ids(result: Any) -> list[str]:
    if not isinstance(result, dict):
        return []
    return [
        str(r["policy_id"]) for r in result.get("results") or [] if isinstance(r, dict) and r.get("policy_id")
    ]


async def from_tracker(rasa: Any, conversation_id: str) -> dict[str, Any] | None:
    """The assistant's profile and last result read from the person's tracker; None when Rasa cannot say."""
    try:
        tracker = await rasa.tracker(conversation_id)
    except RasaUnavailable as error:
        log.warning("could not read %s's tracker: %s", split_conversation_id(conversation_id)[0], error)
        return None
    slots = tracker.get("slots") or {}
    profile = profile_check.profile_from_slots(slots)
    return {
        "source": "tracker",
        "profile": profile,
        "result": profile_check.last_result(slots, profile),
        "topic": slots.get("topic") if isinstance(slots.get("topic"), str) else None,
    }


async def ensure_assistant_view(desk: Any, case: dict[str, Any]) -> dict[str, Any]:
    """A takeover case without the assistant's view yet: read the tracker once and keep it; the case as is
    otherwise (also when Rasa cannot answer: the card says the assistant's view is not available)."""
    payload = case.get("payload") or {}
    if case.get("reason") != TAKEOVER or payload.get("source") == "tracker" or case.get("status") == "closed":
        return case
    read = await from_tracker(desk.router.rasa, case["conversation_id"])
    if read is None:
        return case
    payload = {**payload, **read}
    await desk.store.call(save_payload, desk.cases.engine, case["id"], payload)
    return {**case, "payload": payload}


def card(case: dict[str, Any]) -> dict[str, Any]:
    """The card's profile (each fact marked when the officer corrected it), result and correction state."""
    payload = case.get("payload") or {}
    corrections = payload.get("corrections") or {}
    labels = profile_labels()
    items = profile_items(payload.get("profile"))
    known = {item["field"] for item in items}
    for item in items:
        if item["field"] in corrections:
            item.update(value=profile_value(corrections[item["field"]]), corrected=True)
    items += [
        {"field": name, "label": labels.get(name, name), "value": profile_value(value), "corrected": True}
        for name, value in corrections.items()
        if name not in known
    ]
    return {
        "profile": items,
        "rechecked": payload.get("rechecked"),
        "corrections": [
            {"field": k, "label": labels.get(k, k), "value": profile_value(v)} for k, v in corrections.items()
        ],
        "assistant_view": "unavailable"
        if case.get("reason") == TAKEOVER and payload.get("source") != "tracker"
        else "payload",
    }


def corrected_case(case: dict[str, Any], field: Any, value: Any) -> tuple[dict[str, Any], Any, Any]:
    """The case's payload with one fact corrected and the engine re-run on it; (payload, old, new).
    Raises ProfileError for a field or value the vocabulary does not know."""
    payload = dict(case.get("payload") or {})
    profile = corrected_profile(payload)
    changed = profile_check.correct(profile, field, value)
    old, new = profile.get(field), changed[field]
    result = payload.get("result")
    topic = (result or {}).get("topic") if isinstance(result, dict) else None
    topic = topic or payload.get("topic") or case.get("topic")
    topic = topic if isinstance(topic, str) and topic != "eligibility" else None
    results = profile_check.rerun(changed, topic=topic, policy_ids=result_policy_ids(result))
    payload["corrections"] = {**(payload.get("corrections") or {}), field: new}
    payload["rechecked"] = {"topic": topic, "title": None, "personalised": True, "results": results}
    return payload, old, new


async def hand_back_facts(desk: Any, case: dict[str, Any] | None) -> bool:
    """Put the officer's corrected facts into the person's tracker (``slot`` events) before the assistant
    resumes, so its next answer uses them. False when Rasa refused (logged; the card still shows them)."""
    corrections = ((case or {}).get("payload") or {}).get("corrections") or {}
    if not corrections:
        return True
    try:
        await desk.router.rasa.set_slots(case["conversation_id"], dict(corrections))
        return True
    except RasaUnavailable as error:
        log.error(
            "corrected facts not handed to %s: %s", split_conversation_id(case["conversation_id"])[0], error
        )
        return False
