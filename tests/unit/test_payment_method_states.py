"""A saved card is active until it is revoked or replaced; then it stays so."""

from dataclasses import dataclass
from itertools import product

import pytest

from tandem.customers.domain import PaymentMethodStatus, move_payment_method
from tandem.errors import IllegalTransition

ACTIVE, REVOKED, REPLACED = list(PaymentMethodStatus)
ALLOWED = {(ACTIVE, REVOKED), (ACTIVE, REPLACED)}
REFUSED = [pair for pair in product(PaymentMethodStatus, PaymentMethodStatus) if pair not in ALLOWED]


@dataclass
class PaymentMethod:
    status: str = "active"


@pytest.mark.parametrize(("source", "target"), sorted(ALLOWED))
def test_an_active_card_can_be_revoked_or_replaced(source, target):
    method = PaymentMethod(status=source.value)

    move_payment_method(method, target)

    assert method.status == target


@pytest.mark.parametrize(("source", "target"), REFUSED)
def test_every_other_move_is_refused_and_leaves_the_card_as_it_was(source, target):
    method = PaymentMethod(status=source.value)

    with pytest.raises(IllegalTransition):
        move_payment_method(method, target)

    assert method.status == source


def test_a_revoked_card_cannot_be_reactivated():
    method = PaymentMethod(status="revoked")

    with pytest.raises(IllegalTransition):
        move_payment_method(method, ACTIVE)


def test_a_replaced_card_cannot_be_revoked_afterwards():
    method = PaymentMethod(status="replaced")

    with pytest.raises(IllegalTransition):
        move_payment_method(method, REVOKED)
