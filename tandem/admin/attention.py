"""What needs staff's attention, for the home page's counts and the orders list's filters and
badges: each kind is one SQL condition on an order (or a supplier order, for the supplier)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, select

from tandem.db import UnitOfWork
from tandem.i18n.labels import N_
from tandem.orders.domain import FulfillmentStatus, OrderStatus
from tandem.orders.models import Notice, Order
from tandem.preorders.domain import ScheduleStatus
from tandem.preorders.models import PaymentSchedule
from tandem.suppliers.domain import CancellationStatus, SupplierOrderStatus
from tandem.suppliers.models import SupplierOrder

CHART_DAYS = 30


def _supplier_order(*conditions):
    return exists().where(SupplierOrder.order_id == Order.id, *conditions)


# The retailer's orders, by what they wait for. Order matters: the home page lists them so.
ORDER_ATTENTION = {
    "on_hold": (N_("On hold"), lambda: Order.fulfillment_status == FulfillmentStatus.ON_HOLD.value),
    "in_review": (
        N_("In their review window"),
        lambda: _supplier_order(SupplierOrder.status == SupplierOrderStatus.SCHEDULED.value),
    ),
    "awaiting_request": (
        N_("Awaiting a fulfillment request"),
        lambda: _supplier_order(SupplierOrder.status == SupplierOrderStatus.AWAITING_REQUEST.value),
    ),
    "balance_problem": (
        N_("Failed or overdue balances"),
        lambda: exists().where(
            PaymentSchedule.order_id == Order.id,
            PaymentSchedule.status.in_([ScheduleStatus.FAILED.value, ScheduleStatus.OVERDUE.value]),
        ),
    ),
    "cancellation_request": (
        N_("Cancellation requests waiting for the supplier"),
        lambda: _supplier_order(SupplierOrder.cancellation_status == CancellationStatus.REQUESTED.value),
    ),
    "notice": (
        N_("Manual refunds to record"),
        lambda: exists().where(Notice.order_id == Order.id, Notice.resolved_at.is_(None)),
    ),
}

# The supplier's orders: what it must do, with the list that shows them.
SUPPLIER_ATTENTION = {
    "to_fulfill": (
        N_("Orders to fulfill"),
        lambda: SupplierOrder.status.in_(
            [SupplierOrderStatus.OPEN.value, SupplierOrderStatus.PARTIALLY_FULFILLED.value]
        ),
        "/admin/supplier_orders?status=to_fulfill",
    ),
    "cancellation_request": (
        N_("Cancellation requests to answer"),
        lambda: SupplierOrder.cancellation_status == CancellationStatus.REQUESTED.value,
        "/admin/supplier_orders?status=all",
    ),
}


def order_condition(kind: str):
    return ORDER_ATTENTION[kind][1]()


@dataclass(frozen=True)
class Count:
    kind: str
    label: str
    count: int
    link: str


@dataclass(frozen=True)
class Day:
    day: datetime
    orders: int
    revenue: int


def retailer_counts(uow: UnitOfWork, store_id: int) -> list[Count]:
    open_orders = and_(Order.store_id == store_id, Order.status != OrderStatus.CANCELLED.value)
    columns = [func.count().filter(condition()) for _, condition in ORDER_ATTENTION.values()]
    found = uow.session.execute(select(*columns).where(open_orders)).one()
    return [
        Count(kind, label, n, f"/admin/orders?attention={kind}")
        for (kind, (label, _)), n in zip(ORDER_ATTENTION.items(), found, strict=True)
    ]


def supplier_counts(uow: UnitOfWork, store_id: int) -> list[Count]:
    columns = [func.count().filter(condition()) for _, condition, _ in SUPPLIER_ATTENTION.values()]
    found = uow.session.execute(select(*columns).where(SupplierOrder.supplier_store_id == store_id)).one()
    return [
        Count(kind, label, n, link)
        for (kind, (label, _, link)), n in zip(SUPPLIER_ATTENTION.items(), found, strict=True)
    ]


def order_badges(uow: UnitOfWork, order_ids: list[int]) -> dict[int, list[str]]:
    """For each order of a page of the list, the kinds of attention it needs."""
    if not order_ids:
        return {}
    kinds = [kind for kind in ORDER_ATTENTION if kind != "on_hold"]  # on hold shows as its status
    columns = [ORDER_ATTENTION[kind][1]().label(kind) for kind in kinds]
    rows = uow.session.execute(select(Order.id, *columns).where(Order.id.in_(order_ids)))
    return {row.id: [kind for kind in kinds if getattr(row, kind)] for row in rows}


def daily_sales(uow: UnitOfWork, store_id: int, *, timezone: str, now: datetime, supplier: bool) -> list[Day]:
    """Orders and revenue per day of the last CHART_DAYS days, in the store's time zone."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    first = today - timedelta(days=CHART_DAYS - 1)
    since = first.astimezone(UTC)
    if supplier:
        table, owner, amount = SupplierOrder, SupplierOrder.supplier_store_id, SupplierOrder.wholesale_total
        rows = uow.session.execute(
            select(table.created_at, amount).where(
                owner == store_id,
                table.created_at >= since,
                SupplierOrder.status.not_in(
                    [SupplierOrderStatus.PENDING_PAYMENT.value, SupplierOrderStatus.AWAITING_REQUEST.value]
                ),
            )
        )
    else:
        rows = uow.session.execute(
            select(Order.created_at, Order.total).where(Order.store_id == store_id, Order.created_at >= since)
        )
    days = {(first + timedelta(days=n)).date(): [0, 0] for n in range(CHART_DAYS)}
    for created_at, total in rows:
        moment = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
        bucket = days.get(moment.astimezone(zone).date())
        if bucket is not None:
            bucket[0] += 1
            bucket[1] += total
    return [
        Day(datetime.combine(day, datetime.min.time(), zone), n, revenue)
        for day, (n, revenue) in days.items()
    ]
