"""SPEC §6.2: money balances, order by order.

Captured is what came in (successful sales and captures), refunded what went back (successful
refunds); the order's financial status must say the same, refunds never exceed what they give
back, and no charge is left without the order it was for.
"""

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from tandem.audit.rules import financial_status_problem
from tandem.orders.models import Order, Refund
from tandem.payments.domain import MONEY_IN, Purpose, TransactionKind, TransactionStatus
from tandem.payments.models import PaymentTransaction

SUCCESS = TransactionStatus.SUCCESS.value
PENDING = TransactionStatus.PENDING.value
MONEY_IN_KINDS = tuple(kind.value for kind in MONEY_IN)
CHARGES = (TransactionKind.SALE.value, TransactionKind.AUTHORIZATION.value)
REFUND = TransactionKind.REFUND.value
BETWEEN_STORES = (Purpose.COLLECTIVE.value, Purpose.COLLECTIVE_REFUND.value)


def order_ledgers():
    """Per order: captured, refunded, open authorisations and transactions still in flight."""
    tx, child = PaymentTransaction, aliased(PaymentTransaction)
    ok = tx.status == SUCCESS
    settled = exists().where(
        child.parent_id == tx.id,
        child.status == SUCCESS,
        child.kind.in_((TransactionKind.CAPTURE.value, TransactionKind.VOID.value)),
    )
    open_authorization = ok & (tx.kind == TransactionKind.AUTHORIZATION.value) & ~settled
    return (
        select(
            tx.order_id,
            _sum(ok & tx.kind.in_(MONEY_IN_KINDS), tx.amount).label("captured"),
            _sum(ok & (tx.kind == REFUND), tx.amount).label("refunded"),
            _sum(open_authorization, tx.amount).label("authorized"),
            _sum(tx.status == PENDING, 1).label("in_flight"),
        )
        .where(tx.order_id.is_not(None), tx.purpose.not_in(BETWEEN_STORES))
        .group_by(tx.order_id)
        .subquery()
    )


def _sum(condition, value):
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def refunds_beyond_captured(conn: Connection) -> list[tuple[str, str]]:
    """A refund never exceeds what was captured: per order, and per captured payment."""
    ledger = order_ledgers()
    rows = conn.execute(
        select(ledger.c.order_id, ledger.c.captured, ledger.c.refunded).where(
            ledger.c.refunded > ledger.c.captured
        )
    )
    found = [
        (f"order {order}", f"refunded {refunded}, captured only {captured}")
        for order, captured, refunded in rows
    ]
    return found + _children_beyond_parent(conn, REFUND, "refunded")


def captures_beyond_authorization(conn: Connection) -> list[tuple[str, str]]:
    """A capture never takes more than its authorisation."""
    return _children_beyond_parent(conn, TransactionKind.CAPTURE.value, "captured")


def _children_beyond_parent(conn: Connection, kind: str, verb: str) -> list[tuple[str, str]]:
    parent, child = PaymentTransaction, aliased(PaymentTransaction)
    rows = conn.execute(
        select(parent.id, parent.amount, func.sum(child.amount))
        .join(child, child.parent_id == parent.id)
        .where(child.kind == kind, child.status == SUCCESS)
        .group_by(parent.id, parent.amount)
        .having(func.sum(child.amount) > parent.amount)
    )
    return [
        (f"payment_transactions {tx}", f"{verb} {int(total)} of a payment of {amount}")
        for tx, amount, total in rows
    ]


def captured_beyond_total(conn: Connection) -> list[tuple[str, str]]:
    """An order is never charged more than its total."""
    ledger = order_ledgers()
    rows = conn.execute(
        select(Order.id, Order.total, ledger.c.captured)
        .join(ledger, ledger.c.order_id == Order.id)
        .where(ledger.c.captured > Order.total)
    )
    return [
        (f"order {order}", f"captured {captured}, its total is {total}") for order, total, captured in rows
    ]


def financial_status_disagrees(conn: Connection) -> list[tuple[str, str]]:
    """Captured − refunded is what the order's financial status says (orders with a payment in
    flight are left to its sweeper)."""
    ledger = order_ledgers()
    rows = conn.execute(
        select(
            Order.id,
            Order.financial_status,
            Order.total,
            func.coalesce(ledger.c.captured, 0),
            func.coalesce(ledger.c.refunded, 0),
            func.coalesce(ledger.c.authorized, 0),
        )
        .outerjoin(ledger, ledger.c.order_id == Order.id)
        .where(func.coalesce(ledger.c.in_flight, 0) == 0)
    )
    found = []
    for order, status, total, captured, refunded, authorized in rows:
        problem = financial_status_problem(status, int(total), int(captured), int(refunded), int(authorized))
        if problem:
            found.append((f"order {order}", problem))
    return found


def refunds_beyond_their_amount(conn: Connection) -> list[tuple[str, str]]:
    """A refund's successful transactions give back no more than the refund's amount."""
    tx = PaymentTransaction
    paid = func.sum(tx.amount)
    rows = conn.execute(
        select(Refund.id, Refund.order_id, Refund.amount, paid)
        .join(tx, and_(tx.refund_id == Refund.id, tx.status == SUCCESS, tx.kind == REFUND))
        .group_by(Refund.id, Refund.order_id, Refund.amount)
        .having(paid > Refund.amount)
    )
    return [
        (f"refunds {refund}", f"order {order}: refund of {amount}, but {int(total)} went back")
        for refund, order, amount, total in rows
    ]


def orphan_charges_query():
    """Successful charges that belong to no order and no supplier order and were not reversed."""
    tx, reversal = PaymentTransaction, aliased(PaymentTransaction)
    reversed_ = exists().where(reversal.parent_id == tx.id, reversal.status == SUCCESS)
    return select(tx.id, tx.store_id, tx.amount).where(
        tx.order_id.is_(None),
        tx.supplier_order_id.is_(None),  # a collective payment to the supplier has no order
        tx.kind.in_(CHARGES),
        tx.status == SUCCESS,
        ~reversed_,
    )


def orphan_charges(conn: Connection) -> list[tuple[str, str]]:
    """Every successful charge belongs to an order (or a supplier order), or was given back."""
    rows = conn.execute(orphan_charges_query())
    return [
        (f"payment_transactions {tx}", f"store {store}: charged {amount} for no order, never reversed")
        for tx, store, amount in rows
    ]
