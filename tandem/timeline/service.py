"""Writing and reading timelines; entries are added in the transaction of the change."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

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
