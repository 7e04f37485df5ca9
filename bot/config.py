"""Gateway configuration, read once from environment variables (secrets never live in files)."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{REPO_ROOT / 'var' / 'gateway.db'}"


def _split_urls(value: str) -> tuple[str, ...]:
    return tuple(url.strip().rstrip("/") for url in value.split(",") if url.strip())


@dataclass(frozen=True)
class Settings:
    """Everything the gateway can be told; ``from_env`` documents the variable behind each field."""

    host: str = "127.0.0.1"
    port: int = 8080
    database_url: str = DEFAULT_DATABASE_URL
    # Redis shared by several gateway processes (console events across processes, web chat limits)
    redis_url: str | None = field(default=None, repr=False)
    rasa_urls: tuple[str, ...] = ("http://127.0.0.1:5005",)
    rasa_token: str | None = None
    rasa_timeout: float = 30.0
    rasa_connect_retries: int = 3
    public_base_url: str | None = None
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or CIDRs, comma
    # separated; uvicorn's forwarded_allow_ips): client addresses for throttling, TLS for cookies and HSTS
    trusted_proxies: str = "127.0.0.1"
    default_language: str = "zh"
    max_text_chars: int = 1000
    # every public endpoint refuses a larger body (413) before reading it whole or parsing it
    max_body_bytes: int = 64 * 1024
    # unanswered messages (bot/replay.py): try every N seconds (doubling while Rasa is down), hand to staff
    # after give-up seconds; the lease is how long one process may take over a turn (0: 2 x Rasa's
    # timeout + 30 s)
    replay_interval: float = 5.0
    replay_give_up_seconds: float = 600.0
    replay_lease_seconds: float = 0.0
    # transcripts older than this many days are deleted (0: kept); with the tracker store's URL, idle
    # conversations in Rasa's tracker too
    retention_days: float = 0.0
    rasa_tracker_urls: tuple[str, ...] = ()
    # Web chat rate limit (token buckets, per gateway process): a person types a few messages a minute;
    # an office behind one NAT address holds several officers. 0 per minute switches a limit off.
    webchat_session_per_minute: float = 12.0
    webchat_session_burst: int = 5
    webchat_ip_per_minute: float = 60.0
    webchat_ip_burst: int = 30
    # Staff console (bot/console): a session ends after this many idle minutes (absolute limit: 12 h)
    console_session_minutes: float = 30.0
    # WeChat official account
    wechat_app_id: str | None = None
    wechat_app_secret: str | None = None
    wechat_token: str | None = None
    wechat_aes_key: str | None = None
    wechat_api_base_url: str = "https://api.weixin.qq.com/cgi-bin/"
    wechat_passive_deadline: float = 4.0
    wechat_token_store: str = "db"
    wechat_max_bytes: int = 2000
    # safe (AES) mode refuses plain requests unless this is set (while switching modes in the admin page)
    wechat_allow_plain_in_safe_mode: bool = False
    # a request's timestamp may be this many seconds off; its nonce is refused if reused within the window
    wechat_timestamp_window: float = 300.0
    # Telegram
    telegram_token: str | None = field(default=None, repr=False)
    telegram_webhook_secret: str | None = field(default=None, repr=False)
    telegram_mode: str = "webhook"
    telegram_api_base_url: str = "https://api.telegram.org/bot"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        rasa_urls = _split_urls(get("RASA_URLS") or get("RASA_URL") or "http://127.0.0.1:5005")
        return cls(
            host=get("BOT_HOST") or "127.0.0.1",
            port=int(get("BOT_PORT") or 8080),
            database_url=get("BOT_DATABASE_URL") or DEFAULT_DATABASE_URL,
            redis_url=get("BOT_REDIS_URL"),
            rasa_urls=rasa_urls,
            rasa_token=get("RASA_TOKEN"),
            rasa_timeout=float(get("RASA_TIMEOUT") or 30.0),
            rasa_connect_retries=int(get("RASA_CONNECT_RETRIES") or 3),
            public_base_url=(get("PUBLIC_BASE_URL") or "").rstrip("/") or None,
            trusted_proxies=get("TRUSTED_PROXIES") or get("FORWARDED_ALLOW_IPS") or "127.0.0.1",
            default_language=get("BOT_LANGUAGE") or "zh",
            max_text_chars=int(get("BOT_MAX_TEXT_CHARS") or 1000),
            max_body_bytes=int(get("BOT_MAX_BODY_BYTES") or 64 * 1024),
            replay_interval=float(get("BOT_REPLAY_INTERVAL") or 5.0),
            replay_give_up_seconds=float(get("BOT_REPLAY_GIVE_UP_SECONDS") or 600.0),
            replay_lease_seconds=float(get("BOT_REPLAY_LEASE_SECONDS") or 0.0),
            retention_days=float(get("BOT_RETENTION_DAYS") or 0.0),
            rasa_tracker_urls=tuple(
                u.strip() for u in (get("BOT_RASA_TRACKER_URLS") or "").split(",") if u.strip()
            ),
            webchat_session_per_minute=float(get("WEBCHAT_SESSION_PER_MINUTE") or 12.0),
            webchat_session_burst=int(get("WEBCHAT_SESSION_BURST") or 5),
            webchat_ip_per_minute=float(get("WEBCHAT_IP_PER_MINUTE") or 60.0),
            webchat_ip_burst=int(get("WEBCHAT_IP_BURST") or 30),
            console_session_minutes=float(get("CONSOLE_SESSION_MINUTES") or 30.0),
            wechat_app_id=get("WECHAT_APP_ID"),
            wechat_app_secret=get("WECHAT_APP_SECRET"),
            wechat_token=get("WECHAT_TOKEN"),
            wechat_aes_key=get("WECHAT_ENCODING_AES_KEY"),
            wechat_api_base_url=get("WECHAT_API_BASE_URL") or "https://api.weixin.qq.com/cgi-bin/",
            wechat_passive_deadline=float(get("WECHAT_PASSIVE_DEADLINE") or 4.0),
            wechat_token_store=get("WECHAT_TOKEN_STORE") or "db",
            wechat_allow_plain_in_safe_mode=(get("WECHAT_ALLOW_PLAIN_IN_SAFE_MODE") or "").lower()
            in ("1", "true", "yes"),
            wechat_timestamp_window=float(get("WECHAT_TIMESTAMP_WINDOW") or 300.0),
            telegram_token=get("TELEGRAM_BOT_TOKEN"),
            telegram_webhook_secret=get("TELEGRAM_WEBHOOK_SECRET"),
            telegram_mode=(get("TELEGRAM_MODE") or "webhook").lower(),
            telegram_api_base_url=get("TELEGRAM_API_BASE_URL") or "https://api.telegram.org/bot",
        )

    @property
    def lease_seconds(self) -> float:
        """How long one gateway process may take over a turn before the replay may answer it instead."""
        return self.replay_lease_seconds or 2 * self.rasa_timeout + 30

    @property
    def wechat_enabled(self) -> bool:
        return bool(self.wechat_token)

    @property
    def wechat_customer_service_enabled(self) -> bool:
        return bool(self.wechat_app_id and self.wechat_app_secret)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_token)

    @property
    def telegram_secret(self) -> str:
        """The webhook secret; derived from the bot token when not set, so every gateway process agrees."""
        if self.telegram_webhook_secret:
            return self.telegram_webhook_secret
        token = (self.telegram_token or "").encode()
        return hmac.new(token, b"telegram-webhook-secret", hashlib.sha256).hexdigest()[:48]

    def disabled_channel_notes(self) -> list[str]:
        """One line per channel that cannot run with the credentials given."""
        notes = []
        if not self.wechat_enabled:
            notes.append(
                "wechat: disabled (set WECHAT_TOKEN, and WECHAT_ENCODING_AES_KEY/WECHAT_APP_ID for safe mode)"
            )
        elif not self.wechat_customer_service_enabled:
            notes.append(
                "wechat: customer-service messages disabled (set WECHAT_APP_ID and WECHAT_APP_SECRET); "
                "slow answers wait for the person's next message"
            )
        if not self.telegram_enabled:
            notes.append("telegram: disabled (set TELEGRAM_BOT_TOKEN)")
        elif self.telegram_mode == "webhook" and not self.public_base_url:
            notes.append("telegram: webhook not registered (set PUBLIC_BASE_URL, or TELEGRAM_MODE=polling)")
        return notes
