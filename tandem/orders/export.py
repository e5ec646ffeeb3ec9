"""Orders as CSV, one row per line item, for a spreadsheet or an accountant.

The rows are produced a page of orders at a time, each page read in its own short read-only
transaction, so an export of any size runs in constant memory and never holds a transaction
open while the client downloads."""

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import replace
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tandem.customers.models import Customer
from tandem.db import UnitOfWork
from tandem.money import to_decimal_string
from tandem.orders import listing
from tandem.orders.models import Fulfillment, Order

PAGE = 500
COLUMNS = (
    "order",
    "date",
    "customer",
    "email",
    "status",
    "financial_status",
    "fulfillment_status",
    "sku",
    "title",
    "quantity",
    "unit_price",
    "line_total",
    "order_total",
    "currency",
    "tracking",
)


def filename(now) -> str:
    return f"orders-{now:%Y-%m-%d}.csv"


def csv_rows(
    read: Callable[[], UnitOfWork], *, store_id: int, query: listing.OrderQuery, timezone: str
) -> Iterator[str]:
    """The header, then the CSV text of each page of orders (UTF-8 once encoded)."""
    zone = ZoneInfo(timezone)
    yield _line(COLUMNS)
    page = replace(query, limit=PAGE, cursor=query.cursor)
    while True:
        with read() as uow:
            orders, cursor = listing.list_orders(uow, store_id=store_id, query=page)
            text = "".join(_line(row) for row in _rows(uow, orders, zone))
        yield text
        if cursor is None:
            return
        page = replace(page, cursor=cursor)


def _rows(uow: UnitOfWork, orders: list[Order], zone: ZoneInfo) -> Iterator[tuple]:
    ids = [order.id for order in orders]
    tracking = _tracking(uow, ids)
    names = customer_names(uow, {order.customer_id for order in orders if order.customer_id})
    for order in orders:
        money = lambda minor, cur=order.currency: to_decimal_string(minor, cur)  # noqa: E731
        head = (
            order.name,
            order.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            customer_name(order, names) or "",
            order.email or "",
            order.status,
            order.financial_status,
            order.fulfillment_status,
        )
        for line in order.line_items:  # loaded with the page (selectin)
            title = (
                line.product_title
                if line.variant_title in ("", "Default")
                else (f"{line.product_title} — {line.variant_title}")
            )
            yield (
                *head,
                line.sku or "",
                title,
                line.quantity,
                money(line.price),
                money(line.price * line.quantity),
                money(order.total),
                order.currency,
                tracking.get(order.id, ""),
            )


def _tracking(uow: UnitOfWork, ids: list[int]) -> dict[int, str]:
    found: dict[int, list[str]] = {}
    rows = uow.session.execute(
        select(Fulfillment.order_id, Fulfillment.tracking_company, Fulfillment.tracking_number)
        .where(Fulfillment.order_id.in_(ids), Fulfillment.tracking_number.is_not(None))
        .order_by(Fulfillment.id)
    )
    for order_id, company, number in rows:
        found.setdefault(order_id, []).append(f"{company} {number}".strip() if company else number)
    return {order_id: "; ".join(numbers) for order_id, numbers in found.items()}


def customer_names(uow: UnitOfWork, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = uow.session.execute(
        select(Customer.id, Customer.first_name, Customer.last_name).where(Customer.id.in_(ids))
    )
    return {row.id: " ".join(p for p in (row.first_name, row.last_name) if p) for row in rows}


def customer_name(order: Order, names: dict[int, str]) -> str | None:
    """The customer's name, or the name on the shipping address."""
    if named := names.get(order.customer_id):
        return named
    address = order.shipping_address or {}
    return " ".join(p for p in (address.get("first_name"), address.get("last_name")) if p) or None


def _line(values) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue()
