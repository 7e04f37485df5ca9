"""Who sees a person's ID-card and phone numbers in clear, and how a search avoids matching them (issue 10,
item 10). The masking rule itself is ``bot.logsafe.mask_personal_numbers`` (one rule for logs and console).

- A case the *person* opened (they asked for a human): its assignee and admins see their words in clear.
- A case an officer opened by *taking over* a conversation: masked, for everyone, until a viewer states
  a reason (at the takeover or later with "reveal"); the reason is written to the audit log and unmasks
  that case for that viewer only.
- A conversation search matches the masked text, so ``q=310101`` cannot find a person by their ID
  number; with a stated reason it matches the clear text. Every search is audited, with its reason.
"""

from __future__ import annotations

from typing import Any

from ..logsafe import mask_personal_numbers
from .settings import config

TAKEOVER = "staff_takeover"  # the reason of a case an officer opened by taking a conversation over
REASON_ACTIONS = ("takeover", "reveal")


def stated_reason(value: Any) -> str | None:
    """A reason as typed: None when absent, else the stripped text; too short or not text -> ValueError."""
    if value is None or value == "":
        return None
    limits = config()["privacy"]
    if not isinstance(value, str) or len(value.strip()) < int(limits["reason_min_chars"]):
        raise ValueError("reason_required")
    return value.strip()[: int(limits["reason_max_chars"])]


def reasons_given(history: list[dict[str, Any]], login: str) -> bool:
    """Has ``login`` stated a reason for this case (``history``: its audit rows)?"""
    return any(
        row["actor"] == login and row["action"] in REASON_ACTIONS and (row.get("detail") or {}).get("reason")
        for row in history
    )


def sees_clear(case: dict[str, Any], login: str, is_admin: bool, history: list[dict[str, Any]]) -> bool:
    if reasons_given(history, login):
        return True
    if case["reason"] == TAKEOVER:
        return False
    return is_admin or (case["status"] != "closed" and case["assignee"] == login)


def may_reveal(case: dict[str, Any], login: str, is_admin: bool) -> bool:
    return is_admin or (case["status"] != "closed" and case["assignee"] == login)


def matches(text: str | None, query: str, *, clear: bool) -> bool:
    """Does a message match a search: its masked text (or, with a reason, its clear text)?"""
    seen = (text or "") if clear else mask_personal_numbers(text or "")
    return query.casefold() in seen.casefold()


def like_pattern(query: str, *, clear: bool) -> str:
    """A SQL LIKE pattern that finds every message ``matches`` could accept (then checked in Python).

    A masked character stands for exactly one clear one, so '*' becomes the one-character wildcard.
    """
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped if clear else escaped.replace('*', '_')}%"
