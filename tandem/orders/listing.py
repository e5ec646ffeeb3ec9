"""The orders list: tab filters, search, sort and cursor pagination."""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select

from tandem.customers.models import Customer
from tandem.db import UnitOfWork
from tandem.errors import InvalidInput
from tandem.orders.domain import (
    UNPAID,
    FinancialStatus,
    FulfillmentStatus,
    OrderStatus,
)
from tandem.orders.models import Order

SORTS = {
    "created_at": Order.created_at,
    "updated_at": Order.updated_at,
    "number": Order.number,
    "total": Order.total,
}
# Tabs: Unpaid = pending, authorized, partially_paid, expired; Unfulfilled = not
# fully fulfilled and not cancelled (SPEC §2.2).
SPECIAL_FINANCIAL = {"unpaid": {s.value for s in UNPAID}, "any": None}
SPECIAL_FULFILLMENT = {"unfulfilled": "tab", "any": None}


@dataclass(frozen=True)
class OrderQuery:
    financial_status: str | None = None
    fulfillment_status: str | None = None
    status: str | None = None
    q: str | None = None
    sort: str = "-created_at"
    limit: int = 50
    cursor: str | None = None
    conditions: tuple = ()  # more SQL conditions on Order, from a caller that knows other tables


def list_orders(uow: UnitOfWork, *, store_id: int, query: OrderQuery) -> tuple[list[Order], str | None]:
    column, descending = _sort(query.sort)
    stmt = select(Order).where(Order.store_id == store_id, *_filters(query))
    if query.cursor:
        stmt = stmt.where(_after(column, descending, _decode(query.cursor, column)))
    order_by = (column.desc(), Order.id.desc()) if descending else (column.asc(), Order.id.asc())
    rows = list(uow.session.scalars(stmt.order_by(*order_by).limit(query.limit + 1)))
    page, more = rows[: query.limit], len(rows) > query.limit
    return page, _encode(page[-1], query.sort) if more else None


def _filters(query: OrderQuery) -> list:
    conditions = []
    if query.financial_status:
        values = _values("financial_status", query.financial_status, FinancialStatus, SPECIAL_FINANCIAL)
        if values is not None:
            conditions.append(Order.financial_status.in_(values))
    if query.fulfillment_status:
        conditions += _fulfillment_filter(query.fulfillment_status)
    if query.status:
        values = _values("status", query.status, OrderStatus, {"any": None})
        if values is not None:
            conditions.append(Order.status.in_(values))
    if query.q:
        conditions.append(_search(query.q))
    return conditions + list(query.conditions)


def _fulfillment_filter(raw: str) -> list:
    if raw == "unfulfilled":
        return [
            Order.fulfillment_status != FulfillmentStatus.FULFILLED.value,
            Order.status != OrderStatus.CANCELLED.value,
        ]
    values = _values("fulfillment_status", raw, FulfillmentStatus, {"any": None})
    return [] if values is None else [Order.fulfillment_status.in_(values)]


def _values(field: str, raw: str, enum, special: dict) -> set[str] | None:
    if raw in special:
        return special[raw]
    values = {v.strip() for v in raw.split(",") if v.strip()}
    known = {e.value for e in enum}
    for value in values:
        if value not in known:
            raise InvalidInput(
                field, f"unknown value {value!r}; use one of {', '.join(sorted(known | set(special)))}"
            )
    return values


def _search(text: str):
    text = text.strip()
    digits = text.lstrip("#")
    matches = [
        Order.email.contains(text.lower(), autoescape=True),
        Order.customer_id.in_(
            select(Customer.id).where(
                func.lower(
                    func.coalesce(Customer.first_name, "") + " " + func.coalesce(Customer.last_name, "")
                ).contains(text.lower(), autoescape=True)
            )
        ),
    ]
    if digits.isdigit() and len(digits) < 18:
        matches.append(Order.number == int(digits))
    return or_(*matches)


def _sort(sort: str):
    name = sort.lstrip("-")
    if name not in SORTS:
        raise InvalidInput(
            "sort", f"sort by one of {', '.join(sorted(SORTS))} (prefix - for newest/largest first)"
        )
    return SORTS[name], sort.startswith("-")


def _after(column, descending: bool, key: tuple):
    value, last_id = key
    if descending:
        return or_(column < value, and_(column == value, Order.id < last_id))
    return or_(column > value, and_(column == value, Order.id > last_id))


def _encode(order: Order, sort: str) -> str:
    value = getattr(order, sort.lstrip("-"))
    raw = [value.isoformat() if isinstance(value, datetime) else value, order.id]
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


def _decode(cursor: str, column) -> tuple:
    try:
        value, last_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if column in (Order.created_at, Order.updated_at):
            value = datetime.fromisoformat(value)
        if not isinstance(last_id, int) or (
            column not in (Order.created_at, Order.updated_at) and not isinstance(value, int)
        ):
            raise ValueError
        return value, last_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("cursor", "is not a cursor this list gave out") from None
