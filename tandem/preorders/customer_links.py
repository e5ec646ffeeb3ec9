"""What a customer does from a mailed link, without logging in: update the card on file,
confirm a payment their bank challenged, pay an invoice. Each link is signed, expires,
and works once (tandem.notifications.links); these use cases say when it is used up."""

from dataclasses import dataclass
from datetime import datetime

from tandem.customers import events as card_events
from tandem.customers import service as customers
from tandem.customers.domain import PaymentMethodStatus
from tandem.customers.models import Customer, PaymentMethod
from tandem.db import UnitOfWork
from tandem.errors import NotFound
from tandem.notifications import links
from tandem.notifications.models import SignedLink
from tandem.orders.models import Order
from tandem.preorders import charging
from tandem.preorders.models import PaymentSchedule
from tandem.stores.models import Store
from tandem.timeline.domain import Actor, ActorKind


@dataclass(frozen=True)
class LinkPage:
    """What a customer page shows: the store, and what the link is about."""

    link: SignedLink
    store: Store
    customer: Customer
    order: Order | None = None
    schedule: PaymentSchedule | None = None
    method: PaymentMethod | None = None  # the card being updated (update_card)


def open_page(uow: UnitOfWork, *, purpose: str, token: str, now: datetime) -> LinkPage:
    """The page behind a link; 404 if it is not a valid link, 409 if used or expired."""
    link = _open(uow, purpose, token, now, consume=False)
    return _page(uow, link)


def describe(uow: UnitOfWork, *, purpose: str, token: str) -> LinkPage:
    """Whom a link was for, even once used or expired (to say so in their language); 404 if not valid."""
    secret = uow.settings.secret()
    return _page(uow, links.find_link(uow.session, secret_key=secret, token=token, purpose=purpose))


def update_card(uow: UnitOfWork, *, token: str, card_token: str, now: datetime) -> PaymentMethod:
    """The customer's new card replaces the one the link names (or is added); payments that
    failed are tried again with it (pre-order schedules follow CardOnFile)."""
    page = open_page(uow, purpose="update_card", token=token, now=now)
    store_id, customer_id, gateway = page.store.id, page.customer.id, uow.gateway
    old_id = page.method.id if page.method else None
    uow.rollback()  # the gateway is called outside any transaction
    card = customers.vault_card(gateway, card_token)
    _open(uow, "update_card", token, now, consume=True)
    actor = _customer_actor(page.customer)
    old = (
        uow.session.get(PaymentMethod, old_id, with_for_update=True, populate_existing=True)
        if old_id
        else None
    )
    if old is not None and old.status == PaymentMethodStatus.ACTIVE:
        method = customers.swap_card(uow, old, card, actor=actor, now=now)
    else:
        method = customers.keep_card(
            uow.session, store_id=store_id, customer_id=customer_id, card=card, gateway=gateway.name, now=now
        )
        uow.publish(card_events.CardOnFile(method, None, actor, now))
    uow.commit()
    return method


def confirm_payment(uow: UnitOfWork, *, token: str, now: datetime) -> PaymentSchedule:
    """The customer confirms the charge their bank challenged; the link is used up."""
    page = open_page(uow, purpose="confirm_payment", token=token, now=now)
    _open(uow, "confirm_payment", token, now, consume=True)
    return charging.confirm(uow, page.schedule.id, actor=_customer_actor(page.customer), now=now)


def pay_invoice(uow: UnitOfWork, *, token: str, card_token: str, now: datetime) -> PaymentSchedule:
    """The customer pays the balance with a card they enter. A declined card leaves the link
    usable (they can try another card); once paid, it is used up."""
    page = open_page(uow, purpose="pay_invoice", token=token, now=now)
    actor = _customer_actor(page.customer)
    schedule = charging.pay_invoice(uow, page.schedule.id, card_token=card_token, actor=actor, now=now)
    _open(uow, "pay_invoice", token, now, consume=True)
    uow.commit()
    return schedule


def _open(uow: UnitOfWork, purpose: str, token: str, now: datetime, *, consume: bool) -> SignedLink:
    secret = uow.settings.secret()
    return links.open_link(
        uow.session, secret_key=secret, token=token, purpose=purpose, now=now, consume=consume
    )


def _page(uow: UnitOfWork, link: SignedLink) -> LinkPage:
    session = uow.session
    store = session.get(Store, link.store_id)
    if link.subject_type == "payment_schedule":
        schedule = session.get(PaymentSchedule, link.subject_id)
        order = session.get(Order, schedule.order_id)
        return LinkPage(link, store, session.get(Customer, order.customer_id), order, schedule)
    if link.subject_type == "payment_method":
        method = session.get(PaymentMethod, link.subject_id)
        return LinkPage(link, store, session.get(Customer, method.customer_id), method=method)
    if link.subject_type == "customer":
        return LinkPage(link, store, session.get(Customer, link.subject_id))
    raise NotFound("this link is not valid")


def _customer_actor(customer: Customer) -> Actor:
    return Actor(ActorKind.CUSTOMER, customer.email, customer.id)
