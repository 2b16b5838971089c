"""Staff accounts and sign-in sessions for the staff pages.

Passwords are kept only as salted scrypt hashes ("scrypt$n$r$p$salt$hash",
base64 parts). An unknown username, a disabled account and a wrong password
give one error after one scrypt each, so neither the answer nor its timing
tells a stranger which usernames exist. Nothing locks an account (anyone
could lock anyone out): handoff.sign_in_throttle slows repeated failures.
The staff table's failed_attempts and locked_until columns are no longer
written.

A session is a random cookie value; the database keeps only its SHA-256, so
a copy of the database does not let anyone sign in as a member of staff.
Each session has its own CSRF token for the hidden field of every form.

All functions are synchronous (the staff pages call them in a thread
executor) and take `now` from the caller, so the clock can be fixed in tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Iterable

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

ROLES = ("staff", "manager")
SESSION_HOURS = 8
MIN_PASSWORD_LENGTH = 8
# The contract's parameters: about 16 MiB and a few tens of milliseconds per hash.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_SALT_BYTES, _HASH_BYTES = 16, 32
# A stored hash is data; refuse parameters that would make one check eat the machine.
_MAX_N, _MAX_MEM = 2**20, 256 * 1024 * 1024
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._\-]{0,63}")


class AccountError(ValueError):
    """A staff account cannot be made as asked; the message says why."""


class SignInFailed(Exception):
    """Unknown username, wrong password or a disabled account: deliberately
    one error, so the sign-in page says the same thing for all three."""


@dataclass(frozen=True)
class Staff:
    id: int
    username: str
    display_name: str
    centre: str
    role: str

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"


def _tables() -> tuple[Table, Table]:
    # Looked up when used, not at import: the tables belong to handoff.db
    # and are created only by its migration.
    from handoff.db import metadata

    return metadata.tables["handoff_staff"], metadata.tables["handoff_sessions"]


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"times must carry a time zone, got {moment!r}")
    return moment.astimezone(timezone.utc)


def _read_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without their zone; they were stored as UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """A new salted scrypt hash of `password` in the stored format."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            dklen=_HASH_BYTES)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches `stored`; False for any malformed hash.
    The final comparison takes the same time wherever the bytes differ."""
    try:
        scheme, n_text, r_text, p_text, salt_text, hash_text = stored.split("$")
        n, r, p = int(n_text), int(r_text), int(p_text)
        salt, expected = base64.b64decode(salt_text, validate=True), base64.b64decode(hash_text, validate=True)
    except (ValueError, TypeError):
        return False
    if scheme != "scrypt" or not (1 < n <= _MAX_N and 0 < r <= 32 and 0 < p <= 16) or not expected:
        return False
    try:
        actual = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=len(expected),
                                maxmem=_MAX_MEM)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    """Checked against when the username is unknown, so that answer takes as
    long as a wrong password and timing does not reveal who has an account."""
    return hash_password(secrets.token_urlsafe(16))


def _digest(cookie_value: str) -> str:
    return hashlib.sha256(cookie_value.encode("utf-8")).hexdigest()


def _staff(row: Any) -> Staff:
    return Staff(id=row.id, username=row.username, display_name=row.display_name, centre=row.centre,
                 role=row.role)


def normalise_username(username: str) -> str:
    """Usernames are compared in lower case: tablets capitalise the first letter."""
    return username.strip().lower()


def add_staff(engine: Engine, username: str, display_name: str, centre: str, password: str,
              role: str = "staff", now: datetime | None = None) -> Staff:
    """Create an active account. Raises AccountError for a bad username, role,
    empty name or centre, a password shorter than MIN_PASSWORD_LENGTH, or a
    username already taken. The centre id is checked by the caller (the CLI
    checks it against the catalogue)."""
    staff, _ = _tables()
    name = normalise_username(username)
    if not _USERNAME.fullmatch(name):
        raise AccountError("username: use 1-64 letters, digits, dots, dashes or underscores")
    if role not in ROLES:
        raise AccountError(f"role: must be one of {', '.join(ROLES)}")
    if not display_name.strip():
        raise AccountError("display name: must not be empty")
    if not centre.strip():
        raise AccountError("centre: must not be empty")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password: must be at least {MIN_PASSWORD_LENGTH} characters")
    created = _utc(now) if now else datetime.now(timezone.utc)
    try:
        with engine.begin() as conn:
            staff_id = conn.execute(insert(staff).values(
                username=name, display_name=display_name.strip(), centre=centre.strip(), role=role,
                password_hash=hash_password(password), failed_attempts=0, locked_until=None, active=True,
                created_at=created,
            )).inserted_primary_key[0]
    except IntegrityError:
        raise AccountError(f"username: {name!r} is already taken") from None
    return Staff(id=staff_id, username=name, display_name=display_name.strip(), centre=centre.strip(), role=role)


# Account changes made from the command line, in the audit trail (actor "admin").
ACCOUNT_ACTIONS = ("password_reset", "staff_disabled", "staff_enabled")
ADMIN_ACTOR = "admin"


def _change_account(engine: Engine, username: str, values: dict[str, Any], action: str,
                    now: datetime | None) -> Staff:
    """Change one account, end all its sessions and write the audit row, in
    one transaction. AccountError for an unknown username."""
    from handoff.case_rows import write_audit

    staff, sessions = _tables()
    name = normalise_username(username)
    moment = _utc(now) if now else datetime.now(timezone.utc)
    with engine.begin() as conn:
        row = conn.execute(select(staff).where(staff.c.username == name)).first()
        if row is None:
            raise AccountError(f"username: no member of staff is called {name!r}")
        conn.execute(update(staff).where(staff.c.id == row.id).values(**values))
        conn.execute(delete(sessions).where(sessions.c.staff_id == row.id))
        write_audit(conn, None, moment, ADMIN_ACTOR, action, None, {"username": name})
    return _staff(row)


def set_password(engine: Engine, username: str, password: str, now: datetime | None = None) -> Staff:
    """A new password for a member of staff who forgot theirs, or whose
    password may have leaked. Every session of the account ends, so whoever
    held the old password is signed out at once."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password: must be at least {MIN_PASSWORD_LENGTH} characters")
    return _change_account(engine, username, {"password_hash": hash_password(password)}, "password_reset", now)


