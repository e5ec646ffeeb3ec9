"""Supplier orders: one per supplier in a retailer order (SPEC §2.3).

Lock order, as everywhere: the retailer order first, then its supplier orders. The
hold use case and the worker's release both follow it, so a hold placed a moment
before the release always wins.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tandem.db import UnitOfWork
from tandem.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from tandem.inventory import service as inventory
from tandem.orders import events as order_events
from tandem.orders.domain import FinancialStatus, OrderStatus
from tandem.orders.models import Fulfillment, FulfillmentLine, Order
from tandem.orders.service import record as record_on_order
from tandem.orders.service import refresh_fulfillment
from tandem.paging import Page, PageRequest, newest_first
from tandem.payments import service as payments
from tandem.payments.domain import Purpose, TransactionKind, TransactionStatus
from tandem.payments.models import PaymentTransaction
from tandem.stores.domain import PaymentCapture
from tandem.stores.models import Store
from tandem.suppliers import domain, events
from tandem.suppliers.domain import CollectivePaymentStatus, SupplierOrderEvent, SupplierOrderStatus
from tandem.suppliers.models import SupplierOrder, SupplierOrderLine
from tandem.suppliers.service import automatic_payments
from tandem.timeline import service as timeline
from tandem.timeline.domain import WORKER, Actor, ActorKind, Change
from tandem.worker import service as jobs

RELEASE = "suppliers.release"
CHARGE = "suppliers.charge_collective_payment"
PAID_STATUSES = (FinancialStatus.PAID, FinancialStatus.PARTIALLY_PAID)


# -- reading ---------------------------------------------------------------------------------


def of_order(session: Session, order_id: int) -> list[SupplierOrder]:
    return list(
        session.scalars(
            select(SupplierOrder).where(SupplierOrder.order_id == order_id).order_by(SupplierOrder.id)
        )
    )


def get_visible(uow: UnitOfWork, *, store_id: int, supplier_order_id: int) -> SupplierOrder:
    """The retailer sees its supplier orders; the supplier only once they are open."""
    found = uow.session.get(SupplierOrder, supplier_order_id)
    if found is None or not _visible_to(found, store_id):
        raise NotFound("supplier order not found")
    return found


def list_visible(
    uow: UnitOfWork, *, store_id: int, status: str | None, page: PageRequest
) -> Page[SupplierOrder]:
    mine = (SupplierOrder.retailer_store_id == store_id) | (
        (SupplierOrder.supplier_store_id == store_id) & SupplierOrder.opened_at.is_not(None)
    )
    query = select(SupplierOrder).where(mine)
    if status:
        if status not in {s.value for s in SupplierOrderStatus}:
            raise InvalidInput("status", f"must be one of {', '.join(s.value for s in SupplierOrderStatus)}")
        query = query.where(SupplierOrder.status == status)
    return newest_first(uow.session, query, SupplierOrder.id, page)


def lock_for(
    uow: UnitOfWork, *, store_id: int, supplier_order_id: int, side: str
) -> tuple[Order, SupplierOrder]:
    """Lock a supplier order (after its retailer order) for one of its sides: "retailer" or
    "supplier"; the other side, or anyone else, gets a 404."""
    found = get_visible(uow, store_id=store_id, supplier_order_id=supplier_order_id)
    owner = found.retailer_store_id if side == "retailer" else found.supplier_store_id
    if owner != store_id:
        raise NotFound("supplier order not found")
    return lock(uow.session, found.order_id, supplier_order_id)


def supplier_actor(session: Session, store_id: int) -> Actor:
    return Actor(ActorKind.SUPPLIER, session.get(Store, store_id).name, store_id)


def _visible_to(order: SupplierOrder, store_id: int) -> bool:
    return order.retailer_store_id == store_id or (
        order.supplier_store_id == store_id and domain.visible_to_supplier(order)
    )


# -- following the retailer order (bus handlers, inside its transaction) ----------------------


def create_for_orders(uow: UnitOfWork, event: order_events.OrdersPlaced) -> None:
    """New orders with a supplier's items get their supplier orders at once."""
    for placed in event.orders:
        if any(line.supplier_store_id for line in placed.line_items):
            event.stored()
            create_for_order(uow, uow.session.get(Order, placed.id), placed.actor, event.at)
            placed.changed_by_followers = True


