"""Automation rules (like the platform's "Flow"): when an order is paid, inside the review
window, a condition over the order decides an action: hold it, cancel it, or tag it."""

from dataclasses import dataclass
from enum import StrEnum


class RuleAction(StrEnum):
    HOLD = "hold"
    CANCEL = "cancel"
    TAG = "tag"


@dataclass(frozen=True)
class OrderFacts:
    """What a condition can look at (the names rules use)."""

    total: float  # in the currency's major units, e.g. 549.9
    subtotal: float
    currency: str
    shipping_country: str
    billing_country: str  # the shipping country when no billing address was given
    email: str
    email_domain: str
    customer_order_count: int  # this customer's orders in the store, this one included
    quantity: int  # units in the order
    line_count: int
    has_supplier_items: bool
    tags: list[str]


VARIABLES = {
    "total": "order total in major units (a number)",
    "subtotal": "order subtotal in major units",
    "currency": "ISO 4217 code",
    "shipping_country": "ISO 3166 alpha-2 code of the shipping address",
    "billing_country": "ISO 3166 alpha-2 code of the billing address (shipping's if none)",
    "email": "the customer's email",
    "email_domain": "the part of the email after @",
    "customer_order_count": "orders this customer placed in the store, this one included",
    "quantity": "units ordered",
    "line_count": "lines in the order",
    "has_supplier_items": "whether a supplier ships part of the order",
    "tags": "the order's tags (a list of strings)",
}

SAMPLE = OrderFacts(
    total=100.0,
    subtotal=100.0,
    currency="EUR",
    shipping_country="FR",
    billing_country="FR",
    email="a@example.com",
    email_domain="example.com",
    customer_order_count=1,
    quantity=1,
    line_count=1,
    has_supplier_items=False,
    tags=[],
)
