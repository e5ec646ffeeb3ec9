"""SPEC §6.1: stock is never negative, never oversold, and every allocated unit is accounted for.

A stock row's `allocated` is the units committed to order lines that have not shipped or been
removed, plus every active reservation (lapsed ones count until they are reclaimed).
"""

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from tandem.inventory.domain import ReservationStatus
from tandem.inventory.models import InventoryLevel, Reservation
from tandem.orders.models import LineItem, Order

ACTIVE = ReservationStatus.ACTIVE.value


def stock_out_of_bounds(conn: Connection) -> list[tuple[str, str]]:
    """No negative stock, and never more units allocated than on hand (oversold)."""
    level = InventoryLevel
    rows = conn.execute(
        select(level.variant_id, level.on_hand, level.allocated).where(
            (level.on_hand < 0) | (level.allocated < 0) | (level.allocated > level.on_hand)
        )
    )
    return [
        (f"inventory_levels variant {variant}", f"on hand {on_hand}, allocated {allocated}")
        for variant, on_hand, allocated in rows
    ]


def unaccounted_allocations(conn: Connection) -> list[tuple[str, str]]:
    """Allocated units equal the committed, unshipped units of order lines plus active reservations."""
    reserved = (
        select(Reservation.variant_id, func.sum(Reservation.quantity).label("units"))
        .where(Reservation.status == ACTIVE)
        .group_by(Reservation.variant_id)
        .subquery()
    )
    line = LineItem
    committed = (
        select(
            line.stock_variant_id.label("variant_id"),
            func.sum(line.quantity - line.fulfilled_quantity - line.removed_quantity).label("units"),
        )
        .where(line.stock_allocated.is_(True))
        .group_by(line.stock_variant_id)
        .subquery()
    )
    level = InventoryLevel
    reserved_units = func.coalesce(reserved.c.units, 0)
    committed_units = func.coalesce(committed.c.units, 0)
    rows = conn.execute(
        select(level.variant_id, level.allocated, reserved_units, committed_units)
        .outerjoin(reserved, reserved.c.variant_id == level.variant_id)
        .outerjoin(committed, committed.c.variant_id == level.variant_id)
        .where(level.allocated != reserved_units + committed_units)
    )
    return [
        (
            f"inventory_levels variant {variant}",
            f"allocated {allocated}, but order lines commit {int(lines)} unshipped units "
            f"and active reservations hold {int(held)}",
        )
        for variant, allocated, held, lines in rows
    ]


def reservations_left_by_orders(conn: Connection) -> list[tuple[str, str]]:
    """A completed checkout's reservation was converted into its order's committed units."""
    rows = conn.execute(
        select(Reservation.id, Reservation.quantity, Order.id)
        .join(Order, Order.checkout_id == Reservation.checkout_id)
        .where(Reservation.status == ACTIVE)
    )
    return [
        (f"reservations {reservation}", f"still holds {units} units, but order {order} was placed")
        for reservation, units, order in rows
    ]
