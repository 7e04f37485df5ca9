"""The web chat's two token buckets (per session, per client address) kept in Redis, so the limits hold
per person across every gateway process (``BOT_REDIS_URL``); same rules as ``webchat_limits.WebChatLimits``.

One Lua script checks both buckets and takes from both or neither, atomically, on Redis's clock (the
processes' clocks never meet). A call is one loopback round trip (about 0.1 ms) and gives up after
0.25 s: if Redis is away, this process's own buckets decide until it is back (the limit then holds per
process, as it does without Redis), and that is logged once per outage.
"""

from __future__ import annotations

import logging
from typing import Protocol

import redis

from .config import Settings

log = logging.getLogger(__name__)
PREFIX = "rczd:webchat:"

# KEYS: session bucket, address bucket; ARGV: per-second rate and burst of each (rate 0: that limit is off).
# Returns "0" after taking one token from each bucket, or the seconds to wait (nothing taken).
ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local levels, wait = {}, 0
for i = 1, 2 do
  local rate, burst = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  if rate > 0 then
    local v = redis.call('HMGET', KEYS[i], 'tokens', 'at')
    local tokens = tonumber(v[1]) or burst
    local at = tonumber(v[2]) or now
    tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
    levels[i] = tokens
    if tokens < 1 then wait = math.max(wait, (1 - tokens) / rate) end
  end
end
if wait > 0 then return tostring(wait) end
for i = 1, 2 do
  if levels[i] ~= nil then
    local rate, burst = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
    redis.call('HSET', KEYS[i], 'tokens', tostring(levels[i] - 1), 'at', tostring(now))
    redis.call('PEXPIRE', KEYS[i], math.ceil(burst / rate * 1000) + 1000)
  end
end
return '0'
"""


class Limits(Protocol):
    def admit(self, session: str, address: str) -> float: ...


class RedisWebChatLimits:
    def __init__(self, settings: Settings, fallback: Limits, client: redis.Redis | None = None) -> None:
        assert settings.redis_url or client is not None
        self.client = client or redis.Redis.from_url(
            settings.redis_url, socket_timeout=0.25, socket_connect_timeout=0.25
        )
        self.fallback = fallback
        self.args = [
            settings.webchat_session_per_minute / 60.0,
            max(1, settings.webchat_session_burst),
            settings.webchat_ip_per_minute / 60.0,
            max(1, settings.webchat_ip_burst),
        ]
        self._script = self.client.register_script(ADMIT)
        self._redis_away = False

    def admit(self, session: str, address: str) -> float:
        """Take a token from both buckets and return 0, or return the seconds to wait (nothing taken)."""
        try:
            wait = float(self._script(keys=[f"{PREFIX}s:{session}", f"{PREFIX}a:{address}"], args=self.args))
        except (redis.RedisError, OSError) as error:
            if not self._redis_away:
                log.warning(
                    "web chat limits: redis unavailable (%s); per-process limits meanwhile",
                    type(error).__name__,
                )
                self._redis_away = True
            return self.fallback.admit(session, address)
        self._redis_away = False
        return wait
