"""A checkout is open, then completing while the gateway has the payment, then completed."""

from dataclasses import dataclass
from itertools import product

import pytest

from tandem.checkout.domain import (
    TRANSITIONS,
    CheckoutEvent,
    CheckoutStatus,
    ensure_can_complete,
    move,
)
from tandem.errors import Conflict, IllegalTransition


@dataclass
class Checkout:
    status: str = "open"
    order_id: int | None = None


ALLOWED = {
    (CheckoutStatus.OPEN, CheckoutEvent.BEGIN_PAYMENT): CheckoutStatus.COMPLETING,
    (CheckoutStatus.COMPLETING, CheckoutEvent.PAYMENT_SUCCEEDED): CheckoutStatus.COMPLETED,
    (CheckoutStatus.COMPLETING, CheckoutEvent.PAYMENT_FAILED): CheckoutStatus.OPEN,
    # A pre-order without deposit: nothing to pay now, the order is placed at once.
    (CheckoutStatus.OPEN, CheckoutEvent.NOTHING_DUE): CheckoutStatus.COMPLETED,
}
REFUSED = [pair for pair in product(CheckoutStatus, CheckoutEvent) if pair not in ALLOWED]


def test_the_checkout_table_is_begin_payment_then_succeed_or_fail_or_nothing_due():
    assert TRANSITIONS == ALLOWED


@pytest.mark.parametrize(("source", "event", "target"), [(s, e, t) for (s, e), t in ALLOWED.items()])
def test_an_allowed_event_moves_the_checkout(source, event, target):
    checkout = Checkout(status=source.value)

    move(checkout, event)

    assert checkout.status == target


@pytest.mark.parametrize(("source", "event"), REFUSED)
def test_any_other_event_is_refused_and_leaves_the_checkout_as_it_was(source, event):
    checkout = Checkout(status=source.value)

    with pytest.raises(IllegalTransition):
        move(checkout, event)

    assert checkout.status == source


def test_a_failed_payment_lets_the_customer_try_again():
    checkout = Checkout()
    move(checkout, CheckoutEvent.BEGIN_PAYMENT)
    move(checkout, CheckoutEvent.PAYMENT_FAILED)

    move(checkout, CheckoutEvent.BEGIN_PAYMENT)

    assert checkout.status == "completing"


def test_a_completed_checkout_cannot_be_paid_again():
    checkout = Checkout(status="completed", order_id=7)

    with pytest.raises(IllegalTransition):
        move(checkout, CheckoutEvent.BEGIN_PAYMENT)

    assert checkout.status == "completed"


def test_a_second_payment_cannot_begin_while_one_is_with_the_gateway():
    checkout = Checkout(status="completing")

    with pytest.raises(IllegalTransition):
        move(checkout, CheckoutEvent.BEGIN_PAYMENT)


def test_an_open_checkout_can_be_completed():
    ensure_can_complete(Checkout(status="open"))


def test_completing_a_completed_checkout_is_a_409_pointing_to_its_order():
    with pytest.raises(Conflict) as refused:
        ensure_can_complete(Checkout(status="completed", order_id=42))

    assert refused.value.status == 409
    assert refused.value.code == "checkout_completed"
    assert refused.value.details == {"order_id": 42}


def test_completing_a_checkout_whose_payment_is_in_progress_is_a_409():
    with pytest.raises(Conflict) as refused:
        ensure_can_complete(Checkout(status="completing"))

    assert refused.value.status == 409
    assert refused.value.code == "checkout_in_progress"