def create_for_order(uow: UnitOfWork, order: Order, actor: Actor, now: datetime) -> None:
    """One supplier order per supplier of the order's lines, created with the order."""
    session = uow.session
    by_supplier: dict[int, list] = defaultdict(list)
    for line in order.line_items:
        if line.supplier_store_id:
            by_supplier[line.supplier_store_id].append(line)
    manual = session.get(Store, order.store_id).payment_capture == PaymentCapture.MANUAL
    for supplier_store_id, lines in sorted(by_supplier.items()):
        supplier_order = _new(session, order, supplier_store_id, lines, manual, now)
        record(
            session,
            supplier_order,
            [Change("supplier_order_created", {"status": supplier_order.status})],
            actor,
            now,
        )
        start = domain.initial_event(
            paid=order.financial_status in PAID_STATUSES, manual_capture=manual, held=bool(order.active_holds)
        )
        if start:
            apply_event(uow, supplier_order, order, start, actor, now)


def _new(
    session: Session, order: Order, supplier_store_id: int, lines: list, manual: bool, now: datetime
) -> SupplierOrder:
    supplier = session.get(Store, supplier_store_id)
    supplier_order = SupplierOrder(
        order_id=order.id,
        retailer_store_id=order.store_id,
        supplier_store_id=supplier_store_id,
        status=(
            SupplierOrderStatus.AWAITING_REQUEST if manual else SupplierOrderStatus.PENDING_PAYMENT
        ).value,
        currency=order.currency,
        wholesale_total=sum(li.wholesale_price * li.quantity for li in lines),
        shipping_total=supplier.supplier_shipping_fee,
        automatic_payments=automatic_payments(session, order.store_id, supplier_store_id),
        payment_status=CollectivePaymentStatus.NONE.value,
        payment_amount=0,
        created_at=now,
        updated_at=now,
        lines=[
            SupplierOrderLine(
                line_item_id=li.id,
                supplier_variant_id=li.stock_variant_id,
                title=f"{li.product_title} {li.variant_title}".strip(),
                sku=li.sku,
                quantity=li.quantity,
                wholesale_price=li.wholesale_price,
                fulfilled_quantity=0,
            )
            for li in lines
        ],
    )
    session.add(supplier_order)
    session.flush()
    return supplier_order


def follow_payment(uow: UnitOfWork, event: order_events.OrderFinancialStatusChanged) -> None:
    """The retailer order got paid: its supplier orders enter the review window."""
    order = event.order
    if order.financial_status not in PAID_STATUSES:
        return
    for supplier_order in of_order(uow.session, order.id):
        if supplier_order.status == SupplierOrderStatus.PENDING_PAYMENT:
            start = SupplierOrderEvent.PAID_WHILE_HELD if order.active_holds else SupplierOrderEvent.PAID
            apply_event(uow, supplier_order, order, start, event.actor, event.at)


def follow_holds(uow: UnitOfWork, event: order_events.OrderHoldsChanged) -> None:
    """A hold stops the window; releasing the last one opens at once if the window has passed."""
    order, held = event.order, bool(event.order.active_holds)
    for supplier_order in of_order(uow.session, order.id):
        if held and supplier_order.status == SupplierOrderStatus.SCHEDULED:
            apply_event(uow, supplier_order, order, SupplierOrderEvent.HOLD, event.actor, event.at)
        elif not held and supplier_order.status == SupplierOrderStatus.ON_HOLD:
            after = domain.unhold_event(supplier_order.release_at, event.at)
            apply_event(uow, supplier_order, order, after, event.actor, event.at)


