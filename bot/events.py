"""In-process publish/subscribe of transcript events, per conversation, for the staff console.

Subscribers get an asyncio.Queue; a slow subscriber loses its oldest events rather than blocking the
gateway. Only this process's events are seen: a console on another gateway process reads the database.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

ALL = "*"


class EventBus:
    def __init__(self, max_queue: int = 200) -> None:
        self.max_queue = max_queue
        self._subscribers: dict[str, set[asyncio.Queue]] = defaultdict(set)

    def publish(self, conversation_id: str, event: dict[str, Any]) -> None:
        event = {"conversation_id": conversation_id, **event}
        for key in (conversation_id, ALL):
            for queue in list(self._subscribers.get(key, ())):
                if queue.full():
                    with contextlib.suppress(asyncio.QueueEmpty):
                        queue.get_nowait()
                queue.put_nowait(event)

    @contextlib.contextmanager
    def subscription(self, conversation_id: str = ALL):
        """``with bus.subscription("wechat:o123") as queue: event = await queue.get()``"""
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
