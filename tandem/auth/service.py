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
TOKEN_CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class Caller:
    """The store an API call acts as, and who to name on the timeline."""

    store_id: int
    actor: Actor


class TokenCache:
    """Valid tokens seen recently, so the checkout path does not look each one up."""

    def __init__(self, ttl: float = TOKEN_CACHE_SECONDS):
        self.ttl = ttl
        self._entries: dict[str, tuple[float, Caller]] = {}
        self._lock = threading.Lock()

    def get(self, token_hash: str) -> Caller | None:
        with self._lock:
            entry = self._entries.get(token_hash)
        if entry and entry[0] > time.monotonic():
            return entry[1]
        return None

    def put(self, token_hash: str, caller: Caller) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[token_hash] = (time.monotonic() + self.ttl, caller)


def authenticate_token(uow: UnitOfWork, cache: TokenCache, token: str | None) -> Caller:
    if not token:
        raise Unauthorized("missing API token: send Authorization: Bearer <token>")
    hashed = digest(token)
    if caller := cache.get(hashed):
        return caller
    row = uow.session.execute(
        select(ApiToken.id, ApiToken.store_id, ApiToken.name).where(
            ApiToken.token_hash == hashed, ApiToken.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        raise Unauthorized("invalid API token")
    caller = Caller(row.store_id, Actor(ActorKind.API, f"API token {row.name}", row.id))
    cache.put(hashed, caller)
    return caller


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
