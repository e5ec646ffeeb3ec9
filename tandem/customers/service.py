"""Customers and the cards they keep on file."""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from tandem.customers import events
from tandem.customers.domain import PaymentMethodStatus, move_payment_method
from tandem.customers.models import Customer, PaymentMethod
from tandem.db import UnitOfWork
from tandem.errors import Conflict, InvalidInput, NotFound
from tandem.paging import Page, PageRequest, newest_first
from tandem.payments.gateway import Gateway, InvalidCard, VaultedCard
from tandem.timeline.domain import Actor


def create_customer(
    uow: UnitOfWork,
    *,
    store_id: int,
    email: str,
    first_name: str | None,
    last_name: str | None,
    locale: str | None,
    now: datetime,
) -> Customer:
    if find_by_email(uow.session, store_id=store_id, email=email):
        raise InvalidInput("email", "a customer with this email already exists")
    customer = _new(store_id, email, first_name, last_name, locale, now)
    uow.session.add(customer)
    try:
        uow.commit()
    except IntegrityError:
        raise InvalidInput("email", "a customer with this email already exists") from None
    return customer


def find_by_email(session: Session, *, store_id: int, email: str) -> Customer | None:
    return session.scalar(
        select(Customer).where(Customer.store_id == store_id, Customer.email == email.strip().lower())
    )


def find_or_add(session: Session, *, store_id: int, email: str, now: datetime) -> Customer:
    """The store's customer with this email, created if new (checkout by email)."""
    customer = find_by_email(session, store_id=store_id, email=email)
    if customer is None:
        customer = _new(store_id, email, None, None, None, now)
        try:
            with session.begin_nested():
                session.add(customer)
        except IntegrityError:  # a concurrent checkout created it
            customer = find_by_email(session, store_id=store_id, email=email)
    return customer


def get_customer(uow: UnitOfWork, *, store_id: int, customer_id: int) -> Customer:
    customer = uow.session.scalar(
        select(Customer)
        .options(selectinload(Customer.payment_methods))
        .where(Customer.id == customer_id, Customer.store_id == store_id)
    )
    if customer is None:
        raise NotFound("customer not found")
    return customer


def list_customers(uow: UnitOfWork, *, store_id: int, q: str | None, page: PageRequest) -> Page[Customer]:
    query = (
        select(Customer).options(selectinload(Customer.payment_methods)).where(Customer.store_id == store_id)
    )
    if q:
        pattern = f"%{q.strip().lower()}%"
        query = query.where(
            func.lower(Customer.email + " " + func.coalesce(Customer.last_name, "")).like(pattern)
        )
    return newest_first(uow.session, query, Customer.id, page)


def add_payment_method(
    uow: UnitOfWork, *, store_id: int, customer_id: int, card_token: str, actor: Actor, now: datetime
) -> PaymentMethod:
    get_customer(uow, store_id=store_id, customer_id=customer_id)
    uow.session.rollback()  # the gateway is called outside any transaction
    card = vault_card(uow.gateway, card_token)
    method = keep_card(
        uow.session,
        store_id=store_id,
        customer_id=customer_id,
        card=card,
        gateway=uow.gateway.name,
        now=now,
    )
    uow.publish(events.CardOnFile(method, None, actor, now))
    uow.commit()
    return method


def replace_payment_method(
    uow: UnitOfWork,
    *,
    store_id: int,
    customer_id: int,
    payment_method_id: int,
    card_token: str,
    actor: Actor,
    now: datetime,
) -> PaymentMethod:
    """A new card in place of an active one (which is kept, `replaced`)."""
    _method_of(uow.session, store_id, customer_id, payment_method_id)  # 404 before the gateway
    uow.session.rollback()
    card = vault_card(uow.gateway, card_token)
    old = _method_of(uow.session, store_id, customer_id, payment_method_id, lock=True)
    method = swap_card(uow, old, card, actor=actor, now=now)
    uow.commit()
    return method


