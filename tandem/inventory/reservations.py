"""Holding stock for checkouts, a batch of buyers at a time.

Concurrent buyers of a variant share one locked read and one guarded UPDATE of its stock
row per batch: units are granted in arrival order while they last, each buyer's cart all or
nothing. A buyer is refused only when stock is truly gone, counting lapsed reservations as
free (no undersell): a batch whose buyers found too little reclaims the lapsed reservations
of those variants (`reclaim`) and lets the refused buyers try once more.

Lock order, as everywhere (see inventory.service): reservations of a variant before its
stock row; stock rows in ascending variant id. A batch that already holds a stock row must
not reclaim in the same transaction: it commits first (checkout.lanes, checkout.service).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tandem.db import any_of, insert_rows, insert_statement
from tandem.inventory import service as inventory
from tandem.inventory.domain import ReservationStatus
from tandem.inventory.models import InventoryLevel, Reservation

ACTIVE = ReservationStatus.ACTIVE.value
Wants = dict[int, int]  # stock variant id -> units


@dataclass(frozen=True)
class Grants:
    granted: list[bool]  # per cart, in the order given
    free: dict[int, int]  # units left free per variant once the grants are taken

    def short_of(self, wants: Wants) -> tuple[int, int]:
        """(variant, units wanted) of the first variant this cart could not get."""
        for variant_id, units in sorted(wants.items()):
            if self.free.get(variant_id, 0) < units:
                return variant_id, units
        variant_id = min(wants)
        return variant_id, wants[variant_id]


def grant(
    session: Session, carts: list[Wants], now: datetime, *, reclaim_first: bool = False, uow=None
) -> Grants:
    """Allocate each cart's units if all of them are free, in arrival order. With
    `reclaim_first` (for callers that hold no stock row yet), lapsed reservations of these
    variants are reclaimed first, in the same transaction."""
    variants = sorted({v for cart in carts for v in cart})
    if not variants:
        return Grants([True] * len(carts), {})
    freed = _reclaim(session, variants, now) if reclaim_first else {}
    levels = (
        session.connection()
        .execute(
            select(InventoryLevel.variant_id, InventoryLevel.on_hand, InventoryLevel.allocated)
            .where(any_of(session, InventoryLevel.variant_id, variants))
            .order_by(InventoryLevel.variant_id)
            .with_for_update()
        )
        .all()
    )
    free = {v: on_hand - allocated + freed.get(v, 0) for v, on_hand, allocated in levels}
    taken: dict[int, int] = defaultdict(int)
    granted = []
    for cart in carts:
        ok = all(free.get(v, 0) >= units for v, units in cart.items())
        if ok:
            for v, units in cart.items():
                free[v] -= units
                taken[v] += units
        granted.append(ok)
    for v in variants:
        if delta := taken[v] - freed.get(v, 0):
            if uow is not None:  # sent with the transaction's writes: the row is ours until it commits
                inventory.change_allocated_later(uow, variant_id=v, delta=delta)
            else:
                inventory.change_allocated(session, variant_id=v, delta=delta)
    return Grants(granted, free)


def reclaim(session: Session, variants: list[int], now: datetime) -> bool:
    """Give the units of these variants' lapsed reservations back (in a transaction that holds
    no stock row yet); True if units are free now, so that refused buyers may try again (the
    worker may also have freed some a moment before)."""
    for variant_id, units in sorted(_reclaim(session, sorted(variants), now).items()):
        inventory.deallocate(session, variant_id=variant_id, quantity=units)
    free = (
        session.connection()
        .execute(
            select(InventoryLevel.on_hand - InventoryLevel.allocated).where(
                InventoryLevel.variant_id.in_(variants)
            )
        )
        .scalars()
    )
    return any(units > 0 for units in free)


def _reclaim(session: Session, variants: list[int], now: datetime) -> dict[int, int]:
    """Expire the lapsed reservations of these variants; their units (not yet given back to the
    stock rows) per variant."""
    rows = (
        session.connection()
        .execute(
            update(Reservation)
            .where(
                any_of(session, Reservation.variant_id, variants),
                Reservation.status == ACTIVE,
                Reservation.expires_at <= now,
            )
            .values(status=ReservationStatus.EXPIRED.value)
            .returning(Reservation.variant_id, Reservation.quantity)
            .execution_options(synchronize_session=False)
        )
        .all()
    )
    return sum_by_variant(rows)


def hold(session: Session, holds: list[tuple[int, Wants, datetime]], now: datetime) -> None:
    """Reservation rows for granted carts: (checkout id, units, expires at), one statement."""
    rows = _hold_rows(holds, now)
    if rows:
        insert_rows(session, Reservation.__table__, rows)


def hold_later(uow, holds: list[tuple[int, Wants, datetime]], now: datetime) -> None:
    """hold, sent with the transaction's writes."""
    if rows := _hold_rows(holds, now):
        uow.writes.add(insert_statement(uow.session, Reservation.__table__, rows))


