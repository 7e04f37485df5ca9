"""The review queue that improves the assistant (issue 13, item 7): a person's message the assistant did
not understand (its fallback), asked to clarify, understood with low confidence, answered with the same
words as just before, or whose answer got a bad rating lands here (once per message, with every reason).
A reviewer gives the right intent and entities from the domain's lists, or marks it out of scope;
``make export-reviewed`` (scripts/export_reviewed.py) writes the reviewed ones as training examples.

The text is stored masked (bot/logsafe.py): training data never holds an ID-card or phone number.
Knobs and wording: review.yml. The domain's intents, entities and response texts: domain_words.py.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from ..config import REPO_ROOT
from ..logsafe import mask_personal_numbers
from ..models import Reply
from ..store import Store, conversations, messages, review_items, utcnow
from .domain_words import domain_lists

SETTINGS_FILE = Path(__file__).with_name("review.yml")
RASA_CONFIG_FILE = REPO_ROOT / "config.yml"  # the assistant's NLU pipeline (read here, owned by training)
FALLBACK_CLASSIFIERS = ("FallbackClassifier", "rasa.nlu.classifiers.fallback_classifier.FallbackClassifier")
RASA_DEFAULT_FALLBACK_THRESHOLD = 0.3  # FallbackClassifier's threshold when config.yml names none
OPEN, REVIEWED, OUT_OF_SCOPE = "open", "reviewed", "out_of_scope"


@lru_cache(maxsize=1)
def settings() -> dict[str, Any]:
    return yaml.safe_load(SETTINGS_FILE.read_text(encoding="utf-8"))


def _says(text: str, response_names: list[str]) -> bool:
    """The reply is one of these responses: equal to a variant, or to its words before a ``{slot}``."""
    for name in response_names:
        for variant in domain_lists()["responses"].get(name, []):
            fixed = variant.split("{", 1)[0].strip()
            if text == variant or (len(fixed) >= 6 and text.startswith(fixed)):
                return True
    return False


def reasons_of(replies: list[Reply], earlier_answers: list[str]) -> list[str]:
    """Why this turn belongs in the review queue, judged by what the assistant said (``earlier_answers``:
    its last answers before this turn, newest last)."""
    knobs = settings()
    texts = [r.text.strip() for r in replies if r.text and r.text.strip()]
    found = []
    if any(_says(t, knobs["fallback_responses"]) for t in texts):
        found.append("fallback")
    if any(_says(t, knobs["clarification_responses"]) for t in texts):
        found.append("clarification")
    recent = set(earlier_answers[-int(knobs["repeated_window"]) :])
    if any(len(t) >= int(knobs["repeated_min_chars"]) and t in recent for t in texts):
        found.append("repeated_answer")
    return found


def earlier_answers(store: Store, conversation_id: str, before_id: int) -> list[str]:
    """The assistant's last answers in this conversation before message ``before_id``, oldest first."""
    query = (
        select(messages.c.text)
        .where(
            messages.c.conversation_id == conversation_id,
            messages.c.direction == "out",
            messages.c.author == "bot",
            messages.c.id < before_id,
        )
        .order_by(messages.c.id.desc())
        .limit(int(settings()["repeated_window"]) * 4)
    )
    with store.engine.connect() as conn:
        return [(t or "").strip() for t in conn.execute(query).scalars()][::-1]


