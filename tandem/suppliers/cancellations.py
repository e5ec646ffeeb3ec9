"""Cancelling a supplier order once the supplier has it (SPEC §2.3): the retailer requests,
the supplier accepts or declines, the platform decides alone with automatic payments,
and the supplier may cancel on its own. A fulfilment and a cancellation racing each
other are decided under the same locks (retailer order, then supplier order)."""

from datetime import datetime, timedelta

from tandem.db import UnitOfWork
from tandem.inventory import service as inventory
from tandem.orders.models import Notice, Order
from tandem.suppliers import domain, events
from tandem.suppliers.domain import CancellationEvent, SupplierOrderEvent
from tandem.suppliers.models import SupplierOrder
from tandem.suppliers.supplier_orders import apply_event, lock, lock_for, record, supplier_actor
from tandem.timeline.domain import SYSTEM, Actor, Change
from tandem.worker import service as jobs

AUTO_CANCEL = "suppliers.auto_cancel"


def request_cancellation(
    uow: UnitOfWork,
    *,
    store_id: int,
    supplier_order_id: int,
    message: str | None,
    actor: Actor,
    now: datetime,
) -> SupplierOrder:
    """The retailer asks the supplier to cancel an open order nothing of which has shipped."""
    order, supplier_order = lock_for(
        uow, store_id=store_id, supplier_order_id=supplier_order_id, side="retailer"
    )
    domain.ensure_cancellation_can_be_requested(supplier_order)
    domain.move_cancellation(supplier_order, CancellationEvent.REQUEST)
    supplier_order.cancellation_message, supplier_order.cancellation_reason = message, None
    supplier_order.cancellation_requested_at = now
    record(uow.session, supplier_order, [Change("cancellation_requested", {"message": message})], actor, now)
    if domain.cancel_immediately(supplier_order):  # nothing collected yet: no need to wait for anyone
        _accept(uow, order, supplier_order, SYSTEM, now)
    else:
        uow.publish(events.CancellationRequested(supplier_order, order, actor, now))
        if domain.cancel_automatically_later(supplier_order):
            _schedule_auto_cancel(uow, supplier_order, now)
    uow.commit()
    return supplier_order


def answer_cancellation(
    uow: UnitOfWork,
    *,
    store_id: int,
    supplier_order_id: int,
    accept: bool,
    message: str | None,
    now: datetime,
) -> SupplierOrder:
    """The supplier accepts (the order is cancelled, stock back) or declines with a reason."""
    order, supplier_order = lock_for(
        uow, store_id=store_id, supplier_order_id=supplier_order_id, side="supplier"
    )
    actor = supplier_actor(uow.session, store_id)
    if accept:
        _accept(uow, order, supplier_order, actor, now)
    else:
        domain.move_cancellation(supplier_order, CancellationEvent.DECLINE)
        supplier_order.cancellation_reason = message
        record(
            uow.session, supplier_order, [Change("cancellation_declined", {"message": message})], actor, now
        )
        uow.publish(events.CancellationAnswered(supplier_order, order, False, actor, now))
    uow.commit()
    return supplier_order


def auto_cancel(uow: UnitOfWork, *, supplier_order_id: int, requested_at: str, now: datetime) -> None:
    """Job: the supplier neither shipped nor answered in time; the platform cancels."""
    found = uow.session.get(SupplierOrder, supplier_order_id)
    order, supplier_order = lock(uow.session, found.order_id, supplier_order_id)
    still_waiting = (
        supplier_order.cancellation_status == domain.CancellationStatus.REQUESTED
        and supplier_order.cancellation_requested_at.isoformat() == requested_at
        and supplier_order.status == domain.SupplierOrderStatus.OPEN
        and not any(line.fulfilled_quantity for line in supplier_order.lines)
    )
    if still_waiting:  # a fulfilment or an answer that came first wins
        _accept(uow, order, supplier_order, SYSTEM, now)
        uow.commit()


def supplier_cancels(
    uow: UnitOfWork, *, store_id: int, supplier_order_id: int, reason: str, now: datetime
) -> SupplierOrder:
    """The supplier cancels on its own; the retailer order shows request_declined and why."""
    order, supplier_order = lock_for(
        uow, store_id=store_id, supplier_order_id=supplier_order_id, side="supplier"
    )
    actor = supplier_actor(uow.session, store_id)
    supplier_order.cancellation_reason = reason
    _cancel(
        uow, order, supplier_order, SupplierOrderEvent.SUPPLIER_CANCELS, by="supplier", actor=actor, now=now
    )
    uow.session.add(
        Notice(
            order_id=order.id,
            kind="supplier_cancelled",
            amount=None,
            created_at=now,
            message=f"{actor.name} cancelled its part of the order: {reason}. "
            "Refund your customer if needed.",
        )
    )
    uow.commit()
    return supplier_order


def _accept(
    uow: UnitOfWork, order: Order, supplier_order: SupplierOrder, actor: Actor, now: datetime
) -> None:
    domain.move_cancellation(supplier_order, CancellationEvent.ACCEPT)
    record(uow.session, supplier_order, [Change("cancellation_accepted", {})], actor, now)
    _cancel(
        uow,
        order,
        supplier_order,
        SupplierOrderEvent.CANCELLATION_ACCEPTED,
        by="retailer",
        actor=actor,
        now=now,
    )
    uow.publish(events.CancellationAnswered(supplier_order, order, True, actor, now))


def _cancel(
    uow: UnitOfWork,
    order: Order,
    supplier_order: SupplierOrder,
    event: SupplierOrderEvent,
    *,
    by: str,
    actor: Actor,
    now: datetime,
) -> None:
    """Unshipped units go back to the supplier's stock and will not ship to the customer."""
    retailer_lines = {line.id: line for line in order.line_items}
    for line in sorted(supplier_order.lines, key=lambda li: li.supplier_variant_id):
        if line.remaining:
            inventory.deallocate(uow.session, variant_id=line.supplier_variant_id, quantity=line.remaining)
            retailer_lines[line.line_item_id].removed_quantity += line.remaining
    supplier_order.cancelled_by, supplier_order.cancelled_at = by, now
    apply_event(uow, supplier_order, order, event, actor, now)
    uow.publish(events.SupplierOrderCancelled(supplier_order, order, actor, now))


def _schedule_auto_cancel(uow: UnitOfWork, supplier_order: SupplierOrder, now: datetime) -> None:
    delay = timedelta(seconds=uow.settings.auto_cancel_after_seconds)
    jobs.schedule(
        uow.session,
        kind=AUTO_CANCEL,
        run_at=now + delay,
        now=now,
        store_id=supplier_order.retailer_store_id,
        payload={
            "supplier_order_id": supplier_order.id,
            "requested_at": supplier_order.cancellation_requested_at.isoformat(),
        },
    )
