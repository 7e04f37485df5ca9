"""A bounded memo of evaluations for one topic: the same facts, topic, district, language, day and knowledge
base give the same outcome, so it is computed once.

Question choice (policies/questions.py) evaluates the profile with each candidate answer of each open fact,
and one turn asks again for what it has already evaluated (the form, then the answer and its open facts).
The key is the *normalised* profile, so a changed fact is a different key and never meets a stale outcome.
Every caller gets its own copy of every dict and list: a caller that edits its result cannot change what
the next caller is given.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import Any

# ~14 KB an outcome for one topic; one question choice makes up to ~55 evaluations, so 512 hold several turns.
MEMO_SIZE = 512


def frozen_facts(facts: Mapping[str, Any]) -> tuple:
    """A hashable key of normalised facts (list facts keep their order, as the outcome's profile does)."""
    return tuple((name, tuple(value) if type(value) is list else value) for name, value in facts.items())


def fresh(value: Any) -> Any:
    """A copy of a dict or list with every dict and list inside copied too (strings and numbers are shared:
    they cannot be changed)."""
    copied = value.copy()
    items = value.items() if type(value) is dict else enumerate(value)
    for place, item in items:
        kind = type(item)
        if kind is dict or kind is list:
            copied[place] = fresh(item)
    return copied


class EvaluationMemo:
    """Least-recently-used outcomes, at most `size`; each kept with the knowledge base it came from."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self.size = size
        self.hits = self.misses = 0
        self._outcomes: OrderedDict[Hashable, tuple[object, dict]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, knowledge: object) -> dict | None:
        """A fresh copy of the outcome stored for `key` from this knowledge base, or None."""
        with self._lock:
            entry = self._outcomes.get(key)
            if entry is None or entry[0] is not knowledge:
                self.misses += 1
                return None
            self._outcomes.move_to_end(key)
            self.hits += 1
        return fresh(entry[1])

    def put(self, key: Hashable, knowledge: object, outcome: dict) -> dict:
        """Keep `outcome` (the caller must not change it afterwards) and return a copy for the caller."""
        with self._lock:
            self._outcomes[key] = (knowledge, outcome)
            self._outcomes.move_to_end(key)
            while len(self._outcomes) > self.size:
                self._outcomes.popitem(last=False)
        return fresh(outcome)

    def clear(self) -> None:
        with self._lock:
            self._outcomes.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._outcomes)
