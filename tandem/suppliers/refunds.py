"""The supplier refunds the retailer (SPEC §2.3): with automatic payments the money goes
back through the gateway at once; otherwise the supplier sends it by hand (the refund is
`manual_pending`, the retailer is told) and marks it sent. Never more than was collected."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tandem.db import UnitOfWork
from tandem.errors import Conflict, InvalidInput, NotFound
from tandem.money import parse_field
from tandem.orders.models import Order
from tandem.payments import service as payments
from tandem.payments.domain import Purpose, TransactionKind, TransactionStatus
from tandem.payments.models import PaymentTransaction
from tandem.suppliers import domain, events
from tandem.suppliers.domain import CollectivePaymentStatus, SupplierRefundStatus
from tandem.suppliers.models import SupplierOrder, SupplierRefund
from tandem.suppliers.supplier_orders import lock_for, record, supplier_actor
from tandem.timeline.domain import WORKER, Actor, Change

COUNTED = (
    SupplierRefundStatus.PENDING,
    SupplierRefundStatus.SUCCEEDED,
    SupplierRefundStatus.MANUAL_PENDING,
    SupplierRefundStatus.SENT,
)
RECEIVED = (SupplierRefundStatus.SUCCEEDED, SupplierRefundStatus.SENT)


def refund_retailer(
    uow: UnitOfWork,
    *,
    store_id: int,
    supplier_order_id: int,
    amount: Decimal,
    note: str | None,
    now: datetime,
) -> SupplierRefund:
    order, supplier_order = lock_for(
        uow, store_id=store_id, supplier_order_id=supplier_order_id, side="supplier"
    )
    minor = parse_field(amount, supplier_order.currency, "amount")
    actor = supplier_actor(uow.session, store_id)
    refund, call = start_refund(uow, order, supplier_order, minor, note, actor, now)
    payments.pay(uow, [call] if call else [], actor=actor, now=now)
    return refund


def start_refund(
    uow: UnitOfWork,
    order: Order,
    supplier_order: SupplierOrder,
    amount: int,
    note: str | None,
    actor: Actor,
    now: datetime,
    return_id: int | None = None,
):
    """Write the refund (and its pending gateway transaction) in the caller's transaction."""
    _check(uow.session, supplier_order, amount)
    charge = _charge(uow.session, supplier_order) if supplier_order.automatic_payments else None
    refund = SupplierRefund(
        supplier_order_id=supplier_order.id,
        amount=amount,
        note=note,
        return_id=return_id,
        status=(SupplierRefundStatus.PENDING if charge else SupplierRefundStatus.MANUAL_PENDING).value,
        created_at=now,
    )
    uow.session.add(refund)
    uow.session.flush()
    record(
        uow.session,
        supplier_order,
        [Change("supplier_refund_created", {"amount": amount, "note": note})],
        actor,
        now,
    )
    if charge is None:
        uow.publish(events.SupplierRefundManual(supplier_order, order, amount, actor, now))
        return refund, None
    tx = payments.begin(
        uow.session,
        store_id=supplier_order.retailer_store_id,
        kind=TransactionKind.REFUND,
        purpose=Purpose.COLLECTIVE_REFUND,
        amount=amount,
        currency=supplier_order.currency,
        gateway=charge.gateway,
        now=now,
        parent_id=charge.id,
        supplier_order_id=supplier_order.id,
    )
    refund.transaction_id = tx.id
    return refund, payments.call_for(uow.session, tx)


def finish_refund(
    uow: UnitOfWork, tx: PaymentTransaction, call, *, actor: Actor, now: datetime, by_worker: bool
) -> None:
    """Finisher (Purpose.COLLECTIVE_REFUND): the refund follows its settled transaction."""
    refund = uow.session.scalar(select(SupplierRefund).where(SupplierRefund.transaction_id == tx.id))
    supplier_order = uow.session.get(
        SupplierOrder, refund.supplier_order_id, with_for_update=True, populate_existing=True
    )
    ok = tx.status == TransactionStatus.SUCCESS
    domain.move_refund(refund, SupplierRefundStatus.SUCCEEDED if ok else SupplierRefundStatus.FAILED)
    refund.settled_at = now
    verb = "supplier_refund_succeeded" if ok else "supplier_refund_failed"
    record(
        uow.session,
        supplier_order,
        [Change(verb, {"amount": refund.amount, "message": tx.message})],
        WORKER,
        now,
    )
    if ok:
        _update_payment_status(uow.session, supplier_order)


def mark_sent(
    uow: UnitOfWork, *, store_id: int, supplier_order_id: int, refund_id: int, now: datetime
) -> SupplierRefund:
    """The supplier sent a manual refund (or one the gateway refused) by hand."""
    _, supplier_order = lock_for(uow, store_id=store_id, supplier_order_id=supplier_order_id, side="supplier")
    refund = uow.session.scalar(
        select(SupplierRefund).where(
            SupplierRefund.id == refund_id, SupplierRefund.supplier_order_id == supplier_order.id
        )
    )
    if refund is None:
        raise NotFound("refund not found")
    domain.move_refund(refund, SupplierRefundStatus.SENT)
    refund.settled_at = now
    record(
        uow.session,
        supplier_order,
        [Change("supplier_refund_sent", {"amount": refund.amount})],
        supplier_actor(uow.session, store_id),
        now,
    )
    _update_payment_status(uow.session, supplier_order)
    uow.commit()
    return refund


def refunds_of(session: Session, supplier_order_id: int) -> list[SupplierRefund]:
    return list(
        session.scalars(
            select(SupplierRefund)
            .where(SupplierRefund.supplier_order_id == supplier_order_id)
            .order_by(SupplierRefund.id)
        )
    )


def refundable(session: Session, supplier_order: SupplierOrder) -> int:
    promised = sum(r.amount for r in refunds_of(session, supplier_order.id) if r.status in COUNTED)
    return domain.collected(supplier_order) - promised


def _check(session: Session, supplier_order: SupplierOrder, amount: int) -> None:
    if domain.collected(supplier_order) == 0:
        raise Conflict("nothing was collected from the retailer for this order", code="nothing_collected")
    room = refundable(session, supplier_order)
    if not 0 < amount <= room:
        raise InvalidInput(
            "amount", f"can refund between 0 and {room} minor units (what was collected and not refunded yet)"
        )


def _charge(session: Session, supplier_order: SupplierOrder) -> PaymentTransaction | None:
    """The successful gateway charge of the collective payment, if it went through the gateway."""
    return session.scalar(
        select(PaymentTransaction).where(
            PaymentTransaction.supplier_order_id == supplier_order.id,
            PaymentTransaction.purpose == Purpose.COLLECTIVE,
            PaymentTransaction.kind == TransactionKind.SALE,
            PaymentTransaction.status == TransactionStatus.SUCCESS,
        )
    )


def _update_payment_status(session: Session, supplier_order: SupplierOrder) -> None:
    received = sum(r.amount for r in refunds_of(session, supplier_order.id) if r.status in RECEIVED)
    target = (
        CollectivePaymentStatus.REFUNDED
        if received >= supplier_order.payment_amount
        else CollectivePaymentStatus.PARTIALLY_REFUNDED
    )
    domain.move_payment(supplier_order, target)
