"""One person's messages, one at a time, in arrival order (within one gateway process)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class ConversationLocks:
    """One asyncio.Lock per conversation: one person's messages are handled strictly in arrival order
    (asyncio locks wake waiters first-in first-out)."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
