"""Staff accounts, password hashing, sessions and lockout, all in the gateway database.

Passwords: scrypt (hashlib, no extra package) with a random salt, parameters stored with the hash so they
can be raised later. Sessions: a random cookie value; the database keeps only its SHA-256, a CSRF token,
and when it was last used (idle expiry) and created (absolute expiry). Lockout: after N failed passwords
for a login within M minutes (since its last successful log-in), the login is refused until M minutes
after the first of those failures. Failed attempts for unknown logins are counted the same way, so the
answer never tells whether a login exists.
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

from ..store import Store, login_failures, staff_accounts, staff_sessions, utcnow

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
    """``token`` and ``session`` on success; else ``locked_minutes`` (locked) or neither (bad password)."""

    token: str | None = None
    session: Session | None = None
    locked_minutes: int | None = None
    failed_now: bool = False  # this attempt was a wrong password (it may also have started the lock)


class Accounts:
    """Synchronous database work; async callers go through ``Store.call``."""

    def __init__(
        self,
        store: Store,
        *,
        idle_minutes: float,
        absolute_hours: float,
        lockout_failures: int,
        lockout_minutes: float,
    ) -> None:
        self.store = store
        self.engine = store.engine
        self.idle = dt.timedelta(minutes=idle_minutes)
        self.absolute = dt.timedelta(hours=absolute_hours)
        self.lockout_failures = lockout_failures
        self.lockout = dt.timedelta(minutes=lockout_minutes)

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
    def login(self, login: str, password: str) -> LoginResult:
        login = (login or "").strip().lower()[:60]
        now = utcnow()
        with self.engine.connect() as conn:
            account = conn.execute(select(staff_accounts).where(staff_accounts.c.login == login)).first()
        locked_until = self._locked_until(login, account.last_login_at if account else None, now)
        if locked_until is not None:
            return LoginResult(locked_minutes=max(1, -(-int((locked_until - now).total_seconds()) // 60)))
        good = verify_password(password or "", account.password_hash if account else _DUMMY_HASH)
        if not (good and account and account.active):
            with self.engine.begin() as conn:
                conn.execute(insert(login_failures).values(login=login, at=now))
            locked_until = self._locked_until(login, account.last_login_at if account else None, now)
            if locked_until is not None:
                minutes = max(1, -(-int((locked_until - now).total_seconds()) // 60))
                return LoginResult(locked_minutes=minutes, failed_now=True)
            return LoginResult(failed_now=True)
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

    def _locked_until(
        self, login: str, last_login_at: dt.datetime | None, now: dt.datetime
    ) -> dt.datetime | None:
        since = now - self.lockout
        if last_login_at is not None and last_login_at > since:
            since = last_login_at
        with self.engine.connect() as conn:
            recent = list(
                conn.execute(
                    select(login_failures.c.at)
                    .where(login_failures.c.login == login, login_failures.c.at > since)
                    .order_by(login_failures.c.at)
                ).scalars()
            )
        if len(recent) < self.lockout_failures:
            return None
        return recent[-self.lockout_failures] + self.lockout

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
