"""Order use cases: each checks the transition tables, changes state, writes the timeline
and any side-effect rows in one transaction, then (for money) calls the gateway."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tandem.db import UnitOfWork
from tandem.errors import Conflict, InvalidInput, NotFound, PaymentFailed
from tandem.money import parse_field
from tandem.orders import domain, events
from tandem.orders.domain import Action, HoldReason, LineProgress, PaymentEvent
from tandem.orders.models import FulfillmentHold, Notice, Order
from tandem.payments import domain as payment_domain
from tandem.payments import service as payments
from tandem.payments.domain import PaymentTotals, Purpose, TransactionKind, TransactionStatus
from tandem.payments.models import PaymentTransaction
from tandem.suppliers import domain as supplier_domain
from tandem.suppliers.models import SupplierOrder
from tandem.timeline import service as timeline
from tandem.timeline.domain import Actor, Change

# -- reading ---------------------------------------------------------------------------------


def get_order(uow: UnitOfWork, *, store_id: int, order_id: int) -> Order:
    order = uow.session.scalar(select(Order).where(Order.id == order_id, Order.store_id == store_id))
    if order is None:
        raise NotFound("order not found")
    return order


def transactions_of(session: Session, order_id: int) -> list[PaymentTransaction]:
    return list(
        session.scalars(
            select(PaymentTransaction)
            .where(PaymentTransaction.order_id == order_id)
            .order_by(PaymentTransaction.id)
        )
    )


def notices_of(session: Session, order_id: int) -> list[Notice]:
    return list(session.scalars(select(Notice).where(Notice.order_id == order_id).order_by(Notice.id)))


def payment_totals(session: Session, order_id: int) -> PaymentTotals:
    return payment_domain.totals(transactions_of(session, order_id))


# -- payments --------------------------------------------------------------------------------


def capture_order(
    uow: UnitOfWork, *, store_id: int, order_id: int, amount: Decimal | None, actor: Actor, now: datetime
) -> Order:
    """Capture an authorised payment (all of it unless `amount` says less)."""
    session = uow.session
    order = lock_order(session, store_id, order_id)
    domain.ensure_allowed(order, Action.CAPTURE)
    txs = transactions_if_idle(session, order)
    authorization = payment_domain.open_authorizations(txs)[-1]
    amount = authorization.amount if amount is None else parse_field(amount, order.currency, "amount")
    if not 0 < amount <= authorization.amount:
        raise InvalidInput("amount", f"must be between 0 and the authorised {authorization.amount}")
    tx = payments.begin(
        session,
        store_id=store_id,
        kind=TransactionKind.CAPTURE,
        purpose=Purpose.ORDER_CAPTURE,
        amount=amount,
        currency=order.currency,
        gateway=authorization.gateway,
        now=now,
        order_id=order.id,
        parent_id=authorization.id,
    )
    settled = run_payments(uow, [payments.call_for(session, tx)], actor, now)
    raise_unless_succeeded(settled, "capture")
    return order


def mark_as_paid(uow: UnitOfWork, *, store_id: int, order_id: int, actor: Actor, now: datetime) -> Order:
    """Record that the outstanding amount was received outside the gateway."""
    session = uow.session
    order = lock_order(session, store_id, order_id)
    domain.ensure_allowed(order, Action.MARK_AS_PAID)
    totals = payment_domain.totals(transactions_if_idle(session, order))
    outstanding = order.total - totals.net_paid
    if outstanding <= 0:
        raise Conflict("nothing is left to pay", code="nothing_outstanding")
    payments.record_manual(
        session, store_id=store_id, order_id=order.id, amount=outstanding, currency=order.currency, now=now
    )
    previous = order.financial_status
    net_paid = payment_totals(session, order.id).net_paid
    event = domain.money_in_event(net_paid=net_paid, total=order.total)
    changes = [Change("marked_as_paid", {"amount": outstanding}), *domain.apply_payment(order, event)]
    record(session, order, changes, actor, now)
    publish_financial(uow, order, previous, actor, now)
    uow.commit()
    return order


def finish_payment(
    uow: UnitOfWork, tx: PaymentTransaction, call, *, actor: Actor, now: datetime, by_worker: bool
) -> None:
    """Finisher (captures, voids, refunds of orders): move the order by the settled payment."""
    session = uow.session
    order = session.get(Order, tx.order_id, with_for_update=True, populate_existing=True)
    previous = order.financial_status
    session.flush()
    changes = _settled_changes(session, order, tx)
    record(session, order, changes, actor, now)
    publish_financial(uow, order, previous, actor, now)
    _publish_refund_outcome(uow, order, tx, actor, now)


def _publish_refund_outcome(
    uow: UnitOfWork, order: Order, tx: PaymentTransaction, actor: Actor, now: datetime
) -> None:
    if tx.kind != TransactionKind.REFUND or tx.refund_id is None:
        return
    if tx.status != TransactionStatus.SUCCESS:
        uow.publish(events.ManualRefundRequired(order, tx.amount, tx.message or "", actor, now))
        return
    siblings = uow.session.scalars(
        select(PaymentTransaction.status).where(PaymentTransaction.refund_id == tx.refund_id)
    )
    if all(status == TransactionStatus.SUCCESS for status in siblings):
        uow.publish(events.RefundSucceeded(order, tx.refund_id, actor, now))


def _settled_changes(session: Session, order: Order, tx: PaymentTransaction) -> list[Change]:
    kind, ok = TransactionKind(tx.kind), tx.status == TransactionStatus.SUCCESS
    changes = [
        Change(
            f"{kind.value}_{'succeeded' if ok else 'failed'}", {"amount": tx.amount, "message": tx.message}
        )
    ]
    if not ok:
        if kind is TransactionKind.REFUND:
            changes += notice_manual_refund(session, order, tx)
        return changes
    totals = payment_totals(session, order.id)
    if kind is TransactionKind.CAPTURE:
        event = domain.money_in_event(net_paid=totals.net_paid, total=order.total)
    elif kind is TransactionKind.VOID:
        event = PaymentEvent.VOID
    else:
        event = domain.refund_event(refunded=totals.refunded, captured=totals.captured)
    return changes + domain.apply_payment(order, event)


def notice_manual_refund(session: Session, order: Order, tx: PaymentTransaction) -> list[Change]:
    session.add(
        Notice(
            order_id=order.id,
            kind="manual_refund_required",
            amount=tx.amount,
            message=f"The refund could not go back automatically ({tx.message}); "
            "refund the customer manually.",
            created_at=tx.processed_at,
        )
    )
    return [Change("manual_refund_required", {"amount": tx.amount})]


def run_payments(
    uow: UnitOfWork, calls: list[payments.GatewayCall], actor: Actor, now: datetime
) -> list[PaymentTransaction | None]:
    """The payment sequence for order operations (see payments.service.pay)."""
    return payments.pay(uow, calls, actor=actor, now=now)


def raise_unless_succeeded(settled: list[PaymentTransaction | None], what: str) -> None:
    for tx in settled:
        if tx is None:
            raise PaymentFailed(
                f"the {what} could not be confirmed; it will be settled shortly", code="payment_pending"
            )
        if tx.status != TransactionStatus.SUCCESS:
            raise PaymentFailed(f"{what} failed: {tx.message}")


def transactions_if_idle(session: Session, order: Order) -> list[PaymentTransaction]:
    txs = transactions_of(session, order.id)
    if payment_domain.totals(txs).operation_pending:
        raise Conflict("a payment operation on this order is still in progress", code="payment_in_progress")
    return txs


def expire_authorization(uow: UnitOfWork, *, order_id: int, now: datetime) -> None:
    """Job: a 7-day-old authorisation lapses (the gateway will not capture it any more)."""
    order = uow.session.get(Order, order_id, with_for_update=True)
    if order is None or order.financial_status != domain.FinancialStatus.AUTHORIZED:
        return
    previous = order.financial_status
    changes = [Change("authorization_expired", {}), *domain.apply_payment(order, PaymentEvent.EXPIRE)]
    from tandem.timeline.domain import WORKER

    record(uow.session, order, changes, WORKER, now)
    publish_financial(uow, order, previous, WORKER, now)
    uow.commit()


# -- holds -----------------------------------------------------------------------------------


def place_hold(
    uow: UnitOfWork,
    *,
    store_id: int,
    order_id: int,
    reason: HoldReason,
    note: str | None,
    actor: Actor,
    now: datetime,
) -> Order:
    order = lock_order(uow.session, store_id, order_id)
    hold_order(uow, order, reason=reason, note=note, actor=actor, now=now)
    uow.commit()
    return order


def hold_order(
    uow: UnitOfWork, order: Order, *, reason: HoldReason, note: str | None, actor: Actor, now: datetime
) -> None:
    """Put a locked order on hold inside the caller's transaction (a use case, or a rule)."""
    domain.ensure_allowed(order, Action.HOLD)
    order.holds.append(
        FulfillmentHold(order_id=order.id, reason=reason.value, note=note, held_by=actor.name, created_at=now)
    )
    changes = [Change("hold_placed", {"reason": reason.value, "note": note})]
    changes += refresh_fulfillment(uow.session, order)
    record(uow.session, order, changes, actor, now)
    uow.publish(events.OrderHoldsChanged(order, actor, now))


