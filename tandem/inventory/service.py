"""Stock movements. Each is one guarded statement, so concurrent sales can never oversell.

Lock order, to stay free of deadlocks: reservations of a variant before its stock
row; stock rows in ascending variant id within a transaction. A guarded UPDATE that
finds too little stock still keeps the row locked on PostgreSQL (it waited for the
row's last writer), so a buyer who is short gives up its transaction and reclaims
lapsed reservations in a new one (`reclaim_expired` takes reservations, then stock).
"""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from tandem.errors import InvalidInput, NotFound
from tandem.inventory.domain import ReservationStatus, StockFigures, on_hand_for
from tandem.inventory.models import InventoryLevel, Reservation, StockMovement
from tandem.timeline.domain import SYSTEM, Actor

ACTIVE = ReservationStatus.ACTIVE.value


def allocate(session: Session, *, variant_id: int, quantity: int) -> bool:
    """Allocate units if that many are free; False (and nothing changed) otherwise."""
    level = InventoryLevel
    result = session.execute(
        update(level)
        .where(level.variant_id == variant_id, level.on_hand - level.allocated >= quantity)
        .values(allocated=level.allocated + quantity)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


class StockShort(Exception):
    """Too little free stock for a variant; the caller's transaction must be rolled back."""

    def __init__(self, variant_id: int, quantity: int):
        super().__init__(f"variant {variant_id}: {quantity} units not free")
        self.variant_id, self.quantity = variant_id, quantity


def allocate_or_raise(session: Session, *, variant_id: int, quantity: int) -> None:
    if not allocate(session, variant_id=variant_id, quantity=quantity):
        raise StockShort(variant_id, quantity)


def reclaim_expired(session: Session, *, variant_id: int, now: datetime) -> int:
    """Expire this variant's lapsed reservations and free their units; returns the units."""
    rows = session.execute(
        update(Reservation)
        .where(
            Reservation.variant_id == variant_id,
            Reservation.status == ACTIVE,
            Reservation.expires_at <= now,
        )
        .values(status=ReservationStatus.EXPIRED.value)
        .returning(Reservation.quantity)
        .execution_options(synchronize_session=False)
    ).all()
    units = sum(row.quantity for row in rows)
    if units:
        deallocate(session, variant_id=variant_id, quantity=units)
    return units


def reclaim_expired_alone(database, *, variant_id: int, now: datetime) -> int:
    """reclaim_expired as a transaction of one statement on PostgreSQL, committed by the server
    as soon as it has run: the variant's stock row (a flash sale's hot row) is never locked
    while a process waits for its turn on the CPU before sending COMMIT. The table's CHECK
    constraints guard the stock: a violation undoes the whole statement. Elsewhere (SQLite,
    one writer) a plain transaction."""
    if database.engine.dialect.name != "postgresql":
        with database.write_sessions() as session, session.begin():
            return reclaim_expired(session, variant_id=variant_id, now=now)
    lapsed = (
        update(Reservation.__table__)
        .where(
            Reservation.variant_id == variant_id,
            Reservation.status == ACTIVE,
            Reservation.expires_at <= now,
        )
        .values(status=ReservationStatus.EXPIRED.value)
        .returning(Reservation.quantity)
        .cte("lapsed")
    )
    freed = select(func.sum(lapsed.c.quantity)).scalar_subquery()
    level = InventoryLevel.__table__
    statement = (
        update(level)
        .where(level.c.variant_id == variant_id, freed > 0)
        .values(allocated=level.c.allocated - freed)
        .returning(freed)
    )
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        return connection.execute(statement).scalar() or 0


def variants_with_expired_reservations(session: Session, *, now: datetime, limit: int) -> list[int]:
    query = (
        select(Reservation.variant_id)
        .where(Reservation.status == ACTIVE, Reservation.expires_at <= now)
        .group_by(Reservation.variant_id)
        .limit(limit)
    )
    return list(session.scalars(query))


class StockInconsistent(RuntimeError):
    """A guarded stock change found the row other than its lock promised."""


def change_allocated(session: Session, *, variant_id: int, delta: int) -> None:
    """Allocate (or give back, if negative) units whose availability the caller checked under
    the row's lock."""
    _guarded_change(session, variant_id, allocated=delta)


def change_allocated_later(uow, *, variant_id: int, delta: int) -> None:
    """change_allocated, sent with the transaction's writes (the caller holds the row's lock)."""
    uow.writes.add(_change(variant_id, 0, delta), expect=1, refused=StockInconsistent)


def deallocate(session: Session, *, variant_id: int, quantity: int) -> None:
    """Give allocated units back to available (released reservation, cancelled sale)."""
    _guarded_change(session, variant_id, allocated=-quantity)


def ship(session: Session, *, variant_id: int, quantity: int) -> None:
    """Allocated units leave the warehouse."""
    _guarded_change(session, variant_id, on_hand=-quantity, allocated=-quantity)


def ship_unallocated(session: Session, *, variant_id: int, quantity: int) -> bool:
    """Units leave without having been allocated (stock reserved at fulfilment)."""
    level = InventoryLevel
    result = session.execute(
        update(level)
        .where(level.variant_id == variant_id, level.on_hand - level.allocated >= quantity)
        .values(on_hand=level.on_hand - quantity)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def restock(session: Session, *, variant_id: int, quantity: int) -> None:
    """Returned units come back on hand."""
    _guarded_change(session, variant_id, on_hand=quantity)


def _guarded_change(session: Session, variant_id: int, *, on_hand: int = 0, allocated: int = 0) -> None:
    if len(session.connection().execute(_change(variant_id, on_hand, allocated)).all()) != 1:
        raise StockInconsistent(f"stock of variant {variant_id} would become inconsistent")


def _change(variant_id: int, on_hand: int, allocated: int):
    level = InventoryLevel.__table__
    return (
        update(level)
        .where(
            level.c.variant_id == variant_id,
            level.c.on_hand + on_hand >= 0,
            level.c.allocated + allocated >= 0,
            level.c.allocated + allocated <= level.c.on_hand + on_hand,
        )
        .values(on_hand=level.c.on_hand + on_hand, allocated=level.c.allocated + allocated)
        .returning(level.c.variant_id)
    )


def figures(session: Session, variant_ids: Iterable[int], now: datetime) -> dict[int, StockFigures]:
    """Stock figures of several variants, counting lapsed reservations as free."""
    ids = sorted(set(variant_ids))
    if not ids:
        return {}
    levels = {
        lv.variant_id: lv
        for lv in session.scalars(select(InventoryLevel).where(InventoryLevel.variant_id.in_(ids)))
    }
    lapsed = Reservation.expires_at <= now
    held = session.execute(
        select(
            Reservation.variant_id,
            func.sum(case((lapsed, 0), else_=Reservation.quantity)),
            func.sum(case((lapsed, Reservation.quantity), else_=0)),
        )
        .where(Reservation.variant_id.in_(ids), Reservation.status == ACTIVE)
        .group_by(Reservation.variant_id)
    ).all()
    holds = {row[0]: (int(row[1] or 0), int(row[2] or 0)) for row in held}
    return {
        vid: StockFigures(lv.on_hand, lv.allocated, *holds.get(vid, (0, 0))) for vid, lv in levels.items()
    }


def create_level(session: Session, *, variant_id: int, store_id: int, on_hand: int) -> None:
    session.add(InventoryLevel(variant_id=variant_id, store_id=store_id, on_hand=on_hand, allocated=0))


def set_available(
    session: Session, *, variant_id: int, available: int, now: datetime, actor: Actor = SYSTEM
) -> StockFigures:
    """Make `available` units sellable, keeping what is committed or reserved; the change is
    recorded as a stock movement naming `actor`."""
    if available < 0:
        raise InvalidInput("available", "cannot be negative")
    reclaim_expired(session, variant_id=variant_id, now=now)  # reservations first, then the stock row
    _lock_level(session, variant_id)
    current = figures(session, [variant_id], now)[variant_id]
    on_hand = on_hand_for(available, current)
    session.execute(
        update(InventoryLevel)
        .where(InventoryLevel.variant_id == variant_id)
        .values(on_hand=on_hand)
        .execution_options(synchronize_session=False)
    )
    _record_movement(session, variant_id, current.on_hand, on_hand, available, actor, now)
    return StockFigures(on_hand, current.allocated, current.reserved_active, 0)


def _record_movement(
    session: Session, variant_id: int, before: int, after: int, available: int, actor: Actor, now: datetime
) -> None:
    store_id = session.scalar(select(InventoryLevel.store_id).where(InventoryLevel.variant_id == variant_id))
    session.add(
        StockMovement(
            store_id=store_id,
            variant_id=variant_id,
            on_hand_before=before,
            on_hand_after=after,
            available=available,
            actor_kind=actor.kind.value,
            actor_id=actor.id,
            actor_name=actor.name,
            created_at=now,
        )
    )


def movements(session: Session, *, variant_ids: list[int], limit: int) -> list[StockMovement]:
    """The latest stock movements of these variants, newest first."""
    query = (
        select(StockMovement)
        .where(StockMovement.variant_id.in_(variant_ids))
        .order_by(StockMovement.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def _lock_level(session: Session, variant_id: int) -> None:
    found = session.execute(
        select(InventoryLevel.variant_id).where(InventoryLevel.variant_id == variant_id).with_for_update()
    ).first()
    if found is None:
        raise NotFound("variant has no stock of its own", variant_id=variant_id)
