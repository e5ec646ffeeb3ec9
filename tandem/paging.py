"""Cursor pagination shared by the lists: newest first (highest id first), an opaque cursor.

Ids only grow, so a row created while a client walks the pages sorts before its cursor:
the walk neither repeats nor skips a row that existed when it began.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

from tandem.errors import InvalidInput

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    limit: int | None = 50  # None: every row (the admin UI's short lists)
    cursor: str | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


EVERYTHING = PageRequest(limit=None)


def newest_first(session: Session, stmt: Select, id_column, page: PageRequest) -> Page:
    """One page of `stmt`'s entities, highest id first, and the cursor of the next page."""
    if page.cursor:
        stmt = stmt.where(id_column < decode_cursor(page.cursor))
    stmt = stmt.order_by(id_column.desc())
    if page.limit is None:
        return Page(list(session.scalars(stmt)), None)
    rows = list(session.scalars(stmt.limit(page.limit + 1)))
    items = rows[: page.limit]
    return Page(items, encode_cursor(items[-1].id) if len(rows) > page.limit else None)


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        last_id = raw["before"]
        if not isinstance(last_id, int) or isinstance(last_id, bool):
            raise ValueError
        return last_id
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("cursor", "is not a cursor this list gave out") from None
