"""SPEC §6.4: every state change is in the timeline. Read back, the last change an order's (or
supplier order's) timeline records for each status is the status it has now."""

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from tandem.orders.domain import new_order_statuses
from tandem.orders.models import Order
from tandem.suppliers.models import SupplierOrder
from tandem.timeline.models import Event

ORDER_STATUS_VERBS = {
    "status": "status_changed",
    "financial_status": "financial_status_changed",
    "fulfillment_status": "fulfillment_status_changed",
}


def _last(subject_type: str, subject_id, verb: str, key: str):
    """The `key` of the subject's latest timeline entry with this verb."""
    return (
        select(Event.data[key].as_string())
        .where(Event.subject_type == subject_type, Event.subject_id == subject_id, Event.verb == verb)
        .order_by(Event.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def order_changes_missing(conn: Connection) -> list[tuple[str, str]]:
    """Each of an order's three statuses is where its timeline last moved it."""
    found = []
    for field, initial in new_order_statuses().items():
        current = getattr(Order, field)
        recorded = func.coalesce(_last("order", Order.id, ORDER_STATUS_VERBS[field], "to"), initial)
        rows = conn.execute(select(Order.id, current, recorded).where(recorded != current))
        found += [
            (f"order {order}", f"{field} is {now}, but its timeline last records {said}")
            for order, now, said in rows
        ]
    return found


def supplier_order_changes_missing(conn: Connection) -> list[tuple[str, str]]:
    """A supplier order's status is the one its timeline last records (or was created with)."""
    so = SupplierOrder
    moved = _last("supplier_order", so.id, "supplier_order_status_changed", "to")
    created = _last("supplier_order", so.id, "supplier_order_created", "status")
    recorded = func.coalesce(moved, created)
    rows = conn.execute(
        select(so.id, so.status, recorded).where(recorded.is_(None) | (recorded != so.status))
    )
    return [
        (
            f"supplier_orders {order}",
            f"status is {status}, but "
            + (f"its timeline last records {said}" if said else "its timeline records no status"),
        )
        for order, status, said in rows
    ]
