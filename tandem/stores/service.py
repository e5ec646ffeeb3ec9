"""Creating and configuring stores, and issuing their API tokens."""

import secrets
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import available_timezones

from sqlalchemy.orm import Session

from tandem.auth.models import StaffUser
from tandem.auth.secrets import digest, hash_password, new_api_token
from tandem.caching import config_changed
from tandem.db import UnitOfWork
from tandem.errors import InvalidInput, NotFound
from tandem.money import is_currency, parse_field
from tandem.stores.domain import LOCALES, PaymentCapture, StoreKind, lacks_billing_card
from tandem.stores.models import ApiToken, Store
from tandem.text import is_one_line

EDITABLE = (
    "name",
    "email",
    "currency",
    "locale",
    "timezone",
    "payment_capture",
    "collective_automatic_payments",
    "sender_name",
    "sender_email",
)


@dataclass(frozen=True)
class NewStore:
    name: str
    kinds: tuple[StoreKind, ...]
    email: str | None = None
    currency: str = "EUR"
    locale: str = "en"
    timezone: str = "UTC"
    payment_capture: PaymentCapture = PaymentCapture.AUTOMATIC
    collective_automatic_payments: bool = False
    billing_card_token: str | None = None
    staff_password: str | None = None


@dataclass(frozen=True)
class CreatedStore:
    store: Store
    api_token: str
    staff_email: str
    staff_password: str


def create_store(uow: UnitOfWork, *, new: NewStore, now: datetime) -> CreatedStore:
    """A store with one API token and one staff login; secrets are returned once."""
    _validated({"name": new.name})  # also the sender name of its emails
    card = _vault_billing_card(uow, new.billing_card_token)  # the gateway first, outside the transaction
    _refuse_automatic_payments_without_card(
        is_retailer=StoreKind.RETAILER in new.kinds,
        automatic_payments=new.collective_automatic_payments,
        has_billing_card=card is not None,
    )
    settings = _validated(
        {
            "currency": new.currency,
            "locale": new.locale,
            "timezone": new.timezone,
            "payment_capture": new.payment_capture.value,
            "email": new.email,
        }
    )
    store = Store(
        name=new.name,
        is_retailer=StoreKind.RETAILER in new.kinds,
        is_supplier=StoreKind.SUPPLIER in new.kinds,
        collective_automatic_payments=new.collective_automatic_payments,
        sender_name=new.name,
        sender_email=new.email,
        billing_card_reference=card.reference if card else None,
        billing_card_last4=card.last4 if card else None,
        created_at=now,
        **settings,
    )
    uow.session.add(store)
    uow.session.flush()
    token = issue_token(uow.session, store_id=store.id, name="default", now=now)
    email = new.email or f"staff+{store.id}@tandem.invalid"
    password = new.staff_password or secrets.token_urlsafe(12)
    _ensure_staff_email_free(uow.session, email)
    uow.session.add(
        StaffUser(
            store_id=store.id,
            email=email.lower(),
            name=f"{new.name} staff",
            password_hash=hash_password(password),
            locale=None,  # follows the store until the person picks a language
            created_at=now,
        )
    )
    uow.commit()
    return CreatedStore(store, token, email.lower(), password)


def issue_token(session: Session, *, store_id: int, name: str, now: datetime) -> str:
    token = new_api_token()
    session.add(
        ApiToken(store_id=store_id, name=name, token_hash=digest(token), prefix=token[:12], created_at=now)
    )
    return token


def get_store(uow: UnitOfWork, *, store_id: int) -> Store:
    store = uow.session.get(Store, store_id)
    if store is None:
        raise NotFound("store not found")
    return store


def update_store(uow: UnitOfWork, *, store_id: int, changes: dict, now: datetime) -> Store:
    """Change settings; a billing card token is vaulted at the gateway (before any transaction)."""
    unknown = (
        set(changes)
        - set(EDITABLE)
        - {"kinds", "billing_card_token", "supplier_shipping_fee", "return_policy"}
    )
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "cannot be changed")
    card = _vault_billing_card(uow, changes.pop("billing_card_token", None))
    store = get_store(uow, store_id=store_id)
    if card:
        store.billing_card_reference, store.billing_card_last4 = card.reference, card.last4
    if "supplier_shipping_fee" in changes:
        fee = changes.pop("supplier_shipping_fee")
        store.supplier_shipping_fee = parse_field(fee, store.currency, "supplier_shipping_fee")
    if "return_policy" in changes:
        _set_return_policy(store, changes.pop("return_policy"))
    if "kinds" in changes:
        kinds = set(changes.pop("kinds"))
        if not kinds:
            raise InvalidInput("kinds", "a store is a retailer, a supplier, or both")
        store.is_retailer = StoreKind.RETAILER in kinds
        store.is_supplier = StoreKind.SUPPLIER in kinds
        changes.setdefault("collective_automatic_payments", store.collective_automatic_payments)
    changes = _validated(changes)
    if changes.get("collective_automatic_payments"):
        _refuse_automatic_payments_without_card(
            is_retailer=store.is_retailer,
            automatic_payments=True,
            has_billing_card=store.billing_card_reference is not None,
        )
    for field, value in changes.items():
        setattr(store, field, value)
    config_changed(uow, store_id)
    uow.commit()
    return store


def _refuse_automatic_payments_without_card(**facts) -> None:
    if lacks_billing_card(**facts):
        raise InvalidInput(
            "billing_card_token",
            "a retailer needs a billing card on file to turn on automatic payments: send billing_card_token",
            code="billing_card_required",
        )


def _set_return_policy(store: Store, policy: dict) -> None:
    """A supplier's return policy, shown to its retailers (values validated by the schema)."""
    store.return_window_days = policy["window_days"]
    store.restocking_fee_percent = policy["restocking_fee_percent"]
    store.return_label_provider = policy["label_provider"]
    store.final_sale_skus = sorted(set(policy["final_sale_skus"]))


def _vault_billing_card(uow: UnitOfWork, token: str | None):
    if token is None:
        return None
    from tandem.customers.service import vault_card

    return vault_card(uow.gateway, token, field="billing_card_token")


def _validated(values: dict) -> dict:
    checks = {
        "currency": (is_currency, "is not an ISO 4217 currency"),
        "locale": (lambda v: v in LOCALES, f"must be one of {', '.join(LOCALES)}"),
        "timezone": (lambda v: v in available_timezones(), "is not an IANA time zone"),
        "payment_capture": (lambda v: v in set(PaymentCapture), "must be automatic or manual"),
        "name": (lambda v: bool(v and v.strip()) and is_one_line(v), "cannot be empty or span lines"),
        "email": (is_one_line, "must not contain line breaks or control characters"),
    }
    for field, value in values.items():
        check = checks.get(field)
        if check and value is not None and not check[0](value):
            raise InvalidInput(field, check[1])
    return values


def _ensure_staff_email_free(session: Session, email: str) -> None:
    from sqlalchemy import select

    if session.scalar(select(StaffUser.id).where(StaffUser.email == email.lower())):
        raise InvalidInput("email", "a staff login with this email already exists")
