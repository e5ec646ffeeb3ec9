"""Customer payment methods: active until revoked or replaced."""

from enum import StrEnum

from tandem.errors import IllegalTransition


class PaymentMethodStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    REPLACED = "replaced"


PAYMENT_METHOD_TRANSITIONS = {
    PaymentMethodStatus.ACTIVE: frozenset({PaymentMethodStatus.REVOKED, PaymentMethodStatus.REPLACED}),
    PaymentMethodStatus.REVOKED: frozenset(),
    PaymentMethodStatus.REPLACED: frozenset(),
}


def move_payment_method(method, target: PaymentMethodStatus) -> None:
    current = PaymentMethodStatus(method.status)
    if target not in PAYMENT_METHOD_TRANSITIONS[current]:
        raise IllegalTransition(f"payment method is {current}; it cannot become {target}")
    method.status = target.value
