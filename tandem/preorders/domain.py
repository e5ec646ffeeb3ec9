"""Pre-orders with deferred payments (SPEC §2.4, seed 002): selling plans, deposits, and the
payment schedule of the balance, as explicit rules and a transition table."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from tandem.errors import IllegalTransition, InvalidInput


class DepositType(StrEnum):
    PERCENTAGE = "percentage"  # of the line's price, 0 to 100
    FIXED = "fixed"  # an amount per unit


class BalanceTrigger(StrEnum):
    EXACT_TIME = "exact_time"  # due at a date (`at`)
    TIME_AFTER_CHECKOUT = "time_after_checkout"  # due `after_seconds` after the order
    ON_FULFILLMENT = "on_fulfillment"  # charged when the order is fulfilled


class InventoryReserve(StrEnum):
    ON_SALE = "on_sale"  # stock is taken at checkout (and can sell out)
    ON_FULFILLMENT = "on_fulfillment"  # the order is accepted without stock; taken when fulfilled


@dataclass(frozen=True)
class Plan:
    deposit_type: DepositType
    deposit_value: int  # percent, or minor units per unit
    trigger: BalanceTrigger
    due_at: datetime | None = None
    after_seconds: int | None = None
    inventory_reserve: InventoryReserve = InventoryReserve.ON_SALE


def check_plan(plan: Plan, *, now: datetime) -> None:
    """Refuse combinations that cannot work, naming the field (422)."""
    if plan.deposit_type is DepositType.PERCENTAGE and not 0 <= plan.deposit_value <= 100:
        raise InvalidInput("deposit.value", "a percentage is between 0 and 100")
    if plan.deposit_type is DepositType.FIXED and plan.deposit_value < 0:
        raise InvalidInput("deposit.value", "cannot be negative")
    if plan.trigger is BalanceTrigger.EXACT_TIME and (plan.due_at is None or plan.due_at <= now):
        raise InvalidInput("balance_due.at", "an exact_time balance needs a due date in the future")
    if plan.trigger is BalanceTrigger.TIME_AFTER_CHECKOUT and not (plan.after_seconds or 0) > 0:
        raise InvalidInput(
            "balance_due.after_seconds", "a time_after_checkout balance needs a positive delay"
        )
    if plan.trigger is not BalanceTrigger.EXACT_TIME and plan.due_at is not None:
        raise InvalidInput("balance_due.at", f"only exact_time takes a date, not {plan.trigger.value}")
    if plan.trigger is not BalanceTrigger.TIME_AFTER_CHECKOUT and plan.after_seconds is not None:
        raise InvalidInput("balance_due.after_seconds", "only time_after_checkout takes a delay")


def deposit(plan: Plan, *, unit_price: int, quantity: int) -> int:
    """What is paid at checkout for a line sold under `plan` (never more than the line)."""
    line_total = unit_price * quantity
    if plan.deposit_type is DepositType.PERCENTAGE:
        return (line_total * plan.deposit_value * 2 + 100) // 200  # half up
    return min(plan.deposit_value * quantity, line_total)


def balance_due_at(plan: Plan, *, ordered_at: datetime) -> datetime | None:
    """When the balance is charged; None: at fulfilment."""
    if plan.trigger is BalanceTrigger.EXACT_TIME:
        return plan.due_at
    if plan.trigger is BalanceTrigger.TIME_AFTER_CHECKOUT:
        return ordered_at + timedelta(seconds=plan.after_seconds)
    return None


class ScheduleStatus(StrEnum):
    PENDING = "pending"
    OVERDUE = "overdue"  # past its due date and unpaid: the gateway failed, the worker tries again
    AWAITING_CUSTOMER = "awaiting_customer"  # the bank wants the customer to confirm
    PAID = "paid"
    FAILED = "failed"  # declined (or no card): the customer is asked for a new card
    CANCELLED = "cancelled"


class ScheduleEvent(StrEnum):
    CHARGED = "charged"
    DECLINED = "declined"
    CHALLENGED = "challenged"
    CONFIRMED = "confirmed"
    PAST_DUE = "past_due"  # the due date passed and the charge could not be made (gateway error)
    CARD_REMOVED = "card_removed"  # no card left on file to charge
    RETRY = "retry"  # a new card: try again
    RESCHEDULE = "reschedule"  # staff changed the due date
    CANCEL = "cancel"


Q, X = ScheduleStatus, ScheduleEvent
UNPAID = frozenset({Q.PENDING, Q.OVERDUE, Q.AWAITING_CUSTOMER, Q.FAILED})
SCHEDULE_TRANSITIONS: dict[tuple[ScheduleStatus, ScheduleEvent], ScheduleStatus] = {
    **{(state, X.CHARGED): Q.PAID for state in UNPAID},  # the card, an invoice, or a confirmation
    (Q.PENDING, X.DECLINED): Q.FAILED,
    (Q.OVERDUE, X.DECLINED): Q.FAILED,
    (Q.FAILED, X.DECLINED): Q.FAILED,
    (Q.PENDING, X.CHALLENGED): Q.AWAITING_CUSTOMER,
    (Q.OVERDUE, X.CHALLENGED): Q.AWAITING_CUSTOMER,
    (Q.FAILED, X.CHALLENGED): Q.AWAITING_CUSTOMER,
    (Q.AWAITING_CUSTOMER, X.CONFIRMED): Q.PAID,
    (Q.AWAITING_CUSTOMER, X.CHALLENGED): Q.AWAITING_CUSTOMER,  # staff charge: the bank asks again
    (Q.AWAITING_CUSTOMER, X.DECLINED): Q.FAILED,
    (Q.PENDING, X.PAST_DUE): Q.OVERDUE,
    (Q.PENDING, X.CARD_REMOVED): Q.FAILED,
    (Q.OVERDUE, X.CARD_REMOVED): Q.FAILED,
    (Q.AWAITING_CUSTOMER, X.CARD_REMOVED): Q.FAILED,
    (Q.FAILED, X.RETRY): Q.PENDING,
    (Q.OVERDUE, X.RETRY): Q.PENDING,
    (Q.PENDING, X.RESCHEDULE): Q.PENDING,
    (Q.OVERDUE, X.RESCHEDULE): Q.PENDING,
    (Q.FAILED, X.RESCHEDULE): Q.PENDING,
    **{(state, X.CANCEL): Q.CANCELLED for state in UNPAID},
}


class ScheduleAction(StrEnum):
    CHARGE = "charge"  # collect now with the card on file
    SEND_INVOICE = "send_invoice"
    CHANGE_DUE_DATE = "change_due_date"


def move_schedule(schedule, event: ScheduleEvent) -> tuple[str, str]:
    current = ScheduleStatus(schedule.status)
    target = SCHEDULE_TRANSITIONS.get((current, event))
    if target is None:
        raise IllegalTransition(
            f"a payment schedule that is {current.value} cannot be {event.value.replace('_', ' ')}"
        )
    schedule.status = target.value
    return current.value, target.value


def allowed_actions(schedule) -> list[ScheduleAction]:
    status = ScheduleStatus(schedule.status)
    if status not in UNPAID:
        return []
    actions = [ScheduleAction.CHARGE, ScheduleAction.SEND_INVOICE]
    if status is not Q.AWAITING_CUSTOMER:
        actions.append(ScheduleAction.CHANGE_DUE_DATE)
    return actions


def ensure_allowed(schedule, action: ScheduleAction) -> None:
    if action not in allowed_actions(schedule):
        raise IllegalTransition(f"a payment schedule that is {schedule.status} does not allow {action.value}")