def release_holds(
    uow: UnitOfWork, *, store_id: int, order_id: int, hold_ids: list[int] | None, actor: Actor, now: datetime
) -> Order:
    session = uow.session
    order = lock_order(session, store_id, order_id)
    domain.ensure_allowed(order, Action.RELEASE_HOLD)
    active = {h.id: h for h in order.active_holds}
    chosen = list(active) if hold_ids is None else hold_ids
    for index, hold_id in enumerate(chosen):
        if hold_id not in active:
            raise InvalidInput(f"hold_ids[{index}]", "no active hold with this id on the order")
    changes = []
    for hold_id in chosen:
        active[hold_id].released_at, active[hold_id].released_by = now, actor.name
        changes.append(Change("hold_released", {"reason": active[hold_id].reason}))
    changes += refresh_fulfillment(session, order)
    record(session, order, changes, actor, now)
    uow.publish(events.OrderHoldsChanged(order, actor, now))
    uow.commit()
    return order


def refresh_fulfillment(
    session: Session, order: Order, supplier_statuses: list[str] | None = None
) -> list[Change]:
    """Move fulfillment_status to what the facts now say (checked against the table)."""
    if supplier_statuses is None:
        supplier_statuses = _supplier_statuses(session, order)
    lines = [LineProgress(li.quantity, li.fulfilled_quantity, li.removed_quantity) for li in order.line_items]
    target = domain.derive_fulfillment(
        lines, active_holds=len(order.active_holds), supplier_statuses=supplier_statuses
    )
    return domain.move_fulfillment(order, target)