def add(conn: Connection, message_id: int, reasons: list[str], **understood: Any) -> None:
    """The person's message ``message_id`` goes to the queue (or gains reasons if it is there already).
    ``understood``: ``intent`` and ``confidence`` when known."""
    row = conn.execute(select(messages).where(messages.c.id == message_id)).first()
    if row is None or not (row.text or "").strip():
        return
    existing = conn.execute(select(review_items).where(review_items.c.message_id == message_id)).first()
    if existing is None:
        # one message is answered by one process at a time (its lease), and its later reasons (the
        # intent's confidence, a rating) come after that turn: no two inserts race for one message
        language = conn.execute(
            select(conversations.c.language).where(conversations.c.id == row.conversation_id)
        ).scalar()
        conn.execute(
            review_items.insert().values(
                message_id=message_id,
                conversation_id=row.conversation_id,
                channel=row.channel,
                language=language,
                text=mask_personal_numbers(row.text.strip())[:1000],
                reasons=",".join(reasons),
                status=OPEN,
                created_at=utcnow(),
                **understood,
            )
        )
        return
    merged = list(dict.fromkeys([*existing.reasons.split(","), *reasons]))
    values: dict[str, Any] = {"reasons": ",".join(r for r in merged if r)}
    values.update({k: v for k, v in understood.items() if v is not None})
    conn.execute(update(review_items).where(review_items.c.id == existing.id).values(**values))


def note_turn(store: Store, conversation_id: str, inbound_id: int, replies: list[Reply]) -> list[str]:
    """After the assistant answered: queue the person's message if the answer shows a reason."""
    reasons = reasons_of(replies, earlier_answers(store, conversation_id, inbound_id))
    if reasons:
        with store.engine.begin() as conn:
            add(conn, inbound_id, reasons)
    return reasons


@lru_cache(maxsize=1)
def nlu_fallback_threshold(path: Path = RASA_CONFIG_FILE) -> float | None:
    """The FallbackClassifier's threshold in the assistant's pipeline, or None when the gateway has no
    config.yml beside it or the pipeline has no FallbackClassifier."""
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    pipeline = config.get("pipeline") if isinstance(config, dict) else None
    for component in pipeline if isinstance(pipeline, list) else []:
        if isinstance(component, dict) and component.get("name") in FALLBACK_CLASSIFIERS:
            return float(component.get("threshold", RASA_DEFAULT_FALLBACK_THRESHOLD))
    return None


def confidence_can_be_low() -> bool:
    """Whether Rasa's reading of a message can ever be below the queue's bound (review.yml
    ``low_confidence_below``). Rasa's FallbackClassifier replaces an intent below its threshold (or two
    intents too close to call) by ``nlu_fallback`` with the threshold as its confidence, so at a threshold
    at or above the bound no reading is low: the per-turn tracker read (after_answer.py) is skipped, and
    such a message is queued by its reply instead (the clarification, note_turn)."""
    threshold = nlu_fallback_threshold()
    return threshold is None or threshold < float(settings()["low_confidence_below"])


def note_understanding(store: Store, inbound_id: int, latest: dict[str, Any]) -> bool:
    """Rasa's reading of the message (the tracker's ``latest_message``): an intent below the threshold
    queues it. True when queued."""
    intent = latest.get("intent") or {}
    confidence = intent.get("confidence")
    if not isinstance(confidence, int | float):
        return False
    if confidence >= float(settings()["low_confidence_below"]):
        return False
    with store.engine.begin() as conn:
        add(conn, inbound_id, ["low_confidence"], intent=str(intent.get("name"))[:80], confidence=confidence)
    return True


def items(store: Store, status: str = OPEN, *, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """One page of the queue (oldest first) and how many there are in that state."""
    where = review_items.c.status == status
    with store.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(review_items).where(where)).scalar_one()
        rows = conn.execute(
            select(review_items).where(where).order_by(review_items.c.id).limit(limit).offset(offset)
        )
        return {"total": total, "items": [dict(r._mapping) for r in rows]}


NOT_UNDERSTOOD = ("fallback", "clarification", "low_confidence")


def _bigrams(text: str) -> set[str]:
    """Character pairs of the text without spaces and punctuation (Chinese has no word spaces)."""
    letters = [c for c in text.casefold() if c.isalnum()]
    return {a + b for a, b in zip(letters, letters[1:], strict=False)} or set(letters)


def similar(a: set[str], b: set[str]) -> bool:
    """Jaccard similarity of character pairs at least ``similar_at_least`` (review.yml)."""
    union = a | b
    return bool(union) and len(a & b) / len(union) >= float(settings()["similar_at_least"])