def follow_cancellation(uow: UnitOfWork, event: order_events.OrderCancelled) -> None:
    """Cancelled before it opened: it never reaches the supplier."""
    for supplier_order in of_order(uow.session, event.order.id):
        if supplier_order.status in domain.BEFORE_OPEN:
            supplier_order.cancelled_by, supplier_order.cancelled_at = "retailer", event.at
            apply_event(
                uow, supplier_order, event.order, SupplierOrderEvent.RETAILER_CANCELS, event.actor, event.at
            )


# -- the worker opens it after the window -----------------------------------------------------


def release(uow: UnitOfWork, *, supplier_order_id: int, now: datetime) -> None:
    """Job: open a scheduled supplier order whose window has passed, re-checking everything
    under the retailer order's lock (the same lock a hold takes)."""
    session = uow.session
    found = session.get(SupplierOrder, supplier_order_id)
    if found is None:
        return
    order, supplier_order = lock(session, found.order_id, supplier_order_id)
    if supplier_order.status != SupplierOrderStatus.SCHEDULED or supplier_order.release_at > now:
        return  # held, cancelled or rescheduled meanwhile: the hold's release decides
    if order.status != OrderStatus.OPEN or order.financial_status not in PAID_STATUSES or order.active_holds:
        return
    apply_event(uow, supplier_order, order, SupplierOrderEvent.RELEASE, WORKER, now)
    uow.commit()


def request_fulfillment(
    uow: UnitOfWork, *, store_id: int, supplier_order_id: int, actor: Actor, now: datetime
) -> SupplierOrder:
    """Manual capture: the retailer sends the order to the supplier, without the window."""
    order, supplier_order = lock_for(
        uow, store_id=store_id, supplier_order_id=supplier_order_id, side="retailer"
    )
    if order.active_holds:
        raise Conflict("the order is on hold: release its holds first", code="order_on_hold")
    if order.status != OrderStatus.OPEN:
        raise IllegalTransition(f"the order is {order.status}")
    apply_event(uow, supplier_order, order, SupplierOrderEvent.REQUEST_FULFILLMENT, actor, now)
    uow.commit()
    return supplier_order


# -- the supplier fulfils ---------------------------------------------------------------------


@dataclass(frozen=True)
class Pick:
    line_id: int  # a supplier order line
    quantity: int | None = None


def fulfill(
    uow: UnitOfWork,
    *,
    store_id: int,
    supplier_order_id: int,
    picks: list[Pick] | None,
    tracking: dict,
    now: datetime,
) -> Fulfillment:
    """The supplier ships: stock leaves its warehouse, and the retailer order gets the same
    fulfilment and tracking, all in one transaction; the customer mail goes from the retailer."""
    session = uow.session
    order, supplier_order = lock_for(
        uow, store_id=store_id, supplier_order_id=supplier_order_id, side="supplier"
    )
    if supplier_order.status not in (SupplierOrderStatus.OPEN, SupplierOrderStatus.PARTIALLY_FULFILLED):
        raise IllegalTransition(f"a supplier order that is {supplier_order.status} cannot be fulfilled")
    chosen = _chosen(supplier_order, picks)
    actor = supplier_actor(session, store_id)
    fulfillment = _ship(session, order, supplier_order, chosen, tracking, now)
    done = all(line.remaining == 0 for line in supplier_order.lines)
    apply_event(
        uow,
        supplier_order,
        order,
        SupplierOrderEvent.FULFIL_ALL if done else SupplierOrderEvent.FULFIL_PART,
        actor,
        now,
        also=[
            Change(
                "fulfillment_created",
                {"units": sum(q for _, q in chosen), "tracking_number": tracking.get("number")},
            )
        ],
    )
    uow.publish(order_events.OrderFulfilled(order, fulfillment.id, actor, now))
    uow.publish(events.SupplierOrderFulfilled(supplier_order, order, fulfillment.id, actor, now))
    uow.commit()
    return fulfillment


