"""Conversations that are going wrong (issue 13, item 2): recent conversations without an open case whose
last messages show the assistant's fallback more than once, the same answer three times, the person
saying they already said it or complaining, or an ❌ (ineligible) result — so an officer can look, read
(masked) and take over before the person gives up.

The fallback's wording is read from the Rasa domain (``utter_default``, the one home of that text); the
person's phrases and the thresholds from console.yml ``going_wrong``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from ..store import cases, conversations, messages, utcnow
from .domain_words import response_texts
from .settings import config


@lru_cache(maxsize=1)
def fallback_texts() -> frozenset[str]:
    """Every variant of the assistant's fallback (``utter_default``); empty when the domain is not beside us."""
    return frozenset(response_texts("utter_default"))


def signals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What went wrong in a conversation's recent messages (oldest first), with counts."""
    settings = config()["going_wrong"]
    said = [r.get("text") or "" for r in rows if r["direction"] == "in"]
    answered = [
        (r.get("text") or "").strip() for r in rows if r["direction"] == "out" and r["author"] == "bot"
    ]
    found: Counter[str] = Counter()
    found["fallback"] = sum(1 for text in answered if text in fallback_texts())
    repeats = Counter(text for text in answered if len(text) >= int(settings["repeated_min_chars"]))
    found["repeated_answer"] = max(repeats.values(), default=0)
    found["already_said"] = sum(
        1 for text in said if any(p in text.lower() for p in settings["already_said"])
    )
    found["complaint"] = sum(
        1 for text in said if any(p in text.lower() for p in settings["complaint_words"])
    )
    found["ineligible"] = sum(1 for text in answered if "❌" in text)
    minimum = {"fallback": 2, "repeated_answer": 3, "already_said": 1, "complaint": 1, "ineligible": 1}
    labels = settings["labels"]
    return [
        {"code": code, "label": labels[code], "count": found[code]}
        for code in minimum
        if found[code] >= minimum[code]
    ]


def going_wrong(engine: Engine, *, limit: int = 50) -> list[dict[str, Any]]:
    """Recently active conversations without an open case that show a signal, most recent first."""
    settings = config()["going_wrong"]
    since = utcnow() - dt.timedelta(days=float(settings["recent_days"]))
    window = int(settings["last_messages"])
    with engine.connect() as conn:
        recent = [
            dict(r._mapping)
            for r in conn.execute(
                select(conversations)
                .where(conversations.c.updated_at >= since, conversations.c.handoff_open.is_(False))
                .order_by(conversations.c.updated_at.desc())
                .limit(int(settings["scan_conversations"]))
            )
        ]
        open_ids = set(
            conn.execute(
                select(cases.c.conversation_id).where(cases.c.open_key.in_([c["id"] for c in recent]))
            ).scalars()
        )
        found = []
        for conversation in recent:
            if conversation["id"] in open_ids:
                continue
            rows = [
                dict(r._mapping)
                for r in conn.execute(
                    select(messages.c.direction, messages.c.author, messages.c.text)
                    .where(messages.c.conversation_id == conversation["id"])
                    .order_by(messages.c.id.desc())
                    .limit(window)
                )
            ][::-1]
            problems = signals(rows)
            if problems:
                found.append({**conversation, "signals": problems})
            if len(found) >= limit:
                break
    return found
