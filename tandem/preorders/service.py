"""Selling plans, and what they change at checkout: deposits, a vaulted card, stock taken
at sale or at fulfilment, and the payment schedules of the balance."""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tandem.catalog.models import Variant
from tandem.db import UnitOfWork
from tandem.errors import InvalidInput, NotFound
from tandem.money import parse_field
from tandem.orders import events as order_events
from tandem.paging import Page, PageRequest, newest_first
from tandem.preorders import domain
from tandem.preorders.domain import BalanceTrigger, DepositType, InventoryReserve, ScheduleStatus
from tandem.preorders.models import PaymentSchedule, SellingPlan
from tandem.stores.models import Store
from tandem.worker import service as jobs

CHARGE_SCHEDULE = "preorders.charge_schedule"


def create_plan(
    uow: UnitOfWork,
    *,
    store_id: int,
    name: str,
    deposit_type: DepositType,
    deposit_value: Decimal,
    trigger: BalanceTrigger,
    at: datetime | None,
    after_seconds: int | None,
    inventory_reserve: InventoryReserve,
    expected_fulfillment_at: datetime | None,
    variant_ids: list[int],
    now: datetime,
) -> SellingPlan:
    session = uow.session
    value = _deposit_value(session, store_id, deposit_type, deposit_value)
    plan = domain.Plan(deposit_type, value, trigger, at, after_seconds, inventory_reserve)
    domain.check_plan(plan, now=now)
    selling_plan = SellingPlan(
        store_id=store_id,
        name=name,
        deposit_type=deposit_type.value,
        deposit_value=value,
        balance_trigger=trigger.value,
        balance_due_at=at,
        balance_after_seconds=after_seconds,
        inventory_reserve=inventory_reserve.value,
        expected_fulfillment_at=expected_fulfillment_at,
        created_at=now,
        variants=_own_variants(session, store_id, variant_ids),
    )
    _check_deposit_within_prices(selling_plan, field="deposit.value")
    session.add(selling_plan)
    uow.commit()
    return selling_plan


def attach_variants(uow: UnitOfWork, *, store_id: int, plan_id: int, variant_ids: list[int]) -> SellingPlan:
    """Offer more variants under the plan (those already attached stay)."""
    plan = get_plan(uow, store_id=store_id, plan_id=plan_id)
    known = {v.id for v in plan.variants}
    plan.variants.extend(v for v in _own_variants(uow.session, store_id, variant_ids) if v.id not in known)
    _check_deposit_within_prices(plan, field="variant_ids")
    uow.commit()
    return plan


def detach_variant(uow: UnitOfWork, *, store_id: int, plan_id: int, variant_id: int) -> SellingPlan:
    """Stop offering a variant under the plan; orders already placed under it keep their terms."""
    plan = get_plan(uow, store_id=store_id, plan_id=plan_id)
    plan.variants = [v for v in plan.variants if v.id != variant_id]
    uow.commit()
    return plan


def list_plans(uow: UnitOfWork, *, store_id: int, page: PageRequest) -> Page[SellingPlan]:
    query = select(SellingPlan).where(SellingPlan.store_id == store_id)
    return newest_first(uow.session, query, SellingPlan.id, page)


def get_plan(uow: UnitOfWork, *, store_id: int, plan_id: int) -> SellingPlan:
    plan = uow.session.get(SellingPlan, plan_id)
    if plan is None or plan.store_id != store_id:
        raise NotFound("selling plan not found")
    return plan


def plan_of(selling_plan: SellingPlan) -> domain.Plan:
    return domain.Plan(
        DepositType(selling_plan.deposit_type),
        selling_plan.deposit_value,
        BalanceTrigger(selling_plan.balance_trigger),
        selling_plan.balance_due_at,
        selling_plan.balance_after_seconds,
        InventoryReserve(selling_plan.inventory_reserve),
    )


def _deposit_value(session: Session, store_id: int, deposit_type: DepositType, value: Decimal) -> int:
    if deposit_type is DepositType.FIXED:
        return parse_field(value, session.get(Store, store_id).currency, "deposit.value")
    if value != value.to_integral_value():
        raise InvalidInput("deposit.value", "a percentage is a whole number from 0 to 100")
    return int(value)