def misunderstood(engine: Any, low: Any, high: Any, *, limit: int = 10) -> list[dict[str, Any]]:
    """The messages the assistant did not understand (fallback, clarification, low confidence) queued in
    [low, high) (naive UTC), grouped by similarity (each joins the first group whose first message is
    similar), largest groups first: [{"example", "count", "others"}]."""
    query = select(review_items.c.text, review_items.c.reasons).where(
        review_items.c.created_at >= low, review_items.c.created_at < high
    )
    with engine.connect() as conn:
        texts = [
            row.text
            for row in conn.execute(query.order_by(review_items.c.id))
            if set(row.reasons.split(",")) & set(NOT_UNDERSTOOD)
        ]
    groups: list[dict[str, Any]] = []
    for text in texts:
        pairs = _bigrams(text)
        group = next((g for g in groups if similar(g["pairs"], pairs)), None)
        if group is None:
            groups.append({"pairs": pairs, "texts": [text]})
        else:
            group["texts"].append(text)
    ordered = sorted(groups, key=lambda g: -len(g["texts"]))[:limit]  # stable: first seen first on ties
    return [
        {
            "example": g["texts"][0],
            "count": len(g["texts"]),
            "others": [t for t in dict.fromkeys(g["texts"]) if t != g["texts"][0]][:3],
        }
        for g in ordered
    ]


class ReviewError(ValueError):
    """A decision the queue refuses (the code names review.yml ``errors``)."""

    def __init__(self, code: str, status: int = 400) -> None:
        super().__init__(code)
        self.code, self.status = code, status


def checked_entities(text: str, entities: Any) -> list[dict[str, str]]:
    """``[{"entity", "text"}]``: each a domain entity and a span of the message."""
    if not isinstance(entities, list):
        raise ReviewError("unknown_entity")
    known = set(domain_lists()["entities"])
    checked = []
    for item in entities:
        if not isinstance(item, dict) or item.get("entity") not in known:
            raise ReviewError("unknown_entity")
        span = str(item.get("text") or "").strip()
        if not span or span not in text:
            raise ReviewError("entity_not_in_text")
        checked.append({"entity": str(item["entity"]), "text": span})
    return checked


def decide(
    store: Store, item_id: int, reviewer: str, *, intent: str | None, entities: Any, out_of_scope: bool
) -> dict[str, Any]:
    """Record the reviewer's decision (once); raises ReviewError with the reason otherwise."""
    with store.engine.begin() as conn:
        row = conn.execute(select(review_items).where(review_items.c.id == item_id)).first()
        if row is None:
            raise ReviewError("no_such_review_item", 404)
        if out_of_scope:
            values: dict[str, Any] = {
                "status": OUT_OF_SCOPE,
                "reviewed_intent": None,
                "reviewed_entities": [],
            }
        else:
            if not intent:
                raise ReviewError("review_decision_required")
            if intent not in domain_lists()["intents"]:
                raise ReviewError("unknown_intent")
            values = {
                "status": REVIEWED,
                "reviewed_intent": intent,
                "reviewed_entities": checked_entities(row.text, entities or []),
            }
        done = conn.execute(
            update(review_items)
            .where(review_items.c.id == item_id, review_items.c.status == OPEN)
            .values(**values, reviewer=reviewer, reviewed_at=utcnow())
        )
        if done.rowcount != 1:
            raise ReviewError("already_reviewed", 409)
        return {"id": item_id, **values}


def to_export(store: Store) -> list[dict[str, Any]]:
    """Reviewed examples not yet exported, oldest first."""
    query = select(review_items).where(
        review_items.c.status == REVIEWED, review_items.c.exported_at.is_(None)
    )
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query.order_by(review_items.c.id))]


def mark_exported(store: Store, ids: list[int]) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(review_items).where(review_items.c.id.in_(ids)).values(exported_at=utcnow()))
