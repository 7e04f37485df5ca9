"""One person's messages, one at a time, in arrival order (within one gateway process).

A message takes its place in its conversation's line the moment it arrives (``join``, synchronous: no
await between reading the request and taking the place), then does whatever it must before its turn
(dedupe, look-ups, rate limits) and holds the line once everyone ahead has left. Taking the place at the
first await instead let two messages sent at once overtake each other: whichever thread-pool look-up
finished first went first.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class Place:
    """One message's place in its conversation's line."""

    def __init__(self, key: str, ahead: asyncio.Future | None) -> None:
        self.key = key
        self.entered = False  # hold() took it over: only hold() leaves it now
        self._ahead = ahead  # done when everyone ahead has left
        self._done = asyncio.get_running_loop().create_future()  # done when this place and those ahead left
        self._left = False

    @property
    def left(self) -> bool:
        return self._left

    async def reached(self) -> None:
        """Wait until everyone ahead has left (cancelling the wait leaves the line intact)."""
        if self._ahead is not None and not self._ahead.done():
            await asyncio.shield(self._ahead)

    def leave(self) -> None:
        """Give the place up (idempotent). Left before its turn came, it lets the next one through only
        once everyone ahead has left too."""
        if self._left:
            return
        self._left = True
        if self._ahead is None or self._ahead.done():
            self._done.set_result(None)
        else:
            self._ahead.add_done_callback(lambda _: self._done.set_result(None))

    def abandon(self) -> None:
        """The adapter's clean-up: leave unless a turn took the place over (that turn leaves it)."""
        if not self.entered:
            self.leave()


class ConversationLocks:
    """One line per conversation: one person's messages are handled strictly in arrival order."""

    def __init__(self) -> None:
        self._tails: dict[str, asyncio.Future] = {}  # key -> the last place's done future

    def join(self, key: str) -> Place:
        """Take the next place in ``key``'s line now. The caller must hand it to ``hold`` or ``abandon`` it."""
        ahead = self._tails.get(key)
        place = Place(key, None if ahead is None or ahead.done() else ahead)
        self._tails[key] = place._done
        place._done.add_done_callback(self._forget_empty_line(key))
        return place

    def _forget_empty_line(self, key: str):
        def forget(done: asyncio.Future) -> None:
            if self._tails.get(key) is done:
                del self._tails[key]

        return forget

    @contextlib.asynccontextmanager
    async def hold(self, key: str, place: Place | None = None) -> AsyncIterator[None]:
        """Hold ``key``'s line: at ``place`` if the message took one on arrival, else at its end."""
        if place is None or place.left:  # an adapter that gave its place up: queue up now
            place = self.join(key)
        if place.key != key:
            place.leave()
            raise ValueError(f"a place in {place.key!r}'s line held for {key!r}")
        place.entered = True
        try:
            await place.reached()
            yield
        finally:
            place.leave()
