"""The retailer-supplier network (SPEC §2.1, §2.3): connections, supplier orders and the
collective payment the retailer owes the supplier, as explicit transition tables."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tandem.errors import IllegalTransition


class ConnectionStatus(StrEnum):
    REQUESTED = "requested"  # the retailer asked
    ACTIVE = "active"  # the supplier accepted
    DECLINED = "declined"


class ConnectionEvent(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"


CONNECTION_TRANSITIONS = {
    (ConnectionStatus.REQUESTED, ConnectionEvent.ACCEPT): ConnectionStatus.ACTIVE,
    (ConnectionStatus.REQUESTED, ConnectionEvent.DECLINE): ConnectionStatus.DECLINED,
}


class SupplierOrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"  # the retailer order is not paid yet
    AWAITING_REQUEST = "awaiting_request"  # manual capture: the retailer must request fulfilment
    SCHEDULED = "scheduled"  # paid; waits for release_at (the fraud-review window)
    ON_HOLD = "on_hold"  # the retailer order has an active hold
    OPEN = "open"  # in the supplier's store: "in progress"
    PARTIALLY_FULFILLED = "partially_fulfilled"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"


class SupplierOrderEvent(StrEnum):
    PAID = "paid"
    PAID_WHILE_HELD = "paid_while_held"
    HOLD = "hold"
    RELEASE = "release"  # release_at reached, nothing held
    UNHOLD_AFTER_WINDOW = "unhold_after_window"
    UNHOLD_IN_WINDOW = "unhold_in_window"
    REQUEST_FULFILLMENT = "request_fulfillment"
    RETAILER_CANCELS = "retailer_cancels"
    FULFIL_PART = "fulfil_part"
    FULFIL_ALL = "fulfil_all"
    SUPPLIER_CANCELS = "supplier_cancels"
    CANCELLATION_ACCEPTED = "cancellation_accepted"


S, V = SupplierOrderStatus, SupplierOrderEvent
BEFORE_OPEN = frozenset({S.PENDING_PAYMENT, S.AWAITING_REQUEST, S.SCHEDULED, S.ON_HOLD})
SUPPLIER_ORDER_TRANSITIONS: dict[tuple[SupplierOrderStatus, SupplierOrderEvent], SupplierOrderStatus] = {
    (S.PENDING_PAYMENT, V.PAID): S.SCHEDULED,
    (S.PENDING_PAYMENT, V.PAID_WHILE_HELD): S.ON_HOLD,
    (S.SCHEDULED, V.HOLD): S.ON_HOLD,
    (S.SCHEDULED, V.RELEASE): S.OPEN,
    (S.ON_HOLD, V.UNHOLD_AFTER_WINDOW): S.OPEN,
    (S.ON_HOLD, V.UNHOLD_IN_WINDOW): S.SCHEDULED,
    (S.AWAITING_REQUEST, V.REQUEST_FULFILLMENT): S.OPEN,
    **{(state, V.RETAILER_CANCELS): S.CANCELLED for state in BEFORE_OPEN},
    (S.OPEN, V.FULFIL_PART): S.PARTIALLY_FULFILLED,
    (S.PARTIALLY_FULFILLED, V.FULFIL_PART): S.PARTIALLY_FULFILLED,
    (S.OPEN, V.FULFIL_ALL): S.FULFILLED,
    (S.PARTIALLY_FULFILLED, V.FULFIL_ALL): S.FULFILLED,
    (S.OPEN, V.SUPPLIER_CANCELS): S.CANCELLED,
    (S.PARTIALLY_FULFILLED, V.SUPPLIER_CANCELS): S.CANCELLED,
    (S.OPEN, V.CANCELLATION_ACCEPTED): S.CANCELLED,
}


class SupplierAction(StrEnum):
    """What a store may do with a supplier order now (API and admin buttons ask this)."""

    REQUEST_FULFILLMENT = "request_fulfillment"  # retailer
    FULFILL = "fulfill"  # supplier
    MARK_PAYMENT_RECEIVED = "mark_payment_received"  # supplier: without automatic payments, or after
    # a failed automatic charge
    REQUEST_CANCELLATION = "request_cancellation"  # retailer
    ANSWER_CANCELLATION = "answer_cancellation"  # supplier: accept or decline
    CANCEL = "cancel"  # supplier, on its own
    REFUND = "refund"  # supplier, to the retailer
    REQUEST_RETURN = "request_return"  # retailer


class CollectivePaymentStatus(StrEnum):
    NONE = "none"  # nothing is owed until the supplier order opens
    PENDING = "pending"  # requested; without automatic payments the supplier marks it received
    PAID = "paid"
    FAILED = "failed"  # the automatic charge was declined: the supplier is paid by hand
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


P = CollectivePaymentStatus
PAYMENT_TRANSITIONS: dict[CollectivePaymentStatus, frozenset[CollectivePaymentStatus]] = {
    P.NONE: frozenset({P.PENDING}),
    P.PENDING: frozenset({P.PAID, P.FAILED}),
    P.FAILED: frozenset({P.PAID}),  # the supplier received it by hand after all
    P.PAID: frozenset({P.PARTIALLY_REFUNDED, P.REFUNDED}),
    P.PARTIALLY_REFUNDED: frozenset({P.PARTIALLY_REFUNDED, P.REFUNDED}),
    P.REFUNDED: frozenset(),
}


def move_connection(connection, event: ConnectionEvent) -> None:
    target = CONNECTION_TRANSITIONS.get((ConnectionStatus(connection.status), event))
    if target is None:
        raise IllegalTransition(f"a {connection.status} connection cannot be {event.value}ed")
    connection.status = target.value


def move_supplier_order(order, event: SupplierOrderEvent) -> tuple[str, str]:
    """Apply `event`; returns (from, to). Refuses what the table does not list."""
    current = SupplierOrderStatus(order.status)
    target = SUPPLIER_ORDER_TRANSITIONS.get((current, event))
    if target is None:
        raise IllegalTransition(
            f"a supplier order that is {current.value} does not allow {event.value.replace('_', ' ')}"
        )
    order.status = target.value
    return current.value, target.value


def move_payment(order, target: CollectivePaymentStatus) -> None:
    current = CollectivePaymentStatus(order.payment_status)
    if target not in PAYMENT_TRANSITIONS[current]:
        raise IllegalTransition(f"the collective payment is {current.value}; it cannot become {target.value}")
    order.payment_status = target.value


def allowed_actions(order, *, store_is_supplier: bool, retailer_order_held: bool) -> list[SupplierAction]:
    status = SupplierOrderStatus(order.status)
    actions = []
    if not store_is_supplier and status is S.AWAITING_REQUEST and not retailer_order_held:
        actions.append(SupplierAction.REQUEST_FULFILLMENT)
    if store_is_supplier and status in (S.OPEN, S.PARTIALLY_FULFILLED):
        actions.append(SupplierAction.FULFILL)
    owed_by_hand = order.payment_status == P.FAILED or (
        not order.automatic_payments and order.payment_status == P.PENDING
    )
    if store_is_supplier and owed_by_hand:
        actions.append(SupplierAction.MARK_PAYMENT_RECEIVED)
    return actions + _after_open_actions(order, store_is_supplier)


def _after_open_actions(order, store_is_supplier: bool) -> list["SupplierAction"]:
    status, shipped = SupplierOrderStatus(order.status), any(li.fulfilled_quantity for li in order.lines)
    requested = order.cancellation_status == CancellationStatus.REQUESTED
    if store_is_supplier:
        actions = [SupplierAction.ANSWER_CANCELLATION] if requested else []
        if status in (S.OPEN, S.PARTIALLY_FULFILLED):
            actions.append(SupplierAction.CANCEL)
        if collected(order) > 0:
            actions.append(SupplierAction.REFUND)
        return actions
    actions = []
    if status is S.OPEN and not shipped and not requested:
        actions.append(SupplierAction.REQUEST_CANCELLATION)
    if status in (S.PARTIALLY_FULFILLED, S.FULFILLED):
        actions.append(SupplierAction.REQUEST_RETURN)
    return actions


def initial_event(*, paid: bool, manual_capture: bool, held: bool) -> SupplierOrderEvent | None:
    """How a supplier order starts: from pending_payment, move at once if the order is paid."""
    if manual_capture:
        return None  # it starts awaiting the retailer's request
    if not paid:
        return None
    return SupplierOrderEvent.PAID_WHILE_HELD if held else SupplierOrderEvent.PAID


def unhold_event(release_at: datetime | None, now: datetime) -> SupplierOrderEvent:
    if release_at is not None and release_at <= now:
        return SupplierOrderEvent.UNHOLD_AFTER_WINDOW
    return SupplierOrderEvent.UNHOLD_IN_WINDOW


def visible_to_supplier(order) -> bool:
    """Before it opens, a supplier order does not exist for the supplier."""
    return order.opened_at is not None


def retailer_fulfillment_signal(order) -> str | None:
    """What a supplier order says about its retailer order's fulfillment_status (orders.domain)."""
    if order.status == S.CANCELLED and order.cancelled_by == "supplier":
        return "declined"
    return {
        S.SCHEDULED.value: "scheduled",
        S.ON_HOLD.value: "scheduled",
        S.OPEN.value: "open",
        S.PARTIALLY_FULFILLED.value: "open",
    }.get(order.status)