def swap_card(
    uow: UnitOfWork, old: PaymentMethod, card: VaultedCard, *, actor: Actor, now: datetime
) -> PaymentMethod:
    """Inside the caller's transaction: `old` (locked) becomes replaced by the vaulted `card`."""
    move_payment_method(old, PaymentMethodStatus.REPLACED)
    method = keep_card(
        uow.session,
        store_id=old.store_id,
        customer_id=old.customer_id,
        card=card,
        gateway=uow.gateway.name,
        now=now,
    )
    old.replaced_by_id, old.revoked_at = method.id, now
    uow.publish(events.CardOnFile(method, old, actor, now))
    return method


def revoke_payment_method(
    uow: UnitOfWork, *, store_id: int, customer_id: int, payment_method_id: int, actor: Actor, now: datetime
) -> PaymentMethod:
    """Remove a card: it stays in the history with revoked_at; nothing is charged to it again."""
    method = _method_of(uow.session, store_id, customer_id, payment_method_id, lock=True)
    move_payment_method(method, PaymentMethodStatus.REVOKED)
    method.revoked_at = now
    uow.publish(events.CardRevoked(method, actor, now))
    uow.commit()
    return method


def request_card_update(
    uow: UnitOfWork, *, store_id: int, customer_id: int, payment_method_id: int, actor: Actor, now: datetime
) -> PaymentMethod:
    """Mail the customer a signed link to update this card (or replace a removed one)."""
    method = _method_of(uow.session, store_id, customer_id, payment_method_id)
    if method.status == PaymentMethodStatus.REPLACED:
        raise Conflict(
            "this card was already replaced; ask about the card that replaced it",
            code="payment_method_replaced",
        )
    uow.publish(events.CardUpdateRequested(method, actor, now))
    uow.commit()
    return method


def vault_card(gateway: Gateway, card_token: str, field: str = "card_token") -> VaultedCard:
    try:
        return gateway.vault(card_token=card_token)
    except InvalidCard:
        raise InvalidInput(field, "unknown card token") from None


def keep_card(
    session: Session, *, store_id: int, customer_id: int, card: VaultedCard, gateway: str, now: datetime
) -> PaymentMethod:
    """Store a card vaulted at the gateway as the customer's payment method."""
    method = PaymentMethod(
        store_id=store_id,
        customer_id=customer_id,
        gateway=gateway,
        gateway_reference=card.reference,
        brand=card.brand,
        last4=card.last4,
        status=PaymentMethodStatus.ACTIVE.value,
        created_at=now,
    )
    session.add(method)
    session.flush()
    return method


def active_card(session: Session, customer_id: int) -> PaymentMethod | None:
    """The newest active card of a customer."""
    return session.scalar(
        select(PaymentMethod)
        .where(
            PaymentMethod.customer_id == customer_id, PaymentMethod.status == PaymentMethodStatus.ACTIVE.value
        )
        .order_by(PaymentMethod.id.desc())
        .limit(1)
    )


def _method_of(
    session: Session, store_id: int, customer_id: int, payment_method_id: int, *, lock: bool = False
) -> PaymentMethod:
    query = select(PaymentMethod).where(
        PaymentMethod.id == payment_method_id,
        PaymentMethod.store_id == store_id,
        PaymentMethod.customer_id == customer_id,
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    method = session.scalar(query)
    if method is None:
        raise NotFound("payment method not found")
    return method


def usable_payment_method(
    session: Session, *, store_id: int, customer_id: int, payment_method_id: int
) -> PaymentMethod:
    method = session.scalar(
        select(PaymentMethod).where(PaymentMethod.id == payment_method_id, PaymentMethod.store_id == store_id)
    )
    if method is None or method.customer_id != customer_id:
        raise InvalidInput("payment_method_id", "no such payment method for this customer")
    if method.status != PaymentMethodStatus.ACTIVE:
        raise InvalidInput("payment_method_id", f"payment method is {method.status}")
    return method


def _new(store_id, email, first_name, last_name, locale, now) -> Customer:
    return Customer(
        store_id=store_id,
        email=email.strip().lower(),
        first_name=first_name,
        last_name=last_name,
        locale=locale,
        created_at=now,
    )
