"""Collecting the balance of a pre-order.

The worker charges the card on file when a schedule falls due; staff can collect early
(with the card on file or a card they enter); the customer pays an invoice or confirms a
charge their bank challenged. Every charge runs in the three steps of payments.service:
a pending transaction written with the attempt (its idempotency key names the schedule
and the attempt number), the gateway call outside any transaction, the settlement. A
worker that dies in between leaves the pending row to the payments sweeper, which replays
the same key: the card is never charged twice for one attempt, and a schedule never has
two attempts in flight.
"""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tandem.customers.domain import PaymentMethodStatus
from tandem.customers.models import PaymentMethod
from tandem.db import UnitOfWork
from tandem.errors import Conflict, NotFound, PaymentFailed
from tandem.orders import domain as order_domain
from tandem.orders.models import Order
from tandem.orders.service import lock_order, payment_totals, publish_financial, record
from tandem.payments import service as payments
from tandem.payments.domain import Purpose, TransactionKind, TransactionStatus
from tandem.payments.models import PaymentTransaction
from tandem.preorders import domain, events
from tandem.preorders.domain import ScheduleAction, ScheduleEvent, ScheduleStatus
from tandem.preorders.models import PaymentSchedule
from tandem.preorders.service import schedule_charge
from tandem.timeline.domain import WORKER, Actor, Change

# After a gateway error the worker tries again after these delays, then leaves it to staff.
RETRY_AFTER = tuple(timedelta(seconds=s) for s in (300, 1800, 7200, 21600, 86400))
CHARGEABLE_BY_WORKER = (ScheduleStatus.PENDING.value, ScheduleStatus.OVERDUE.value)


def charge_due(uow: UnitOfWork, *, schedule_id: int, due_at: str, now: datetime) -> None:
    """Job: the schedule fell due (or a retry came). A job made for a due date staff have
    since changed, or for a schedule already settled, does nothing."""
    session = uow.session
    found = session.get(PaymentSchedule, schedule_id)
    if found is None:
        return
    order = lock_order(session, found.store_id, found.order_id)
    schedule = _locked(session, schedule_id)
    stale = schedule.due_at is None or schedule.due_at != datetime.fromisoformat(due_at)
    if stale or schedule.status not in CHARGEABLE_BY_WORKER or _charging(session, schedule):
        return
    call = _begin(uow, order, schedule, card_token=None, actor=WORKER, now=now)
    if call is not None:
        payments.pay(uow, [call], actor=WORKER, now=now, by_worker=True)


def charge_now(
    uow: UnitOfWork,
    *,
    store_id: int,
    order_id: int,
    schedule_id: int,
    card_token: str | None,
    actor: Actor,
    now: datetime,
) -> PaymentSchedule:
    """Staff collect early: the card on file, or a card they enter (`card_token`)."""
    order = lock_order(uow.session, store_id, order_id)
    schedule = _of_order(uow.session, order, schedule_id)
    return _charge_while_waiting(uow, order, schedule, card_token, actor, now)


def pay_invoice(
    uow: UnitOfWork, schedule_id: int, *, card_token: str, actor: Actor, now: datetime
) -> PaymentSchedule:
    """The customer pays the balance from an invoice link, with the card they enter."""
    found = uow.session.get(PaymentSchedule, schedule_id)
    order = lock_order(uow.session, found.store_id, found.order_id)
    return _charge_while_waiting(uow, order, _locked(uow.session, schedule_id), card_token, actor, now)


def _charge_while_waiting(
    uow: UnitOfWork,
    order: Order,
    schedule: PaymentSchedule,
    card_token: str | None,
    actor: Actor,
    now: datetime,
) -> PaymentSchedule:
    domain.ensure_allowed(schedule, ScheduleAction.CHARGE)
    if _charging(uow.session, schedule):
        raise Conflict("a charge of this payment is already in progress", code="charge_in_progress")
    if card_token is None and _card(uow.session, schedule) is None:
        raise Conflict(
            "there is no card on file for this payment: send an invoice, or enter a card",
            code="no_payment_method",
        )
    call = _begin(uow, order, schedule, card_token=card_token, actor=actor, now=now)
    return _outcome(uow, call, actor=actor, now=now)


