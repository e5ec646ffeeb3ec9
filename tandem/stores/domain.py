"""Stores: what kind of seller they are and how they take payments."""

from enum import StrEnum


class StoreKind(StrEnum):
    RETAILER = "retailer"
    SUPPLIER = "supplier"


class PaymentCapture(StrEnum):
    AUTOMATIC = "automatic"
    MANUAL = "manual"


LOCALES = ("en", "fr")


def lacks_billing_card(*, is_retailer: bool, automatic_payments: bool, has_billing_card: bool) -> bool:
    """A retailer's collective payments are charged to its billing card: no card, no automatic
    payments (they would all fail)."""
    return is_retailer and automatic_payments and not has_billing_card
