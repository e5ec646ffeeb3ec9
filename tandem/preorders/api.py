from fastapi import APIRouter

from tandem.api.deps import CallerDep, IdempotentDep, Now, PageDep, ReadUoW, UoW
from tandem.api.types import Id
from tandem.orders.service import get_order
from tandem.preorders import charging, schedules, service
from tandem.preorders.schemas import (
    ChargeIn,
    DueDateIn,
    PaymentScheduleOut,
    SellingPlanIn,
    SellingPlanList,
    SellingPlanOut,
    VariantIdsIn,
    schedule_out,
    selling_plan_out,
)
from tandem.stores.models import Store

router = APIRouter(tags=["pre-orders"])


@router.post("/selling_plans", response_model=SellingPlanOut, status_code=201)
def create_selling_plan(body: SellingPlanIn, caller: CallerDep, uow: UoW, now: Now):
    plan = service.create_plan(
        uow,
        store_id=caller.store_id,
        name=body.name,
        deposit_type=body.deposit.type,
        deposit_value=body.deposit.value,
        trigger=body.balance_due.trigger,
        at=body.balance_due.at,
        after_seconds=body.balance_due.after_seconds,
        inventory_reserve=body.inventory_reserve,
        expected_fulfillment_at=body.expected_fulfillment_at,
        variant_ids=body.variant_ids,
        now=now,
    )
    return _plan_out(uow, plan)


@router.get("/selling_plans", response_model=SellingPlanList)
def list_selling_plans(caller: CallerDep, uow: ReadUoW, page: PageDep):
    plans = service.list_plans(uow, store_id=caller.store_id, page=page)
    return SellingPlanList(
        selling_plans=[_plan_out(uow, p) for p in plans.items], next_cursor=plans.next_cursor
    )


@router.get("/selling_plans/{plan_id}", response_model=SellingPlanOut)
def get_selling_plan(plan_id: Id, caller: CallerDep, uow: ReadUoW):
    return _plan_out(uow, service.get_plan(uow, store_id=caller.store_id, plan_id=plan_id))


@router.post("/selling_plans/{plan_id}/variants", response_model=SellingPlanOut)
def attach_variants(plan_id: Id, body: VariantIdsIn, caller: CallerDep, uow: UoW):
    plan = service.attach_variants(
        uow, store_id=caller.store_id, plan_id=plan_id, variant_ids=body.variant_ids
    )
    return _plan_out(uow, plan)


@router.get("/orders/{order_id}/payment_schedules", response_model=list[PaymentScheduleOut])
def list_payment_schedules(order_id: Id, caller: CallerDep, uow: ReadUoW):
    order = get_order(uow, store_id=caller.store_id, order_id=order_id)
    return [schedule_out(s) for s in service.schedules_of(uow.session, order.id)]


@router.patch("/orders/{order_id}/payment_schedules/{schedule_id}", response_model=PaymentScheduleOut)
def change_due_date(order_id: Id, schedule_id: Id, body: DueDateIn, caller: CallerDep, uow: UoW, now: Now):
    schedule = schedules.change_due_date(
        uow,
        store_id=caller.store_id,
        order_id=order_id,
        schedule_id=schedule_id,
        due_at=body.due_at,
        actor=caller.actor,
        now=now,
    )
    return schedule_out(schedule)


@router.post("/orders/{order_id}/payment_schedules/{schedule_id}/charge", response_model=PaymentScheduleOut)
def charge(
    order_id: Id,
    schedule_id: Id,
    caller: CallerDep,
    uow: UoW,
    now: Now,
    idem: IdempotentDep,
    body: ChargeIn | None = None,
):
    def run():
        schedule = charging.charge_now(
            uow,
            store_id=caller.store_id,
            order_id=order_id,
            schedule_id=schedule_id,
            card_token=body.card_token if body else None,
            actor=caller.actor,
            now=now,
        )
        return schedule_out(schedule)

    return idem.run(uow, run)


@router.post(
    "/orders/{order_id}/payment_schedules/{schedule_id}/send_invoice", response_model=PaymentScheduleOut
)
def send_invoice(order_id: Id, schedule_id: Id, caller: CallerDep, uow: UoW, now: Now):
    schedule = schedules.send_invoice(
        uow, store_id=caller.store_id, order_id=order_id, schedule_id=schedule_id, actor=caller.actor, now=now
    )
    return schedule_out(schedule)


def _plan_out(uow, plan) -> SellingPlanOut:
    return selling_plan_out(plan, uow.session.get(Store, plan.store_id).currency)
