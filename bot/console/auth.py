"""Staff accounts, password hashing, sessions and lockout, all in the gateway database.

Passwords: scrypt (hashlib, no extra package) with a random salt, parameters stored with the hash so they
can be raised later. Sessions: a random cookie value; the database keeps only its SHA-256, a CSRF token,
and when it was last used (idle expiry) and created (absolute expiry).

Wrong passwords are limited per *address* before per *login*, so a stranger cannot lock an officer out:
an address with too many failures (any logins) is throttled; a login is locked only for the address its
failures came from; and a login-wide lock, reached only by failures from many addresses, never applies
to an address the login recently logged in from. Unknown logins are counted the same way, so the answer
never tells whether a login exists. Counters: ``throttle.py`` (atomic).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..store import Store, staff_accounts, staff_sessions, utcnow
from . import throttle

ROLES = ("officer", "admin")
LOGIN_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,59}$")
MIN_PASSWORD_CHARS = 10
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


# -- passwords ---------------------------------------------------------------------------------------
def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    encode = lambda b: base64.b64encode(b).decode("ascii")  # noqa: E731
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encode(salt)}${encode(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# a hash to verify against when the login does not exist, so both cases take the same time
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def _session_key(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


class AccountError(ValueError):
    """A staff account cannot be created or changed as asked (the message says why)."""


@dataclass(frozen=True)
class Staff:
    login: str
    display_name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def author(self) -> str:
        return f"staff:{self.login}"

    def as_dict(self) -> dict[str, str]:
        return {"login": self.login, "display_name": self.display_name, "role": self.role}


@dataclass(frozen=True)
class Session:
    staff: Staff
    csrf_token: str
    key: str = ""  # the stored session id (SHA-256 of the cookie value)


@dataclass(frozen=True)
class LoginResult:
    """``token`` and ``session`` on success; else refused (``throttled``: this address, ``locked``: this
    login from this address, for ``minutes``) and/or a wrong password (``failed_now``)."""

    token: str | None = None
    session: Session | None = None
    throttled: bool = False
    locked: bool = False
    minutes: int | None = None
    failed_now: bool = False  # this attempt was a wrong password (it may also have started the lock)


@dataclass(frozen=True)
class LoginLimits:
    """console.yml ``lockout``: failures allowed within ``window`` per scope."""

    window: dt.timedelta
    per_address: int  # any logins, from one address: the address is throttled
    per_login_and_address: int  # one login from one address: that pair is locked
    per_login_from_new_addresses: int  # one login from addresses it never logged in from
    known_address_for: dt.timedelta  # a successful log-in makes its address "known" this long

    @classmethod
    def from_config(cls, section: dict[str, Any]) -> LoginLimits:
        return cls(
            window=dt.timedelta(minutes=float(section["minutes"])),
            per_address=int(section["per_address"]),
            per_login_and_address=int(section["per_login_and_address"]),
            per_login_from_new_addresses=int(section["per_login_from_new_addresses"]),
            known_address_for=dt.timedelta(days=float(section["known_address_days"])),
        )


def _minutes_until(until: dt.datetime, now: dt.datetime) -> int:
    return max(1, -(-int((until - now).total_seconds()) // 60))


class Accounts:
    """Synchronous database work; async callers go through ``Store.call``."""

    def __init__(
        self,
        store: Store,
        *,
        idle_minutes: float,
        absolute_hours: float,
        limits: LoginLimits,
    ) -> None:
        self.store = store
        self.engine = store.engine
        self.idle = dt.timedelta(minutes=idle_minutes)
        self.absolute = dt.timedelta(hours=absolute_hours)
        self.limits = limits

    # -- accounts ------------------------------------------------------------------------------------
    def add(self, login: str, password: str, *, role: str, display_name: str) -> Staff:
        login = login.strip().lower()
        if not LOGIN_RE.match(login):
            raise AccountError("login: 2–60 lower-case letters, digits, '.', '_' or '-'")
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD_CHARS:
            raise AccountError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
        display_name = display_name.strip() or login
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(staff_accounts).values(
                        login=login,
                        display_name=display_name[:80],
                        role=role,
                        password_hash=hash_password(password),
                        active=True,
                        created_at=utcnow(),
                    )
                )
        except IntegrityError:
            raise AccountError(f"an account {login!r} already exists") from None
        return Staff(login, display_name, role)

    def disable(self, login: str) -> bool:
        """Disable an account (kept, never deleted) and end its sessions."""
        now = utcnow()
        with self.engine.begin() as conn:
            result = conn.execute(
                update(staff_accounts)
                .where(staff_accounts.c.login == login, staff_accounts.c.active.is_(True))
                .values(active=False, disabled_at=now)
            )
            conn.execute(
                update(staff_sessions)
                .where(staff_sessions.c.login == login, staff_sessions.c.ended_at.is_(None))
                .values(ended_at=now)
            )
            return result.rowcount == 1

    def list(self, *, active_only: bool = False) -> list[dict[str, Any]]:
        query = select(
            staff_accounts.c.login,
            staff_accounts.c.display_name,
            staff_accounts.c.role,
            staff_accounts.c.active,
            staff_accounts.c.created_at,
            staff_accounts.c.last_login_at,
        ).order_by(staff_accounts.c.login)
        if active_only:
            query = query.where(staff_accounts.c.active.is_(True))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(staff_accounts)).scalar() or 0

    def get(self, login: str) -> Staff | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(staff_accounts).where(
                    staff_accounts.c.login == login, staff_accounts.c.active.is_(True)
                )
            ).first()
        return Staff(row.login, row.display_name, row.role) if row else None

    def display_names(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(staff_accounts.c.login, staff_accounts.c.display_name))
            return {r.login: r.display_name for r in rows}

    # -- log-in ---------------------------------------------------------------------------------------
    def login(self, login: str, password: str, address: str = "unknown") -> LoginResult:
        """Check a password, throttled per address before per login (see the module docstring).

        Every slot is taken *before* the password is checked, so concurrent guesses can never exceed a
        limit; a slot is given back when the attempt was not a failure (or was refused further on).
        """
        login = (login or "").strip().lower()[:60]
        now, limits = utcnow(), self.limits
        taken: list[tuple[str, str]] = []

        def refuse(result: throttle.Taken, **kind: Any) -> LoginResult:
            for scope, key in taken:
                throttle.give_back(self.engine, scope, key)
            return LoginResult(minutes=_minutes_until(result.until, now), **kind)

        by_address = throttle.take(
            self.engine, "address", address, limit=limits.per_address, window=limits.window, now=now
        )
        if not by_address.ok:
            return refuse(by_address, throttled=True)
        taken.append(("address", address))
        pair = f"{login}|{address}"
        by_pair = throttle.take(
            self.engine, "pair", pair, limit=limits.per_login_and_address, window=limits.window, now=now
        )
        if not by_pair.ok:
            return refuse(by_pair, locked=True)
        taken.append(("pair", pair))
        known = throttle.marked_since(self.engine, "known", pair, now - limits.known_address_for)
        if not known:  # the legitimate officer's usual address is never locked by failures elsewhere
            by_login = throttle.take(
                self.engine,
                "login",
                login,
                limit=limits.per_login_from_new_addresses,
                window=limits.window,
                now=now,
            )
            if not by_login.ok:
                return refuse(by_login, locked=True)
            taken.append(("login", login))
        with self.engine.connect() as conn:
            account = conn.execute(select(staff_accounts).where(staff_accounts.c.login == login)).first()
        good = verify_password(password or "", account.password_hash if account else _DUMMY_HASH)
        if not (good and account and account.active):
            if by_pair.count >= limits.per_login_and_address:  # this failure used the last attempt
                return LoginResult(failed_now=True, locked=True, minutes=_minutes_until(by_pair.until, now))
            return LoginResult(failed_now=True)
        for scope, key in taken:
            throttle.give_back(self.engine, scope, key)
        throttle.clear(self.engine, "pair", pair)
        throttle.mark(self.engine, "known", pair, now)
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        with self.engine.begin() as conn:
            conn.execute(
                insert(staff_sessions).values(
                    id=_session_key(token), login=login, csrf_token=csrf, created_at=now, last_seen_at=now
                )
            )
            conn.execute(
                update(staff_accounts).where(staff_accounts.c.login == login).values(last_login_at=now)
            )
        staff = Staff(account.login, account.display_name, account.role)
        return LoginResult(token=token, session=Session(staff, csrf, _session_key(token)))

    # -- sessions ---------------------------------------------------------------------------------------
    def session(self, token: str | None) -> tuple[Session | None, str | None]:
        """(session, None) when valid, else (None, "not_logged_in" | "session_expired"). Touches it."""
        if not token:
            return None, "not_logged_in"
        key, now = _session_key(token), utcnow()
        with self.engine.connect() as conn:
            row = conn.execute(
                select(
                    staff_sessions,
                    staff_accounts.c.display_name,
                    staff_accounts.c.role,
                    staff_accounts.c.active,
                )
                .join(staff_accounts, staff_accounts.c.login == staff_sessions.c.login)
                .where(staff_sessions.c.id == key)
            ).first()
        if row is None:
            return None, "not_logged_in"
        if (
            row.ended_at is not None
            or not row.active
            or now - row.last_seen_at > self.idle
            or now - row.created_at > self.absolute
        ):
            if row.ended_at is None:
                self.end(token, at=now)
            return None, "session_expired"
        if (now - row.last_seen_at).total_seconds() > 5:  # spare a write on every request
            with self.engine.begin() as conn:
                conn.execute(
                    update(staff_sessions).where(staff_sessions.c.id == key).values(last_seen_at=now)
                )
        return Session(Staff(row.login, row.display_name, row.role), row.csrf_token, key), None

    def session_still_valid(self, session: Session) -> bool:
        """For long-lived streams: the session has not ended, expired, or lost its account since."""
        now = utcnow()
        with self.engine.connect() as conn:
            row = conn.execute(
                select(staff_sessions, staff_accounts.c.active)
                .join(staff_accounts, staff_accounts.c.login == staff_sessions.c.login)
                .where(staff_sessions.c.id == session.key)
            ).first()
        return bool(
            row is not None
            and row.ended_at is None
            and row.active
            and now - row.last_seen_at <= self.idle
            and now - row.created_at <= self.absolute
        )

    def end(self, token: str, *, at: dt.datetime | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(staff_sessions)
                .where(staff_sessions.c.id == _session_key(token), staff_sessions.c.ended_at.is_(None))
                .values(ended_at=at or utcnow())
            )
