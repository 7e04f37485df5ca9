"""The person's wait for staff (issue 13, item 3): told their message was passed on and when to expect an
answer (not silence), able to cancel a case nobody has claimed yet, and their last unanswered message
answered by the assistant once it has the conversation back.

Wording: bot/texts.yml (``waiting_ack_*``, ``handoff_cancel*``); knobs: console.yml ``waiting``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import select

from ..models import Button, InboundMessage, Reply, Turn, split_conversation_id
from ..store import Store, messages
from ..texts import text as say
from . import ratings
from .privacy import TAKEOVER
from .render import person_label
from .settings import config
from .workcalendar import next_opening_text, work_calendar

CANCELLED_BY_PERSON = "cancelled_by_person"
_NOT_WORD = re.compile(r"[\s\W_]+", re.UNICODE)


def _settings() -> dict[str, Any]:
    return config()["waiting"]


def _folded(text: str | None) -> str:
    return _NOT_WORD.sub("", (text or "").casefold())


def is_cancel(message: InboundMessage) -> bool:
    """ "取消人工" typed (spaces, punctuation and case ignored) or the cancel button pressed."""
    settings = _settings()
    if message.kind == "button":
        return message.payload == settings["cancel_payload"]
    if message.kind != "text":
        return False
    return _folded(message.text) in {_folded(word) for word in settings["cancel_words"]}


def cancel_button(language: str) -> Button:
    return Button(say("cancel_button", language), _settings()["cancel_payload"])


def acknowledgement(case: dict[str, Any], channel: str, language: str, now: dt.datetime) -> Reply:
    """ "Passed on; expect an answer within N minutes / after the next opening" for a waiting case, with
    the cancel button (web chat, Telegram: WeChat's passive reply has no buttons, the text says what to
    type); for a claimed case only that the officer has it."""
    if case["status"] != "waiting":
        return Reply(say("waiting_ack_claimed", language), author="gateway")
    when = next_opening_text(now, language)
    if when is None:
        text = say("waiting_ack_in_hours", language, minutes=work_calendar().typical_wait_minutes)
    else:
        text = say("waiting_ack_after_hours", language, when=when)
    buttons = [] if channel == "wechat" else [cancel_button(language)]
    return Reply(text, buttons=buttons, author="gateway")


def acknowledgement_due(store: Store, conversation_id: str) -> bool:
    """True at most once per ``acknowledge_every_minutes`` per conversation (a key with that lifetime in
    the store's shared cache, so several gateway processes agree)."""
    key = f"waiting_ack:{conversation_id}"
    if store.cache_get(key) is not None:
        return False
    store.cache_set(key, "1", float(_settings()["acknowledge_every_minutes"]) * 60)
    return True


def forget_acknowledgement(store: Store, conversation_id: str) -> None:
    """The case ended: a later case acknowledges the person's first message again."""
    store.cache_delete(f"waiting_ack:{conversation_id}")


def last_unanswered(
    store: Store, conversation_id: str, since: dt.datetime, excluding: int | None = None
) -> dict[str, Any] | None:
    """The person's last text or button message since the case opened, if no officer wrote after it:
    the question the assistant answers once it has the conversation back. ``excluding``: the cancel
    message itself."""
    query = select(messages).where(
        messages.c.conversation_id == conversation_id,
        messages.c.created_at >= since,
    )
    with store.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query.order_by(messages.c.id))]
    last = None
    for row in rows:
        if row["direction"] == "in" and row["kind"] in ("text", "button") and row["id"] != excluding:
            last = row
        elif row["direction"] == "out" and str(row["author"] or "").startswith("staff"):
            last = None
    return last


class PersonWait:
    """The case desk's side of the wait (``CaseDesk`` inherits it): its router hook methods for the
    person's messages, and the cancel. Uses the desk's ``store``, ``cases``, ``router``, ``audit``."""

    async def own_answer(
        self, message: InboundMessage, inbound_id: int, language: str, *, case_open: bool
    ) -> list[Reply] | None:
        """What the desk answers itself, before Rasa: "取消人工" (typed or pressed) while a case is open,
        a rating or its comment after one closed. Anything else (None) goes on to Rasa as usual."""
        if case_open:
            if is_cancel(message):
                return await self.cancel_by_person(message.conversation_id, inbound_id, language)
            return None
        return await ratings.rate(self, message, language)

    async def acknowledge(
        self, conversation_id: str, language: str, *, every_time: bool = False
    ) -> list[Reply]:
        """Passed on, and when to expect an answer — until an officer has replied, at most once per
        ``acknowledge_every_minutes`` (on WeChat it is the free passive reply). ``every_time``:
        offered afresh (an old cancel button was pressed after the person wrote again)."""
        case = await self._db(self.cases.open_case_for, conversation_id)
        if case is None or case["first_response_at"] is not None or case["reason"] == TAKEOVER:
            return []  # an officer has answered, or joined and said so (staff_joined)
        due = await self._db(acknowledgement_due, self.store, conversation_id)
        if not (due or every_time):
            return []
        now = dt.datetime.now(dt.timezone.utc)
        channel = split_conversation_id(conversation_id)[0]
        return [acknowledgement(case, channel, language, now)]

    async def cancel_by_person(self, conversation_id: str, inbound_id: int, language: str) -> list[Reply]:
        """Close a case nobody has claimed (``cancelled_by_person``), resume the assistant and answer the
        question the person asked while  The router holds the conversation's lock."""
        case = await self._db(self.cases.open_case_for, conversation_id)
        case_id = await self._db(self.cases.cancel_waiting, conversation_id, CANCELLED_BY_PERSON)
        if case is None or case_id is None:
            return [Reply(say("handoff_cancel_too_late", language), author="gateway")]
        await self.audit.arecord(
            "person",
            "close",
            case_id,
            outcome=CANCELLED_BY_PERSON,
            person=person_label(conversation_id),
        )
        self._publish(case, "case_updated")
        await self._db(forget_acknowledgement, self.store, conversation_id)
        replies = [Reply(say("handoff_cancelled", language), author="gateway")]
        if await self._hand_back(conversation_id):
            turn = await self._answer_last_words(case, excluding=inbound_id)
            replies += turn.replies if turn else []
        return replies

    async def _answer_last_words(self, case: dict[str, Any], excluding: int | None = None) -> Turn | None:
        """The person's last message while the case was open, unanswered by staff, now answered by the
        assistant (the caller holds the conversation's lock)."""
        row = await self._db(
            last_unanswered, self.store, case["conversation_id"], case["opened_at"], excluding
        )
        return await self.router.answer_row(row) if row else None
