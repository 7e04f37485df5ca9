"""The engine's topics and their names (policies/topics.yml, the one home of both)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .strict_yaml import load_yaml

TOPICS_FILE = Path(__file__).with_name("topics.yml")


@lru_cache(maxsize=1)
def _table() -> dict:
    return load_yaml(TOPICS_FILE)


def topic_ids() -> tuple[str, ...]:
    """The engine's topics, in the file's order."""
    return tuple(_table()["topics"])


def overview_ids() -> tuple[str, ...]:
    """The overview's ids ("what can I get": every topic at once), listed before the topics in menus."""
    return tuple(_table()["overview"])


def topic_label(topic: str, language: str, default: str | None = None) -> str:
    """A topic's name (or the overview's, "eligibility") in the language, else in Chinese; ``default``
    (else the id itself) for an unknown id."""
    names = _table()["topics"].get(topic) or _table()["overview"].get(topic)
    if names is None:
        return topic if default is None else default
    return names.get(language) or names["zh"]


TOPICS = topic_ids()
