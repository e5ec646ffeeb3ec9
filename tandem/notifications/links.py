"""Signed customer links (update the card, confirm a payment, pay an invoice).

The token is signed with TANDEM_SECRET_KEY (itsdangerous), names a SignedLink row
and carries a random nonce whose hash the row keeps; the row says when it expires
and whether it was used. Using a link marks it used in the transaction of the
action it authorises, so it works exactly once.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from tandem.errors import Conflict, NotFound
from tandem.notifications.models import SignedLink

PURPOSES = ("update_card", "confirm_payment", "pay_invoice")
DEFAULT_LIFETIME = timedelta(days=7)


@dataclass(frozen=True)
class IssuedLink:
    url: str
    token: str
    expires_at: datetime


def issue(
    session: Session,
    *,
    secret_key: str,
    base_url: str,
    store_id: int,
    purpose: str,
    subject_type: str,
    subject_id: int,
    now: datetime,
    lifetime: timedelta = DEFAULT_LIFETIME,
) -> IssuedLink:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}")
    nonce = secrets.token_urlsafe(24)
    link = SignedLink(
        store_id=store_id,
        purpose=purpose,
        subject_type=subject_type,
        subject_id=subject_id,
        nonce_hash=_hash(nonce),
        expires_at=now + lifetime,
        created_at=now,
    )
    session.add(link)
    session.flush()
    token = _serializer(secret_key).dumps({"l": link.id, "n": nonce})
    return IssuedLink(f"{base_url.rstrip('/')}/p/{purpose}/{token}", token, link.expires_at)


def open_link(
    session: Session, *, secret_key: str, token: str, purpose: str, now: datetime, consume: bool
) -> SignedLink:
    """The link behind a token, checked; `consume` marks it used (once, even under races)."""
    link = _find(session, secret_key, token, purpose)
    if link.used_at is not None:
        raise Conflict("this link was already used", code="link_used")
    if link.expires_at <= now:
        raise Conflict("this link has expired", code="link_expired")
    if consume:
        claimed = session.execute(
            update(SignedLink)
            .where(SignedLink.id == link.id, SignedLink.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            raise Conflict("this link was already used", code="link_used")
        set_committed_value(link, "used_at", now)
    return link


def find_link(session: Session, *, secret_key: str, token: str, purpose: str) -> SignedLink:
    """The link behind a token, used or expired alike (404 if it is not a valid link)."""
    return _find(session, secret_key, token, purpose)


def _find(session: Session, secret_key: str, token: str, purpose: str) -> SignedLink:
    try:
        data = _serializer(secret_key).loads(token)
        link_id, nonce = int(data["l"]), str(data["n"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise NotFound("this link is not valid") from None
    link = session.scalar(select(SignedLink).where(SignedLink.id == link_id))
    if link is None or link.purpose != purpose or not secrets.compare_digest(link.nonce_hash, _hash(nonce)):
        raise NotFound("this link is not valid")
    return link


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="tandem-customer-links")


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()
