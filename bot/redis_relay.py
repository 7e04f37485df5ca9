"""Redis pub/sub between gateway processes: the console's live events and the web chat's wake-ups reach
every process, whichever one a message or a case came through.

Each process publishes its events on one channel with its own origin id and delivers the others' to its
local subscribers. Redis down: local delivery goes on, events from other processes pause (the console
still shows them when it re-fetches), and the relay reconnects with a growing pause, logging once per
outage rather than per event.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis

if TYPE_CHECKING:
    from .events import EventBus

log = logging.getLogger(__name__)
CHANNEL = "rczd:events"
MAX_PENDING = 10_000  # events waiting to be published while Redis is away; the oldest are dropped


class Reconnecting:
    """The growing pause between attempts while Redis is away (0.5 s doubling up to 10 s), with one log
    line per outage rather than per attempt."""

    FIRST, LONGEST = 0.5, 10.0

    def __init__(self, what: str) -> None:
        self.what = what
        self.pause = self.FIRST

    def succeeded(self) -> None:
        self.pause = self.FIRST

    async def failed(self, error: BaseException) -> None:
        if self.pause == self.FIRST:
            log.warning("redis relay: %s (%s); retrying", self.what, type(error).__name__)
        await asyncio.sleep(self.pause)
        self.pause = min(self.pause * 2, self.LONGEST)


class RedisRelay:
    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        self.url = url
        self.channel = channel
        self.origin = secrets.token_hex(8)
        self._pending: asyncio.Queue | None = None
        self._tasks: list[asyncio.Task] = []
        self._subscribed: asyncio.Event | None = None

    def start(self, bus: EventBus) -> None:
        """Start the publisher and the listener in the running event loop (once)."""
        if self._tasks:
            return
        self._pending = asyncio.Queue(MAX_PENDING)
        self._subscribed = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._publish_loop(), name="redis-relay-publish"),
            asyncio.create_task(self._listen_loop(bus), name="redis-relay-listen"),
        ]

    async def subscribed(self, timeout: float = 5.0) -> None:
        """Wait until the listener is subscribed (tests, and a console that must not miss the next event)."""
        assert self._subscribed is not None, "start() first"
        await asyncio.wait_for(self._subscribed.wait(), timeout)

    @property
    def listening(self) -> bool:
        """Whether the listener is subscribed right now (False from the moment it notices Redis is gone)."""
        return self._subscribed is not None and self._subscribed.is_set()

    def send(self, event: dict[str, Any]) -> None:
        assert self._pending is not None, "start() first"
        if self._pending.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self._pending.get_nowait()
        self._pending.put_nowait(json.dumps({"origin": self.origin, "event": event}, default=str))

    async def _publish_loop(self) -> None:
        assert self._pending is not None
        client = aioredis.Redis.from_url(self.url, socket_timeout=5, socket_connect_timeout=2)
        attempts = Reconnecting("cannot publish")
        try:
            while True:
                item = await self._pending.get()
                while True:
                    try:
                        await client.publish(self.channel, item)
                        attempts.succeeded()
                        break
                    except (aioredis.RedisError, OSError) as error:
                        await attempts.failed(error)
        finally:
            with contextlib.suppress(Exception):
                await client.close()

    async def _listen_loop(self, bus: EventBus) -> None:
        assert self._subscribed is not None
        attempts = Reconnecting("not listening")
        while True:
            client = aioredis.Redis.from_url(self.url, socket_connect_timeout=2)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self._subscribed.set()
                attempts.succeeded()
                async for message in pubsub.listen():
                    self._deliver(bus, message)
            except (aioredis.RedisError, OSError) as error:
                self._subscribed.clear()
                await attempts.failed(error)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.close()
                    await client.close()

    def _deliver(self, bus: EventBus, message: dict[str, Any]) -> None:
        try:
            body = json.loads(message["data"])
        except (TypeError, ValueError):
            log.warning("redis relay: a message that is not JSON was ignored")
            return
        if body.get("origin") != self.origin and isinstance(body.get("event"), dict):
            bus.deliver(body["event"])

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
