from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from tandem.api.presenting import money, timestamp
from tandem.api.types import BodyId, Email, Input, OptionalText, Quantity, Text
from tandem.checkout.addresses import country_code_of, country_codes, country_name, joined_name, split_name
from tandem.checkout.models import Checkout


def _country_code(code: str) -> str:
    if len(code) != 2 or (found := country_code_of(code)) is None:
        raise ValueError("must be an ISO 3166-1 alpha-2 country code")
    return found


def _country(text: str) -> str:
    if (code := country_code_of(text)) is None:
        raise ValueError("must be a country name in English or French, or an ISO 3166-1 alpha-2 code")
    return code


def _country_or_code(schema: dict) -> None:
    """country_code is required unless `country` is given: the schema cannot say "one of", so it
    requires neither (the server answers 422 naming country_code when both are missing)."""
    schema["required"] = [name for name in schema.get("required", []) if name != "country_code"]


class Address(Input):
    """Shopify's fields: `name` or `first_name` + `last_name`; `country` (a name or code) or
    `country_code`. null is the same as leaving a field out."""

    model_config = ConfigDict(json_schema_extra=_country_or_code)

    name: OptionalText | None = None
    first_name: OptionalText | None = None
    last_name: OptionalText | None = None
    company: OptionalText | None = None
    address1: Text
    address2: OptionalText | None = None
    city: Text
    province: OptionalText | None = None
    province_code: OptionalText | None = None
    zip: Text
    country: Annotated[OptionalText | None, AfterValidator(lambda v: v and _country(v))] = None
    country_code: Annotated[
        str,
        Field(min_length=2, max_length=2, json_schema_extra={"enum": sorted(country_codes())}),
        AfterValidator(_country_code),
    ]
    phone: OptionalText | None = None

    @model_validator(mode="before")
    @classmethod
    def _country_code_from_country(cls, data):
        if not isinstance(data, dict):
            return data
        country = data.get("country")
        if data.get("country_code") is None and isinstance(country, str):
            data = {**data, "country_code": country_code_of(country)}  # None: refused as `country`
        if data.get("country_code") is None:
            data = {k: v for k, v in data.items() if k != "country_code"}
        return data

    @model_validator(mode="after")
    def _both_forms(self) -> "Address":
        if self.country and self.country != self.country_code:
            raise ValueError("country and country_code name different countries")
        self.country = country_name(self.country_code)
        if self.name and not (self.first_name or self.last_name):
            self.first_name, self.last_name = split_name(self.name)
        self.name = self.name or joined_name(self.first_name, self.last_name)
        return self


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