def _supplier_statuses(session: Session, order: Order) -> list[str]:
    """What the order's supplier orders say about its fulfilment (scheduled, open, declined)."""
    if not any(line.supplier_store_id for line in order.line_items):
        return []
    supplier_orders = session.scalars(select(SupplierOrder).where(SupplierOrder.order_id == order.id))
    return [s for s in map(supplier_domain.retailer_fulfillment_signal, supplier_orders) if s]


# -- archive ---------------------------------------------------------------------------------


def archive_order(
    uow: UnitOfWork, *, store_id: int, order_id: int, archived: bool, actor: Actor, now: datetime
) -> Order:
    session = uow.session
    order = lock_order(session, store_id, order_id)
    action, event = (
        (Action.ARCHIVE, domain.StatusEvent.ARCHIVE)
        if archived
        else (Action.UNARCHIVE, domain.StatusEvent.UNARCHIVE)
    )
    domain.ensure_allowed(order, action)
    record(session, order, domain.move_status(order, event), actor, now)
    uow.commit()
    return order


# -- helpers shared by the order use cases ---------------------------------------------------


def lock_order(session: Session, store_id: int, order_id: int) -> Order:
    order = session.scalar(
        select(Order)
        .where(Order.id == order_id, Order.store_id == store_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if order is None:
        raise NotFound("order not found")
    return order


def record(session: Session, order: Order, changes: list[Change], actor: Actor, now: datetime) -> None:
    order.updated_at = now
    timeline.record(
        session,
        store_id=order.store_id,
        subject_type="order",
        subject_id=order.id,
        changes=changes,
        actor=actor,
        now=now,
    )


def publish_financial(uow: UnitOfWork, order: Order, previous: str, actor: Actor, now: datetime) -> None:
    if order.financial_status != previous:
        uow.publish(events.OrderFinancialStatusChanged(order, previous, actor, now))
