"""What every console endpoint shares: the error shape, request parsing, stated reasons."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from ..config import Settings
from ..http_input import BadInput, parse_json, read_body
from . import privacy
from .settings import error_text


def error(status: int, code: str, message: str | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message or error_text(code), "code": code, **extra}, status_code=status)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str | None = None) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


def body_limit(request: Request) -> int:
    """The gateway's ``BOT_MAX_BODY_BYTES`` (bot/config.py), the one limit every endpoint shares."""
    gateway = getattr(request.app.state, "gateway", None)
    return gateway.settings.max_body_bytes if gateway is not None else Settings.max_body_bytes


async def json_body(request: Request) -> dict[str, Any]:
    """A JSON object from the body through the gateway's bounded reader (bot/http_input.py): too large
    (413), not JSON, nested too deeply or with lone surrogates (400) — each with its reason, never a 500."""
    try:
        body = parse_json(await read_body(request, body_limit(request)))
    except BadInput as problem:
        raise ApiError(
            problem.status, "bad_request", f"{error_text('bad_request')}（{problem.reason}）"
        ) from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request")
    return body


def reason_of(body: dict[str, Any], *, required: bool = False) -> str | None:
    """The ``reason`` an officer stated for seeing clear text (privacy.py), or None when none was given."""
    try:
        reason = privacy.stated_reason(body.get("reason"))
    except ValueError:
        raise ApiError(400, "reason_required") from None
    if reason is None and required:
        raise ApiError(400, "reason_required")
    return reason


def int_param(request: Request, name: str, missing: str = "no_such_case") -> int:
    """A row id from the path: anything but a positive 64-bit integer names no row (404, never a 500 from
    the database's integer range)."""
    try:
        value = int(request.path_params[name])
    except (KeyError, ValueError):
        raise ApiError(404, missing) from None
    if not 0 < value < 2**63:
        raise ApiError(404, missing)
    return value
