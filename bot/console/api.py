"""The console's HTTP API (docs/console-api.md) and its page, as Starlette routes.

Every route but ``/login`` needs a session cookie; every state-changing request also needs the session's
CSRF token in ``X-CSRF-Token``. Errors are ``{"error": <one Chinese sentence>, "code": <machine code>}``.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..models import split_conversation_id
from . import card, privacy, render, routing, summary
from .api_card import CardApi
from .api_common import ApiError, error, int_param, json_body, reason_of
from .api_conversations import ConversationsApi
from .api_office import OfficeApi
from .api_review import ReviewApi
from .audit import AuditLog
from .auth import Accounts, Session
from .cases import CaseDesk, CaseError
from .http_security import PAGE_HEADERS, came_over_tls, client_address, login_request_problem
from .settings import config, error_text

log = logging.getLogger(__name__)

WEB = Path(__file__).with_name("web")
PAGE = WEB / "console.html"
# the page's ES modules and style sheets by name, and the review page (issue 13, item 7); nothing else in
# web/ (the console page itself is served at /console only)
ASSET_NAME = re.compile(r"[a-z][a-z0-9_-]*\.(js|css)|review\.html")
ASSET_TYPES = {
    "js": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "html": "text/html; charset=utf-8",
}
COOKIE = "console_session"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = {"POST", "PUT", "DELETE", "PATCH"}
VIEWS = ("queue", "mine", "all", "closed")
FILTERS = ("district", "topic", "channel", "language", "sort")
FIRST_MESSAGES = 40  # a list item's "asked" comes from the conversation's first messages
SUMMARY_MESSAGES = 2000  # the card's summary reads the conversation up to this many messages

Handler = Callable[[Request, Session], Awaitable[Response]]


class ConsoleApi:
    def __init__(self, gateway: Any, desk: CaseDesk, accounts: Accounts, audit: AuditLog) -> None:
        self.gateway = gateway
        self.store = gateway.store
        self.desk = desk
        self.accounts = accounts
        self.audit = audit
        self.public_base_url = gateway.settings.public_base_url

    def routes(self) -> list[Route]:
        e = self.endpoint
        return [
            Route("/console", self.page, methods=["GET"]),
            Route("/console/", self.page, methods=["GET"]),
            Route("/console/{asset:str}", self.asset, methods=["GET"]),
            Route("/console/api/login", self.login, methods=["POST"]),
            Route("/console/api/logout", e(self.logout), methods=["POST"]),
            Route("/console/api/me", e(self.me), methods=["GET"]),
            Route("/console/api/cases", e(self.list_cases), methods=["GET"]),
            Route("/console/api/cases/{id}", e(self.case), methods=["GET"]),
            Route("/console/api/cases/{id}/claim", e(self.claim), methods=["POST"]),
            Route("/console/api/cases/{id}/reply", e(self.reply), methods=["POST"]),
            Route("/console/api/cases/{id}/notes", e(self.note), methods=["POST"]),
            Route("/console/api/cases/{id}/transfer", e(self.transfer), methods=["POST"]),
            Route("/console/api/cases/{id}/close", e(self.close), methods=["POST"]),
            Route("/console/api/cases/{id}/reveal", e(self.reveal), methods=["POST"]),
            Route("/console/api/cases/{id}/export", e(self.export, admin=True), methods=["GET"]),
            Route("/console/api/outcomes", e(self.outcomes), methods=["GET"]),
            *ConversationsApi(self).routes(e),
            *OfficeApi(self).routes(e),
            *ReviewApi(self).routes(e),
            *CardApi(self).routes(e),
            Route("/console/api/audit", e(self.audit_entries, admin=True), methods=["GET"]),
        ]

    # -- plumbing ----------------------------------------------------------------------------------------
    async def session_of(self, request: Request) -> Session:
        session, problem = await self.store.call(self.accounts.session, request.cookies.get(COOKIE))
        if session is None:
            raise ApiError(401, problem or "not_logged_in")
        return session

    def endpoint(self, handler: Handler, *, admin: bool = False) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            try:
                session = await self.session_of(request)
                if request.method in UNSAFE_METHODS:
                    sent = request.headers.get(CSRF_HEADER, "")
                    if not sent or not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
                        raise ApiError(403, "csrf")
                if admin and not session.staff.is_admin:
                    raise ApiError(403, "forbidden")
                return await handler(request, session)
            except ApiError as problem:
                return error(problem.status, problem.code, problem.message)
            except CaseError as problem:
                return error(problem.status, problem.code, problem.message, **(problem.extra or {}))

        run.__name__ = handler.__name__
        return run

    async def names(self) -> dict[str, str]:
        return await self.store.call(self.accounts.display_names)

    async def summary(self, case: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
        activity = await self.store.call(
            self.desk.cases.activity, case["conversation_id"], case.get("seen_message_id") or 0
        )
        first = await self.store.call(self.store.messages, case["conversation_id"], limit=FIRST_MESSAGES)
        return {
            **render.case_summary(case, activity, names),
            "asked": [render.preview(t) for t in summary.asked(first)],
        }

    async def detail(self, case: dict[str, Any], names: dict[str, str] | None = None) -> dict[str, Any]:
        """The case card: the case, the summary written from the conversation, the assistant's profile (a
        takeover's read from the tracker) with the officer's corrections, and the result."""
        names = names or await self.names()
        case = await card.ensure_assistant_view(self.desk, case)
        rows = await self.store.call(self.store.messages, case["conversation_id"], limit=SUMMARY_MESSAGES)
        parts = summary.build(case, rows)
        activity = await self.store.call(
            self.desk.cases.activity, case["conversation_id"], case.get("seen_message_id") or 0
        )
        raw_quota = None
        if case["channel"] == "wechat":
            raw_quota = await self.store.call(
                self.store.quota, split_conversation_id(case["conversation_id"])[1]
            )
        shown = render.case_detail(case, activity, names, raw_quota=raw_quota)
        return {**shown, **card.card(case), "summary": parts["line"], "summary_parts": parts}

    # -- page --------------------------------------------------------------------------------------------
    async def page(self, request: Request) -> Response:
        if not PAGE.exists():
            return PlainTextResponse(error_text("console_not_built"), status_code=503)
        return Response(
            PAGE.read_text(encoding="utf-8"), media_type="text/html; charset=utf-8", headers=PAGE_HEADERS
        )

    async def asset(self, request: Request) -> Response:
        """The page's script and style sheet (files of their own: the page's policy forbids inline script)."""
        name = request.path_params["asset"]
        matched = ASSET_NAME.fullmatch(name)
        if matched is None or not (WEB / name).is_file():
            return PlainTextResponse("not found", status_code=404)
        kind = name.rsplit(".", 1)[1]
        headers = PAGE_HEADERS if kind == "html" else None  # a page: its strict policy
        return Response((WEB / name).read_bytes(), media_type=ASSET_TYPES[kind], headers=headers)

    # -- auth --------------------------------------------------------------------------------------------
    async def login(self, request: Request) -> Response:
        problem = login_request_problem(request, self.public_base_url)
        if problem is not None:
            return error(*problem)
        try:
            body = await json_body(request)
        except ApiError as problem:
            return error(problem.status, problem.code, problem.message)
        login, password = body.get("login"), body.get("password")
        if not isinstance(login, str) or not isinstance(password, str) or not login.strip():
            return error(400, "bad_request")
        address = client_address(request)
        result = await self.store.call(self.accounts.login, login, password, address)
        attempted = login.strip().lower()[:60]
        refused = {"minutes": result.minutes, "address": address}
        if result.failed_now:
            await self.audit.arecord(
                attempted,
                "login_failed",
                address=address,
                **({"locked_minutes": result.minutes} if result.locked else {}),
            )
        elif result.throttled:
            await self.audit.arecord(attempted, "login_throttled", **refused)
        elif result.locked:
            await self.audit.arecord(attempted, "login_refused_locked", **refused)
        if result.throttled:
            return error(429, "throttled", error_text("throttled", minutes=result.minutes))
        if result.locked:
            return error(423, "locked", error_text("locked", minutes=result.minutes))
        if result.session is None:
            return error(401, "bad_credentials")
        await self.audit.arecord(result.session.staff.login, "login", address=address)
        response = JSONResponse({**result.session.staff.as_dict(), "csrf_token": result.session.csrf_token})
        response.set_cookie(
            COOKIE,
            result.token,
            httponly=True,
            samesite="strict",
            secure=came_over_tls(request) or (self.public_base_url or "").startswith("https://"),
            path="/console",
        )
        return response

    async def logout(self, request: Request, session: Session) -> Response:
        await self.store.call(self.accounts.end, request.cookies.get(COOKIE, ""))
        await self.audit.arecord(session.staff.login, "logout")
        response = Response(status_code=204)
        response.delete_cookie(COOKIE, path="/console")
        return response

    async def me(self, request: Request, session: Session) -> Response:
        login = session.staff.login
        mine = (await self.store.call(routing.officer_districts, self.store.engine, login)).get(login, [])
        return JSONResponse(
            {
                **session.staff.as_dict(),
                "csrf_token": session.csrf_token,
                "districts": mine,
                "all_districts": list(routing.districts()),
                "max_open_cases": routing.limit_per_officer(),
            }
        )

    # -- cases -------------------------------------------------------------------------------------------
    async def list_cases(self, request: Request, session: Session) -> Response:
        view = request.query_params.get("view", "queue")
        if view not in VIEWS:
            raise ApiError(400, "bad_request")
        try:
            filters = routing.check_filters({k: request.query_params.get(k, "") for k in FILTERS})
        except ValueError:
            raise ApiError(400, "bad_filter") from None
        login = session.staff.login
        mine = (await self.store.call(routing.officer_districts, self.store.engine, login)).get(login, [])
        rows = await self.store.call(self.desk.cases.list, view, login, filters, mine)
        names = await self.names()
        return JSONResponse({"cases": [await self.summary(row, names) for row in rows]})

    async def case(self, request: Request, session: Session) -> Response:
        case = await self.desk.get(int_param(request, "id"))
        names = await self.names()
        history = await self.store.call(self.audit.entries, case_id=case["id"])
        unmasked = privacy.sees_clear(case, session.staff.login, session.staff.is_admin, history)
        rows = await self.store.call(self.store.messages, case["conversation_id"])
        if rows and case["assignee"] == session.staff.login and case["status"] == "assigned":
            await self.store.call(self.desk.cases.mark_seen, case["id"], rows[-1]["id"])
            case = await self.desk.get(case["id"])
        notes = await self.store.call(self.desk.cases.notes, case["id"])
        return JSONResponse(
            {
                "case": {**await self.detail(case, names), "unmasked": unmasked},
                "messages": [render.message(r, names, unmasked=unmasked) for r in rows],
                "notes": [render.note(n, names) for n in notes],
                "history": [render.audit_entry(h) for h in history],
            }
        )

    async def sees_clear(self, case: dict[str, Any], session: Session) -> bool:
        history = await self.store.call(self.audit.entries, case_id=case["id"])
        return privacy.sees_clear(case, session.staff.login, session.staff.is_admin, history)

    async def reveal(self, request: Request, session: Session) -> Response:
        """State a reason to see this case's transcript in clear (audited; this viewer, this case)."""
        case = await self.desk.get(int_param(request, "id"))
        reason = reason_of(await json_body(request), required=True)
        if not privacy.may_reveal(case, session.staff.login, session.staff.is_admin):
            raise ApiError(409, "not_yours")
        await self.audit.arecord(session.staff.login, "reveal", case["id"], reason=reason)
        return await self.case(request, session)

    async def claim(self, request: Request, session: Session) -> Response:
        case = await self.desk.claim(int_param(request, "id"), session.staff)
        return JSONResponse({"case": await self.detail(case)})

    async def reply(self, request: Request, session: Session) -> Response:
        body = await json_body(request)
        deliveries, explanation = await self.desk.reply(
            int_param(request, "id"), session.staff, body.get("text")
        )
        answer: dict[str, Any] = {
            "deliveries": [{"message_id": d.message_id, "status": d.status} for d in deliveries]
        }
        if explanation:
            answer["explanation"] = explanation
        return JSONResponse(answer)

    async def note(self, request: Request, session: Session) -> Response:
        body = await json_body(request)
        note = await self.desk.add_note(int_param(request, "id"), session.staff, body.get("text"))
        return JSONResponse({"note": render.note(note, await self.names())}, status_code=201)

    async def transfer(self, request: Request, session: Session) -> Response:
        body = await json_body(request)
        case = await self.desk.transfer(
            int_param(request, "id"),
            session.staff,
            body.get("to"),
            body.get("to_district"),
            body.get("reason"),
        )
        return JSONResponse({"case": await self.detail(case)})

    async def close(self, request: Request, session: Session) -> Response:
        body = await json_body(request)
        case = await self.desk.close_case(int_param(request, "id"), session.staff, body.get("outcome"))
        return JSONResponse({"case": await self.detail(case)})

    async def export(self, request: Request, session: Session) -> Response:
        case = await self.desk.get(int_param(request, "id"))
        rows = await self.store.call(self.store.messages, case["conversation_id"], limit=100_000)
        await self.audit.arecord(session.staff.login, "export", case["id"], messages=len(rows))
        return PlainTextResponse(
            render.transcript_text(case, rows, await self.names()),
            headers={"Content-Disposition": f'attachment; filename="case-{case["id"]}.txt"'},
        )

    async def outcomes(self, request: Request, session: Session) -> Response:
        return JSONResponse(
            {
                "outcomes": [
                    dict(tag=o["tag"], label=o["label"])
                    for o in config()["outcomes"]
                    if not o.get("not_chosen")
                ]
            }
        )

    # -- admin -------------------------------------------------------------------------------------------
    async def audit_entries(self, request: Request, session: Session) -> Response:
        """Newest first, a page at a time (``before`` = the last id seen), filtered by actor or action."""
        params = request.query_params
        try:
            limit = int(params.get("limit", 200))
            before = int(params["before"]) if params.get("before") else None
        except ValueError:
            raise ApiError(400, "bad_request") from None
        actor, action = params.get("actor") or None, params.get("action") or None
        if not 0 < limit <= 500 or (before is not None and not 0 < before < 2**63):
            raise ApiError(400, "bad_request")
        if (actor and len(actor) > 80) or (action and len(action) > 40):
            raise ApiError(400, "bad_request")
        rows = await self.store.call(
            self.audit.entries, limit=limit, before=before, actor=actor, action=action
        )
        more = len(rows) == limit
        return JSONResponse(
            {
                "entries": [render.audit_entry(r) for r in rows],
                "next_before": rows[-1]["id"] if more else None,
            }
        )
