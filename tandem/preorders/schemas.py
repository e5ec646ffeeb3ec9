"""JSON shapes of selling plans and payment schedules (SPEC §4)."""

from pydantic import BaseModel, Field

from tandem.api.presenting import money, timestamp
from tandem.api.types import Amount, BodyId, Input, Integer, Moment, Text
from tandem.preorders import domain
from tandem.preorders.domain import BalanceTrigger, DepositType, InventoryReserve
from tandem.preorders.models import PaymentSchedule, SellingPlan


class DepositIn(Input):
    type: DepositType
    value: Amount  # a percentage (0-100), or an amount per unit in the store's currency


class BalanceDueIn(Input):
    trigger: BalanceTrigger
    at: Moment | None = None
    after_seconds: Integer | None = Field(default=None, ge=1, le=10 * 366 * 86400)


class SellingPlanIn(Input):
    name: Text
    deposit: DepositIn
    balance_due: BalanceDueIn
    inventory_reserve: InventoryReserve = InventoryReserve.ON_SALE
    expected_fulfillment_at: Moment | None = None
    variant_ids: list[BodyId] = Field(default_factory=list, max_length=1000)


class VariantIdsIn(Input):
    variant_ids: list[BodyId] = Field(min_length=1, max_length=1000)


class SellingPlanOut(BaseModel):
    id: int
    name: str
    deposit: dict
    balance_due: dict
    inventory_reserve: str
    expected_fulfillment_at: str | None
    variant_ids: list[int]
    created_at: str


class SellingPlanList(BaseModel):
    selling_plans: list[SellingPlanOut]
    next_cursor: str | None = None


def selling_plan_out(plan: SellingPlan, currency: str) -> SellingPlanOut:
    value = plan.deposit_value
    shown = money(value, currency) if plan.deposit_type == DepositType.FIXED else str(value)
    return SellingPlanOut(
        id=plan.id,
        name=plan.name,
        deposit={"type": plan.deposit_type, "value": shown},
        balance_due={
            "trigger": plan.balance_trigger,
            "at": timestamp(plan.balance_due_at),
            "after_seconds": plan.balance_after_seconds,
        },
        inventory_reserve=plan.inventory_reserve,
        expected_fulfillment_at=timestamp(plan.expected_fulfillment_at),
        variant_ids=[v.id for v in plan.variants],
        created_at=timestamp(plan.created_at),
    )


class DueDateIn(Input):
    due_at: Moment


class ChargeIn(Input):
    card_token: Text | None = None  # staff enter a card; default: the card on file


class PaymentScheduleOut(BaseModel):
    id: int
    order_id: int
    selling_plan_id: int
    amount: str
    currency: str
    trigger: str
    due_at: str | None
    status: str
    payment_method_id: int | None
    attempts: int
    last_error: str | None
    paid_at: str | None
    actions: list[str]
    created_at: str
    updated_at: str


def schedule_out(schedule: PaymentSchedule) -> PaymentScheduleOut:
    return PaymentScheduleOut(
        id=schedule.id,
        order_id=schedule.order_id,
        selling_plan_id=schedule.selling_plan_id,
        amount=money(schedule.amount, schedule.currency),
        currency=schedule.currency,
        trigger=schedule.trigger,
        due_at=timestamp(schedule.due_at),
        status=schedule.status,
        payment_method_id=schedule.payment_method_id,
        attempts=schedule.attempts,
        last_error=schedule.last_error,
        paid_at=timestamp(schedule.paid_at),
        actions=[a.value for a in domain.allowed_actions(schedule)],
        created_at=timestamp(schedule.created_at),
        updated_at=timestamp(schedule.updated_at),
    )
