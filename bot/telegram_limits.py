"""Telegram's concurrency and flood limits for python-telegram-bot: chats concurrent, one chat in order
(``PerChatOrder``); about 30 messages a second overall, 1 a second per private chat, 20 a minute per
group, and ``RetryAfter`` waited out (``FloodLimiter``)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter, BaseUpdateProcessor

from .conversation_locks import ConversationLocks

log = logging.getLogger(__name__)


class PerChatOrder(BaseUpdateProcessor):
    """Updates of different chats run concurrently; one chat's updates one after another, in order."""

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self.locks = ConversationLocks()

    async def do_process_update(self, update: object, coroutine: Any) -> None:
        chat = getattr(update, "effective_chat", None)
        if chat is None:
            await coroutine
            return
        async with self.locks.hold(str(chat.id)):
            await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""


class TokenBucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.capacity, self.tokens = rate, burst, burst
        self.updated = time.monotonic()
        self.lock = asyncio.Lock()

    async def take(self) -> None:
        async with self.lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)


class FloodLimiter(BaseRateLimiter):
    """Telegram's published limits: about 30 messages/s overall, 1/s per private chat (short bursts
    allowed), 20/min per group; a RetryAfter answer is waited out and the request retried."""

    def __init__(self, overall_per_second: float = 30, max_retries: int = 2) -> None:
        self.overall = TokenBucket(overall_per_second, overall_per_second)
        self.chats: dict[str, TokenBucket] = {}
        self.max_retries = max_retries

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""

    def _chat_bucket(self, chat_id: Any) -> TokenBucket:
        key = str(chat_id)
        if key not in self.chats:
            group = key.startswith("-")
            self.chats[key] = TokenBucket(20 / 60, 3) if group else TokenBucket(1.0, 3)
        return self.chats[key]

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Any,
    ) -> Any:
        limited = endpoint.startswith("send") or endpoint.startswith("edit")
        for attempt in range(self.max_retries + 1):
            if limited:
                await self.overall.take()
                if data.get("chat_id") is not None:
                    await self._chat_bucket(data["chat_id"]).take()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt >= self.max_retries:
                    raise
                wait = error.retry_after
                seconds = wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)
                log.warning("telegram flood control: waiting %.1fs", seconds)
                await asyncio.sleep(seconds)
        raise AssertionError("unreachable")
