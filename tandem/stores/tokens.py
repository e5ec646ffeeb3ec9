"""A store's API tokens: named, shown once when issued, revoked at once; rotated by the CLI."""

from datetime import datetime

from sqlalchemy import select, update

from tandem.auth.secrets import digest
from tandem.db import UnitOfWork
from tandem.errors import InvalidInput, NotFound
from tandem.stores.models import ApiToken
from tandem.stores.service import get_store, issue_token

DEFAULT_NAME = "default"  # the token `tandem store create` prints


def list_tokens(uow: UnitOfWork, *, store_id: int) -> list[ApiToken]:
    """Every token of the store, the active ones first, newest first."""
    return list(
        uow.session.scalars(
            select(ApiToken)
            .where(ApiToken.store_id == store_id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
        )
    )


def create_token(uow: UnitOfWork, *, store_id: int, name: str, now: datetime) -> tuple[ApiToken, str]:
    """A new named token; the token itself is returned here and never again."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("name", "give the token a name of 1 to 100 characters")
    token = issue_token(uow.session, store_id=store_id, name=name, now=now)
    created = uow.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token)))
    uow.commit()
    return created, token


def revoke_token(uow: UnitOfWork, *, store_id: int, token_id: int, now: datetime) -> ApiToken:
    """The token stops working (at once in this process, within a second in the others)."""
    token = uow.session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.store_id == store_id))
    if token is None:
        raise NotFound("API token not found")
    if token.revoked_at is None:
        token.revoked_at = now
    uow.commit()
    return token


def rotate_token(uow: UnitOfWork, *, store_id: int, name: str = DEFAULT_NAME, now: datetime) -> str:
    """Revoke the store's active tokens called `name` and issue one in their place."""
    get_store(uow, store_id=store_id)
    uow.session.execute(
        update(ApiToken)
        .where(ApiToken.store_id == store_id, ApiToken.name == name, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    token = issue_token(uow.session, store_id=store_id, name=name, now=now)
    uow.commit()
    return token