def _check_deposit_within_prices(plan: SellingPlan, *, field: str) -> None:
    """A fixed deposit (per unit) is never more than the price of a variant sold under it."""
    if plan.deposit_type != DepositType.FIXED:
        return
    for variant in plan.variants:
        if plan.deposit_value > variant.price:
            raise InvalidInput(field, f"the fixed deposit is above the price of variant {variant.id}")


def _own_variants(session: Session, store_id: int, variant_ids: list[int]) -> list[Variant]:
    found = {
        v.id: v
        for v in session.scalars(
            select(Variant).where(Variant.id.in_(variant_ids), Variant.store_id == store_id)
        )
    }
    for index, variant_id in enumerate(variant_ids):
        variant = found.get(variant_id)
        if variant is None:
            raise InvalidInput(f"variant_ids[{index}]", "no such variant in this store")
        if variant.linked_variant_id is not None:
            raise InvalidInput(f"variant_ids[{index}]", "a supplier's product cannot be sold as a pre-order")
    return [found[v] for v in dict.fromkeys(variant_ids)]


# -- at checkout -----------------------------------------------------------------------------


def plan_for(session: Session, store_id: int, variant_id: int, plan_id: int, *, field: str) -> SellingPlan:
    """The plan a checkout line asks for; 422 when it does not apply to the variant."""
    plan = session.get(SellingPlan, plan_id)
    if plan is None or plan.store_id != store_id or variant_id not in {v.id for v in plan.variants}:
        raise InvalidInput(field, "no such selling plan for this variant")
    return plan


def deposit_for(plan: SellingPlan, *, unit_price: int, quantity: int) -> int:
    return domain.deposit(plan_of(plan), unit_price=unit_price, quantity=quantity)


def reserves_on_sale(plan: SellingPlan | None) -> bool:
    return plan is None or plan.inventory_reserve == InventoryReserve.ON_SALE


# -- with the order (bus: OrdersPlaced) ------------------------------------------------------


def create_schedules(uow: UnitOfWork, event: order_events.OrdersPlaced) -> None:
    """New pre-orders get their payment schedules at once."""
    for placed in event.orders:
        if any(line.selling_plan_id for line in placed.line_items):
            event.stored()
            schedule_balances(uow, placed, event.at)
            placed.changed_by_followers = True


def schedule_balances(uow: UnitOfWork, order, now: datetime) -> None:
    """One payment schedule per plan in the order, for what the deposits left to pay."""
    from tandem.checkout.models import Checkout

    checkout = uow.session.get(Checkout, order.checkout_id) if order.checkout_id else None
    if checkout is None:
        return
    balances: dict[int, int] = defaultdict(int)
    for line in checkout.lines:
        if line.selling_plan_id:
            balances[line.selling_plan_id] += line.price * line.quantity - line.deposit
    for plan_id, amount in sorted(balances.items()):
        if amount > 0:
            _schedule(
                uow,
                order,
                uow.session.get(SellingPlan, plan_id),
                amount,
                checkout.payment_method_id,
                now,
            )


def _schedule(
    uow: UnitOfWork, order, plan: SellingPlan, amount: int, payment_method_id: int | None, now: datetime
) -> PaymentSchedule:
    due_at = domain.balance_due_at(plan_of(plan), ordered_at=now)
    schedule = PaymentSchedule(
        store_id=order.store_id,
        order_id=order.id,
        selling_plan_id=plan.id,
        payment_method_id=payment_method_id,
        amount=amount,
        currency=order.currency,
        trigger=plan.balance_trigger,
        due_at=due_at,
        status=ScheduleStatus.PENDING.value,
        attempts=0,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(schedule)
    uow.session.flush()
    if due_at is not None:
        schedule_charge(uow.session, schedule, run_at=due_at, now=now)
    return schedule


def schedule_charge(session: Session, schedule: PaymentSchedule, *, run_at: datetime, now: datetime) -> None:
    """The job that charges the schedule; it carries the due date it was made for, so a job
    made for a date staff since changed does nothing."""
    jobs.schedule(
        session,
        kind=CHARGE_SCHEDULE,
        run_at=run_at,
        now=now,
        store_id=schedule.store_id,
        payload={"schedule_id": schedule.id, "due_at": schedule.due_at.isoformat()},
    )


def schedules_of(session: Session, order_id: int) -> list[PaymentSchedule]:
    return list(
        session.scalars(
            select(PaymentSchedule).where(PaymentSchedule.order_id == order_id).order_by(PaymentSchedule.id)
        )
    )
