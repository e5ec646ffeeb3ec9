"""SPEC §6.2 and §6.3 for the retailer–supplier flow: collective payments and supplier refunds
add up, and no supplier order was opened while its retailer order was held, unpaid, cancelled
or inside the delay."""

from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Connection

from tandem.audit.money import BETWEEN_STORES, MONEY_IN_KINDS, PENDING, REFUND, SUCCESS
from tandem.orders.models import FulfillmentHold, Order
from tandem.payments.domain import Purpose
from tandem.payments.models import PaymentTransaction
from tandem.suppliers.domain import CollectivePaymentStatus as P
from tandem.suppliers.domain import SupplierOrderStatus, SupplierRefundStatus
from tandem.suppliers.models import SupplierOrder, SupplierRefund
from tandem.timeline.models import Event

COLLECTED = (P.PAID.value, P.PARTIALLY_REFUNDED.value, P.REFUNDED.value)
COUNTED_REFUNDS = (
    SupplierRefundStatus.PENDING.value,
    SupplierRefundStatus.SUCCEEDED.value,
    SupplierRefundStatus.MANUAL_PENDING.value,
    SupplierRefundStatus.SENT.value,
)


def collective_payments_disagree(conn: Connection) -> list[tuple[str, str]]:
    """A supplier order's collective payment was charged at most once, only once requested, and
    for the amount owed."""
    tx, so = PaymentTransaction, SupplierOrder
    charged = tx.status == SUCCESS
    rows = conn.execute(
        select(so.id, so.payment_status, so.payment_amount, func.count(tx.id), func.sum(tx.amount))
        .join(tx, and_(tx.supplier_order_id == so.id, tx.purpose == Purpose.COLLECTIVE.value, charged))
        .group_by(so.id, so.payment_status, so.payment_amount)
    )
    found = []
    for order, status, owed, count, amount in rows:
        if count > 1:
            found.append((f"supplier_orders {order}", f"collective payment charged {count} times"))
        elif status not in COLLECTED:
            found.append((f"supplier_orders {order}", f"charged {amount}, but the payment is {status}"))
        elif amount != owed:
            found.append((f"supplier_orders {order}", f"charged {amount} for a payment of {owed}"))
    return found


def supplier_refunds_beyond_collected(conn: Connection) -> list[tuple[str, str]]:
    """A supplier never refunds a retailer more than it collected for the supplier order."""
    so, refund = SupplierOrder, SupplierRefund
    collected = case((so.payment_status.in_(COLLECTED), so.payment_amount), else_=0)
    total = func.sum(refund.amount)
    rows = conn.execute(
        select(so.id, collected, total)
        .join(refund, and_(refund.supplier_order_id == so.id, refund.status.in_(COUNTED_REFUNDS)))
        .group_by(so.id, so.payment_status, so.payment_amount)
        .having(total > collected)
    )
    return [
        (f"supplier_orders {order}", f"refunds of {int(refunded)} for {int(paid)} collected")
        for order, paid, refunded in rows
    ]


def supplier_refunds_disagree(conn: Connection) -> list[tuple[str, str]]:
    """A refund through the gateway succeeded exactly when its transaction did, for its amount."""
    refund, tx = SupplierRefund, PaymentTransaction
    succeeded = refund.status == SupplierRefundStatus.SUCCEEDED.value
    agreed = (tx.status == SUCCESS) == succeeded
    rows = conn.execute(
        select(refund.id, refund.status, refund.amount, tx.status, tx.amount)
        .join(tx, tx.id == refund.transaction_id)
        .where(tx.status != PENDING)  # in flight: settled by its sweeper
        .where(~agreed | (succeeded & (tx.amount != refund.amount)) | (tx.kind != REFUND))
    )
    return [
        (
            f"supplier_refunds {rid}",
            f"refund {status} for {amount}, its transaction {tx_status} for {tx_amount}",
        )
        for rid, status, amount, tx_status, tx_amount in rows
    ]


def opened_too_early(conn: Connection) -> list[tuple[str, str]]:
    """A supplier order was opened only after its retailer order was paid (unless the retailer
    requested fulfilment), after the delay, while not held and not cancelled."""
    so, order = SupplierOrder, Order
    rows = conn.execute(
        select(so.id, so.opened_at, so.release_at, order.cancelled_at, _paid_at(), _held_at(), _requested())
        .join(order, order.id == so.order_id)
        .where(so.opened_at.is_not(None))
    )
    found = []
    for supplier_order, opened_at, release_at, cancelled_at, paid_at, holds, requested in rows:
        for problem in _early(opened_at, release_at, cancelled_at, paid_at, holds, requested):
            found.append((f"supplier_orders {supplier_order}", problem))
    return found


def _early(opened_at, release_at, cancelled_at, paid_at, holds, requested) -> list[str]:
    problems = []
    if cancelled_at is not None and cancelled_at < opened_at:
        problems.append(f"opened at {opened_at:%Y-%m-%d %H:%M:%S}, after its order was cancelled")
    if release_at is not None and release_at > opened_at:
        problems.append(f"opened before the delay ended ({release_at:%Y-%m-%d %H:%M:%S})")
    if holds:
        problems.append("opened while its order was on hold")
    if not requested and (paid_at is None or paid_at > opened_at):
        problems.append("opened before its order was paid")
    return problems


def _paid_at():
    tx = PaymentTransaction
    return (
        select(func.min(tx.processed_at))
        .where(
            tx.order_id == SupplierOrder.order_id,
            tx.kind.in_(MONEY_IN_KINDS),
            tx.status == SUCCESS,
            tx.purpose.not_in(BETWEEN_STORES),
        )
        .scalar_subquery()
    )


def _held_at():
    hold, so = FulfillmentHold, SupplierOrder
    return (
        select(func.count(hold.id))
        .where(
            hold.order_id == so.order_id,
            hold.created_at < so.opened_at,
            hold.released_at.is_(None) | (hold.released_at > so.opened_at),
        )
        .scalar_subquery()
    )


def _requested():
    """The retailer asked for fulfilment (manual capture): the order need not be paid."""
    return (
        select(func.count(Event.id))
        .where(
            Event.subject_type == "supplier_order",
            Event.subject_id == SupplierOrder.id,
            Event.verb == "supplier_order_status_changed",
            Event.data["from"].as_string() == SupplierOrderStatus.AWAITING_REQUEST.value,
        )
        .scalar_subquery()
    )