def _chosen(supplier_order: SupplierOrder, picks: list[Pick] | None) -> list[tuple[SupplierOrderLine, int]]:
    lines = {line.id: line for line in supplier_order.lines}
    if picks is None:
        return [(line, line.remaining) for line in lines.values() if line.remaining > 0]
    chosen = []
    for index, pick in enumerate(picks):
        line = lines.pop(pick.line_id, None)
        if line is None:
            raise InvalidInput(
                f"line_items[{index}].id", "not a line of this supplier order (or listed twice)"
            )
        quantity = line.remaining if pick.quantity is None else pick.quantity
        if not 0 < quantity <= line.remaining:
            raise InvalidInput(
                f"line_items[{index}].quantity", f"{line.remaining} left to fulfil on this line"
            )
        chosen.append((line, quantity))
    if not chosen:
        raise Conflict("nothing is left to fulfil", code="nothing_to_fulfill")
    return chosen


def _ship(
    session: Session,
    order: Order,
    supplier_order: SupplierOrder,
    chosen: list[tuple[SupplierOrderLine, int]],
    tracking: dict,
    now: datetime,
) -> Fulfillment:
    retailer_lines = {line.id: line for line in order.line_items}
    for line, quantity in sorted(chosen, key=lambda pair: pair[0].supplier_variant_id):
        inventory.ship(session, variant_id=line.supplier_variant_id, quantity=quantity)
        line.fulfilled_quantity += quantity
        retailer_lines[line.line_item_id].fulfilled_quantity += quantity
    fulfillment = Fulfillment(
        order_id=order.id,
        supplier_order_id=supplier_order.id,
        status="success",
        tracking_company=tracking.get("company"),
        tracking_number=tracking.get("number"),
        tracking_url=tracking.get("url"),
        created_at=now,
        lines=[FulfillmentLine(line_item_id=line.line_item_id, quantity=q) for line, q in chosen],
    )
    session.add(fulfillment)
    session.flush()
    return fulfillment


# -- the collective payment -------------------------------------------------------------------


def mark_payment_received(
    uow: UnitOfWork, *, store_id: int, supplier_order_id: int, now: datetime
) -> SupplierOrder:
    """Without automatic payments, the supplier says when the retailer's money arrived."""
    _, supplier_order = lock_for(uow, store_id=store_id, supplier_order_id=supplier_order_id, side="supplier")
    if supplier_order.automatic_payments and supplier_order.payment_status != CollectivePaymentStatus.FAILED:
        raise Conflict("this payment is collected automatically", code="automatic_payment")
    domain.move_payment(supplier_order, CollectivePaymentStatus.PAID)
    record(
        uow.session,
        supplier_order,
        [Change("collective_payment_received", {"amount": supplier_order.payment_amount})],
        supplier_actor(uow.session, store_id),
        now,
    )
    uow.commit()
    return supplier_order


def charge_collective_payment(uow: UnitOfWork, *, supplier_order_id: int, now: datetime) -> None:
    """Job: with automatic payments, charge the retailer's billing card (whether or not its own
    order is paid). The charge is a pending transaction first, so a crash never doubles it."""
    session = uow.session
    supplier_order = session.get(SupplierOrder, supplier_order_id, with_for_update=True)
    if supplier_order.payment_status != CollectivePaymentStatus.PENDING or _charging(session, supplier_order):
        return
    retailer = session.get(Store, supplier_order.retailer_store_id)
    if retailer.billing_card_reference is None:
        _payment_failed(session, supplier_order, "the retailer has no billing card", now)
        uow.commit()
        return
    tx = payments.begin(
        session,
        store_id=retailer.id,
        kind=TransactionKind.SALE,
        purpose=Purpose.COLLECTIVE,
        amount=supplier_order.payment_amount,
        currency=supplier_order.currency,
        gateway=uow.gateway.name,
        now=now,
        supplier_order_id=supplier_order.id,
        source_reference=retailer.billing_card_reference,
        off_session=True,
    )
    payments.pay(uow, [payments.call_for(session, tx)], actor=WORKER, now=now, by_worker=True)