def _hold_rows(holds: list[tuple[int, Wants, datetime]], now: datetime) -> list[dict]:
    return [
        {
            "checkout_id": checkout_id,
            "variant_id": variant_id,
            "quantity": units,
            "status": ACTIVE,
            "expires_at": expires_at,
            "created_at": now,
        }
        for checkout_id, wants, expires_at in holds
        for variant_id, units in sorted(wants.items())
    ]


def convert(session: Session, checkout_ids: list[int]) -> dict[int, Wants]:
    """The checkouts' held units become sold; returns what was still held, per checkout."""
    return _move(session, checkout_ids, ReservationStatus.CONVERTED)


def release(session: Session, checkout_ids: list[int]) -> None:
    """Give the checkouts' held units back (their payment was declined)."""
    held = _move(session, checkout_ids, ReservationStatus.RELEASED)
    totals: dict[int, int] = defaultdict(int)
    for wants in held.values():
        for variant_id, units in wants.items():
            totals[variant_id] += units
    for variant_id in sorted(totals):
        inventory.deallocate(session, variant_id=variant_id, quantity=totals[variant_id])


def extend(session: Session, checkout_ids: list[int], until: datetime) -> dict[int, Wants]:
    """Keep the checkouts' active holds until `until`; returns what they hold."""
    rows = (
        session.connection()
        .execute(
            update(Reservation)
            .where(any_of(session, Reservation.checkout_id, checkout_ids), Reservation.status == ACTIVE)
            .values(expires_at=until)
            .returning(Reservation.checkout_id, Reservation.variant_id, Reservation.quantity)
            .execution_options(synchronize_session=False)
        )
        .all()
    )
    return _by_checkout(rows)


def _move(session: Session, checkout_ids: list[int], target: ReservationStatus) -> dict[int, Wants]:
    if not checkout_ids:
        return {}
    rows = (
        session.connection()
        .execute(
            update(Reservation)
            .where(any_of(session, Reservation.checkout_id, checkout_ids), Reservation.status == ACTIVE)
            .values(status=target.value)
            .returning(Reservation.checkout_id, Reservation.variant_id, Reservation.quantity)
            .execution_options(synchronize_session=False)
        )
        .all()
    )
    return _by_checkout(rows)


def _by_checkout(rows) -> dict[int, Wants]:
    held: dict[int, Wants] = defaultdict(lambda: defaultdict(int))
    for checkout_id, variant_id, units in rows:
        held[checkout_id][variant_id] += units
    return {c: dict(w) for c, w in held.items()}


def missing(wanted: Wants, held: Wants) -> Wants:
    """Units a checkout wants but no longer holds (its reservation lapsed and was reclaimed)."""
    return {v: units - held.get(v, 0) for v, units in wanted.items() if units > held.get(v, 0)}


def sum_by_variant(pairs: Iterable[tuple[int, int]]) -> dict[int, int]:
    totals: dict[int, int] = defaultdict(int)
    for variant_id, units in pairs:
        totals[variant_id] += units
    return dict(totals)