def _outcome(uow: UnitOfWork, call: payments.GatewayCall, *, actor: Actor, now: datetime) -> PaymentSchedule:
    """Settle a charge made while someone waits: 402 unless it went through."""
    [tx] = payments.pay(uow, [call], actor=actor, now=now)
    if tx is None:
        raise PaymentFailed(
            "the payment could not be confirmed; it will be settled shortly", code="payment_pending"
        )
    if tx.status == TransactionStatus.FAILURE:
        raise PaymentFailed(f"payment declined: {tx.message}")
    if tx.status == TransactionStatus.ERROR:
        raise PaymentFailed(f"payment gateway error: {tx.message}", code="gateway_error")
    return uow.session.get(PaymentSchedule, tx.payment_schedule_id)


def finish_charge(
    uow: UnitOfWork,
    tx: PaymentTransaction,
    call: payments.GatewayCall,
    *,
    actor: Actor,
    now: datetime,
    by_worker: bool,
) -> None:
    """Finisher (Purpose.SCHEDULE): the schedule and its order follow the settled charge. The
    worker plans a retry after a gateway error on an off-session charge it made."""
    session = uow.session
    order = session.get(Order, tx.order_id, with_for_update=True, populate_existing=True)
    schedule = _locked(session, tx.payment_schedule_id)
    previous = order.financial_status
    status = TransactionStatus(tx.status)
    changes = SETTLEMENTS[status](uow, order, schedule, tx, actor, now)
    if status is TransactionStatus.ERROR and by_worker and tx.off_session and not call.confirm:
        changes += _retry_later(session, schedule, now)
    schedule.updated_at = now
    record(session, order, changes, actor, now)
    publish_financial(uow, order, previous, actor, now)


def confirm(uow: UnitOfWork, schedule_id: int, *, actor: Actor, now: datetime) -> PaymentSchedule:
    """The customer completed the bank's challenge: the gateway completes the charge."""
    session = uow.session
    found = session.get(PaymentSchedule, schedule_id)
    lock_order(session, found.store_id, found.order_id)
    schedule = _locked(session, schedule_id)
    if schedule.status != ScheduleStatus.AWAITING_CUSTOMER:
        raise Conflict(
            f"this payment is {schedule.status}: there is nothing to confirm", code="nothing_to_confirm"
        )
    tx = _challenged_charge(session, schedule)
    if tx is None:  # an earlier confirmation met a gateway error: staff collect or invoice
        raise Conflict("this payment can no longer be confirmed here", code="nothing_to_confirm")
    tx.locked_until = now + payments.LEASE  # the sweeper finishes it if we die before settling
    call = payments.confirmation_call(tx)
    uow.commit()
    return _outcome(uow, call, actor=actor, now=now)


def _challenged_charge(session: Session, schedule: PaymentSchedule) -> PaymentTransaction:
    return session.scalars(
        select(PaymentTransaction)
        .where(
            PaymentTransaction.payment_schedule_id == schedule.id,
            PaymentTransaction.status == TransactionStatus.AWAITING_CUSTOMER.value,
        )
        .order_by(PaymentTransaction.id.desc())
        .with_for_update()
    ).first()


# -- the three steps ---------------------------------------------------------------------------


def _begin(
    uow: UnitOfWork,
    order: Order,
    schedule: PaymentSchedule,
    *,
    card_token: str | None,
    actor: Actor,
    now: datetime,
) -> payments.GatewayCall | None:
    """Write the attempt's pending transaction and commit; None if there is no card to charge."""
    session = uow.session
    card = None if card_token else _card(session, schedule)
    if card_token is None and card is None:
        _without_card(uow, order, schedule, actor, now)
        uow.commit()
        return None
    schedule.attempts += 1
    schedule.updated_at = now
    tx = payments.begin(
        session,
        store_id=order.store_id,
        kind=TransactionKind.SALE,
        purpose=Purpose.SCHEDULE,
        amount=schedule.amount,
        currency=schedule.currency,
        gateway=uow.gateway.name,
        now=now,
        idempotency_key=f"tdm_schedule_{schedule.id}_attempt_{schedule.attempts}",
        order_id=order.id,
        payment_schedule_id=schedule.id,
        payment_method_id=card.id if card else None,
        card_token=card_token,
        off_session=card_token is None,  # the card on file, without the customer present
    )
    call = payments.call_for(session, tx)
    uow.commit()
    return call


def _paid(
    uow: UnitOfWork, order: Order, schedule: PaymentSchedule, tx, actor: Actor, now: datetime
) -> list[Change]:
    event = (
        ScheduleEvent.CONFIRMED
        if schedule.status == ScheduleStatus.AWAITING_CUSTOMER
        else ScheduleEvent.CHARGED
    )
    domain.move_schedule(schedule, event)
    schedule.paid_at, schedule.last_error = now, None
    uow.session.flush()
    totals = payment_totals(uow.session, order.id)
    money_in = order_domain.money_in_event(net_paid=totals.net_paid, total=order.total)
    return [_change("payment_schedule_paid", schedule), *order_domain.apply_payment(order, money_in)]


