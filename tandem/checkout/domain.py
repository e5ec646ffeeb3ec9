"""The checkout's own small state machine."""

from enum import StrEnum

from tandem.errors import Conflict, IllegalTransition


class CheckoutStatus(StrEnum):
    OPEN = "open"
    COMPLETING = "completing"  # the payment is with the gateway
    COMPLETED = "completed"


class CheckoutEvent(StrEnum):
    BEGIN_PAYMENT = "begin_payment"
    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_FAILED = "payment_failed"
    NOTHING_DUE = "nothing_due"  # a pre-order without deposit: the order is placed unpaid


TRANSITIONS: dict[tuple[CheckoutStatus, CheckoutEvent], CheckoutStatus] = {
    (CheckoutStatus.OPEN, CheckoutEvent.BEGIN_PAYMENT): CheckoutStatus.COMPLETING,
    (CheckoutStatus.COMPLETING, CheckoutEvent.PAYMENT_SUCCEEDED): CheckoutStatus.COMPLETED,
    (CheckoutStatus.COMPLETING, CheckoutEvent.PAYMENT_FAILED): CheckoutStatus.OPEN,
    (CheckoutStatus.OPEN, CheckoutEvent.NOTHING_DUE): CheckoutStatus.COMPLETED,
}


def move(checkout, event: CheckoutEvent) -> None:
    current = CheckoutStatus(checkout.status)
    target = TRANSITIONS.get((current, event))
    if target is None:
        raise IllegalTransition(f"checkout is {current}; cannot {event.value.replace('_', ' ')}")
    checkout.status = target.value


def ensure_can_complete(checkout) -> None:
    status = CheckoutStatus(checkout.status)
    if status is CheckoutStatus.COMPLETED:
        raise Conflict("checkout already completed", code="checkout_completed", order_id=checkout.order_id)
    if status is CheckoutStatus.COMPLETING:
        raise Conflict("this checkout's payment is already in progress", code="checkout_in_progress")


def guard(event: CheckoutEvent) -> tuple[list[str], str]:
    """The statuses `event` leaves from and the one it leads to: the WHERE and SET of a guarded
    UPDATE that moves many checkouts at once by the table."""
    sources = [s.value for (s, e) in TRANSITIONS if e is event]
    targets = {t for (s, e), t in TRANSITIONS.items() if e is event}
    if len(targets) != 1:
        raise ValueError(f"{event} does not lead to one status")
    return sources, targets.pop().value
