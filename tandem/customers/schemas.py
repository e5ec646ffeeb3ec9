from typing import Literal

from pydantic import BaseModel

from tandem.api.presenting import timestamp
from tandem.api.types import Email, Input, OptionalText, Text
from tandem.customers.models import Customer, PaymentMethod


class CustomerIn(Input):
    email: Email
    first_name: OptionalText | None = None
    last_name: OptionalText | None = None
    locale: Literal["en", "fr"] | None = None


class CardIn(Input):
    card_token: Text


class PaymentMethodOut(BaseModel):
    id: int
    customer_id: int
    brand: str
    last4: str
    status: str
    created_at: str
    revoked_at: str | None
    replaced_by_id: int | None

    @classmethod
    def of(cls, method: PaymentMethod) -> "PaymentMethodOut":
        return cls(
            id=method.id,
            customer_id=method.customer_id,
            brand=method.brand,
            last4=method.last4,
            status=method.status,
            created_at=timestamp(method.created_at),
            revoked_at=timestamp(method.revoked_at),
            replaced_by_id=method.replaced_by_id,
        )


class CustomerOut(BaseModel):
    id: int
    email: str
    first_name: str | None
    last_name: str | None
    locale: str | None
    created_at: str
    payment_methods: list[PaymentMethodOut]

    @classmethod
    def of(cls, customer: Customer) -> "CustomerOut":
        return cls(
            id=customer.id,
            email=customer.email,
            first_name=customer.first_name,
            last_name=customer.last_name,
            locale=customer.locale,
            created_at=timestamp(customer.created_at),
            payment_methods=[PaymentMethodOut.of(m) for m in customer.payment_methods],
        )


class CustomerList(BaseModel):
    customers: list[CustomerOut]
    next_cursor: str | None = None
