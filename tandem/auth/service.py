"""Who is calling: API tokens for programs, sessions for staff in the admin UI."""

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from tandem.auth.models import StaffSession, StaffUser
from tandem.auth.secrets import digest, hash_password, new_session_token, verify_password
from tandem.db import UnitOfWork
from tandem.errors import Unauthorized
from tandem.stores.models import ApiToken
from tandem.timeline.domain import Actor, ActorKind

SESSION_LIFETIME = timedelta(days=7)
_DUMMY_HASH = hash_password("not a real password")
# A revoked or rotated token stops working within TOKEN_RECHECK_SECONDS in every process: past
# that age, one request looks the token up again while the others keep the entry a little longer
# (TOKEN_STALE_SECONDS), so a busy token costs one indexed read per second per process.
TOKEN_RECHECK_SECONDS = 1.0
TOKEN_STALE_SECONDS = 10.0
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class Caller:
    """The store an API call acts as, and who to name on the timeline."""

    store_id: int
    actor: Actor


@dataclass
class _Seen:
    caller: Caller
    checked: float
    rechecking: bool = False


class TokenCache:
    """Valid tokens seen recently, so the checkout path does not look each one up."""

    def __init__(self, recheck: float = TOKEN_RECHECK_SECONDS, stale: float = TOKEN_STALE_SECONDS):
        self.recheck, self.stale = recheck, stale
        self._entries: dict[str, _Seen] = {}
        self._lock = threading.Lock()

    def get(self, token_hash: str) -> Caller | None:
        """The caller of a token checked recently; None: look it up (and `put` or `forget` it)."""
        now = time.monotonic()
        with self._lock:
            seen = self._entries.get(token_hash)
            if seen is None:
                return None
            age = now - seen.checked
            if age < self.recheck or (seen.rechecking and age < self.stale):
                return seen.caller
            seen.rechecking = True  # this request looks it up; the others wait no longer than `stale`
            return None

    def put(self, token_hash: str, caller: Caller) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[token_hash] = _Seen(caller, time.monotonic())

    def forget(self, token_hash: str) -> None:
        with self._lock:
            self._entries.pop(token_hash, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@dataclass(frozen=True)
class TokenCheck:
    caller: Caller
    last_used_at: datetime | None


def authenticate_token(uow: UnitOfWork, cache: TokenCache, token: str | None) -> TokenCheck:
    """Look a token up (callers ask `cache` first) and remember the answer in `cache`."""
    if not token:
        raise Unauthorized("missing API token: send Authorization: Bearer <token>")
    hashed = digest(token)
    row = uow.session.execute(
        select(ApiToken.id, ApiToken.store_id, ApiToken.name, ApiToken.last_used_at).where(
            ApiToken.token_hash == hashed, ApiToken.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        cache.forget(hashed)
        raise Unauthorized("invalid API token")
    caller = Caller(row.store_id, Actor(ActorKind.API, f"API token {row.name}", row.id))
    cache.put(hashed, caller)
    return TokenCheck(caller, row.last_used_at)


def token_use_unrecorded(check: TokenCheck, now: datetime) -> bool:
    """Whether the token's last use, kept to the minute, is out of date."""
    return check.last_used_at is None or now - check.last_used_at >= LAST_USED_PRECISION


def record_token_use(uow: UnitOfWork, *, token_id: int, now: datetime) -> None:
    """Keep when a token was last used (once a minute at most, whatever the processes)."""
    uow.session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            ApiToken.last_used_at.is_(None) | (ApiToken.last_used_at <= now - LAST_USED_PRECISION),
        )
        .values(last_used_at=now)
    )
    uow.commit()


@dataclass(frozen=True)
class StaffLogin:
    user: StaffUser
    session_token: str
    csrf_token: str


def log_in(uow: UnitOfWork, *, email: str, password: str, now: datetime) -> StaffLogin:
    user = uow.session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    # Verify against a dummy hash for unknown emails too, so timing does not reveal accounts.
    if not verify_password(user.password_hash if user else _DUMMY_HASH, password) or user is None:
        raise Unauthorized("wrong email or password")
    token, csrf = new_session_token(), new_session_token()
    uow.session.add(
        StaffSession(
            user_id=user.id,
            token_hash=digest(token),
            csrf_token=csrf,
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    user.last_login_at = now
    uow.commit()
    return StaffLogin(user, token, csrf)


@dataclass(frozen=True)
class StaffContext:
    user_id: int
    store_id: int
    name: str
    email: str
    locale: str | None
    csrf_token: str

    @property
    def actor(self) -> Actor:
        return Actor(ActorKind.STAFF, self.name, self.user_id)


def staff_for_session(uow: UnitOfWork, *, session_token: str | None, now: datetime) -> StaffContext:
    if not session_token:
        raise Unauthorized("please log in")
    row = uow.session.execute(
        select(StaffSession, StaffUser)
        .join(StaffUser, StaffUser.id == StaffSession.user_id)
        .where(StaffSession.token_hash == digest(session_token), StaffSession.expires_at > now)
    ).first()
    if row is None:
        raise Unauthorized("your session has ended; please log in again")
    session, user = row
    return StaffContext(user.id, user.store_id, user.name, user.email, user.locale, session.csrf_token)


def log_out(uow: UnitOfWork, *, session_token: str) -> None:
    uow.session.execute(delete(StaffSession).where(StaffSession.token_hash == digest(session_token)))
    uow.commit()


def set_staff_locale(uow: UnitOfWork, *, user_id: int, locale: str) -> None:
    uow.session.execute(update(StaffUser).where(StaffUser.id == user_id).values(locale=locale))
    uow.commit()
