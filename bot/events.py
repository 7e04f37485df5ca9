"""Publish/subscribe of transcript events, per conversation, for the staff console and the web chat's
long polls.

Subscribers get an asyncio.Queue; a slow subscriber loses its oldest events rather than blocking the
gateway. With ``BOT_REDIS_URL`` set, every event is also relayed through Redis pub/sub
(``bot/redis_relay.py``), so an officer connected to one gateway process sees in real time what happens
on the others; events carry ids only and subscribers read the rows from the shared database.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any, Protocol

ALL = "*"


class Relay(Protocol):
    """Carries events to the other gateway processes and hands theirs to ``bus.deliver``."""

    def start(self, bus: EventBus) -> None: ...

    def send(self, event: dict[str, Any]) -> None: ...

    async def aclose(self) -> None: ...


class EventBus:
    def __init__(self, max_queue: int = 200, relay: Relay | None = None) -> None:
        self.max_queue = max_queue
        self.relay = relay
        self._subscribers: dict[str, set[asyncio.Queue]] = defaultdict(set)

    def publish(self, conversation_id: str, event: dict[str, Any]) -> None:
        event = {"conversation_id": conversation_id, **event}
        self.deliver(event)
        if self.relay is not None:
            self.relay.start(self)
            self.relay.send(event)

    def deliver(self, event: dict[str, Any]) -> None:
        """Hand an event to this process's subscribers (its own, or one relayed from another process)."""
        for key in (event["conversation_id"], ALL):
            for queue in list(self._subscribers.get(key, ())):
                if queue.full():
                    with contextlib.suppress(asyncio.QueueEmpty):
                        queue.get_nowait()
                queue.put_nowait(event)

    @contextlib.contextmanager
    def subscription(self, conversation_id: str = ALL):
        """``with bus.subscription("wechat:o123") as queue: event = await queue.get()``"""
        if self.relay is not None:
            self.relay.start(self)  # listen to the other processes from the first subscriber on
        queue: asyncio.Queue = asyncio.Queue(self.max_queue)
        self._subscribers[conversation_id].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[conversation_id].discard(queue)
            if not self._subscribers[conversation_id]:
                del self._subscribers[conversation_id]

    async def stream(self, conversation_id: str = ALL) -> AsyncIterator[dict[str, Any]]:
        with self.subscription(conversation_id) as queue:
            while True:
                yield await queue.get()

    def subscriber_count(self, conversation_id: str = ALL) -> int:
        return len(self._subscribers.get(conversation_id, ()))

    async def aclose(self) -> None:
        if self.relay is not None:
            await self.relay.aclose()


def event_bus(redis_url: str | None) -> EventBus:
    """The gateway's bus: in-process only, or relayed through Redis to every gateway process."""
    if not redis_url:
        return EventBus()
    from .redis_relay import RedisRelay

    return EventBus(relay=RedisRelay(redis_url))