def finish_collective_payment(
    uow: UnitOfWork, tx: PaymentTransaction, call, *, actor: Actor, now: datetime, by_worker: bool
) -> None:
    """Finisher (Purpose.COLLECTIVE): the collective payment follows its settled charge."""
    session = uow.session
    supplier_order = session.get(
        SupplierOrder, tx.supplier_order_id, with_for_update=True, populate_existing=True
    )
    if tx.status == TransactionStatus.SUCCESS:
        domain.move_payment(supplier_order, CollectivePaymentStatus.PAID)
        record(
            session,
            supplier_order,
            [Change("collective_payment_charged", {"amount": tx.amount})],
            WORKER,
            now,
        )
    else:
        _payment_failed(session, supplier_order, tx.message or "declined", now)


def _charging(session: Session, supplier_order: SupplierOrder) -> bool:
    return (
        session.scalar(
            select(PaymentTransaction.id).where(
                PaymentTransaction.supplier_order_id == supplier_order.id,
                PaymentTransaction.status == TransactionStatus.PENDING,
            )
        )
        is not None
    )


def _payment_failed(session: Session, supplier_order: SupplierOrder, reason: str, now: datetime) -> None:
    domain.move_payment(supplier_order, CollectivePaymentStatus.FAILED)
    record(
        session,
        supplier_order,
        [Change("collective_payment_failed", {"amount": supplier_order.payment_amount, "message": reason})],
        WORKER,
        now,
    )


# -- moving a supplier order ------------------------------------------------------------------


def apply_event(
    uow: UnitOfWork,
    supplier_order: SupplierOrder,
    order: Order,
    event: SupplierOrderEvent,
    actor: Actor,
    now: datetime,
    also: list[Change] = (),
) -> None:
    """Move by `event` (the table decides), with its consequences and both timelines."""
    session = uow.session
    before, after = domain.move_supplier_order(supplier_order, event)
    supplier_order.updated_at = now
    if after == SupplierOrderStatus.SCHEDULED and supplier_order.release_at is None:
        _schedule_release(uow, supplier_order, now)
    if after == SupplierOrderStatus.OPEN:
        _open(uow, supplier_order, order, actor, now)
    change = Change(
        "supplier_order_status_changed", {"from": before, "to": after, "supplier_order_id": supplier_order.id}
    )
    record(session, supplier_order, [*also, change], actor, now)
    record_on_order(session, order, [change, *refresh_fulfillment(session, order)], actor, now)


def _schedule_release(uow: UnitOfWork, supplier_order: SupplierOrder, now: datetime) -> None:
    delay = timedelta(seconds=uow.settings.collective_delay_seconds)
    supplier_order.release_at = now + delay
    jobs.schedule(
        uow.session,
        kind=RELEASE,
        payload={"supplier_order_id": supplier_order.id},
        run_at=supplier_order.release_at,
        now=now,
        store_id=supplier_order.retailer_store_id,
    )


def _open(uow: UnitOfWork, supplier_order: SupplierOrder, order: Order, actor: Actor, now: datetime) -> None:
    """Now in the supplier's store; the collective payment is requested."""
    supplier_order.opened_at = now
    supplier_order.payment_amount = supplier_order.wholesale_total + supplier_order.shipping_total
    domain.move_payment(supplier_order, CollectivePaymentStatus.PENDING)
    if supplier_order.automatic_payments:
        jobs.schedule(
            uow.session,
            kind=CHARGE,
            payload={"supplier_order_id": supplier_order.id},
            run_at=now,
            now=now,
            store_id=supplier_order.retailer_store_id,
        )
    uow.publish(events.SupplierOrderOpened(supplier_order, order, actor, now))


def lock(session: Session, order_id: int, supplier_order_id: int) -> tuple[Order, SupplierOrder]:
    order = session.get(Order, order_id, with_for_update=True, populate_existing=True)
    supplier_order = session.get(
        SupplierOrder, supplier_order_id, with_for_update=True, populate_existing=True
    )
    return order, supplier_order


def record(
    session: Session, supplier_order: SupplierOrder, changes: list[Change], actor: Actor, now: datetime
) -> None:
    timeline.record(
        session,
        store_id=supplier_order.retailer_store_id,
        subject_type="supplier_order",
        subject_id=supplier_order.id,
        changes=changes,
        actor=actor,
        now=now,
    )
