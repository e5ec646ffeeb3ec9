"""Payment schedules as the order moves: staff change due dates and send invoices; the
schedules follow the order (cancelled with it, due when it ships) and the customer's cards
(a new card retries what failed; a removed card leaves nothing to charge)."""

from datetime import datetime

from sqlalchemy import select

from tandem.customers import events as card_events
from tandem.customers.domain import PaymentMethodStatus
from tandem.customers.models import PaymentMethod
from tandem.customers.service import active_card
from tandem.db import UnitOfWork
from tandem.errors import InvalidInput, NotFound
from tandem.orders import events as order_events
from tandem.orders.models import Fulfillment, Order
from tandem.orders.service import lock_order, record
from tandem.preorders import domain, events
from tandem.preorders.domain import UNPAID, BalanceTrigger, ScheduleAction, ScheduleEvent, ScheduleStatus
from tandem.preorders.models import PaymentSchedule
from tandem.preorders.service import schedule_charge
from tandem.timeline.domain import Actor, Change


def change_due_date(
    uow: UnitOfWork,
    *,
    store_id: int,
    order_id: int,
    schedule_id: int,
    due_at: datetime,
    actor: Actor,
    now: datetime,
) -> PaymentSchedule:
    """Move the due date (not into the past); the charge follows the new date."""
    session = uow.session
    order = lock_order(session, store_id, order_id)
    schedule = locked_schedule(session, order, schedule_id)
    domain.ensure_allowed(schedule, ScheduleAction.CHANGE_DUE_DATE)
    if due_at <= now:
        raise InvalidInput("due_at", "the new due date must be in the future")
    previous = schedule.due_at
    domain.move_schedule(schedule, ScheduleEvent.RESCHEDULE)
    schedule.due_at, schedule.updated_at = due_at, now
    schedule_charge(session, schedule, run_at=due_at, now=now)
    change = Change(
        "payment_schedule_rescheduled",
        {
            "schedule_id": schedule.id,
            "from": previous.isoformat() if previous else None,
            "to": due_at.isoformat(),
        },
    )
    record(session, order, [change], actor, now)
    uow.commit()
    return schedule


def send_invoice(
    uow: UnitOfWork, *, store_id: int, order_id: int, schedule_id: int, actor: Actor, now: datetime
) -> PaymentSchedule:
    """Mail the customer a link to pay the balance with a card of their choice."""
    session = uow.session
    order = lock_order(session, store_id, order_id)
    schedule = locked_schedule(session, order, schedule_id)
    domain.ensure_allowed(schedule, ScheduleAction.SEND_INVOICE)
    uow.publish(events.InvoiceSent(order, schedule, actor, now))
    record(
        session,
        order,
        [Change("invoice_sent", {"schedule_id": schedule.id, "amount": schedule.amount})],
        actor,
        now,
    )
    uow.commit()
    return schedule


def locked_schedule(session, order: Order, schedule_id: int) -> PaymentSchedule:
    schedule = session.get(PaymentSchedule, schedule_id, with_for_update=True, populate_existing=True)
    if schedule is None or schedule.order_id != order.id:
        raise NotFound("payment schedule not found")
    return schedule


# -- following the order (bus) -----------------------------------------------------------------


def order_cancelled(uow: UnitOfWork, event: order_events.OrderCancelled) -> None:
    """Nothing more is owed on a cancelled order."""
    changes = []
    for schedule in _unpaid(uow.session, order_id=event.order.id):
        domain.move_schedule(schedule, ScheduleEvent.CANCEL)
        schedule.updated_at = event.at
        changes.append(
            Change("payment_schedule_cancelled", {"schedule_id": schedule.id, "amount": schedule.amount})
        )
    if changes:
        record(uow.session, event.order, changes, event.actor, event.at)


def order_fulfilled(uow: UnitOfWork, event: order_events.OrderFulfilled) -> None:
    """A balance due `on_fulfillment` falls due when its items ship."""
    session = uow.session
    fulfillment = session.get(Fulfillment, event.fulfillment_id)
    shipped = {fl.line_item_id for fl in fulfillment.lines}
    plans = {li.selling_plan_id for li in event.order.line_items if li.id in shipped and li.selling_plan_id}
    changes = []
    for schedule in _unpaid(session, order_id=event.order.id):
        waiting = schedule.trigger == BalanceTrigger.ON_FULFILLMENT and schedule.due_at is None
        if waiting and schedule.selling_plan_id in plans and schedule.status == ScheduleStatus.PENDING:
            schedule.due_at, schedule.updated_at = event.at, event.at
            schedule_charge(session, schedule, run_at=event.at, now=event.at)
            changes.append(
                Change("payment_schedule_due", {"schedule_id": schedule.id, "amount": schedule.amount})
            )
    if changes:
        record(session, event.order, changes, event.actor, event.at)


