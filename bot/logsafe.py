"""Keep secrets out of every log line, whoever logs them.

httpx logs each request URL at INFO, and Telegram's Bot API URLs contain the bot token. A log-record
factory (rather than a handler filter) catches records from every logger, including library loggers
whose records never pass our handlers' filters, and whatever handlers are configured later.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

_secrets: set[str] = set()
_installed = False


def _redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, "***")
    return text


def install_redaction(secrets: Iterable[str | None]) -> None:
    """Register secrets to be masked in every log record from now on (idempotent)."""
    global _installed
    _secrets.update(s for s in secrets if s and len(s) >= 6)
    if _installed or not _secrets:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's problem, not ours
            return record
        redacted = _redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
