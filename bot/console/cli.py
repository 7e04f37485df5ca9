"""``python -m bot staff add|list|disable``: staff accounts, from a terminal on the gateway machine.

The password is read with getpass (never echoed, never an argument that lands in the shell history), or
from ``STAFF_PASSWORD`` for scripted set-ups.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from ..config import Settings
from ..store import Store
from . import routing
from .auth import MIN_PASSWORD_CHARS, ROLES, AccountError, Accounts


def _accounts(settings: Settings) -> Accounts:
    from . import accounts_for

    store = Store(settings.database_url)
    store.migrate()

    class _Gateway:  # accounts_for needs only the store and the settings
        pass

    gateway = _Gateway()
    gateway.store, gateway.settings = store, settings
    return accounts_for(gateway)


def _password() -> str:
    from_env = os.environ.get("STAFF_PASSWORD")
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise AccountError("no terminal to read the password from: set STAFF_PASSWORD")
    first = getpass.getpass(f"password (at least {MIN_PASSWORD_CHARS} characters): ")
    if getpass.getpass("again: ") != first:
        raise AccountError("the two passwords differ")
    return first


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m bot staff", description="staff console accounts")
    commands = root.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="create an account (password from the terminal or STAFF_PASSWORD)")
    add.add_argument("login")
    add.add_argument("--role", choices=ROLES, default="officer")
    add.add_argument("--name", default="", help="display name shown to colleagues, e.g. 王芳")
    commands.add_parser("list", help="list accounts")
    disable = commands.add_parser(
        "disable", help="disable an account (kept, never deleted) and end its sessions"
    )
    disable.add_argument("login")
    districts = commands.add_parser(
        "districts", help="set the districts an officer serves (none: only the shared queue first)"
    )
    districts.add_argument("login")
    districts.add_argument("district", nargs="*", help="e.g. 松江 长宁; give none to clear")
    return root


def main(argv: list[str], settings: Settings | None = None) -> int:
    args = parser().parse_args(argv)
    settings = settings or Settings.from_env()
    accounts = _accounts(settings)
    try:
        if args.command == "add":
            staff = accounts.add(args.login, _password(), role=args.role, display_name=args.name)
            print(f"created {staff.role} {staff.login} ({staff.display_name})")
        elif args.command == "list":
            rows = accounts.list()
            served = routing.officer_districts(accounts.engine)
            if not rows:
                print("no staff accounts")
            for row in rows:
                state = "active" if row["active"] else "disabled"
                last = row["last_login_at"].strftime("%Y-%m-%d %H:%M") if row["last_login_at"] else "never"
                print(
                    f"{row['login']:<20} {row['role']:<8} {state:<9} last login {last} UTC  {row['display_name']}"
                    f"  {'、'.join(served.get(row['login'], [])) or '—'}"
                )
        elif args.command == "disable":
            if not accounts.disable(args.login.strip().lower()):
                print(f"no active account {args.login!r}", file=sys.stderr)
                return 1
            print(f"disabled {args.login}")
        elif args.command == "districts":
            login = args.login.strip().lower()
            saved = routing.set_officer_districts(accounts.engine, login, args.district)
            print(f"{login}: {'、'.join(saved) or 'shared queue only'}")
    except (AccountError, ValueError) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    finally:
        accounts.store.dispose()
    return 0
