"""Bounded input for every public endpoint: the body is refused past a size limit before it is read whole
or parsed, JSON is refused when too deep or not valid Unicode, and each channel has one error handler
that answers without a traceback and logs through the masking filter (bot/logsafe.py)."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

MAX_JSON_DEPTH = 20
Endpoint = Callable[[Request], Awaitable[Response]]


class BadInput(Exception):
    """The client's fault: answered with ``status`` and ``reason``, never a traceback."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused (413) as soon as it is known to exceed ``limit`` bytes: by its declared
    length before reading, else while streaming it, so a 40 MB body is never held in memory."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise BadInput(400, "invalid Content-Length")
        if int(declared) > limit:
            raise BadInput(413, f"body too large (at most {limit} bytes)")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadInput(413, f"body too large (at most {limit} bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


def _depth(value: Any, limit: int) -> int:
    stack, deepest = [(value, 1)], 0
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def parse_json(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """JSON from a request body: UTF-8, at most ``max_depth`` levels, no lone surrogates anywhere."""
    try:
        text = body.decode("utf-8")
        value = json.loads(text)
    except (UnicodeDecodeError, ValueError):
        raise BadInput(400, "body must be JSON (UTF-8)") from None
    except RecursionError:
        raise BadInput(400, f"JSON nested too deeply (at most {max_depth} levels)") from None
    if _depth(value, max_depth) > max_depth:
        raise BadInput(400, f"JSON nested too deeply (at most {max_depth} levels)")
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput(400, "text contains invalid Unicode (a lone surrogate)") from None
    return value


def bounded_int(value: Any, name: str, low: int = 0, high: int = 2**53) -> int:
    """An integer in [low, high] (JSON numbers only: no bool, no float, nothing past 2**53)."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadInput(400, f"{name} must be a whole number between {low} and {high}")
    return value


def guarded(
    channel: str, logger: logging.Logger, *, json_errors: bool = True
) -> Callable[[Endpoint], Endpoint]:
    """The one error handler of a channel's endpoints: ``BadInput`` becomes its 4xx with the reason; any
    other exception is logged (traceback masked by bot/logsafe.py) and answered 500 without details."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def wrapper(*args: Any) -> Response:
            try:
                return await endpoint(*args)
            except BadInput as error:
                if json_errors:
                    return JSONResponse({"error": error.reason}, status_code=error.status)
                return PlainTextResponse(error.reason, status_code=error.status)
            except Exception:
                logger.exception("%s: unhandled error", channel)
                if json_errors:
                    return JSONResponse({"error": "internal error"}, status_code=500)
                return PlainTextResponse("internal error", status_code=500)

        return wrapper

    return decorate
