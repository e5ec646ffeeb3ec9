"""What a customer page shows, read inside the unit of work as plain values (the page is
rendered after the session is closed)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from tandem.customers.domain import PaymentMethodStatus
from tandem.customers.models import PaymentMethod
from tandem.errors import Conflict, NotFound
from tandem.orders.models import Order
from tandem.preorders import domain
from tandem.preorders.customer_links import LinkPage
from tandem.preorders.domain import ScheduleAction, ScheduleStatus
from tandem.preorders.models import PaymentSchedule

UPDATE_CARD, CONFIRM_PAYMENT, PAY_INVOICE = "update_card", "confirm_payment", "pay_invoice"
# What a new card will try again (tandem.preorders.schedules.card_on_file).
RETRIED_WITH_A_NEW_CARD = (ScheduleStatus.FAILED.value, ScheduleStatus.OVERDUE.value)


def reader(page: LinkPage) -> dict:
    """The store as the page presents it, and the language of the person reading."""
    store, customer = page.store, page.customer
    locale = (customer.locale if customer is not None else None) or store.locale
    return {"name": store.name, "timezone": store.timezone, "locale": locale}


def link_view(session: Session, purpose: str, page: LinkPage) -> dict:
    """Everything a form page shows; 409 if there is nothing left to do with this link."""
    ensure_actionable(purpose, page)
    return {
        "store": reader(page),
        "order": {"name": page.order.name} if page.order is not None else None,
        "payment": _payment(page.schedule) if page.schedule is not None else None,
        "card": _card(page.method),
        "waiting": _waiting_for_a_card(session, page) if purpose == UPDATE_CARD else [],
    }


def ensure_actionable(purpose: str, page: LinkPage) -> None:
    if purpose == UPDATE_CARD:
        return
    if page.schedule is None:
        raise NotFound("this link is not valid")
    if purpose == CONFIRM_PAYMENT and page.schedule.status != ScheduleStatus.AWAITING_CUSTOMER:
        raise Conflict("there is nothing to confirm", code="nothing_to_confirm")
    if purpose == PAY_INVOICE and ScheduleAction.CHARGE not in domain.allowed_actions(page.schedule):
        raise Conflict("there is nothing to pay", code="nothing_to_pay")


def _card(method: PaymentMethod | None) -> dict | None:
    """The card the new one replaces; none once it was removed (the new one is simply added)."""
    if method is None or method.status != PaymentMethodStatus.ACTIVE:
        return None
    return {"brand": method.brand, "last4": method.last4}


def _payment(schedule: PaymentSchedule) -> dict:
    return {"amount": schedule.amount, "currency": schedule.currency, "due_at": schedule.due_at}


def _waiting_for_a_card(session: Session, page: LinkPage) -> list[dict]:
    """The customer's payments that failed and will be tried again with the new card."""
    rows = session.execute(
        select(Order, PaymentSchedule.amount, PaymentSchedule.currency)
        .join(Order, Order.id == PaymentSchedule.order_id)
        .where(
            Order.store_id == page.store.id,
            Order.customer_id == page.customer.id,
            PaymentSchedule.status.in_(RETRIED_WITH_A_NEW_CARD),
        )
        .order_by(Order.number, PaymentSchedule.id)
    ).all()
    return [{"order": order.name, "amount": amount, "currency": currency} for order, amount, currency in rows]
