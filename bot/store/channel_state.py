"""Channel state the gateway processes share through the database: WeChat customer-service quotas, the
WeChat access token cache, and the WeChat request nonces seen within the timestamp window."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from .base import StoreBase, row_dict
from .schema import kv_cache, utcnow, wechat_nonces, wechat_quota


class ChannelStateStore(StoreBase):
    # -- WeChat customer-service quota ------------------------------------------------------------
    def open_quota(self, openid: str, count: int, ttl_seconds: float) -> None:
        """A person's message (or click) opens a fresh window of ``count`` customer-service messages."""
        now = time.time()
        with self.engine.begin() as conn:
            updated = conn.execute(
                update(wechat_quota)
                .where(wechat_quota.c.openid == openid)
                .values(remaining=count, expires_at=now + ttl_seconds, updated_at=utcnow())
            )
            if updated.rowcount:
                return
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(wechat_quota).values(
                        openid=openid, remaining=count, expires_at=now + ttl_seconds, updated_at=utcnow()
                    )
                )
        except IntegrityError:
            self.open_quota(openid, count, ttl_seconds)

    def take_quota(self, openid: str) -> bool:
        """Use one customer-service message if the window is open (atomic across processes)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(wechat_quota)
                .where(
                    wechat_quota.c.openid == openid,
                    wechat_quota.c.remaining > 0,
                    wechat_quota.c.expires_at > time.time(),
                )
                .values(remaining=wechat_quota.c.remaining - 1, updated_at=utcnow())
            )
            return result.rowcount == 1

    def give_back_quota(self, openid: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(wechat_quota)
                .where(wechat_quota.c.openid == openid)
                .values(remaining=wechat_quota.c.remaining + 1)
            )

    def exhaust_quota(self, openid: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(wechat_quota).where(wechat_quota.c.openid == openid).values(remaining=0))

    def quota(self, openid: str) -> dict[str, Any]:
        """Remaining customer-service messages and the window's end, for the staff console."""
        with self.engine.connect() as conn:
            row = row_dict(conn.execute(select(wechat_quota).where(wechat_quota.c.openid == openid)).first())
        if not row or row["expires_at"] <= time.time():
            return {"remaining": 0, "expires_at": None}
        return {"remaining": row["remaining"], "expires_at": row["expires_at"]}

    # -- small shared cache (WeChat access token) --------------------------------------------------
    def cache_get(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(kv_cache.c.value, kv_cache.c.expires_at).where(kv_cache.c.key == key)
            ).first()
        if row is None or (row.expires_at is not None and row.expires_at <= time.time()):
            return None
        return row.value

    def cache_set(self, key: str, value: str, ttl_seconds: float | None = None) -> None:
        expires_at = time.time() + ttl_seconds if ttl_seconds else None
        with self.engine.begin() as conn:
            updated = conn.execute(
                update(kv_cache).where(kv_cache.c.key == key).values(value=value, expires_at=expires_at)
            )
            if updated.rowcount:
                return
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(kv_cache).values(key=key, value=value, expires_at=expires_at))
        except IntegrityError:
            self.cache_set(key, value, ttl_seconds)

    def cache_delete(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(kv_cache.delete().where(kv_cache.c.key == key))

    # -- WeChat request nonces (replay refusal, shared by processes) --------------------------------
    def remember_nonce(self, timestamp: str, nonce: str, body: bytes, ttl_seconds: float) -> bool:
        """False when this timestamp + nonce already came with a different body (a captured signature
        reused); True for a new nonce or WeChat's retry of the same request."""
        key = hashlib.sha256(f"{timestamp}:{nonce}".encode()).hexdigest()
        digest = hashlib.sha256(body).hexdigest()
        now = time.time()
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(wechat_nonces).where(wechat_nonces.c.expires_at < now))
                conn.execute(
                    insert(wechat_nonces).values(key=key, body_sha256=digest, expires_at=now + ttl_seconds)
                )
            return True
        except IntegrityError:
            with self.engine.connect() as conn:
                seen = conn.execute(
                    select(wechat_nonces.c.body_sha256).where(wechat_nonces.c.key == key)
                ).scalar()
            return seen == digest
