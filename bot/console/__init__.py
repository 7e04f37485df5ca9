"""Staff handoff (issue 5): cases, staff accounts, the console's HTTP API and page, live events, audit.

``routes(gateway)`` is called by ``bot.app`` when this package exists: it installs the case manager as
the router's handoff hook and returns the console's routes. See bot/console/README.md.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute, Route

from .after_answer import AfterAnswer
from .api import ConsoleApi
from .audit import AuditLog
from .auth import Accounts, LoginLimits
from .cases import CaseDesk
from .http_security import secured
from .settings import config
from .sse import EventStream

NO_ACCOUNT_HINT = (
    "staff console: no staff account yet; create one with "
    "`python -m bot staff add <login> --role admin --name 显示名`"
)


def accounts_for(gateway: Any) -> Accounts:
    settings = config()
    return Accounts(
        gateway.store,
        idle_minutes=gateway.settings.console_session_minutes,
        absolute_hours=float(settings["sessions"]["absolute_hours"]),
        limits=LoginLimits.from_config(settings["lockout"]),
    )


def routes(gateway: Any) -> list[BaseRoute]:
    accounts = accounts_for(gateway)
    audit = AuditLog(gateway.store)
    desk = CaseDesk(gateway.router, accounts, audit)
    gateway.router.handoff = desk
    gateway.router.after_answer = AfterAnswer(gateway.store, gateway.router.rasa)  # ratings, review queue
    gateway.cases = desk
    api = ConsoleApi(gateway, desk, accounts, audit)
    stream = EventStream(api)

    async def announce_missing_account() -> None:
        if await gateway.store.call(accounts.count) == 0:
            print(NO_ACCOUNT_HINT, flush=True)

    gateway.on_start.append(announce_missing_account)
    routes = [*api.routes(), Route("/console/api/events", stream.endpoint, methods=["GET"])]
    # every console response carries the security headers (nosniff, no-store, HSTS over TLS)
    return [Route(r.path, secured(r.endpoint), methods=r.methods) for r in routes]
