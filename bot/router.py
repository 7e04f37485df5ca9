"""The channel-independent middle: store, forward to Rasa, apply handoff, deliver, publish.

Adapters turn a channel's protocol into an ``InboundMessage`` and call ``Router.handle``; replies go out
through the ``SenderRegistry`` (one ``OutboundSender`` per channel), which the staff console (issue 5)
also uses to send an officer's words to a person.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .conversation_locks import ConversationLocks, Place
from .events import EventBus
from .hooks import AfterAnswer, HandoffHook
from .models import Delivery, InboundMessage, Reply, Turn, split_conversation_id
from .rasa_client import RasaClient, RasaUnavailable
from .senders import SenderRegistry
from .store import PENDING, Store
from .texts import text as say
from .textutil import neutralise, parse_rasa_replies

# reply states that reached the person (sent by an API, kept for the web chat's poll, or held for WeChat's
# next message); a passive WeChat reply or a Telegram one still 'sending' may have died with its process
REACHED_THE_PERSON = ("sent", "held")
# how long a message an adapter stored may wait for its handler before the replay may answer it
RESERVE_AT_MOST = 600.0

log = logging.getLogger(__name__)

Deliver = Callable[[Turn], Awaitable[None]]


class Router:
    def __init__(
        self,
        store: Store,
        rasa: RasaClient,
        bus: EventBus,
        senders: SenderRegistry,
        *,
        default_language: str = "zh",
        max_text_chars: int = 1000,
        lease_seconds: float = 90.0,
    ) -> None:
        self.store = store
        self.rasa = rasa
        self.bus = bus
        self.senders = senders
        self.default_language = default_language
        self.max_text_chars = max_text_chars
        # a message's lease: no other process (nor the replay) answers it while it holds; this process
        # renews the leases of what it answers (bot/replay.py), so it has to outlive a dead process only
        self.lease_seconds = lease_seconds
        self.handoff: HandoffHook | None = None  # installed by bot.console (CaseDesk)
        self.after_answer: AfterAnswer | None = None  # installed by bot.console (ratings, review queue)
        self.in_flight: set[int] = set()  # inbound ids this process is answering (released at shutdown)
        # inbound ids an adapter stored and will hand to ``handle`` soon (Telegram's webhook stores an
        # update before its 200; the chat's earlier updates may be answered first), and since when
        self.reserved: dict[int, float] = {}
        self.locks = ConversationLocks()

    # -- leases ------------------------------------------------------------------------------------
    def reserve(self, inbound_id: int) -> None:
        """An adapter stored this message and will hand it to ``handle``: its lease is kept (renewed)
        until then, at most ``RESERVE_AT_MOST`` seconds (an update no handler takes is then replayed)."""
        self.reserved[inbound_id] = time.monotonic()

    def busy(self, inbound_id: int) -> bool:
        """This process is answering the message, or will: its own replay must leave it alone."""
        return inbound_id in self.in_flight or inbound_id in self.reserved

    def leases_held(self) -> list[int]:
        """The messages whose leases this process renews (``Replayer``): the lease then only has to
        outlive the process, not the longest turn."""
        expired = [i for i, since in self.reserved.items() if time.monotonic() - since > RESERVE_AT_MOST]
        for inbound_id in expired:
            del self.reserved[inbound_id]
        return sorted(self.in_flight | set(self.reserved))

    # -- inbound -----------------------------------------------------------------------------------
    async def record(self, message: InboundMessage) -> int | None:
        """Store the message first of all; None means the channel re-delivered one we already have."""
        inbound_id = await self.store.call(self.store.record_inbound, message, self.lease_seconds)
        if inbound_id is not None:
            self.bus.publish(
                message.conversation_id,
                {
                    "type": "message",
                    "direction": "in",
                    "id": inbound_id,
                    "kind": message.kind,
                    "text": message.text,
                },
            )
        return inbound_id

    async def language_of(self, message: InboundMessage) -> str:
        """The language the gateway's own words use: stated, else the default."""
        return await self.stated_language(message) or self.default_language

    async def stated_language(self, message: InboundMessage) -> str | None:
        """The language the channel or the person stated (Telegram's language_code, the web chat's choice),
        or None: then the assistant reads it from the person's words, so the default must not pin it."""
        conversation = await self.store.call(self.store.conversation, message.conversation_id)
        return (conversation or {}).get("language") or message.language

    async def handle(
        self,
        message: InboundMessage,
        deliver: Deliver | None = None,
        *,
        local_replies: list[Reply] | None = None,
        prepare: Callable[[InboundMessage], Awaitable[None]] | None = None,
        recorded: Callable[[InboundMessage, int], Awaitable[None]] | None = None,
        recorded_id: int | None = None,
        place: Place | None = None,
    ) -> Turn:
        """Record, answer (Rasa, or ``local_replies`` for what the gateway answers itself) and deliver.

        The conversation lock is taken first, before anything awaits, so one person's messages are
        recorded, answered and delivered in the order they arrived; an adapter that must await before
        calling (dedupe, look-ups) passes the ``place`` the message took in the line on arrival. ``prepare`` may rewrite the message
        under the lock (WeChat's numbered options), ``recorded`` runs once it is stored. Without
        ``deliver``, replies go through the channel's registered sender. ``recorded_id``: the adapter
        stored the message already (Telegram, before answering the webhook); its content is updated.

        A re-delivery of a message that was never answered (the process answering it died) is answered
        now when its lease has run out; while another process still holds the lease the turn comes back
        ``duplicate`` and ``pending``, and the replay answers it later.
        """
        async with self.locks.hold(message.conversation_id, place):
            if prepare is not None:
                await prepare(message)
            if recorded_id is not None:
                row = await self.store.call(self.store.message, recorded_id)
                if row is None or row["status"] not in PENDING:  # a replay answered it meanwhile
                    self.reserved.pop(recorded_id, None)
                    return Turn(
                        inbound_id=recorded_id, conversation_id=message.conversation_id, duplicate=True
                    )
                await self.store.call(self.store.update_inbound, recorded_id, message)
                inbound_id: int | None = recorded_id
            else:
                inbound_id = await self.record(message)
            if inbound_id is None:
                existing = await self.store.call(
                    self.store.find_inbound, message.channel, message.external_id
                )
                if (
                    not existing
                    or existing["status"] not in PENDING
                    or not await self.store.call(self.store.claim_pending, existing["id"], self.lease_seconds)
                ):
                    return Turn(
                        inbound_id=existing["id"] if existing else 0,
                        conversation_id=message.conversation_id,
                        duplicate=True,
                        pending=bool(existing and existing["status"] in PENDING),
                    )
                inbound_id = existing["id"]
                log.info(
                    "%s: answering a re-delivered message its first attempt never answered", message.channel
                )
            self.in_flight.add(inbound_id)
            self.reserved.pop(inbound_id, None)  # in flight now: its lease is renewed as such
            try:
                if recorded is not None:
                    await recorded(message, inbound_id)
                turn = await self._answer(message, inbound_id, local_replies)
                await (deliver or self.deliver)(turn)
                await self.store.call(self.store.release, inbound_id, turn.status)
            finally:
                self.in_flight.discard(inbound_id)
        return turn

    async def replay(self, row: dict[str, Any], *, give_up: bool) -> bool:
        """Answer a stored message nobody answered (Rasa was down, or the gateway died mid-turn) through
        the channel's own sender: a WeChat customer-service message, a Telegram message, the web chat's
        poll. ``give_up``: it waited too long; a staff case is opened and the person told. The caller
        claimed the message (``Store.claim_pending``). False when Rasa is still unavailable."""
        message = inbound_from_row(row)
        async with self.locks.hold(message.conversation_id):
            self.in_flight.add(row["id"])
            try:
                language = await self.language_of(message)
                replies = await self.store.call(self.store.replies_to, row["id"])
                if any(r["author"] == "bot" and r["status"] in REACHED_THE_PERSON for r in replies):
                    # its process died after sending (part of) Rasa's answer, before marking it answered:
                    # asking Rasa again would send the person the answer twice (an apology or an
                    # acknowledgement, the gateway's own words, is no answer)
                    await self.store.call(self.store.release, row["id"], "forwarded")
                    return True
                if give_up:
                    turn = Turn(inbound_id=row["id"], conversation_id=message.conversation_id)
                    turn.replies = await self.hand_to_staff(message, "assistant_unavailable", language)
                    turn.status = "handed_off"
                else:
                    turn = await self._answer(message, row["id"], None)
                if turn.status in PENDING:
                    await self.store.call(self.store.release, row["id"], turn.status)
                    return False  # the person was told already; try again later
                await self.deliver(turn)
                await self.store.call(self.store.release, row["id"], turn.status)
                return True
            finally:
                self.in_flight.discard(row["id"])

    async def stale_button_replies(self, conversation_id: str, language: str) -> list[Reply]:
        """A button pressed after the conversation moved on: "this option has expired" and the question
        the person is on now (the assistant's last message, its buttons offered afresh). While a case
        waits, what is current is the wait: its acknowledgement with a fresh cancel button."""
        if self.handoff and await self.handoff.is_open(conversation_id):
            offer = await self.handoff.acknowledge(conversation_id, language, every_time=True)
            if offer:
                return [Reply(say("stale_button_waiting", language), author="gateway"), *offer]
        last = await self.store.call(self.store.last_outbound, conversation_id, "bot")
        if not last or not last["text"]:
            return [Reply(say("stale_button", language), author="gateway")]
        return [
            Reply(say("stale_button_current", language), author="gateway"),
            Reply(last["text"], buttons=Store.offered_buttons(last), author="bot"),
        ]

    async def hand_to_staff(self, message: InboundMessage, reason: str, language: str) -> list[Reply]:
        """The assistant cannot answer: open a staff case and tell the person so, and when a human will
        answer (the case desk's notice)."""
        payload = {"reason": reason, "summary": say(f"case_{reason}", "zh"), "language": language}
        notice = await self.handoff.on_handoff(message, payload, language) if self.handoff else []
        return [Reply(say(reason, language), author="gateway"), *notice]

    async def _answer(
        self, message: InboundMessage, inbound_id: int, local_replies: list[Reply] | None
    ) -> Turn:
        language = await self.language_of(message)
        turn = Turn(inbound_id=inbound_id, conversation_id=message.conversation_id)
        if local_replies is not None:
            turn.replies = local_replies
            return turn
        if message.kind == "unsupported":
            turn.replies = [Reply(say("unsupported", language), author="gateway")]
            return turn
        if message.kind == "event":
            return turn  # recorded (unsubscribe, a menu view ...): nothing to say
        if message.kind == "button":
            forwarded = message.payload or ""
        else:
            forwarded = neutralise(message.text or "")
            if len(forwarded) > self.max_text_chars:
                turn.replies = [Reply(say("too_long", language, limit=self.max_text_chars), author="gateway")]
                return turn
        if not forwarded:
            return turn
        was_open = bool(self.handoff) and await self.handoff.is_open(message.conversation_id)
        if self.handoff:
            # the case desk's own: "取消人工" while waiting (it resumes the assistant itself), a rating
            own = await self.handoff.own_answer(message, inbound_id, language, case_open=was_open)
            if own is not None:
                turn.replies = own
                return turn
        metadata: dict[str, Any] = {"channel": message.channel}
        stated = await self.stated_language(message)
        if stated:
            metadata["language"] = stated
        started = time.perf_counter()
        try:
            raw = await self.rasa.send(message.conversation_id, forwarded, metadata)
        except RasaUnavailable as error:
            log.warning("rasa unavailable for %s: %s", message.channel, error)
            turn.status = "rasa_unavailable"  # kept for the replay (bot/replay.py)
            if was_open:
                turn.replies = await self.release_held(message.conversation_id, language)
                turn.replies += await self.handoff.acknowledge(message.conversation_id, language)
            else:
                turn.replies = [Reply(say("rasa_down", language), author="gateway")]
            return turn
        log.debug("rasa answered in %.3fs", time.perf_counter() - started)
        turn.status = "forwarded"
        replies = parse_rasa_replies(raw)
        # the assistant's marks for the gateway ({"answer": "personal", ...}): never shown to the person
        marks = [r.custom for r in replies if r.custom and "answer" in r.custom and not r.text]
        replies = [r for r in replies if not (r.custom and "answer" in r.custom and not r.text)]
        handoff_replies: list[Reply] = []
        for reply in replies:
            if reply.custom and isinstance(reply.custom.get("handoff"), dict):
                handoff_replies += await self.handoff.on_handoff(message, reply.custom["handoff"], language)
        bot_replies = [r for r in replies if not (r.custom and "handoff" in r.custom)]
        if handoff_replies and not was_open:
            # The turn that hands off: the assistant says that staff will answer (action_handoff), the
            # gateway when (the case desk knows the office's calendar).
            turn.replies = bot_replies + handoff_replies
        elif was_open:
            # Staff have the conversation: keep what the assistant said in the transcript, send nothing.
            for reply in bot_replies:
                await self.store.call(
                    self.store.record_outbound,
                    message.conversation_id,
                    reply.text,
                    status="suppressed",
                    data=reply.as_dict(),
                    reply_to=inbound_id,
                )
            turn.suppressed = True
            # What staff wrote while the channel refused it (WeChat quota) goes out now, with this message.
            turn.replies = await self.release_held(message.conversation_id, language)
            # not silence: "passed on, expect an answer by …" (at most once per a few minutes)
            turn.replies += await self.handoff.acknowledge(message.conversation_id, language)
        elif bot_replies:
            turn.replies = bot_replies
            if self.after_answer:
                turn.replies = await self.after_answer(message, inbound_id, bot_replies, marks, language)
        else:
            # Rasa answered nothing outside a staff case: an action failed (the action server is down or
            # raised). Never silence: say so and open a staff case.
            log.error(
                "rasa gave no answer for a %s message: an action failed; opening a staff case",
                message.channel,
            )
            turn.replies = await self.hand_to_staff(message, "assistant_failed", language)
            turn.status = "handed_off"
        return turn

    async def answer_row(self, row: dict[str, Any]) -> Turn:
        """Have the assistant answer a stored message again (the person's last question before staff
        handed the conversation back). The caller holds the conversation's lock and delivers the turn."""
        return await self._answer(inbound_from_row(row), row["id"], None)

    async def release_held(self, conversation_id: str, language: str) -> list[Reply]:
        """Replies kept as ``held`` (WeChat past its quota), as one reply to send with the person's next
        message while staff have the conversation; the kept rows become ``resent``. Outside a case the
        WeChat adapter does the same with the assistant's answer."""
        held = await self.store.call(self.store.held_replies, conversation_id)
        texts = [row["text"] for row in held if row["text"]]
        for row in held:
            await self.store.call(self.store.set_status, row["id"], "resent")
        if not texts:
            return []
        text = say("held_replies", language) + "\n" + "\n\n".join(texts)
        return [Reply(text, author=held[-1]["author"])]

    # -- outbound ----------------------------------------------------------------------------------
    async def deliver(self, turn: Turn) -> None:
        if not turn.replies:
            return
        await self.send(turn.conversation_id, turn.replies, reply_to=turn.inbound_id)

    async def send(
        self,
        conversation_id: str,
        replies: list[Reply],
        *,
        reply_to: int | None = None,
        author: str | None = None,
    ) -> list[Delivery]:
        """Send replies to a person through their channel's sender; used for bot turns and by the console."""
        channel, user_id = split_conversation_id(conversation_id)
        if author:
            for reply in replies:
                reply.author = author
        deliveries = await self.senders.get(channel).send(
            user_id, replies, reply_to=reply_to, author=author or (replies[0].author if replies else "bot")
        )
        self.published_outbound(conversation_id, deliveries)
        return deliveries

    def published_outbound(self, conversation_id: str, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            self.bus.publish(
                conversation_id,
                {"type": "message", "direction": "out", "id": delivery.message_id, "status": delivery.status},
            )


def inbound_from_row(row: dict[str, Any]) -> InboundMessage:
    """A stored inbound message as the router takes it (for the replay)."""
    channel, user_id = split_conversation_id(row["conversation_id"])
    return InboundMessage(
        channel=channel,
        user_id=user_id,
        kind=row["kind"],
        text=row["text"],
        payload=row["payload"],
        external_id=row["external_id"],
        meta=row.get("data") or {},
    )