# -- following the customer's cards (bus) ------------------------------------------------------


def card_on_file(uow: UnitOfWork, event: card_events.CardOnFile) -> None:
    """A new card: schedules left without a usable card take it, and failed ones are tried again."""
    session, card = uow.session, event.method
    for schedule, order in _unpaid_of_customer(session, card.customer_id):
        usable = _usable(session, schedule.payment_method_id)
        if usable and schedule.status != ScheduleStatus.FAILED:
            continue
        schedule.payment_method_id, schedule.updated_at = card.id, event.at
        changes = [Change("payment_schedule_card_changed", {"schedule_id": schedule.id, "last4": card.last4})]
        if schedule.status in (ScheduleStatus.FAILED, ScheduleStatus.OVERDUE):
            changes += _retry_now(session, schedule, event.at)
        record(session, order, changes, event.actor, event.at)


def card_revoked(uow: UnitOfWork, event: card_events.CardRevoked) -> None:
    """A removed card: its schedules move to another active card, or fail and the customer is
    asked for a new one (one email, however many schedules)."""
    session, removed = uow.session, event.method
    other = active_card(session, removed.customer_id)
    left_without = False
    for schedule, order in _unpaid_of_customer(session, removed.customer_id):
        if schedule.payment_method_id != removed.id:
            continue
        schedule.payment_method_id, schedule.updated_at = (other.id if other else None), event.at
        if other is not None:
            change = Change(
                "payment_schedule_card_changed", {"schedule_id": schedule.id, "last4": other.last4}
            )
        else:
            change, left_without = _fail_without_card(uow, order, schedule, event), True
        record(session, order, [change], event.actor, event.at)
    if left_without:
        uow.publish(card_events.CardUpdateRequested(removed, event.actor, event.at, reason="revoked"))


def _fail_without_card(uow: UnitOfWork, order: Order, schedule: PaymentSchedule, event) -> Change:
    if schedule.status != ScheduleStatus.FAILED:
        domain.move_schedule(schedule, ScheduleEvent.CARD_REMOVED)
    schedule.last_error = "no card on file"
    uow.publish(events.ScheduleFailed(order, schedule, "card_removed", event.actor, event.at))
    return Change(
        "payment_schedule_failed",
        {"schedule_id": schedule.id, "amount": schedule.amount, "message": "no card on file"},
    )


def _retry_now(session, schedule: PaymentSchedule, now: datetime) -> list[Change]:
    domain.move_schedule(schedule, ScheduleEvent.RETRY)
    if schedule.due_at is None or schedule.due_at > now:
        return [Change("payment_schedule_retry_planned", {"schedule_id": schedule.id})]
    schedule_charge(session, schedule, run_at=now, now=now)
    return [Change("payment_schedule_retry_planned", {"schedule_id": schedule.id, "at": now.isoformat()})]


def _unpaid(session, *, order_id: int) -> list[PaymentSchedule]:
    return list(
        session.scalars(
            select(PaymentSchedule)
            .where(
                PaymentSchedule.order_id == order_id, PaymentSchedule.status.in_([s.value for s in UNPAID])
            )
            .order_by(PaymentSchedule.id)
            .with_for_update()
        )
    )


def _unpaid_of_customer(session, customer_id: int) -> list[tuple[PaymentSchedule, Order]]:
    """The customer's unpaid schedules with their orders, locked order first (the lock order)."""
    rows = session.execute(
        select(PaymentSchedule.id, Order.id)
        .join(Order, Order.id == PaymentSchedule.order_id)
        .where(Order.customer_id == customer_id, PaymentSchedule.status.in_([s.value for s in UNPAID]))
        .order_by(Order.id, PaymentSchedule.id)
    ).all()
    found = []
    for schedule_id, order_id in rows:
        order = session.get(Order, order_id, with_for_update=True, populate_existing=True)
        schedule = session.get(PaymentSchedule, schedule_id, with_for_update=True, populate_existing=True)
        if schedule.status in UNPAID:
            found.append((schedule, order))
    return found


def _usable(session, payment_method_id: int | None) -> bool:
    if payment_method_id is None:
        return False
    return session.get(PaymentMethod, payment_method_id).status == PaymentMethodStatus.ACTIVE


def subscribe(bus) -> None:
    bus.subscribe(order_events.OrderCancelled, order_cancelled)
    bus.subscribe(order_events.OrderFulfilled, order_fulfilled)
    bus.subscribe(card_events.CardOnFile, card_on_file)
    bus.subscribe(card_events.CardRevoked, card_revoked)
