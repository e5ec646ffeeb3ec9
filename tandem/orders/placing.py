"""Placing the orders of paid (or nothing-due) checkouts, a batch at a time.

Every order of a batch is written with one statement per table (orders, lines, timeline,
jobs), in the caller's transaction; the orders come back as plain records the response and
the emails are built from, so nothing is read back. Domains that follow new orders (rules,
supplier orders, payment schedules, emails and webhooks) get one `OrdersPlaced` event for
the batch and decide from the records and their caches which orders concern them.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tandem.db import UnitOfWork, insert_statement, next_ids
from tandem.orders import domain
from tandem.orders.domain import PaymentEvent
from tandem.orders.events import OrdersPlaced
from tandem.orders.models import LineItem, Order
from tandem.payments.domain import TransactionKind
from tandem.stores import numbers
from tandem.timeline import service as timeline
from tandem.timeline.domain import Actor, Change
from tandem.timeline.models import Event
from tandem.worker import service as jobs

EXPIRE_AUTHORIZATION = "orders.expire_authorization"


@dataclass
class PlacedLine:
    """A line item as written (the same fields as LineItem)."""

    id: int
    variant_id: int
    stock_variant_id: int
    product_title: str
    variant_title: str
    sku: str | None
    quantity: int
    price: int
    stock_allocated: bool
    supplier_store_id: int | None
    wholesale_price: int | None
    selling_plan_id: int | None
    fulfilled_quantity: int = 0
    removed_quantity: int = 0
    refunded_quantity: int = 0
    returned_quantity: int = 0

    @property
    def fulfillable_quantity(self) -> int:
        return self.quantity - self.fulfilled_quantity - self.removed_quantity


@dataclass
class PlacedOrder:
    """An order as written (the fields of Order), with what the response shows of it."""

    id: int
    store_id: int
    number: int
    checkout_id: int | None
    customer_id: int | None
    email: str
    currency: str
    subtotal: int
    shipping_total: int
    total: int
    status: str
    financial_status: str
    fulfillment_status: str
    shipping_address: dict
    billing_address: dict | None
    created_at: datetime
    updated_at: datetime
    line_items: list[PlacedLine]
    transactions: list = field(default_factory=list)
    events: list = field(default_factory=list)
    tags: list = field(default_factory=list)
    actor: Actor | None = None  # who placed it
    # Set by a follower that changed the order in the database: show it as stored, not as placed.
    changed_by_followers: bool = False
    json: str | None = None  # as the API shows it (orders.schemas.placed_order_json), made once
    cancel_reason: str | None = None
    cancelled_at: datetime | None = None
    note: str | None = None
    holds: list = field(default_factory=list)
    fulfillments: list = field(default_factory=list)
    refunds: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"#{self.number}"

    @property
    def active_holds(self) -> list:
        return []

    @property
    def paid_at_placing(self) -> bool:
        return self.financial_status == domain.FinancialStatus.PAID


@dataclass(frozen=True)
class Placement:
    """A checkout to turn into an order: its payment (None when nothing was due) and the
    ids of the lines whose stock is taken when they ship."""

    checkout: object  # checkout fields and `lines` (a Checkout or a record of one)
    payment: object | None  # the settled transaction (fields of PaymentTransaction)
    actor: Actor
    stock_later: frozenset[int] = frozenset()


def place(uow: UnitOfWork, placements: list[Placement], now: datetime) -> list[PlacedOrder]:
    """Write the orders, their lines and timelines (sent with the transaction's other writes,
    uow.writes); followers act in the same transaction."""
    if not placements:
        return []
    orders = _new_orders(uow, placements, now)
    changes = [_money_in(order, p.payment) for order, p in zip(orders, placements, strict=True)]
    entries = [
        (order.store_id, "order", order, change, p.actor)
        for order, p, order_changes in zip(orders, placements, changes, strict=True)
        for change in order_changes
    ]
    lines = sum(len(p.checkout.lines) for p in placements)
    ids = next_ids(
        uow.session, {Order.__table__: len(orders), LineItem.__table__: lines, Event.__table__: len(entries)}
    )
    for order, p, order_id in zip(orders, placements, ids[Order.__table__], strict=True):
        order.id, order.actor = order_id, p.actor
    _insert_orders(uow, orders)
    _insert_lines(uow, placements, orders, iter(ids[LineItem.__table__]))
    _expire_authorizations(uow, orders, now)
    recorded = timeline.record_later(
        uow,
        [(store_id, kind, order.id, change, actor) for store_id, kind, order, change, actor in entries],
        now,
        ids[Event.__table__],
    )
    for (_, _, order, _, _), entry in zip(entries, recorded, strict=True):
        order.events.append(entry)
    uow.publish(OrdersPlaced(orders, now, stored=lambda: uow.writes.flush(uow.session)))
    return orders


def _numbers(uow: UnitOfWork, placements: list[Placement]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for p in placements:
        counts[p.checkout.store_id] = counts.get(p.checkout.store_id, 0) + 1
    return {store_id: numbers.take(uow.session, store_id, n) for store_id, n in sorted(counts.items())}


def _new_orders(uow: UnitOfWork, placements: list[Placement], now: datetime) -> list[PlacedOrder]:
    next_number = _numbers(uow, placements)
    orders = []
    for p in placements:
        c = p.checkout
        number, next_number[c.store_id] = next_number[c.store_id], next_number[c.store_id] + 1
        orders.append(
            PlacedOrder(
                id=0,
                store_id=c.store_id,
                number=number,
                checkout_id=c.id,
                customer_id=c.customer_id,
                email=c.email,
                currency=c.currency,
                subtotal=c.subtotal,
                shipping_total=c.shipping_total,
                total=c.total,
                shipping_address=c.shipping_address,
                billing_address=c.billing_address,
                created_at=now,
                updated_at=now,
                line_items=[],
                **domain.new_order_statuses(),
            )
        )
    return orders


def _insert_orders(uow: UnitOfWork, orders: list[PlacedOrder]) -> None:
    rows = [{"id": o.id, **{name: getattr(o, name) for name in ORDER_COLUMNS}, "tags": []} for o in orders]
    uow.writes.add(insert_statement(uow.session, Order.__table__, rows))


ORDER_COLUMNS = (
    "store_id",
    "number",
    "checkout_id",
    "customer_id",
    "email",
    "currency",
    "subtotal",
    "shipping_total",
    "total",
    "status",
    "financial_status",
    "fulfillment_status",
    "shipping_address",
    "billing_address",
    "created_at",
    "updated_at",
)


def _insert_lines(uow: UnitOfWork, placements: list[Placement], orders: list[PlacedOrder], ids) -> None:
    rows = []
    for order, p in zip(orders, placements, strict=True):
        for line in p.checkout.lines:
            placed = PlacedLine(
                id=next(ids),
                variant_id=line.variant_id,
                stock_variant_id=line.stock_variant_id,
                product_title=line.product_title,
                variant_title=line.variant_title,
                sku=line.sku,
                quantity=line.quantity,
                price=line.price,
                stock_allocated=line.id not in p.stock_later,
                supplier_store_id=line.supplier_store_id,
                wholesale_price=line.wholesale_price,
                selling_plan_id=line.selling_plan_id,
            )
            order.line_items.append(placed)
            rows.append(
                {"id": placed.id, "order_id": order.id, "store_id": order.store_id, **_line_row(placed)}
            )
    uow.writes.add(insert_statement(uow.session, LineItem.__table__, rows))


def _line_row(line: PlacedLine) -> dict:
    return {
        name: getattr(line, name)
        for name in (
            "variant_id",
            "stock_variant_id",
            "product_title",
            "variant_title",
            "sku",
            "quantity",
            "price",
            "fulfilled_quantity",
            "removed_quantity",
            "refunded_quantity",
            "returned_quantity",
            "stock_allocated",
            "supplier_store_id",
            "wholesale_price",
            "selling_plan_id",
        )
    }


def _money_in(order: PlacedOrder, payment) -> list[Change]:
    """The timeline of a new order: placed, and paid (or authorised) if money came in."""
    changes = [Change("order_placed", {"number": order.number, "total": order.total})]
    if payment is None:
        return changes
    order.transactions.append(payment)
    if payment.kind == TransactionKind.AUTHORIZATION:
        return [
            *changes,
            Change("payment_authorized", {"amount": payment.amount}),
            *domain.apply_payment(order, PaymentEvent.AUTHORIZE),
        ]
    event = domain.money_in_event(net_paid=payment.amount, total=order.total)
    return [
        *changes,
        Change("payment_captured", {"amount": payment.amount}),
        *domain.apply_payment(order, event),
    ]


def _expire_authorizations(uow: UnitOfWork, orders: list[PlacedOrder], now: datetime) -> None:
    """An authorisation lapses after a while (the gateway will not capture it any more)."""
    expiry = now + timedelta(seconds=uow.settings.authorization_expiry_seconds)
    jobs.schedule_later(
        uow,
        [
            {
                "kind": EXPIRE_AUTHORIZATION,
                "payload": {"order_id": o.id},
                "store_id": o.store_id,
                "run_at": expiry,
            }
            for o in orders
            if o.financial_status == domain.FinancialStatus.AUTHORIZED
        ],
        now=now,
    )
