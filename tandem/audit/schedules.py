"""SPEC §6.2 for pre-orders: each payment schedule is charged at most once, for its amount, and
is paid exactly when it was charged; a cancelled order has nothing left to collect."""

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from tandem.audit.money import MONEY_IN_KINDS, SUCCESS
from tandem.orders.domain import OrderStatus
from tandem.orders.models import Order
from tandem.payments.domain import Purpose
from tandem.payments.models import PaymentTransaction
from tandem.preorders.domain import UNPAID, ScheduleStatus
from tandem.preorders.models import PaymentSchedule

UNPAID_STATUSES = tuple(status.value for status in UNPAID)


def schedule_charges_disagree(conn: Connection) -> list[tuple[str, str]]:
    """A charged schedule is paid, charged once, for its amount."""
    schedule, tx = PaymentSchedule, PaymentTransaction
    charge = and_(
        tx.payment_schedule_id == schedule.id,
        tx.purpose == Purpose.SCHEDULE.value,
        tx.kind.in_(MONEY_IN_KINDS),
        tx.status == SUCCESS,
    )
    rows = conn.execute(
        select(schedule.id, schedule.status, schedule.amount, func.count(tx.id), func.sum(tx.amount))
        .join(tx, charge)
        .group_by(schedule.id, schedule.status, schedule.amount)
    )
    found = []
    for schedule_id, status, amount, count, charged in rows:
        row = f"payment_schedules {schedule_id}"
        if count > 1:
            found.append((row, f"charged {count} times ({int(charged)} for {amount})"))
        elif status != ScheduleStatus.PAID.value:
            found.append((row, f"charged {int(charged)}, but the schedule is {status}"))
        elif charged != amount:
            found.append((row, f"charged {int(charged)} for a balance of {amount}"))
    return found


def schedules_of_cancelled_orders(conn: Connection) -> list[tuple[str, str]]:
    """Cancelling an order cancels what it still owed."""
    rows = conn.execute(
        select(PaymentSchedule.id, PaymentSchedule.status, Order.id)
        .join(Order, Order.id == PaymentSchedule.order_id)
        .where(Order.status == OrderStatus.CANCELLED.value, PaymentSchedule.status.in_(UNPAID_STATUSES))
    )
    return [
        (f"payment_schedules {schedule}", f"still {status}, but order {order} is cancelled")
        for schedule, status, order in rows
    ]
