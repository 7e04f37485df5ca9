"""好差评 (issue 13, item 4): when a staff case closes, and after the assistant's personalised answer (at
most once per topic per conversation: the action marks such an answer with a custom
``{"answer": "personal", "topic", "district"}``), the person is offered five levels (buttons on web chat
and Telegram; on WeChat the same buttons become numbered options, "回复 1–5"), may add a comment
("意见：…"), and a rating at or below ``follow_up_at_most`` opens a 差评回访 follow-up case, due within
``follow_up_working_days`` working days on the office calendar, listed apart from the queue until the
callback's outcome is recorded. Rating is never required: anything else goes to the assistant.

Knobs and level names: console.yml ``ratings``; what the person reads: bot/texts.yml ``rating_*``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from ..models import Button, InboundMessage, Reply
from ..store import Store, case_notes, cases, rating_offers, ratings, utcnow
from ..texts import normalise_language
from ..texts import text as say
from . import review
from .settings import config
from .workcalendar import work_calendar

FOLLOW_UP = "followup"  # the status of a 差评回访 case until its callback is recorded


def _settings() -> dict[str, Any]:
    return config()["ratings"]


def prompt(language: str, wording: str = "rating_prompt") -> Reply:
    """ "Please rate …" with the five levels as buttons (payload ``/rate_<score>``)."""
    prefix = _settings()["payload_prefix"]
    buttons = [
        Button(level.get(language) or level["zh"], f"{prefix}{level['score']}")
        for level in _settings()["levels"]
    ]
    return Reply(say(wording, language), buttons=buttons, author="gateway")


def offer(store: Store, conversation_id: str, case_id: int) -> None:
    """Remember which case the person may rate (for ``prompt_hours``; shared by gateway processes)."""
    _remember_offer(store, conversation_id, {"case_id": case_id})


def _remember_offer(store: Store, conversation_id: str, subject: dict[str, Any]) -> None:
    hours = float(_settings()["prompt_hours"])
    store.cache_set(f"rating:{conversation_id}", json.dumps(subject), hours * 3600)


def offer_after_answer(
    store: Store, conversation_id: str, marks: list[dict[str, Any]], language: str, message_id: int
) -> list[Reply]:
    """The rating offer after a personalised answer (``marks``: the assistant's marks of this turn), once
    per topic per conversation (the ``rating_offers`` row is the once: two processes cannot both offer)."""
    personal = [m for m in marks if m.get("answer") == "personal" and m.get("topic")]
    if not personal:
        return []
    topic, district = str(personal[-1]["topic"])[:60], personal[-1].get("district")
    try:
        with store.engine.begin() as conn:
            conn.execute(
                insert(rating_offers).values(
                    conversation_id=conversation_id, topic=topic, offered_at=utcnow()
                )
            )
    except IntegrityError:
        return []  # offered for this topic before
    subject = {"topic": topic, "district": str(district)[:20] if district else None, "message_id": message_id}
    _remember_offer(store, conversation_id, subject)
    # the offer speaks the answer's language (English typed on a page left on 中文 is answered in English)
    answered_in = normalise_language(personal[-1].get("language"), default=language)
    return [prompt(answered_in, "rating_prompt_answer")]


def score_of(message: InboundMessage) -> int | None:
    """The score a pressed level carries (WeChat's "2" is already the second button's payload)."""
    prefix = _settings()["payload_prefix"]
    if message.kind != "button" or not (message.payload or "").startswith(prefix):
        return None
    tail = (message.payload or "")[len(prefix) :]
    scores = {level["score"] for level in _settings()["levels"]}
    return int(tail) if tail.isdigit() and int(tail) in scores else None


def comment_of(message: InboundMessage) -> str | None:
    if message.kind != "text" or not message.text:
        return None
    text = message.text.strip()
    for prefix in _settings()["comment_prefixes"]:
        if text.casefold().startswith(prefix.casefold()):
            return text[len(prefix) :].strip()[:1000] or None
    return None


async def rate(desk: Any, message: InboundMessage, language: str) -> list[Reply] | None:
    """A pressed level (or WeChat's number) or a comment, answered by the gateway; None for anything else.
    ``desk``: the CaseDesk (its database calls, audit log and live events)."""
    score = score_of(message)
    if score is not None:
        rated = await desk.store.call(record, desk.store, message.conversation_id, score, language)
        if rated is None:
            return [Reply(say("rating_expired", language), author="gateway")]
        await desk.audit.arecord("person", "rating", rated["case_id"], score=score)
        if rated["follow_up_id"] is None:
            return [Reply(say("rating_thanks", language), author="gateway")]
        await desk.audit.arecord(
            "person", "case_opened", rated["follow_up_id"], reason=_settings()["follow_up_reason"]
        )
        desk.router.bus.publish(
            message.conversation_id, {"type": "case_opened", "case_id": rated["follow_up_id"]}
        )
        days = int(_settings()["follow_up_working_days"])
        return [Reply(say("rating_thanks_follow_up", language, days=days), author="gateway")]
    comment = comment_of(message)
    if comment is not None and await desk.store.call(
        add_comment, desk.store, message.conversation_id, comment
    ):
        return [Reply(say("rating_comment_thanks", language), author="gateway")]
    return None


def record(store: Store, conversation_id: str, score: int, language: str) -> dict[str, Any] | None:
    """Store the rating of the case on offer (once: the offer is used up) and, for a bad one, open the
    follow-up case. None when no case is on offer (expired, or rated already)."""
    key = f"rating:{conversation_id}"
    offered = store.cache_get(key)
    if offered is None:
        return None
    store.cache_delete(key)
    now = utcnow()
    with store.engine.begin() as conn:
        rated = _rated(conn, conversation_id, json.loads(offered))
        if rated is None:
            return None
        columns = {k: v for k, v in rated.items() if k != "message_id"}
        rating_id = conn.execute(
            insert(ratings).values(**columns, language=language, score=score, created_at=now)
        ).inserted_primary_key[0]
        follow_up_id = None
        if score <= int(_settings()["follow_up_at_most"]):
            follow_up_id = _open_follow_up(conn, rated, int(rating_id), score, now)
            if rated.get("message_id"):  # the question whose answer was rated badly: reviewed
                review.add(conn, int(rated["message_id"]), ["bad_rating"])
    store.cache_set(
        f"rating_comment:{conversation_id}", str(rating_id), float(_settings()["prompt_hours"]) * 3600
    )
    return {"id": int(rating_id), "case_id": rated["case_id"], "score": score, "follow_up_id": follow_up_id}


def _rated(conn: Any, conversation_id: str, offered: Any) -> dict[str, Any] | None:
    """What is rated: a staff case (its district, topic and officer) or a personalised answer."""
    channel = conversation_id.split(":", 1)[0]
    if isinstance(offered, dict) and "topic" in offered:
        return {
            "case_id": None, "conversation_id": conversation_id, "channel": channel,
            "district": offered.get("district"), "topic": offered["topic"], "officer": None,
            "message_id": offered.get("message_id"),
        }  # fmt: skip
    case_id = offered["case_id"] if isinstance(offered, dict) else offered  # a bare id before migration 7
    case = conn.execute(select(cases).where(cases.c.id == int(case_id))).first()
    if case is None:
        return None
    return {
        "case_id": case.id, "conversation_id": conversation_id, "channel": channel,
        "district": case.district, "topic": case.topic, "officer": case.assignee,
    }  # fmt: skip


def _open_follow_up(conn: Any, rated: dict[str, Any], rating_id: int, score: int, now: dt.datetime) -> int:
    days = int(_settings()["follow_up_working_days"])
    calendar = work_calendar()
    working_day = dt.datetime.combine(dt.date.min, calendar.end) - dt.datetime.combine(
        dt.date.min, calendar.start
    )
    due = calendar.add_working_time(now.replace(tzinfo=dt.timezone.utc), working_day * days)
    level = {lv["score"]: lv["zh"] for lv in _settings()["levels"]}[score]
    if rated["case_id"] is None:
        about = f"评价：{level}（助手的个性化答复，主题 {rated['topic']}）"
    else:
        about = f"评价：{level}（案件 #{rated['case_id']}，处理人 {rated['officer'] or '—'}）"
    language = conn.execute(select(ratings.c.language).where(ratings.c.id == rating_id)).scalar_one()
    result = conn.execute(
        insert(cases).values(
            conversation_id=rated["conversation_id"],
            channel=rated["channel"],
            status=FOLLOW_UP,
            reason=_settings()["follow_up_reason"],
            summary=about,
            language=language,
            opened_by="person",
            opened_at=now,
            district=rated["district"],
            topic=rated["topic"],
            due_at=due.astimezone(dt.timezone.utc).replace(tzinfo=None),
            rating_id=rating_id,
            seen_message_id=0,
        )
    )
    return int(result.inserted_primary_key[0])


def add_comment(store: Store, conversation_id: str, comment: str) -> bool:
    """The comment belongs to the person's latest rating (within ``prompt_hours``)."""
    rating_id = store.cache_get(f"rating_comment:{conversation_id}")
    if rating_id is None:
        return False
    with store.engine.begin() as conn:
        conn.execute(update(ratings).where(ratings.c.id == int(rating_id)).values(comment=comment))
    store.cache_delete(f"rating_comment:{conversation_id}")
    return True


def follow_ups(store: Store) -> list[dict[str, Any]]:
    """Open 差评回访 cases, soonest due first, each with its rating."""
    query = (
        select(
            cases,
            ratings.c.score,
            ratings.c.comment,
            ratings.c.officer,
            ratings.c.case_id.label("rated_case"),
        )
        .join(ratings, ratings.c.id == cases.c.rating_id)
        .where(cases.c.status == FOLLOW_UP)
        .order_by(cases.c.due_at)
    )
    with store.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


CALLBACK_RECORDED = "callback_recorded"


def record_callback(store: Store, case_id: int, by: str, outcome: str) -> bool:
    """The callback happened: the follow-up closes (``callback_recorded``) with what was found and done
    kept as the case's note."""
    now = utcnow()
    with store.engine.begin() as conn:
        result = conn.execute(
            update(cases)
            .where(cases.c.id == case_id, cases.c.status == FOLLOW_UP)
            .values(status="closed", closed_at=now, closed_by=by, outcome=CALLBACK_RECORDED)
        )
        if result.rowcount != 1:
            return False
        conn.execute(insert(case_notes).values(case_id=case_id, author=by, text=outcome, created_at=now))
        return True
