"""Officers, their districts, and canned replies: the console's office-management endpoints."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import ratings, render, report_chart, reports, routing
from .api_common import ApiError, int_param, json_body
from .auth import Session
from .settings import config, error_text
from .workcalendar import work_calendar


class OfficeApi:
    def __init__(self, api: Any) -> None:
        self.api = api
        self.store = api.store
        self.desk = api.desk
        self.accounts = api.accounts
        self.audit = api.audit

    def routes(self, e: Callable[..., Any]) -> list[Route]:
        return [
            Route("/console/api/officers", e(self.officers), methods=["GET"]),
            Route(
                "/console/api/officers/{login}/districts", e(self.set_districts, admin=True), methods=["PUT"]
            ),
            Route("/console/api/reports", e(self.report, admin=True), methods=["GET"]),
            Route("/console/api/reports/cases.csv", e(self.report_csv, admin=True), methods=["GET"]),
            Route("/console/api/reports/ratings.csv", e(self.report_csv, admin=True), methods=["GET"]),
            Route("/console/api/reports/chart.svg", e(self.report_chart, admin=True), methods=["GET"]),
            Route("/console/api/reports/tables/{table}.csv", e(self.report_csv, admin=True), methods=["GET"]),
            Route("/console/api/followups", e(self.follow_ups), methods=["GET"]),
            Route("/console/api/followups/{id}/callback", e(self.callback), methods=["POST"]),
            Route("/console/api/canned", e(self.canned_list), methods=["GET"]),
            Route("/console/api/canned", e(self.canned_add, admin=True), methods=["POST"]),
            Route("/console/api/canned/{id}", e(self.canned_update, admin=True), methods=["PUT"]),
            Route("/console/api/canned/{id}", e(self.canned_retire, admin=True), methods=["DELETE"]),
        ]

    # -- 差评回访 follow-ups (ratings.py): listed apart from the queue until the callback is recorded --------
    async def follow_ups(self, request: Request, session: Session) -> Response:
        rows = await self.store.call(ratings.follow_ups, self.store)
        levels = {level["score"]: level["zh"] for level in config()["ratings"]["levels"]}
        return JSONResponse(
            {
                "follow_ups": [
                    {
                        "id": row["id"],
                        "conversation_id": row["conversation_id"],
                        "channel": row["channel"],
                        "language": row["language"],
                        "district": row["district"],
                        "topic": row["topic"],
                        "rated_case": row["rated_case"],
                        "officer": row["officer"],
                        "score": row["score"],
                        "level": levels.get(row["score"]),
                        "comment": row["comment"],
                        "opened_at": render.iso(row["opened_at"]),
                        "due_at": render.iso(row["due_at"]),
                    }
                    for row in rows
                ]
            }
        )

    async def callback(self, request: Request, session: Session) -> Response:
        case_id = int_param(request, "id")
        outcome = (await json_body(request)).get("outcome")
        if not isinstance(outcome, str) or not outcome.strip() or len(outcome) > 2000:
            raise ApiError(400, "callback_outcome_required")
        done = await self.store.call(
            ratings.record_callback, self.store, case_id, session.staff.author, outcome.strip()
        )
        if not done:
            raise ApiError(404, "no_such_follow_up")
        await self.audit.arecord(session.staff.login, "callback", case_id)
        return JSONResponse({"id": case_id, "status": "closed", "outcome": ratings.CALLBACK_RECORDED})

    # -- reports (admin) ---------------------------------------------------------------------------------
    def _range(self, request: Request) -> tuple[dt.date, dt.date]:
        today = work_calendar().local(dt.datetime.now(dt.timezone.utc)).date()
        try:
            return reports.date_range(request.query_params.get("from"), request.query_params.get("to"), today)
        except ValueError:
            raise ApiError(400, "bad_range", error_text("bad_range", days=reports.MAX_DAYS)) from None

    async def report(self, request: Request, session: Session) -> Response:
        start, end = self._range(request)
        language = self.api.gateway.settings.default_language
        found = await self.store.call(
            reports.report, self.store.engine, start, end, default_language=language
        )
        return JSONResponse(found)

    async def report_chart(self, request: Request, session: Session) -> Response:
        start, end = self._range(request)
        found = await self.store.call(reports.report, self.store.engine, start, end)
        return Response(report_chart.daily_chart(found), media_type="image/svg+xml; charset=utf-8")

    async def report_csv(self, request: Request, session: Session) -> Response:
        """One row per case, one per rating (``ratings.csv``), or one table of the report."""
        start, end = self._range(request)
        table = request.path_params.get("table")
        if table is not None and table not in reports.TABLES:
            raise ApiError(404, "no_such_table", f"没有这个报表：{table[:40]}")
        if table is not None:
            found = await self.store.call(reports.report, self.store.engine, start, end)
            text, what = reports.table_csv(found, table), table
        elif request.url.path.endswith("/ratings.csv"):
            text, what = await self.store.call(reports.ratings_csv, self.store.engine, start, end), "ratings"
        else:
            text, what = await self.store.call(reports.cases_csv, self.store.engine, start, end), "cases"
        await self.audit.arecord(
            session.staff.login, "report_export", start=start.isoformat(), end=end.isoformat(), what=what
        )
        name = f"{what}-{start.isoformat()}-{end.isoformat()}.csv"
        return Response(
            text.encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    # -- officers ----------------------------------------------------------------------------------------
    async def officers(self, request: Request, session: Session) -> Response:
        rows = await self.store.call(self.accounts.list, active_only=True)
        districts = await self.store.call(routing.officer_districts, self.store.engine)
        officers = []
        for r in rows:
            in_hand = await self.store.call(routing.in_hand, self.store.engine, r["login"])
            officers.append(
                {
                    "login": r["login"],
                    "display_name": r["display_name"],
                    "role": r["role"],
                    "districts": districts.get(r["login"], []),
                    "open_cases": in_hand,
                }
            )
        return JSONResponse({"officers": officers, "max_open_cases": routing.limit_per_officer()})

    async def set_districts(self, request: Request, session: Session) -> Response:
        login = request.path_params["login"]
        chosen = (await json_body(request)).get("districts")
        if not isinstance(chosen, list) or not all(isinstance(d, str) for d in chosen):
            raise ApiError(400, "bad_district")
        try:
            saved = await self.store.call(routing.set_officer_districts, self.store.engine, login, chosen)
        except ValueError as problem:
            if str(problem).startswith("no account"):
                raise ApiError(404, "no_such_officer") from None
            raise ApiError(400, "bad_district") from None
        await self.audit.arecord(session.staff.login, "districts", officer=login, districts=saved)
        return JSONResponse({"login": login, "districts": saved})

    # -- canned replies ----------------------------------------------------------------------------------
    @staticmethod
    def canned_fields(body: dict[str, Any]) -> tuple[str, str, str]:
        title, text, language = body.get("title"), body.get("text"), body.get("language") or "zh"
        if not isinstance(title, str) or not title.strip() or not isinstance(text, str) or not text.strip():
            raise ApiError(400, "empty")
        limit = int(config()["replies"]["max_chars"])
        if len(title.strip()) > 80 or len(text.strip()) > limit:
            raise ApiError(400, "too_long", error_text("too_long", limit=limit))
        if language not in ("zh", "en"):
            raise ApiError(400, "bad_language")
        return title.strip(), text.strip(), language

    async def canned_list(self, request: Request, session: Session) -> Response:
        rows = await self.store.call(self.desk.cases.canned)
        return JSONResponse({"canned": [render.canned(r) for r in rows]})

    async def canned_add(self, request: Request, session: Session) -> Response:
        title, text, language = self.canned_fields(await json_body(request))
        row = await self.store.call(self.desk.cases.add_canned, title, text, language, session.staff.login)
        await self.audit.arecord(session.staff.login, "canned_add", canned_id=row["id"], title=title)
        return JSONResponse({"canned": render.canned(row)}, status_code=201)

    async def canned_update(self, request: Request, session: Session) -> Response:
        canned_id = int_param(request, "id", "no_such_canned")
        title, text, language = self.canned_fields(await json_body(request))
        row = await self.store.call(
            self.desk.cases.update_canned, canned_id, title, text, language, session.staff.login
        )
        if row is None:
            raise ApiError(404, "no_such_canned")
        await self.audit.arecord(session.staff.login, "canned_edit", canned_id=canned_id, title=title)
        return JSONResponse({"canned": render.canned(row)})

    async def canned_retire(self, request: Request, session: Session) -> Response:
        canned_id = int_param(request, "id", "no_such_canned")
        if not await self.store.call(self.desk.cases.retire_canned, canned_id, session.staff.login):
            raise ApiError(404, "no_such_canned")
        await self.audit.arecord(session.staff.login, "canned_retire", canned_id=canned_id)
        return Response(status_code=204)
