"""Order state machines as data (SPEC §2.2).

Three statuses move independently. `status` and `financial_status` move by named
events through (state, event) -> state tables. `fulfillment_status` follows from
facts (lines shipped, holds, supplier orders) and every move it makes must be in
FULFILLMENT_MOVES. ACTIONS says which staff/API actions each state allows; the API
and the admin buttons ask the same table.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from tandem.errors import IllegalTransition
from tandem.timeline.domain import Change


class OrderStatus(StrEnum):
    OPEN = "open"
    CANCELLED = "cancelled"
    ARCHIVED = "archived"


class FinancialStatus(StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"
    EXPIRED = "expired"


class FulfillmentStatus(StrEnum):
    UNFULFILLED = "unfulfilled"
    SCHEDULED = "scheduled"
    ON_HOLD = "on_hold"
    IN_PROGRESS = "in_progress"
    PARTIALLY_FULFILLED = "partially_fulfilled"
    FULFILLED = "fulfilled"
    REQUEST_DECLINED = "request_declined"


class HoldReason(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    HIGH_RISK_OF_FRAUD = "high_risk_of_fraud"
    INCORRECT_ADDRESS = "incorrect_address"
    INVENTORY_OUT_OF_STOCK = "inventory_out_of_stock"
    UNKNOWN_DELIVERY_DATE = "unknown_delivery_date"
    OTHER = "other"


class CancelReason(StrEnum):
    CUSTOMER = "customer"
    FRAUD = "fraud"
    INVENTORY = "inventory"
    DECLINED = "declined"
    OTHER = "other"


UNPAID = frozenset(
    {
        FinancialStatus.PENDING,
        FinancialStatus.AUTHORIZED,
        FinancialStatus.PARTIALLY_PAID,
        FinancialStatus.EXPIRED,
    }
)
NOT_FULFILLED = frozenset(FulfillmentStatus) - {FulfillmentStatus.FULFILLED}


class StatusEvent(StrEnum):
    CANCEL = "cancel"
    ARCHIVE = "archive"
    UNARCHIVE = "unarchive"


STATUS_TRANSITIONS: dict[tuple[OrderStatus, StatusEvent], OrderStatus] = {
    (OrderStatus.OPEN, StatusEvent.CANCEL): OrderStatus.CANCELLED,
    (OrderStatus.OPEN, StatusEvent.ARCHIVE): OrderStatus.ARCHIVED,
    (OrderStatus.ARCHIVED, StatusEvent.UNARCHIVE): OrderStatus.OPEN,
}


class PaymentEvent(StrEnum):
    AUTHORIZE = "authorize"
    PAY = "pay"  # money in covers the order
    PAY_PART = "pay_part"  # money in, some still owed
    VOID = "void"
    EXPIRE = "expire"
    REFUND_PART = "refund_part"
    REFUND_ALL = "refund_all"


F, E = FinancialStatus, PaymentEvent
FINANCIAL_TRANSITIONS: dict[tuple[FinancialStatus, PaymentEvent], FinancialStatus] = {
    (F.PENDING, E.AUTHORIZE): F.AUTHORIZED,
    (F.PENDING, E.PAY): F.PAID,
    (F.PENDING, E.PAY_PART): F.PARTIALLY_PAID,
    (F.PENDING, E.VOID): F.VOIDED,
    (F.AUTHORIZED, E.PAY): F.PAID,
    (F.AUTHORIZED, E.PAY_PART): F.PARTIALLY_PAID,
    (F.AUTHORIZED, E.VOID): F.VOIDED,
    (F.AUTHORIZED, E.EXPIRE): F.EXPIRED,
    (F.EXPIRED, E.PAY): F.PAID,
    (F.EXPIRED, E.PAY_PART): F.PARTIALLY_PAID,
    (F.EXPIRED, E.VOID): F.VOIDED,
    (F.PARTIALLY_PAID, E.PAY): F.PAID,
    (F.PARTIALLY_PAID, E.PAY_PART): F.PARTIALLY_PAID,
    (F.PARTIALLY_PAID, E.REFUND_PART): F.PARTIALLY_REFUNDED,
    (F.PARTIALLY_PAID, E.REFUND_ALL): F.REFUNDED,
    (F.PAID, E.REFUND_PART): F.PARTIALLY_REFUNDED,
    (F.PAID, E.REFUND_ALL): F.REFUNDED,
    (F.PARTIALLY_REFUNDED, E.REFUND_PART): F.PARTIALLY_REFUNDED,
    (F.PARTIALLY_REFUNDED, E.REFUND_ALL): F.REFUNDED,
    (F.PARTIALLY_REFUNDED, E.PAY): F.PARTIALLY_REFUNDED,
    (F.PARTIALLY_REFUNDED, E.PAY_PART): F.PARTIALLY_REFUNDED,
}

U = FulfillmentStatus
FULFILLMENT_MOVES: dict[FulfillmentStatus, frozenset[FulfillmentStatus]] = {
    U.UNFULFILLED: frozenset(
        {U.SCHEDULED, U.ON_HOLD, U.IN_PROGRESS, U.PARTIALLY_FULFILLED, U.FULFILLED, U.REQUEST_DECLINED}
    ),
    U.SCHEDULED: frozenset({U.UNFULFILLED, U.ON_HOLD, U.IN_PROGRESS, U.PARTIALLY_FULFILLED, U.FULFILLED}),
    # Removing the last unshipped units of a held, partly shipped order completes it.
    U.ON_HOLD: frozenset(
        {U.UNFULFILLED, U.SCHEDULED, U.IN_PROGRESS, U.PARTIALLY_FULFILLED, U.REQUEST_DECLINED, U.FULFILLED}
    ),
    U.IN_PROGRESS: frozenset({U.UNFULFILLED, U.PARTIALLY_FULFILLED, U.FULFILLED, U.REQUEST_DECLINED}),
    U.PARTIALLY_FULFILLED: frozenset(
        {U.ON_HOLD, U.IN_PROGRESS, U.FULFILLED, U.REQUEST_DECLINED, U.SCHEDULED}
    ),
    U.REQUEST_DECLINED: frozenset(
        {U.UNFULFILLED, U.ON_HOLD, U.SCHEDULED, U.IN_PROGRESS, U.PARTIALLY_FULFILLED, U.FULFILLED}
    ),
    U.FULFILLED: frozenset(),
}


class Action(StrEnum):
    CAPTURE = "capture"
    MARK_AS_PAID = "mark_as_paid"
    HOLD = "hold"
    RELEASE_HOLD = "release_hold"
    CANCEL = "cancel"
    REFUND = "refund"
    FULFILL = "fulfill"
    ARCHIVE = "archive"
    UNARCHIVE = "unarchive"


@dataclass(frozen=True)
class Rule:
    """The states in which an action is allowed (None: any)."""

    status: frozenset[OrderStatus] | None = None
    financial: frozenset[FinancialStatus] | None = None
    fulfillment: frozenset[FulfillmentStatus] | None = None
    # A hold hides a partial shipment behind `on_hold`: some actions look at the lines too.
    nothing_shipped: bool = False

    def allows(self, order: "OrderLike") -> bool:
        if self.nothing_shipped and any(li.fulfilled_quantity for li in getattr(order, "line_items", ())):
            return False
        return all(
            allowed is None or value in allowed
            for allowed, value in (
                (self.status, order.status),
                (self.financial, order.financial_status),
                (self.fulfillment, order.fulfillment_status),
            )
        )


OPEN = frozenset({OrderStatus.OPEN})
ACTIONS: dict[Action, Rule] = {
    Action.CAPTURE: Rule(OPEN, frozenset({F.AUTHORIZED})),
    Action.MARK_AS_PAID: Rule(OPEN, frozenset({F.PENDING, F.EXPIRED, F.PARTIALLY_PAID})),
    Action.HOLD: Rule(
        OPEN,
        None,
        frozenset({U.UNFULFILLED, U.SCHEDULED, U.ON_HOLD, U.PARTIALLY_FULFILLED, U.REQUEST_DECLINED}),
    ),
    Action.RELEASE_HOLD: Rule(OPEN, None, frozenset({U.ON_HOLD})),
    Action.CANCEL: Rule(
        OPEN,
        None,
        frozenset({U.UNFULFILLED, U.SCHEDULED, U.ON_HOLD, U.REQUEST_DECLINED}),
        nothing_shipped=True,
    ),
    Action.REFUND: Rule(None, frozenset({F.PAID, F.PARTIALLY_PAID, F.PARTIALLY_REFUNDED})),
    # Scheduled / in progress concern the supplier's part: the store may still ship its own items.
    Action.FULFILL: Rule(
        OPEN,
        None,
        frozenset({U.UNFULFILLED, U.SCHEDULED, U.IN_PROGRESS, U.PARTIALLY_FULFILLED, U.REQUEST_DECLINED}),
    ),
    Action.ARCHIVE: Rule(OPEN),
    Action.UNARCHIVE: Rule(frozenset({OrderStatus.ARCHIVED})),
}


class OrderLike(Protocol):
    status: str
    financial_status: str
    fulfillment_status: str
    cancel_reason: str | None
    cancelled_at: datetime | None


def allowed_actions(order: OrderLike) -> list[Action]:
    return [action for action, rule in ACTIONS.items() if rule.allows(order)]


def ensure_allowed(order: OrderLike, action: Action) -> None:
    if not ACTIONS[action].allows(order):
        raise IllegalTransition(
            f"cannot {action.value.replace('_', ' ')} an order that is {order.status}, "
            f"{order.financial_status}, {order.fulfillment_status}",
            action=action.value,
        )


def new_order_statuses() -> dict[str, str]:
    return {
        "status": OrderStatus.OPEN.value,
        "financial_status": FinancialStatus.PENDING.value,
        "fulfillment_status": FulfillmentStatus.UNFULFILLED.value,
    }


def apply_payment(order: OrderLike, event: PaymentEvent) -> list[Change]:
    """Move financial_status by `event`; refuses moves the table does not list."""
    current = FinancialStatus(order.financial_status)
    target = FINANCIAL_TRANSITIONS.get((current, event))
    if target is None:
        raise IllegalTransition(f"financial status {current} does not allow {event}")
    if target == current:
        return []
    order.financial_status = target.value
    return [Change("financial_status_changed", {"from": current.value, "to": target.value})]


def money_in_event(*, net_paid: int, total: int) -> PaymentEvent:
    return PaymentEvent.PAY if net_paid >= total else PaymentEvent.PAY_PART


def refund_event(*, refunded: int, captured: int) -> PaymentEvent:
    return PaymentEvent.REFUND_ALL if refunded >= captured else PaymentEvent.REFUND_PART


def move_status(order: OrderLike, event: StatusEvent) -> list[Change]:
    current = OrderStatus(order.status)
    target = STATUS_TRANSITIONS.get((current, event))
    if target is None:
        raise IllegalTransition(f"an order that is {current} cannot {event}")
    order.status = target.value
    return [Change("status_changed", {"from": current.value, "to": target.value})]


def cancel(order: OrderLike, *, reason: CancelReason, now: datetime) -> list[Change]:
    changes = move_status(order, StatusEvent.CANCEL)
    order.cancel_reason = reason.value
    order.cancelled_at = now
    return [Change("order_cancelled", {"reason": reason.value}), *changes]


@dataclass(frozen=True)
class LineProgress:
    ordered: int
    fulfilled: int
    removed: int  # cancelled or refunded before shipping

    @property
    def remaining(self) -> int:
        return self.ordered - self.fulfilled - self.removed


def derive_fulfillment(
    lines: Iterable[LineProgress],
    *,
    active_holds: int,
    supplier_statuses: Iterable[str] = (),
) -> FulfillmentStatus:
    """What fulfillment_status the facts say, before checking the move is legal."""
    lines, suppliers = list(lines), set(supplier_statuses)
    shipped_any = any(line.fulfilled for line in lines)
    declined = "declined" in suppliers  # a supplier cancelled its part: the retailer must act on it
    if shipped_any and all(line.remaining == 0 for line in lines) and not declined:
        return U.FULFILLED
    if active_holds:
        return U.ON_HOLD
    if declined:
        return U.REQUEST_DECLINED
    if shipped_any:  # once something shipped, that says more than "with the supplier"
        return U.PARTIALLY_FULFILLED
    if "open" in suppliers:
        return U.IN_PROGRESS
    if "scheduled" in suppliers:
        return U.SCHEDULED
    return U.UNFULFILLED


def move_fulfillment(order: OrderLike, target: FulfillmentStatus) -> list[Change]:
    current = FulfillmentStatus(order.fulfillment_status)
    if target == current:
        return []
    if target not in FULFILLMENT_MOVES[current]:
        raise IllegalTransition(f"fulfillment status cannot go from {current} to {target}")
    order.fulfillment_status = target.value
    return [Change("fulfillment_status_changed", {"from": current.value, "to": target.value})]
