from fastapi import APIRouter

from tandem.api.deps import CallerDep, IdempotentDep, Now, ReadUoW, UoW
from tandem.api.types import Id
from tandem.checkout import service
from tandem.checkout.schemas import CheckoutIn, CheckoutOut
from tandem.orders.schemas import OrderOut, order_out

router = APIRouter(tags=["checkout"])


@router.post("/checkouts", response_model=CheckoutOut, status_code=201)
def create_checkout(body: CheckoutIn, caller: CallerDep, uow: UoW, now: Now):
    request = service.CheckoutRequest(
        lines=[service.LineRequest(**line.model_dump()) for line in body.line_items],
        shipping_address=body.shipping_address.model_dump(exclude_none=True),
        billing_address=body.billing_address.model_dump(exclude_none=True) if body.billing_address else None,
        customer_id=body.customer_id,
        email=body.email,
        card_token=body.card_token,
        payment_method_id=body.payment_method_id,
    )
    return CheckoutOut.of(service.create_checkout(uow, store_id=caller.store_id, request=request, now=now))


@router.get("/checkouts/{checkout_id}", response_model=CheckoutOut)
def get_checkout(checkout_id: Id, caller: CallerDep, uow: ReadUoW):
    return CheckoutOut.of(service.get_checkout(uow, store_id=caller.store_id, checkout_id=checkout_id))


@router.post(
    "/checkouts/{checkout_id}/complete",
    response_model=OrderOut,
    status_code=201,
    responses={402: {"description": "payment declined"}, 409: {"description": "out of stock"}},
)
def complete_checkout(checkout_id: Id, caller: CallerDep, uow: UoW, now: Now, idem: IdempotentDep):
    def complete():
        order = service.complete_checkout(
            uow, store_id=caller.store_id, checkout_id=checkout_id, actor=caller.actor, now=now
        )
        return order_out(uow.session, order)

    return idem.run(uow, complete, status=201)
