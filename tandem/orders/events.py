"""Facts other domains react to (notifications, supplier orders), published in-transaction."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tandem.orders.models import Order
from tandem.timeline.domain import Actor


@dataclass(frozen=True)
class OrdersPlaced:
    """New orders, a batch at a time, as written (tandem.orders.placing.PlacedOrder records):
    followers decide from them, and their caches, which orders concern them. Their rows are
    sent with the transaction's other writes: a follower that reads them from the database
    calls `stored()` first."""

    orders: list
    at: datetime
    stored: Callable[[], None] = lambda: None


@dataclass(frozen=True)
class OrderFinancialStatusChanged:
    order: Order
    previous: str
    actor: Actor
    at: datetime


@dataclass(frozen=True)
class OrderHoldsChanged:
    order: Order
    actor: Actor
    at: datetime


@dataclass(frozen=True)
class OrderCancelled:
    order: Order
    notify_customer: bool
    actor: Actor
    at: datetime


@dataclass(frozen=True)
class OrderFulfilled:
    """A fulfilment was created on the order (some or all lines shipped)."""

    order: Order
    fulfillment_id: int
    actor: Actor
    at: datetime
    notify_customer: bool = True


@dataclass(frozen=True)
class RefundCreated:
    order: Order
    refund_id: int
    actor: Actor
    at: datetime


@dataclass(frozen=True)
class RefundSucceeded:
    """All of a refund's money went back to the customer."""

    order: Order
    refund_id: int
    actor: Actor
    at: datetime


@dataclass(frozen=True)
class ManualRefundRequired:
    """Money could not go back automatically: staff must refund it by hand."""

    order: Order
    amount: int
    reason: str
    actor: Actor
    at: datetime