def _declined(uow: UnitOfWork, order: Order, schedule: PaymentSchedule, tx, actor: Actor, now: datetime):
    domain.move_schedule(schedule, ScheduleEvent.DECLINED)
    schedule.last_error = (tx.message or "declined")[:500]
    uow.publish(events.ScheduleFailed(order, schedule, "declined", actor, now))
    return [_change("payment_schedule_failed", schedule, message=schedule.last_error)]


def _challenged(uow: UnitOfWork, order: Order, schedule: PaymentSchedule, tx, actor: Actor, now: datetime):
    domain.move_schedule(schedule, ScheduleEvent.CHALLENGED)
    schedule.last_error = None
    uow.publish(events.ScheduleNeedsConfirmation(order, schedule, actor, now))
    return [_change("payment_schedule_awaiting_customer", schedule)]


def _errored(uow: UnitOfWork, order: Order, schedule: PaymentSchedule, tx, actor: Actor, now: datetime):
    schedule.last_error = (tx.message or "gateway error")[:500]
    changes = [_change("payment_schedule_charge_error", schedule, message=schedule.last_error)]
    if schedule.status == ScheduleStatus.PENDING and schedule.due_at is not None and schedule.due_at <= now:
        domain.move_schedule(schedule, ScheduleEvent.PAST_DUE)
        changes.append(_change("payment_schedule_overdue", schedule))
    return changes


SETTLEMENTS = {
    TransactionStatus.SUCCESS: _paid,
    TransactionStatus.FAILURE: _declined,
    TransactionStatus.AWAITING_CUSTOMER: _challenged,
    TransactionStatus.ERROR: _errored,
}


def _retry_later(session: Session, schedule: PaymentSchedule, now: datetime) -> list[Change]:
    """After a gateway error, the worker tries again later; past the last delay, staff decide."""
    errors = len(
        session.scalars(
            select(PaymentTransaction.id).where(
                PaymentTransaction.payment_schedule_id == schedule.id,
                PaymentTransaction.status == TransactionStatus.ERROR.value,
            )
        ).all()
    )
    if schedule.due_at is None or errors > len(RETRY_AFTER):
        return []
    run_at = now + RETRY_AFTER[errors - 1]
    schedule_charge(session, schedule, run_at=run_at, now=now)
    return [Change("payment_schedule_retry_planned", {"schedule_id": schedule.id, "at": run_at.isoformat()})]


def _without_card(
    uow: UnitOfWork, order: Order, schedule: PaymentSchedule, actor: Actor, now: datetime
) -> None:
    """Nothing to charge: the schedule fails and the customer is asked for a card."""
    domain.move_schedule(schedule, ScheduleEvent.CARD_REMOVED)
    schedule.last_error, schedule.updated_at = "no card on file", now
    uow.publish(events.ScheduleFailed(order, schedule, "no_card", actor, now))
    record(
        uow.session,
        order,
        [_change("payment_schedule_failed", schedule, message="no card on file")],
        actor,
        now,
    )


# -- reading -----------------------------------------------------------------------------------


def _card(session: Session, schedule: PaymentSchedule) -> PaymentMethod | None:
    if schedule.payment_method_id is None:
        return None
    card = session.get(PaymentMethod, schedule.payment_method_id)
    return card if card.status == PaymentMethodStatus.ACTIVE else None


def _charging(session: Session, schedule: PaymentSchedule) -> bool:
    """Is an attempt in flight (written, not settled)?"""
    return (
        session.scalar(
            select(PaymentTransaction.id).where(
                PaymentTransaction.payment_schedule_id == schedule.id,
                PaymentTransaction.status == TransactionStatus.PENDING.value,
            )
        )
        is not None
    )


def _locked(session: Session, schedule_id: int) -> PaymentSchedule:
    return session.get(PaymentSchedule, schedule_id, with_for_update=True, populate_existing=True)


def _of_order(session: Session, order: Order, schedule_id: int) -> PaymentSchedule:
    schedule = _locked(session, schedule_id)
    if schedule is None or schedule.order_id != order.id:
        raise NotFound("payment schedule not found")
    return schedule


def _change(verb: str, schedule: PaymentSchedule, **extra) -> Change:
    return Change(verb, {"schedule_id": schedule.id, "amount": schedule.amount, **extra})