@dataclass(frozen=True)
class AmountOwed:
    wholesale: int
    shipping: int

    @property
    def total(self) -> int:
        return self.wholesale + self.shipping


# -- cancellation requests (retailer -> supplier) --------------------------------------------


class CancellationStatus(StrEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"  # by the supplier, or by the platform after the delay
    DECLINED = "declined"


class CancellationEvent(StrEnum):
    REQUEST = "request"
    ACCEPT = "accept"
    DECLINE = "decline"


C = CancellationStatus
CANCELLATION_TRANSITIONS: dict[tuple[CancellationStatus | None, CancellationEvent], CancellationStatus] = {
    (None, CancellationEvent.REQUEST): C.REQUESTED,
    (C.DECLINED, CancellationEvent.REQUEST): C.REQUESTED,  # the retailer may ask again later
    (C.REQUESTED, CancellationEvent.ACCEPT): C.ACCEPTED,
    (C.REQUESTED, CancellationEvent.DECLINE): C.DECLINED,
}


def move_cancellation(order, event: CancellationEvent) -> None:
    current = CancellationStatus(order.cancellation_status) if order.cancellation_status else None
    target = CANCELLATION_TRANSITIONS.get((current, event))
    if target is None:
        state = current.value if current else "not requested"
        raise IllegalTransition(f"a cancellation that is {state} cannot be {event.value}ed")
    order.cancellation_status = target.value


def ensure_cancellation_can_be_requested(order) -> None:
    """Only while the supplier order is open and nothing of it shipped."""
    if order.status in BEFORE_OPEN:
        raise IllegalTransition("the supplier has not received this order yet: cancel your own order instead")
    if order.status != S.OPEN or any(line.fulfilled_quantity for line in order.lines):
        raise IllegalTransition(f"a supplier order that is {order.status} cannot be cancelled any more")


def cancel_immediately(order) -> bool:
    """With automatic payments, a request made before the money was collected cancels at once."""
    return order.automatic_payments and order.payment_status not in (P.PAID, P.PARTIALLY_REFUNDED)


def cancel_automatically_later(order) -> bool:
    """With automatic payments and the money collected, the platform cancels after a delay."""
    return order.automatic_payments and order.payment_status in (P.PAID, P.PARTIALLY_REFUNDED)


# -- refunds from the supplier to the retailer -----------------------------------------------


class SupplierRefundStatus(StrEnum):
    PENDING = "pending"  # going back through the gateway
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    MANUAL_PENDING = "manual_pending"  # the supplier must send the money by hand
    SENT = "sent"  # the supplier says it sent it


R = SupplierRefundStatus
REFUND_TRANSITIONS: dict[SupplierRefundStatus, frozenset[SupplierRefundStatus]] = {
    R.PENDING: frozenset({R.SUCCEEDED, R.FAILED}),
    R.FAILED: frozenset({R.SENT}),  # sent by hand after all
    R.MANUAL_PENDING: frozenset({R.SENT}),
    R.SUCCEEDED: frozenset(),
    R.SENT: frozenset(),
}


def move_refund(refund, target: SupplierRefundStatus) -> None:
    current = SupplierRefundStatus(refund.status)
    if target not in REFUND_TRANSITIONS[current]:
        raise IllegalTransition(f"a refund that is {current.value} cannot become {target.value}")
    refund.status = target.value


def collected(order) -> int:
    """What the retailer paid the supplier for this order and may get back."""
    return order.payment_amount if order.payment_status in (P.PAID, P.PARTIALLY_REFUNDED, P.REFUNDED) else 0


# -- returns ---------------------------------------------------------------------------------


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    DECLINED = "declined"
    CLOSED = "closed"  # the goods came back; the refund (minus the restocking fee) was made


class ReturnEvent(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    CLOSE = "close"


class ReturnReason(StrEnum):
    DAMAGED = "damaged"
    DEFECTIVE = "defective"
    WRONG_ITEM = "wrong_item"
    NOT_AS_DESCRIBED = "not_as_described"
    SIZE_OR_FIT = "size_or_fit"
    CHANGED_MIND = "changed_mind"
    OTHER = "other"


class LabelProvider(StrEnum):
    SUPPLIER = "supplier"
    RETAILER = "retailer"
    CUSTOMER = "customer"


RETURN_TRANSITIONS: dict[tuple[ReturnStatus, ReturnEvent], ReturnStatus] = {
    (ReturnStatus.REQUESTED, ReturnEvent.APPROVE): ReturnStatus.APPROVED,
    (ReturnStatus.REQUESTED, ReturnEvent.DECLINE): ReturnStatus.DECLINED,
    (ReturnStatus.APPROVED, ReturnEvent.CLOSE): ReturnStatus.CLOSED,
}


def move_return(return_request, event: ReturnEvent) -> None:
    current = ReturnStatus(return_request.status)
    target = RETURN_TRANSITIONS.get((current, event))
    if target is None:
        raise IllegalTransition(f"a return that is {current.value} cannot be {event.value}d")
    return_request.status = target.value


@dataclass(frozen=True)
class ReturnPolicy:
    window_days: int = 30
    restocking_fee_percent: int = 0
    label_provider: LabelProvider = LabelProvider.SUPPLIER
    final_sale_skus: tuple[str, ...] = ()


def return_refund(wholesale: int, policy: ReturnPolicy) -> tuple[int, int]:
    """(refund, restocking fee) for returned goods worth `wholesale`; the fee rounds half up."""
    fee = (wholesale * policy.restocking_fee_percent * 2 + 100) // 200
    return wholesale - fee, fee


def return_refusal(*, policy: ReturnPolicy, skus: list[str | None], days_since_delivery: float) -> str | None:
    """Why a return cannot be requested, or None."""
    final = sorted({sku for sku in skus if sku and sku in policy.final_sale_skus})
    if final:
        return f"final sale: {', '.join(final)} cannot be returned"
    if days_since_delivery > policy.window_days:
        return f"the {policy.window_days}-day return window has passed"
    return None
