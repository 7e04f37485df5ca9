"""Nothing stored is left unanswered: a background task of every gateway process.

A person's message that is stored but has no answer (``received`` and its process died mid-turn, or
``rasa_unavailable``) is claimed (``Store.claim_pending``, atomic across processes, once its lease ran
out) and answered through the channel's own asynchronous path: a WeChat customer-service message, a
Telegram message, the web chat's poll. While Rasa stays unreachable the task backs off (doubling, up to
``MAX_BACKOFF``); a message that waited longer than ``give_up_after`` becomes a staff case and the person
is told so. The same task purges transcripts (and, given its URL, Rasa's tracker store) past the
retention period once a day (``BOT_RASA_TRACKER_URLS``). A second task renews the leases of the messages
this process is answering, so another process takes one over only once this one has died.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from .router import Router
from .store import utcnow
from .store.tracker_retention import purge_tracker

log = logging.getLogger(__name__)

MAX_BACKOFF = 60.0
PURGE_EVERY = 24 * 3600.0


class Replayer:
    def __init__(
        self,
        router: Router,
        *,
        interval: float,
        give_up_after: float,
        retention_days: float | None = None,
        tracker_urls: tuple[str, ...] = (),
    ) -> None:
        self.router = router
        self.store = router.store
        self.interval = interval
        self.give_up_after = give_up_after
        self.retention_days = retention_days
        self.tracker_urls = tracker_urls
        self.backoff = interval
        self._tasks: list[asyncio.Task] = []
        self._purged_at = 0.0

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run()), asyncio.create_task(self._renew_leases())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _renew_leases(self) -> None:
        """Keep the leases of what this process is answering (``Router.leases_held``) from running out
        while it lives: a third of a lease apart, so one late renewal is not yet a take-over."""
        every = max(0.5, self.router.lease_seconds / 3)
        while True:
            await asyncio.sleep(every)
            try:
                held = self.router.leases_held()
                await self.store.call(self.store.renew_leases, held, self.router.lease_seconds)
            except Exception:  # the database blinked: the next renewal is a third of a lease away
                log.exception("lease renewal failed")

    async def _run(self) -> None:
        while True:
            try:
                answered_all = await self.replay_once()
                await self.purge_if_due()
            except Exception:  # the database blinked: log (masked), keep the task alive
                log.exception("replay pass failed")
                answered_all = False
            self.backoff = self.interval if answered_all else min(MAX_BACKOFF, self.backoff * 2)
            await asyncio.sleep(self.backoff)

    async def replay_once(self) -> bool:
        """One pass over the unanswered messages, oldest first; False when Rasa is still unavailable
        (the pass stops at the first failure: the rest would fail the same way)."""
        rows = await self.store.call(self.store.pending_inbound)
        for row in rows:
            if self.router.busy(row["id"]):
                continue
            if not await self.store.call(self.store.claim_pending, row["id"], self.router.lease_seconds):
                continue  # another process took it
            waited = (utcnow() - row["created_at"]).total_seconds()
            give_up = waited > self.give_up_after
            channel = row["channel"]
            if not await self.router.replay(row, give_up=give_up):
                log.info(
                    "replay: rasa still unavailable; next try in %.0fs", min(MAX_BACKOFF, self.backoff * 2)
                )
                return False
            log.info(
                "replay: answered a %s message that waited %.0fs%s",
                channel,
                waited,
                " (handed to staff)" if give_up else "",
            )
        return True

    async def purge_if_due(self) -> None:
        if not self.retention_days or time.monotonic() - self._purged_at < PURGE_EVERY and self._purged_at:
            return
        self._purged_at = time.monotonic()
        removed = await self.store.call(self.store.purge_transcripts, self.retention_days)
        if removed:
            log.info("retention: deleted %d messages older than %s days", removed, self.retention_days)
        held = set(await self.store.call(self.store.conversations_held_open)) if self.tracker_urls else set()
        for url in self.tracker_urls:
            gone = await self.store.call(purge_tracker, url, self.retention_days, held)
            if gone:
                log.info("retention: deleted %d idle conversations from Rasa's tracker store", gone)
