"""The transcript: conversations, every inbound message before it is forwarded, every reply after it is
sent; which inbound messages still wait for an answer (replay after a crash); retention."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ..models import Button, InboundMessage
from .base import StoreBase, row_dict
from .schema import conversations, messages, utcnow

# An inbound message in one of these states has had no answer yet: it is replayed once no process holds
# its lease (bot/replay.py). Every handled message ends in another state (forwarded, answered, handed_off).
PENDING = ("received", "rasa_unavailable")


class TranscriptStore(StoreBase):
    def _ensure_conversation(self, channel: str, user_id: str, language: str | None) -> None:
        conversation_id = f"{channel}:{user_id}"
        now = utcnow()
        with self.engine.begin() as conn:
            updated = conn.execute(
                update(conversations).where(conversations.c.id == conversation_id).values(updated_at=now)
            )
            if updated.rowcount:
                return
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(conversations).values(
                        id=conversation_id,
                        channel=channel,
                        user_id=user_id,
                        language=language,
                        handoff_open=False,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            pass  # another worker created it a moment ago

    def conversation(self, conversation_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            return row_dict(
                conn.execute(select(conversations).where(conversations.c.id == conversation_id)).first()
            )

    def set_language(self, channel: str, user_id: str, language: str) -> None:
        self._ensure_conversation(channel, user_id, language)
        with self.engine.begin() as conn:
            conn.execute(
                update(conversations)
                .where(conversations.c.id == f"{channel}:{user_id}")
                .values(language=language)
            )

    # -- messages ----------------------------------------------------------------------------------
    def record_inbound(self, message: InboundMessage, lease_seconds: float | None = None) -> int | None:
        """Store what a person sent. Returns its id, or None when the channel already delivered it (a retry).

        One transaction: touch (or create) the conversation, insert the message. An IntegrityError means a
        re-delivery (unique channel + external id) or, rarely, another process creating the same
        conversation at the same moment; the latter is simply retried. ``lease_seconds``: how long this
        process answers it before another may (``claim_pending``).
        """
        received = dt.datetime.fromtimestamp(message.received_at, dt.timezone.utc).replace(tzinfo=None)
        for _attempt in range(3):
            try:
                with self.engine.begin() as conn:
                    self._touch_conversation(conn, message)
                    result = conn.execute(
                        insert(messages).values(
                            conversation_id=message.conversation_id,
                            channel=message.channel,
                            direction="in",
                            kind=message.kind,
                            author="person",
                            text=message.text,
                            payload=message.payload,
                            data=message.meta or None,
                            external_id=message.external_id,
                            status="received",
                            created_at=received,
                            lease_until=time.time() + lease_seconds if lease_seconds else None,
                        )
                    )
                    return int(result.inserted_primary_key[0])
            except IntegrityError:
                if message.external_id and self.find_inbound(message.channel, message.external_id):
                    return None
        raise RuntimeError("could not record an inbound message")

    @staticmethod
    def _touch_conversation(conn: Connection, message: InboundMessage) -> None:
        now = utcnow()
        updated = conn.execute(
            update(conversations).where(conversations.c.id == message.conversation_id).values(updated_at=now)
        )
        if not updated.rowcount:
            conn.execute(
                insert(conversations).values(
                    id=message.conversation_id,
                    channel=message.channel,
                    user_id=message.user_id,
                    language=message.language,
                    handoff_open=False,
                    created_at=now,
                    updated_at=now,
                )
            )

    def update_inbound(self, message_id: int, message: InboundMessage) -> None:
        """Replace what an adapter stored early (Telegram's raw update) with the parsed message."""
        with self.engine.begin() as conn:
            conn.execute(
                update(messages)
                .where(messages.c.id == message_id, messages.c.direction == "in")
                .values(
                    kind=message.kind, text=message.text, payload=message.payload, data=message.meta or None
                )
            )

    def find_inbound(self, channel: str, external_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            return row_dict(
                conn.execute(
                    select(messages).where(
                        messages.c.channel == channel, messages.c.external_id == external_id
                    )
                ).first()
            )

    def record_outbound(
        self,
        conversation_id: str,
        text: str | None,
        *,
        status: str,
        kind: str = "reply",
        author: str = "bot",
        data: dict[str, Any] | None = None,
        reply_to: int | None = None,
    ) -> int:
        channel = conversation_id.split(":", 1)[0]
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(messages).values(
                    conversation_id=conversation_id,
                    channel=channel,
                    direction="out",
                    kind=kind,
                    author=author,
                    text=text,
                    data=data or None,
                    reply_to=reply_to,
                    status=status,
                    created_at=utcnow(),
                )
            )
            return int(result.inserted_primary_key[0])

    def set_status(self, message_id: int, status: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(messages).where(messages.c.id == message_id).values(status=status))

    def message(self, message_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            return row_dict(conn.execute(select(messages).where(messages.c.id == message_id)).first())

    def messages(
        self, conversation_id: str, *, after_id: int = 0, direction: str | None = None, limit: int = 500
    ) -> list[dict[str, Any]]:
        query = select(messages).where(
            messages.c.conversation_id == conversation_id, messages.c.id > after_id
        )
        if direction:
            query = query.where(messages.c.direction == direction)
        with self.engine.connect() as conn:
            return [row_dict(r) for r in conn.execute(query.order_by(messages.c.id).limit(limit))]

    def replies_to(self, inbound_id: int) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(messages).where(messages.c.reply_to == inbound_id).order_by(messages.c.id)
            )
            return [row_dict(r) for r in rows]

    def held_replies(self, conversation_id: str) -> list[dict[str, Any]]:
        """Outbound messages kept because the channel refused them (WeChat quota): sent with the next reply."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(messages)
                .where(
                    messages.c.conversation_id == conversation_id,
                    messages.c.direction == "out",
                    messages.c.status == "held",
                )
                .order_by(messages.c.id)
            )
            return [row_dict(r) for r in rows]

    def last_outbound(self, conversation_id: str, author: str | None = None) -> dict[str, Any] | None:
        """The last message that reached the person (by ``author`` only, when given)."""
        query = select(messages).where(
            messages.c.conversation_id == conversation_id,
            messages.c.direction == "out",
            messages.c.status.in_(("sent", "sent_passive")),
        )
        if author:
            query = query.where(messages.c.author == author)
        with self.engine.connect() as conn:
            return row_dict(conn.execute(query.order_by(messages.c.id.desc()).limit(1)).first())

    def person_spoke_after(self, conversation_id: str, message_id: int, excluding: int | None = None) -> bool:
        """Whether the person sent anything after ``message_id`` (other than the press being checked,
        ``excluding``): its buttons then belong to an earlier question."""
        query = select(messages.c.id).where(
            messages.c.conversation_id == conversation_id,
            messages.c.direction == "in",
            messages.c.id > message_id,
        )
        if excluding is not None:
            query = query.where(messages.c.id != excluding)
        with self.engine.connect() as conn:
            found = conn.execute(query.limit(1)).first()
            return found is not None

    @staticmethod
    def offered_buttons(row: dict[str, Any] | None) -> list[Button]:
        data = (row or {}).get("data") or {}
        return [Button(b["title"], b["payload"]) for b in data.get("buttons", [])]

    def handoff_open(self, conversation_id: str) -> bool:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(conversations.c.handoff_open).where(conversations.c.id == conversation_id)
            ).scalar()
            return bool(value)

    # -- answering each message exactly once, across processes and crashes -------------------------
    def claim_pending(self, message_id: int, lease_seconds: float) -> bool:
        """Take the right to answer a still-unanswered inbound message whose lease ran out (its process
        died, or a replay failed and waited its back-off). Atomic: one claimer wins."""
        now = time.time()
        with self.engine.begin() as conn:
            result = conn.execute(
                update(messages)
                .where(
                    messages.c.id == message_id,
                    messages.c.direction == "in",
                    messages.c.status.in_(PENDING),
                    or_(messages.c.lease_until.is_(None), messages.c.lease_until < now),
                )
                .values(lease_until=now + lease_seconds)
            )
            return result.rowcount == 1

    def renew_leases(self, message_ids: list[int], lease_seconds: float) -> None:
        """This process is still answering these messages: another may not take them over (a turn may
        take longer than one lease: Rasa slow, a Telegram update waiting behind the chat's earlier ones)."""
        if not message_ids:
            return
        with self.engine.begin() as conn:
            conn.execute(
                update(messages)
                .where(messages.c.id.in_(message_ids), messages.c.status.in_(PENDING))
                .values(lease_until=time.time() + lease_seconds)
            )

    def release(self, message_id: int, status: str, retry_in: float = 0.0) -> None:
        """Set the message's state; a pending one may be claimed again ``retry_in`` seconds from now."""
        with self.engine.begin() as conn:
            conn.execute(
                update(messages)
                .where(messages.c.id == message_id)
                .values(status=status, lease_until=time.time() + retry_in)
            )

    def drop_lease(self, message_id: int) -> None:
        """A turn cut short (shutdown): if still unanswered, the message may be replayed at once."""
        with self.engine.begin() as conn:
            conn.execute(
                update(messages)
                .where(messages.c.id == message_id, messages.c.status.in_(PENDING))
                .values(lease_until=time.time())
            )

    def pending_inbound(self, limit: int = 100) -> list[dict[str, Any]]:
        """Unanswered inbound messages nobody is answering now, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(messages)
                .where(
                    messages.c.direction == "in",
                    messages.c.status.in_(PENDING),
                    or_(messages.c.lease_until.is_(None), messages.c.lease_until < time.time()),
                )
                .order_by(messages.c.id)
                .limit(limit)
            )
            return [row_dict(r) for r in rows]

    def conversations_held_open(self) -> list[str]:
        """Conversations staff hold (an open case): their history is kept whatever its age."""
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(conversations.c.id).where(conversations.c.handoff_open.is_(True))
                ).scalars()
            )

    # -- retention ---------------------------------------------------------------------------------
    def purge_transcripts(self, older_than_days: float) -> int:
        """Delete messages older than the retention period, except in conversations staff hold open (an
        open case needs its history); returns how many went. Cases, notes and the audit log stay."""
        cutoff = utcnow() - dt.timedelta(days=older_than_days)
        held = select(conversations.c.id).where(conversations.c.handoff_open.is_(True))
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(messages).where(
                    messages.c.created_at < cutoff, messages.c.conversation_id.not_in(held)
                )
            )
            return int(result.rowcount or 0)
