"""The web chat's limits on turns: token buckets per web session (one person) and per client address (one
office, or a script opening new sessions), held in this process. ``shared_limits.RedisWebChatLimits`` holds
the same two limits across every gateway process."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request

from .config import Settings


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """One token bucket per key: ``burst`` tokens at most, refilled at ``per_minute``.

    Per process: with several gateway processes a person may get up to that many times the rate, which
    is acceptable for a limit meant to stop floods, not to meter. Buckets that have refilled completely
    are forgotten when the table grows, so memory stays bounded however many addresses come by.
    """

    def __init__(
        self,
        per_minute: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 50_000,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = max(1, burst)
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def _refilled(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            return _Bucket(float(self.burst), now)
        tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
        return _Bucket(tokens, now)

    def wait_seconds(self, key: str) -> float:
        """0 when ``key`` may go now, else how long until it may (nothing is taken)."""
        if not self.enabled:
            return 0.0
        bucket = self._refilled(key, self.clock())
        return 0.0 if bucket.tokens >= 1 else (1 - bucket.tokens) / self.rate

    def take(self, key: str) -> None:
        if not self.enabled:
            return
        bucket = self._refilled(key, self.clock())
        bucket.tokens -= 1
        self._buckets[key] = bucket
        if len(self._buckets) > self.max_keys:
            self._forget_full(bucket.updated)

    def _forget_full(self, now: float) -> None:
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.updated) * self.rate >= self.burst]
        for key in full:
            del self._buckets[key]


class WebChatLimits:
    """The web chat's two limits: per session (one person) and per client address (one office, or a
    script opening new sessions). A turn must fit both; a refused turn takes no token from either."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_session = TokenBuckets(
            settings.webchat_session_per_minute, settings.webchat_session_burst, clock=clock
        )
        self.per_address = TokenBuckets(
            settings.webchat_ip_per_minute, settings.webchat_ip_burst, clock=clock
        )

    def admit(self, session: str, address: str) -> float:
        """Take a token from both buckets and return 0, or return the seconds to wait (nothing taken)."""
        wait = max(self.per_session.wait_seconds(session), self.per_address.wait_seconds(address))
        if wait > 0:
            return wait
        self.per_session.take(session)
        self.per_address.take(address)
        return 0.0


def client_address(request: Request) -> str:
    """The client's address. Behind a reverse proxy uvicorn takes it from X-Forwarded-For when the proxy
    is trusted (``--forwarded-allow-ips`` / FORWARDED_ALLOW_IPS, 127.0.0.1 by default)."""
    return request.client.host if request.client else "unknown"
