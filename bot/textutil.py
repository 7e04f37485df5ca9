"""Channel-independent text helpers: neutralising commands, splitting long replies, reading Rasa output."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from .models import Button, Reply

# Rasa parses text starting with "/" as an intent with entities (/restart, /inform{"age": 1}).
# A full-width solidus keeps the person's words readable but is never taken as a command.
_LEADING_SLASHES = re.compile(r"^(\s*)/+")


def neutralise(text: str) -> str:
    """Make free text safe to forward: a leading '/' can never reach Rasa as a command."""
    return _LEADING_SLASHES.sub(lambda m: m.group(1) + "／", text).strip()


def split_text(text: str, limit: int, measure: Callable[[str], int] = len) -> list[str]:
    """Split ``text`` into pieces whose ``measure`` is at most ``limit``, preferring paragraph, then line,
    then sentence boundaries, and hard-cutting only when a single sentence is too long."""
    if measure(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for unit in _units(text):
        candidate = current + unit
        if measure(candidate) <= limit:
            current = candidate
            continue
        if current.strip():
            pieces.append(current.strip())
        current = ""
        while measure(unit) > limit:
            cut = _hard_cut(unit, limit, measure)
            pieces.append(unit[:cut].strip())
            unit = unit[cut:]
        current = unit
    if current.strip():
        pieces.append(current.strip())
    return [p for p in pieces if p]


def _units(text: str) -> Iterable[str]:
    # Keep the separators attached so that joining the units gives back the text.
    return [u for u in re.split(r"(?<=\n)|(?<=[。！？!?；;])", text) if u]


def _hard_cut(unit: str, limit: int, measure: Callable[[str], int]) -> int:
    low, high = 1, len(unit)
    while low < high:
        mid = (low + high + 1) // 2
        if measure(unit[:mid]) <= limit:
            low = mid
        else:
            high = mid - 1
    return low


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def parse_rasa_replies(raw: Iterable[dict[str, Any]]) -> list[Reply]:
    """Rasa REST output -> Reply objects; unknown keys are kept in ``custom`` rather than dropped."""
    replies = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        buttons = [
            Button(str(b.get("title", "")), str(b.get("payload", "")))
            for b in item.get("buttons") or []
            if isinstance(b, dict) and b.get("payload")
        ]
        custom = item.get("custom") if isinstance(item.get("custom"), dict) else None
        text = item.get("text")
        if text is None and not buttons and not custom and not item.get("image"):
            continue
        replies.append(Reply(text=text, buttons=buttons, image=item.get("image"), custom=custom))
    return replies


def merge_for_single_message(replies: Iterable[Reply], options_header: str) -> tuple[str, list[Button]]:
    """One text for channels that allow one message per turn (WeChat): texts joined by blank lines,
    buttons of all replies numbered in order at the end."""
    parts: list[str] = []
    buttons: list[Button] = []
    for reply in replies:
        if reply.text:
            parts.append(reply.text.strip())
        if reply.image:
            parts.append(reply.image)
        buttons.extend(reply.buttons)
    if buttons:
        options = "\n".join(f"{i}. {b.title}" for i, b in enumerate(buttons, start=1))
        parts.append(f"{options_header}\n{options}")
    return "\n\n".join(p for p in parts if p), buttons
