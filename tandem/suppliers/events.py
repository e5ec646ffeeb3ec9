"""Facts about supplier orders that notifications react to, in the same transaction."""

from dataclasses import dataclass
from datetime import datetime

from tandem.orders.models import Order
from tandem.suppliers.models import SupplierOrder
from tandem.timeline.domain import Actor


@dataclass(frozen=True)
class SupplierOrderOpened:
    """Created in the supplier's store: the supplier is told, the collective payment is requested."""

    supplier_order: SupplierOrder
    order: Order
    actor: Actor
    at: datetime


@dataclass(frozen=True)
class SupplierOrderFulfilled:
    supplier_order: SupplierOrder
    order: Order
    fulfillment_id: int
    actor: Actor
    at: datetime


@dataclass(frozen=True)
class CancellationRequested:
    supplier_order: SupplierOrder
    order: Order
    actor: Actor
    at: datetime


@dataclass(frozen=True)
class CancellationAnswered:
    """The supplier (or the platform, after the delay) accepted or declined the request."""

    supplier_order: SupplierOrder
    order: Order
    accepted: bool
    actor: Actor
    at: datetime


@dataclass(frozen=True)
class SupplierOrderCancelled:
    supplier_order: SupplierOrder
    order: Order
    actor: Actor
    at: datetime


@dataclass(frozen=True)
class SupplierRefundManual:
    """The supplier must send money to the retailer by hand; the retailer is told."""

    supplier_order: SupplierOrder
    order: Order
    amount: int
    actor: Actor
    at: datetime


@dataclass(frozen=True)
class ReturnChanged:
    supplier_order: SupplierOrder
    order: Order
    return_id: int
    actor: Actor
    at: datetime