def set_active(engine: Engine, username: str, active: bool, now: datetime | None = None) -> Staff:
    """Disable an account (a leaver, a suspected misuse), ending its
    sessions at once, or enable it again. A disabled account's sign-in
    fails exactly as a wrong password does."""
    return _change_account(engine, username, {"active": active}, "staff_enabled" if active else "staff_disabled",
                           now)


def authenticate(engine: Engine, username: str, password: str) -> Staff:
    """The account for these credentials, or SignInFailed (unknown user, wrong
    password, disabled account), each after exactly one scrypt."""
    staff, _ = _tables()
    with engine.connect() as conn:
        row = conn.execute(select(staff).where(staff.c.username == normalise_username(username))).first()
    if row is None or not row.active:
        verify_password(password, _decoy_hash())
        raise SignInFailed()
    if not verify_password(password, row.password_hash):
        raise SignInFailed()
    return _staff(row)


def start_session(engine: Engine, staff_id: int, now: datetime) -> tuple[str, str]:
    """A new session for this member of staff: (cookie value, CSRF token).
    Expired sessions are swept out on the way."""
    _, sessions = _tables()
    moment = _utc(now)
    cookie_value, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(delete(sessions).where(sessions.c.expires_at <= moment))
        conn.execute(insert(sessions).values(
            token_hash=_digest(cookie_value), staff_id=staff_id, csrf_token=csrf, created_at=moment,
            expires_at=moment + timedelta(hours=SESSION_HOURS),
        ))
    return cookie_value, csrf


def session_for(engine: Engine, cookie_value: str, now: datetime) -> tuple[Staff, str] | None:
    """(staff, CSRF token) for a live session of an active account, else None."""
    if not cookie_value:
        return None
    staff, sessions = _tables()
    query = (select(staff, sessions.c.csrf_token, sessions.c.expires_at)
             .select_from(sessions.join(staff, sessions.c.staff_id == staff.c.id))
             .where(sessions.c.token_hash == _digest(cookie_value)))
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None or not row.active:
        return None
    expires = _read_utc(row.expires_at)
    if expires is None or expires <= _utc(now):
        return None
    return _staff(row), row.csrf_token


def end_session(engine: Engine, cookie_value: str) -> None:
    """Sign out: the cookie value stops working at once."""
    _, sessions = _tables()
    with engine.begin() as conn:
        conn.execute(delete(sessions).where(sessions.c.token_hash == _digest(cookie_value)))


def display_names(engine: Engine, usernames: Iterable[str]) -> dict[str, str]:
    """username -> display name for those that exist (case pages show names)."""
    wanted = sorted({name for name in usernames if name})
    if not wanted:
        return {}
    staff, _ = _tables()
    with engine.connect() as conn:
        rows = conn.execute(select(staff.c.username, staff.c.display_name).where(staff.c.username.in_(wanted)))
        return {row.username: row.display_name for row in rows}
