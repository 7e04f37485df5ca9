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

from ..models import Button, InboundMessage, Reply
from ..store import Store, messages
from ..texts import text as say
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
