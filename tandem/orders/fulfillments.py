"""Shipping the store's own items, with tracking."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tandem.db import UnitOfWork
from tandem.errors import Conflict, InvalidInput, OutOfStock
from tandem.inventory import service as inventory
from tandem.orders import domain, events
from tandem.orders.domain import Action
from tandem.orders.models import Fulfillment, FulfillmentLine, LineItem, Order
from tandem.orders.service import lock_order, record, refresh_fulfillment
from tandem.timeline.domain import Actor, Change


@dataclass(frozen=True)
class LinePick:
    line_item_id: int
    quantity: int | None = None  # None: everything left on the line


@dataclass(frozen=True)
class Tracking:
    company: str | None = None
    number: str | None = None
    url: str | None = None


def fulfill_order(
    uow: UnitOfWork,
    *,
    store_id: int,
    order_id: int,
    picks: list[LinePick] | None,
    tracking: Tracking,
    actor: Actor,
    now: datetime,
    notify_customer: bool = True,
) -> Fulfillment:
    """Ship some or all remaining units; stock leaves the warehouse in the same transaction."""
    session = uow.session
    order = lock_order(session, store_id, order_id)
    domain.ensure_allowed(order, Action.FULFILL)
    chosen = _chosen(order, picks)
    if not chosen:
        raise Conflict("nothing is left to fulfil on this order", code="nothing_to_fulfill")
    for line, quantity in sorted(chosen, key=lambda pair: pair[0].stock_variant_id):
        _take_stock(session, line, quantity)
        line.fulfilled_quantity += quantity
    fulfillment = Fulfillment(
        order_id=order.id,
        status="success",
        tracking_company=tracking.company,
        tracking_number=tracking.number,
        tracking_url=tracking.url,
        created_at=now,
        lines=[FulfillmentLine(line_item_id=line.id, quantity=q) for line, q in chosen],
    )
    session.add(fulfillment)
    session.flush()
    changes = [
        Change(
            "fulfillment_created",
            {
                "fulfillment_id": fulfillment.id,
                "units": sum(q for _, q in chosen),
                "tracking_company": tracking.company,
                "tracking_number": tracking.number,
            },
        ),
        *refresh_fulfillment(session, order),
    ]
    record(session, order, changes, actor, now)
    uow.publish(events.OrderFulfilled(order, fulfillment.id, actor, now, notify_customer))
    uow.commit()
    return fulfillment


def own_lines(order: Order) -> list[LineItem]:
    """Lines the store ships itself (supplier-shipped lines are fulfilled by the supplier)."""
    return [line for line in order.line_items if line.supplier_store_id is None]


def _chosen(order: Order, picks: list[LinePick] | None) -> list[tuple[LineItem, int]]:
    lines = {line.id: line for line in own_lines(order)}
    if picks is None:
        return [(line, line.fulfillable_quantity) for line in lines.values() if line.fulfillable_quantity > 0]
    chosen = []
    for index, pick in enumerate(picks):
        line = lines.pop(pick.line_item_id, None)
        if line is None:
            raise InvalidInput(f"line_items[{index}].id", "not a line this store fulfils (or listed twice)")
        quantity = line.fulfillable_quantity if pick.quantity is None else pick.quantity
        if not 0 < quantity <= line.fulfillable_quantity:
            raise InvalidInput(
                f"line_items[{index}].quantity", f"{line.fulfillable_quantity} left to fulfil on this line"
            )
        chosen.append((line, quantity))
    return chosen


def _take_stock(session: Session, line: LineItem, quantity: int) -> None:
    if line.stock_allocated:
        inventory.ship(session, variant_id=line.stock_variant_id, quantity=quantity)
        return
    if not inventory.ship_unallocated(session, variant_id=line.stock_variant_id, quantity=quantity):
        raise OutOfStock(
            f"not enough stock to fulfil {line.product_title}; you can put the order on hold "
            "with the reason inventory_out_of_stock",
            variant_id=line.stock_variant_id,
            hold_reason="inventory_out_of_stock",
        )
