from typing import Literal

from pydantic import BaseModel, Field

from tandem.api.presenting import money
from tandem.api.types import Amount, Currency, Email, Flag, Input, Integer, SettingsPatch, Text
from tandem.stores.models import Store


class StoreOut(BaseModel):
    id: int
    name: str
    kind: str
    kinds: list[str]
    email: str | None
    currency: str
    locale: str
    timezone: str
    payment_capture: str
    collective_automatic_payments: bool
    sender_name: str | None
    sender_email: str | None
    billing_card: dict | None
    supplier_shipping_fee: str
    return_policy: dict

    @classmethod
    def of(cls, store: Store) -> "StoreOut":
        return cls(
            id=store.id,
            name=store.name,
            kind=store.kinds[0],
            kinds=store.kinds,
            email=store.email,
            currency=store.currency,
            locale=store.locale,
            timezone=store.timezone,
            payment_capture=store.payment_capture,
            collective_automatic_payments=store.collective_automatic_payments,
            sender_name=store.sender_name,
            sender_email=store.sender_email,
            billing_card={"last4": store.billing_card_last4} if store.billing_card_reference else None,
            supplier_shipping_fee=money(store.supplier_shipping_fee, store.currency),
            return_policy={
                "window_days": store.return_window_days,
                "restocking_fee_percent": store.restocking_fee_percent,
                "label_provider": store.return_label_provider,
                "final_sale_skus": list(store.final_sale_skus or []),
            },
        )


class ReturnPolicyIn(Input):
    window_days: Integer = Field(ge=0, le=365)
    restocking_fee_percent: Integer = Field(ge=0, le=100)
    label_provider: Literal["supplier", "retailer", "customer"] = "supplier"
    final_sale_skus: list[Text] = Field(default_factory=list, max_length=1000)


class StoreUpdate(SettingsPatch):
    # None only means "left out": null in the body is refused (see SettingsPatch).
    name: Text = None
    kinds: list[Literal["retailer", "supplier"]] = None
    email: Email = None
    currency: Currency = None
    locale: Literal["en", "fr"] = None
    timezone: Text = None
    payment_capture: Literal["automatic", "manual"] = None
    collective_automatic_payments: Flag = None
    sender_name: Text = None
    sender_email: Email = None
    billing_card_token: Text = None  # the card collective payments are charged to
    supplier_shipping_fee: Amount = None
    return_policy: ReturnPolicyIn = None
