from typing import Annotated

from babel import Locale
from pydantic import AfterValidator, BaseModel, Field

from tandem.api.presenting import money, timestamp
from tandem.api.types import BodyId, Email, Input, OptionalText, Quantity, Text
from tandem.checkout.models import Checkout

# CLDR also lists groupings and placeholders (EU, UN, ZZ "Unknown Region"...): not countries.
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"}
_COUNTRIES = frozenset(
    code
    for code in Locale("en").territories
    if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
)


def _country(code: str) -> str:
    code = code.upper()
    if code not in _COUNTRIES:
        raise ValueError("must be an ISO 3166-1 alpha-2 country code")
    return code


class Address(Input):
    first_name: OptionalText | None = None
    last_name: OptionalText | None = None
    company: OptionalText | None = None
    address1: Text
    address2: OptionalText | None = None
    city: Text
    province: OptionalText | None = None
    zip: Text
    country_code: Annotated[str, Field(min_length=2, max_length=2), AfterValidator(_country)]
    phone: OptionalText | None = None


class CheckoutLineIn(Input):
    variant_id: BodyId
    quantity: Quantity
    selling_plan_id: BodyId | None = None


class CheckoutIn(Input):
    customer_id: BodyId | None = None
    email: Email | None = None
    line_items: list[CheckoutLineIn] = Field(min_length=1, max_length=100)
    shipping_address: Address
    billing_address: Address | None = None
    card_token: Text | None = None
    payment_method_id: BodyId | None = None


class CheckoutLineOut(BaseModel):
    variant_id: int
    product_title: str
    variant_title: str
    sku: str | None
    quantity: int
    price: str
    selling_plan_id: int | None = None
    deposit: str | None = None  # a pre-order line: what is paid now


class CheckoutOut(BaseModel):
    id: int
    status: str
    customer_id: int
    email: str
    currency: str
    subtotal: str
    shipping_total: str
    total: str
    due_now: str  # charged on completion; pre-order balances are charged later
    payment_method_id: int | None
    line_items: list[CheckoutLineOut]
    reserved_until: str
    order_id: int | None
    created_at: str

    @classmethod
    def of(cls, checkout: Checkout) -> "CheckoutOut":
        cur = checkout.currency
        return cls(
            id=checkout.id,
            status=checkout.status,
            customer_id=checkout.customer_id,
            email=checkout.email,
            currency=cur,
            subtotal=money(checkout.subtotal, cur),
            shipping_total=money(checkout.shipping_total, cur),
            total=money(checkout.total, cur),
            due_now=money(checkout.due_now, cur),
            payment_method_id=checkout.payment_method_id,
            line_items=[
                CheckoutLineOut(
                    variant_id=line.variant_id,
                    product_title=line.product_title,
                    variant_title=line.variant_title,
                    sku=line.sku,
                    quantity=line.quantity,
                    price=money(line.price, cur),
                    selling_plan_id=line.selling_plan_id,
                    deposit=money(line.deposit, cur) if line.selling_plan_id else None,
                )
                for line in checkout.lines
            ],
            reserved_until=timestamp(checkout.reserved_until),
            order_id=checkout.order_id,
            created_at=timestamp(checkout.created_at),
        )
