"""The orders list's filters (payment and fulfilment status, what needs attention, a date
range in the store's time zone), kept in the URL, and what each row shows beyond the order
itself: the customer's name, the item count and attention badges, read for a page at once."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from tandem.admin import attention
from tandem.db import UnitOfWork
from tandem.orders import export
from tandem.orders.domain import FinancialStatus, FulfillmentStatus
from tandem.orders.models import LineItem, Order
from tandem.orders.schemas import summary_fields

FINANCIAL = [s.value for s in FinancialStatus]
FULFILLMENT = [s.value for s in FulfillmentStatus]
ATTENTION_KINDS = [(kind, label) for kind, (label, _) in attention.ORDER_ATTENTION.items()]


@dataclass(frozen=True)
class Chosen:
    params: dict[str, str] = field(default_factory=dict)  # as they go back into links
    statuses: dict[str, str] = field(default_factory=dict)  # listing.OrderQuery fields
    conditions: tuple = ()

    @property
    def any(self) -> bool:
        return bool(self.params)


@dataclass(frozen=True)
class Row:
    order: dict  # summary_fields
    customer_name: str | None
    items: int
    badges: list[str]

    def __getattr__(self, name):  # the template reads row.name, row.total... as before
        try:
            return self.order[name]
        except KeyError:
            raise AttributeError(name) from None


def chosen(timezone: str, **raw: str) -> Chosen:
    """The filters that make sense; anything else in the URL is ignored, as a list would."""
    params, statuses, conditions = {}, {}, []
    if raw["financial_status"] in FINANCIAL:
        params["financial_status"] = statuses["financial_status"] = raw["financial_status"]
    if raw["fulfillment_status"] in FULFILLMENT:
        params["fulfillment_status"] = statuses["fulfillment_status"] = raw["fulfillment_status"]
    if raw["attention"] in attention.ORDER_ATTENTION:
        params["attention"] = raw["attention"]
        conditions.append(attention.order_condition(raw["attention"]))
    zone = ZoneInfo(timezone)
    if since := _day(raw["since"]):
        params["since"] = since.isoformat()
        conditions.append(Order.created_at >= datetime.combine(since, time.min, zone))
    if until := _day(raw["until"]):
        params["until"] = until.isoformat()
        conditions.append(Order.created_at < datetime.combine(until + timedelta(days=1), time.min, zone))
    return Chosen(params, statuses, tuple(conditions))


def rows(uow: UnitOfWork, orders: list[Order]) -> list[Row]:
    ids = [order.id for order in orders]
    names = export.customer_names(uow, {order.customer_id for order in orders if order.customer_id})
    items = _item_counts(uow, ids)
    badges = attention.order_badges(uow, ids)
    return [
        Row(
            summary_fields(order),
            export.customer_name(order, names),
            items.get(order.id, 0),
            badges.get(order.id, []),
        )
        for order in orders
    ]


def linker(current: dict[str, str]):
    """`link(sort="-total")`: this list's URL with some parameters changed (None drops one)."""

    def link(**changes) -> str:
        merged = {**current, **changes}
        return "?" + urlencode({key: value for key, value in merged.items() if value})

    return link


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _item_counts(uow: UnitOfWork, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    found = uow.session.execute(
        select(LineItem.order_id, func.sum(LineItem.quantity))
        .where(LineItem.order_id.in_(ids))
        .group_by(LineItem.order_id)
    )
    return {order_id: int(count) for order_id, count in found}
