"""Writing and reading timelines; entries are added in the transaction of the change."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tandem.db import insert_rows, insert_statement
from tandem.timeline.domain import Actor, Change
from tandem.timeline.models import Event


def record(
    session: Session,
    *,
    store_id: int,
    subject_type: str,
    subject_id: int,
    changes: Iterable[Change],
    actor: Actor,
    now: datetime,
) -> None:
    for change in changes:
        session.add(
            Event(
                store_id=store_id,
                subject_type=subject_type,
                subject_id=subject_id,
                verb=change.verb,
                data=change.data,
                actor_kind=actor.kind.value,
                actor_id=actor.id,
                actor_name=actor.name,
                created_at=now,
            )
        )


def events_of(session: Session, *, subject_type: str, subject_id: int) -> list[Event]:
    query = (
        select(Event)
        .where(Event.subject_type == subject_type, Event.subject_id == subject_id)
        .order_by(Event.id)
    )
    return list(session.scalars(query))


@dataclass(frozen=True)
class Entry:
    """A timeline entry written in bulk (the same fields as Event)."""

    id: int
    store_id: int
    subject_type: str
    subject_id: int
    verb: str
    data: dict
    actor_kind: str
    actor_id: int | None
    actor_name: str
    created_at: datetime


def _event_row(
    store_id: int, subject_type: str, subject_id: int, change: Change, actor: Actor, now: datetime
) -> dict:
    return {
        "store_id": store_id,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "verb": change.verb,
        "data": change.data,
        "actor_kind": actor.kind.value,
        "actor_id": actor.id,
        "actor_name": actor.name,
        "created_at": now,
    }


def record_later(
    uow, entries: list[tuple[int, str, int, Change, Actor]], now: datetime, ids: list[int]
) -> list[Entry]:
    """Entries whose ids were taken (db.next_ids), sent with the transaction's writes."""
    rows = [{"id": entry_id, **_event_row(*entry, now)} for entry, entry_id in zip(entries, ids, strict=True)]
    if rows:
        uow.writes.add(insert_statement(uow.session, Event.__table__, rows))
    return [Entry(**row) for row in rows]


def record_many(
    session: Session, entries: list[tuple[int, str, int, Change, Actor]], now: datetime
) -> list[Entry]:
    """Many entries in one statement: (store_id, subject_type, subject_id, change, actor)."""
    if not entries:
        return []
    rows = [_event_row(*entry, now) for entry in entries]
    ids = insert_rows(session, Event.__table__, rows)
    return [Entry(id=i, **row) for i, row in zip(ids, rows, strict=True)]
