"""Returns under the supplier's return policy: the retailer requests a return of fulfilled
lines (refused with the reason outside the window or for final-sale items), the supplier
approves or declines, and closing an approved return restocks (if chosen) and refunds the
wholesale value minus the restocking fee."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tandem.db import UnitOfWork
from tandem.errors import Conflict, InvalidInput, NotFound
from tandem.inventory import service as inventory
from tandem.orders.models import Fulfillment
from tandem.payments import service as payments
from tandem.stores.models import Store
from tandem.suppliers import domain, events
from tandem.suppliers.domain import ReturnEvent, ReturnPolicy, ReturnReason, ReturnStatus
from tandem.suppliers.models import SupplierOrder, SupplierReturn, SupplierReturnLine
from tandem.suppliers.refunds import refundable, start_refund
from tandem.suppliers.supplier_orders import get_visible, lock_for, record, supplier_actor
from tandem.timeline.domain import Actor, Change

SHIPPED = (domain.SupplierOrderStatus.PARTIALLY_FULFILLED, domain.SupplierOrderStatus.FULFILLED)
LIVE = (ReturnStatus.REQUESTED, ReturnStatus.APPROVED, ReturnStatus.CLOSED)


@dataclass(frozen=True)
class ReturnLineRequest:
    line_id: int  # a supplier order line
    quantity: int


def policy_of(store: Store) -> ReturnPolicy:
    return ReturnPolicy(
        window_days=store.return_window_days,
        restocking_fee_percent=store.restocking_fee_percent,
        label_provider=domain.LabelProvider(store.return_label_provider),
        final_sale_skus=tuple(store.final_sale_skus or ()),
    )


def request_return(
    uow: UnitOfWork,
    *,
    store_id: int,
    supplier_order_id: int,
    reason: ReturnReason,
    lines: list[ReturnLineRequest],
    note: str | None,
    actor: Actor,
    now: datetime,
) -> SupplierReturn:
    session = uow.session
    order, supplier_order = lock_for(
        uow, store_id=store_id, supplier_order_id=supplier_order_id, side="retailer"
    )
    if supplier_order.status not in SHIPPED:
        raise Conflict("only shipped items can be returned", code="nothing_shipped")
    chosen = _returnable(session, supplier_order, lines)
    refusal = domain.return_refusal(
        policy=policy_of(session.get(Store, supplier_order.supplier_store_id)),
        skus=[line.sku for line, _ in chosen],
        days_since_delivery=_days_since_shipped(session, supplier_order, now),
    )
    if refusal:
        raise InvalidInput("line_items", refusal)
    return_request = SupplierReturn(
        supplier_order_id=supplier_order.id,
        status=ReturnStatus.REQUESTED.value,
        reason=reason.value,
        note=note,
        created_at=now,
        lines=[SupplierReturnLine(supplier_order_line_id=line.id, quantity=q) for line, q in chosen],
    )
    session.add(return_request)
    session.flush()
    _changed(uow, order, supplier_order, return_request, "return_requested", actor, now)
    uow.commit()
    return return_request


def decide(
    uow: UnitOfWork, *, store_id: int, return_id: int, approve: bool, message: str | None, now: datetime
) -> SupplierReturn:
    """The supplier approves the return (the goods may come back) or declines it, saying why."""
    order, supplier_order, return_request = _locked_return(uow, store_id, return_id)
    domain.move_return(return_request, ReturnEvent.APPROVE if approve else ReturnEvent.DECLINE)
    return_request.decided_at, return_request.decline_message = now, None if approve else message
    verb = "return_approved" if approve else "return_declined"
    _changed(uow, order, supplier_order, return_request, verb, supplier_actor(uow.session, store_id), now)
    uow.commit()
    return return_request


def close(uow: UnitOfWork, *, store_id: int, return_id: int, restock: bool, now: datetime) -> SupplierReturn:
    """The goods came back: restock them if chosen and refund per policy (restocking fee deducted)."""
    session = uow.session
    order, supplier_order, return_request = _locked_return(uow, store_id, return_id)
    domain.move_return(return_request, ReturnEvent.CLOSE)
    lines = {line.id: line for line in supplier_order.lines}
    wholesale = sum(
        lines[rl.supplier_order_line_id].wholesale_price * rl.quantity for rl in return_request.lines
    )
    refund, fee = domain.return_refund(wholesale, policy_of(session.get(Store, store_id)))
    refund = min(refund, refundable(session, supplier_order))  # never more than was collected
    if restock:
        for rl in sorted(
            return_request.lines, key=lambda rl: lines[rl.supplier_order_line_id].supplier_variant_id
        ):
            inventory.restock(
                session, variant_id=lines[rl.supplier_order_line_id].supplier_variant_id, quantity=rl.quantity
            )
    return_request.restocked, return_request.closed_at = restock, now
    return_request.refund_amount, return_request.restocking_fee = refund, fee
    actor = supplier_actor(session, store_id)
    call = None
    if refund > 0:
        _, call = start_refund(
            uow,
            order,
            supplier_order,
            refund,
            f"return #{return_request.id}",
            actor,
            now,
            return_id=return_request.id,
        )
    _changed(uow, order, supplier_order, return_request, "return_closed", actor, now)
    payments.pay(uow, [call] if call else [], actor=actor, now=now)
    return return_request


def returns_of(session: Session, supplier_order_id: int) -> list[SupplierReturn]:
    return list(
        session.scalars(
            select(SupplierReturn)
            .where(SupplierReturn.supplier_order_id == supplier_order_id)
            .order_by(SupplierReturn.id)
        )
    )


def get_return(uow: UnitOfWork, *, store_id: int, return_id: int) -> SupplierReturn:
    return_request = uow.session.get(SupplierReturn, return_id)
    if return_request is None:
        raise NotFound("return not found")
    get_visible(uow, store_id=store_id, supplier_order_id=return_request.supplier_order_id)
    return return_request


def _returnable(session: Session, supplier_order: SupplierOrder, wanted: list[ReturnLineRequest]):
    lines = {line.id: line for line in supplier_order.lines}
    already = {}
    for earlier in returns_of(session, supplier_order.id):
        if earlier.status in LIVE:
            for rl in earlier.lines:
                already[rl.supplier_order_line_id] = already.get(rl.supplier_order_line_id, 0) + rl.quantity
    chosen = []
    for index, want in enumerate(wanted):
        line = lines.pop(want.line_id, None)
        if line is None:
            raise InvalidInput(
                f"line_items[{index}].id", "not a line of this supplier order (or listed twice)"
            )
        room = line.fulfilled_quantity - already.get(line.id, 0)
        if not 0 < want.quantity <= room:
            raise InvalidInput(f"line_items[{index}].quantity", f"{room} shipped and not yet returned")
        chosen.append((line, want.quantity))
    if not chosen:
        raise InvalidInput("line_items", "choose the items to return")
    return chosen


def _days_since_shipped(session: Session, supplier_order: SupplierOrder, now: datetime) -> float:
    shipped = session.scalar(
        select(Fulfillment.created_at)
        .where(Fulfillment.supplier_order_id == supplier_order.id)
        .order_by(Fulfillment.id.desc())
        .limit(1)
    )
    return (now - shipped).total_seconds() / 86400


def _changed(uow, order, supplier_order, return_request, verb: str, actor: Actor, now: datetime) -> None:
    record(
        uow.session,
        supplier_order,
        [Change(verb, {"return_id": return_request.id, "reason": return_request.reason})],
        actor,
        now,
    )
    uow.publish(events.ReturnChanged(supplier_order, order, return_request.id, actor, now))


def _locked_return(uow: UnitOfWork, store_id: int, return_id: int):
    return_request = get_return(uow, store_id=store_id, return_id=return_id)
    order, supplier_order = lock_for(
        uow, store_id=store_id, supplier_order_id=return_request.supplier_order_id, side="supplier"
    )
    return (
        order,
        supplier_order,
        uow.session.get(SupplierReturn, return_id, with_for_update=True, populate_existing=True),
    )
