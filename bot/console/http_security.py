"""What every console response carries, and what a log-in request must look like (issue 10, items 14, 16).

Client address and scheme: uvicorn rewrites them from X-Forwarded-For / X-Forwarded-Proto only when the
connection comes from a trusted proxy (``TRUSTED_PROXIES``, passed to uvicorn as ``forwarded_allow_ips``
by ``python -m bot``), so ``request.client`` and ``request.url.scheme`` are already the truth here; a
header sent by anyone else changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

HSTS = "max-age=31536000"
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_POLICY,
    "X-Frame-Options": "DENY",
}


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def came_over_tls(request: Request) -> bool:
    return request.url.scheme == "https"


def security_headers(request: Request) -> dict[str, str]:
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
    if came_over_tls(request):
        headers["Strict-Transport-Security"] = HSTS
    return headers


def secured(
    endpoint: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """Add ``security_headers`` to whatever the endpoint answers (streams included: before they start)."""

    @wraps(endpoint)
    async def run(request: Request) -> Response:
        response = await endpoint(request)
        for name, value in security_headers(request).items():
            response.headers.setdefault(name, value)
        return response

    return run


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def login_request_problem(request: Request, public_base_url: str | None) -> tuple[int, str] | None:
    """(status, code) when a log-in request could have been forged by another site, else None.

    A form or ``fetch`` from another origin can send ``text/plain`` without a preflight; JSON cannot
    (the browser asks first, and nothing here answers yes). A browser also names the page's origin:
    it must be this console's (as the request reached us, or ``PUBLIC_BASE_URL``).
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return 415, "json_required"
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return 403, "cross_origin"
    origin = request.headers.get("origin")
    if origin is None:
        return None  # not a browser's cross-origin request (curl, the CLI, a same-origin GET-less tool)
    allowed = {_origin(str(request.base_url))}
    if public_base_url:
        allowed.add(_origin(public_base_url))
    return None if origin.lower() in allowed else (403, "cross_origin")
