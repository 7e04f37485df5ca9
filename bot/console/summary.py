"""The case card's summary, written from the conversation itself (issue 13, item 1): what the person asked
in their own words, every fact they stated (also those the profile has no field for: "英国硕士2024，中国
国籍" stays as they wrote it), what the assistant answered (its ✅/❌ result lines), what went wrong (the
signals of going_wrong.py) and why it was handed off.

Works on transcript rows (``direction``, ``author``, ``kind``, ``text``), oldest first. Personal numbers
are masked here; the wording and word lists are in console.yml ``case_summary``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import yaml

from ..config import REPO_ROOT
from ..logsafe import mask_personal_numbers
from .going_wrong import signals
from .settings import config, reason_label

VOCABULARY_FILE = REPO_ROOT / "policies" / "vocabulary.yml"
CLAUSE_END = re.compile(r"[，,。；;！!？?\n]+")
SENTENCE_END = re.compile(r"(?<=[。；;！!？?\n])")
DIGIT = re.compile(r"\d")


def settings() -> dict[str, Any]:
    return config()["case_summary"]


@lru_cache(maxsize=1)
def vocabulary_words() -> frozenset[str]:
    """Every canonical value and alias of policies/vocabulary.yml (two characters or more): a clause that
    names one states a fact. Empty when the gateway is deployed without the file."""
    if not VOCABULARY_FILE.exists():
        return frozenset()
    found: set[str] = set()
    for section in (yaml.safe_load(VOCABULARY_FILE.read_text(encoding="utf-8")) or {}).values():
        values = section.get("values") if isinstance(section, dict) else None
        for canonical, aliases in (values or {}).items():
            for word in [canonical, *(aliases or [])]:
                if len(str(word)) >= 2:
                    found.add(str(word).lower())
    return frozenset(found)


def _has_any(text: str, words: Iterable[str]) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in words)


def is_payload(text: str) -> bool:
    """A button's or a menu's payload ("/inform{...}"), never the person's words."""
    return text.lstrip().startswith(("/", "／"))


def person_words(row: dict[str, Any]) -> str | None:
    """The person's own words in a row (a typed text or a pressed button's title), else None."""
    if row.get("direction") != "in" or row.get("kind") not in ("text", "button", None):
        return None
    text = " ".join((row.get("text") or "").split())
    return None if not text or is_payload(text) else text


def is_substantive(text: str) -> bool:
    """More than a greeting or a request for a person."""
    stripped = CLAUSE_END.sub("", text).strip().lower()
    return bool(stripped) and stripped not in {w.lower() for w in settings()["not_substantive"]}


def is_question(clause: str) -> bool:
    return _has_any(clause, settings()["question_words"])


def states_fact(clause: str) -> bool:
    """A clause that is not a question and names a number, a vocabulary word or a fact word."""
    if not clause or is_question(clause):
        return False
    return bool(DIGIT.search(clause)) or _has_any(clause, [*settings()["fact_words"], *vocabulary_words()])


def fact_sentences(text: str) -> list[str]:
    """The fact-stating parts of one message, in the person's words: within each sentence the clauses that
    state facts, joined as they were written ("英国硕士2024，中国国籍")."""
    found = []
    for sentence in SENTENCE_END.split(text):
        clauses = [c.strip() for c in CLAUSE_END.split(sentence) if c.strip()]
        kept = [c for c in clauses if states_fact(c)]
        if kept:
            found.append("，".join(kept))
    return found


def question_line(text: str) -> str | None:
    """The question in an assistant message (its last line asking something), for a short answer's context."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    for line in reversed(lines):
        if line.endswith(("？", "?")):
            return line
    return None


def asked(rows: list[dict[str, Any]]) -> list[str]:
    """What the person asked: their first substantive messages, in their words."""
    limit, chars = int(settings()["asked_messages"]), int(settings()["asked_chars"])
    found: list[str] = []
    for row in rows:
        text = person_words(row)
        if text is None or row.get("kind") == "button" or not is_substantive(text):
            continue
        found.append(text if len(text) <= chars else text[: chars - 1] + "…")
        if len(found) >= limit:
            break
    return found


def stated_facts(rows: list[dict[str, Any]]) -> list[str]:
    """Every fact the person stated: fact clauses of their messages, and short answers (typed or a button)
    to the assistant's questions, given with the question ("配偶是否已享受租房补贴？ — 是")."""
    answer_chars = int(settings()["answer_chars"])
    found: list[str] = []
    asking: str | None = None
    for row in rows:
        if row.get("direction") == "out":
            if row.get("author") == "bot":
                asking = question_line(row.get("text") or "")
            continue
        text = person_words(row)
        if text is None:
            continue
        facts = fact_sentences(text) if row.get("kind") != "button" else []
        if not facts and asking and len(text) <= answer_chars and not is_question(text):
            facts = [f"{asking} — {text}"]
        asking = None
        for fact in facts:
            if fact not in found:
                found.append(fact)
    return found[-int(settings()["max_facts"]) :]


def result_lines(rows: list[dict[str, Any]]) -> list[str]:
    """What the assistant answered: the first line of each of its results (✅ …, ❌ 不符合 …), the latest
    last, each once."""
    marks = tuple(settings()["result_marks"])
    found: list[str] = []
    for row in rows:
        if row.get("direction") != "out" or row.get("author") != "bot":
            continue
        for line in (row.get("text") or "").splitlines():
            line = line.strip()
            if line.startswith(marks):
                if line in found:
                    found.remove(line)
                found.append(line)
    return found


def went_wrong(rows: list[dict[str, Any]]) -> list[str]:
    """The going-wrong signals (going_wrong.signals) as the console labels them, with counts."""
    return [f"{s['label']}（{s['count']}次）" if s["count"] > 1 else s["label"] for s in signals(rows)]


def handed_off(case: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """Why staff have it: the reason, and the person's words that asked for it when they asked."""
    reason = reason_label(case.get("reason"))
    opened = case.get("opened_at")
    said = [
        person_words(r)
        for r in rows
        if r.get("direction") == "in"
        and (opened is None or r.get("created_at") is None or r["created_at"] <= opened)
    ]
    last = next((text for text in reversed(said) if text), None)
    return f"{reason}（用户最后说：“{last}”）" if last else reason


def build(case: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The card's summary: each part a list of lines (masked), and ``line``, one sentence of it for lists
    and exports."""
    parts = {
        "asked": asked(rows),
        "facts": stated_facts(rows),
        "answered": result_lines(rows)[-3:],
        "went_wrong": went_wrong(rows),
        "handed_off": handed_off(case, rows),
    }
    masked = {
        key: [mask_personal_numbers(v) for v in value]
        if isinstance(value, list)
        else mask_personal_numbers(value)
        for key, value in parts.items()
    }
    return {**masked, "labels": settings()["labels"], "line": summary_line(masked)}


def summary_line(parts: dict[str, Any]) -> str:
    """One line: what was asked, the facts, the last result, what went wrong, why handed off."""
    labels = settings()["labels"]
    pieces = [
        f"{labels['asked']}：{' / '.join(parts['asked']) or labels['nothing_asked']}",
        f"{labels['facts']}：{'；'.join(parts['facts'])}" if parts["facts"] else "",
        f"{labels['answered']}：{parts['answered'][-1]}" if parts["answered"] else "",
        f"{labels['went_wrong']}：{'、'.join(parts['went_wrong'])}" if parts["went_wrong"] else "",
        f"{labels['handed_off']}：{parts['handed_off']}",
    ]
    return "；".join(p for p in pieces if p)
