"""What the console does after the assistant answered a person outside a staff case (the router's
``after_answer`` hook): queue the message for review when the answer shows the assistant did not
understand (review.py), read how sure Rasa was of the intent (when its pipeline lets a reading be low
enough to queue), and offer a 好差评 rating after a personalised answer (ratings.py), joined to the answer.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..models import InboundMessage, Reply
from ..rasa_client import RasaClient, RasaUnavailable
from ..store import Store
from ..textutil import neutralise
from . import ratings, review

log = logging.getLogger(__name__)


async def latest_message(rasa: RasaClient, sender: str) -> dict[str, Any] | None:
    """Rasa's reading of the sender's last message (the tracker's ``latest_message``), or None when Rasa
    does not say: the review queue then simply misses this reading."""
    try:
        latest = (await rasa.tracker(sender)).get("latest_message")
    except RasaUnavailable as error:
        log.warning("tracker read failed: %s", error)
        return None
    return latest if isinstance(latest, dict) else None


def with_offer(replies: list[Reply], offer: list[Reply]) -> list[Reply]:
    """The rating offer joins the answer's last message (its words after a blank line, its levels after
    the answer's own buttons): as a message of its own it would expire the answer's buttons ("更多") on
    the web chat page, which keeps only the newest message's buttons pressable."""
    if not offer or not replies:
        return [*replies, *offer]
    last = replies[-1]
    joined = Reply(
        text="\n\n".join(t for t in (last.text, *(o.text for o in offer)) if t),
        buttons=[*last.buttons, *(b for o in offer for b in o.buttons)],
        image=last.image,
        custom=last.custom,
        author=last.author,
    )
    return [*replies[:-1], joined]


class AfterAnswer:
    def __init__(self, store: Store, rasa: RasaClient) -> None:
        self.store, self.rasa = store, rasa
        self.pending: set[asyncio.Task[None]] = set()  # the tracker reads still running

    async def __call__(
        self,
        message: InboundMessage,
        inbound_id: int,
        replies: list[Reply],
        marks: list[dict[str, Any]],
        language: str,
    ) -> list[Reply]:
        conversation_id = message.conversation_id
        try:
            await self.store.call(review.note_turn, self.store, conversation_id, inbound_id, replies)
        except Exception:  # the review queue never costs the person their answer
            log.exception("review queue: could not note a turn")
        if message.kind == "text" and message.text and review.confidence_can_be_low():
            task = asyncio.create_task(self.check_understanding(conversation_id, inbound_id, message.text))
            self.pending.add(task)
            task.add_done_callback(self.pending.discard)
        offer = await self.store.call(
            ratings.offer_after_answer, self.store, conversation_id, marks, language, inbound_id
        )
        return with_offer(replies, offer)

    async def check_understanding(self, conversation_id: str, inbound_id: int, text: str) -> None:
        """After the reply went out: an intent Rasa was unsure of queues the message (if the tracker's
        latest message is still this one)."""
        latest = await latest_message(self.rasa, conversation_id)
        if latest is None or (latest.get("text") or "").strip() != neutralise(text).strip():
            return
        try:
            await self.store.call(review.note_understanding, self.store, inbound_id, latest)
        except Exception:
            log.exception("review queue: could not note the intent's confidence")
