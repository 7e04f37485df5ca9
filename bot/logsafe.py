"""Keep secrets and personal numbers out of every log line, whoever logs them.

httpx logs each request URL at INFO, and Telegram's Bot API URLs contain the bot token. A log-record
factory (rather than a handler filter) catches records from every logger, including library loggers
whose records never pass our handlers' filters, and whatever handlers are configured later.
ID-card and mobile numbers a person typed are masked the same way (``mask_personal_numbers``), and the
staff console uses the same function for its lists and previews. A record carrying an exception has its
traceback formatted here, masked, and folded into the message: a formatter would otherwise print the
exception's text (a failed INSERT quotes the person's message) after every filter has run.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

_traceback_formatter = logging.Formatter()

_secrets: set[str] = set()
_installed = False

# 18-character resident ID (17 digits + digit or X) and mainland mobile numbers, not inside longer digit
# runs (WeChat message ids, millisecond timestamps)
ID_CARD = re.compile(r"(?<![0-9A-Za-z])(\d{3})\d{11}(\d{3}[\dXx])(?![0-9A-Za-z])")
MOBILE = re.compile(r"(?:(?<=86)|(?<!\d))(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_personal_numbers(text: str) -> str:
    """310101199001011234 -> 310***********1234, 13812345678 -> 138****5678."""
    text = ID_CARD.sub(lambda m: m.group(1) + "*" * 11 + m.group(2), text)
    return MOBILE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


def _redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, "***")
    return mask_personal_numbers(text)


def install_redaction(secrets: Iterable[str | None] = ()) -> None:
    """Mask registered secrets and personal numbers in every log record from now on (idempotent)."""
    global _installed
    _secrets.update(s for s in secrets if s and len(s) >= 6)
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's problem, not ours
            return record
        if record.exc_info and record.exc_info[0] is not None:
            message = f"{message}\n{_traceback_formatter.formatException(record.exc_info)}"
            record.exc_info, record.exc_text = None, None
        if record.stack_info:
            message, record.stack_info = f"{message}\n{record.stack_info}", None
        redacted = _redact(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
