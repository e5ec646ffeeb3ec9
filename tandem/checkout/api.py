"""The checkout routes: async, so a request waits for its batch and for the gateway without
holding a thread or a database connection (see checkout.lanes)."""

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response

from tandem.api.deps import CallerDep, LanesDep, ReadUoW, fingerprint
from tandem.api.types import Id
from tandem.checkout import service
from tandem.checkout.completing import Completion
from tandem.checkout.reserving import CheckoutRequest, LineRequest
from tandem.checkout.schemas import CheckoutIn, CheckoutOut
from tandem.orders.schemas import OrderOut

router = APIRouter(tags=["checkout"])


def _json(status: int, body: str | bytes, *, replayed: bool = False) -> Response:
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return Response(body, status_code=status, media_type="application/json", headers=headers)


@router.post("/checkouts", response_model=CheckoutOut, status_code=201)
async def create_checkout(body: CheckoutIn, caller: CallerDep, lanes: LanesDep):
    request = CheckoutRequest(
        lines=[LineRequest(line.variant_id, line.quantity, line.selling_plan_id) for line in body.line_items],
        shipping_address=body.shipping_address.model_dump(exclude_none=True),
        billing_address=body.billing_address.model_dump(exclude_none=True) if body.billing_address else None,
        customer_id=body.customer_id,
        email=body.email,
        card_token=body.card_token,
        payment_method_id=body.payment_method_id,
    )
    checkout = CheckoutOut.of(await lanes.create(caller.store_id, request))
    return _json(201, checkout.model_dump_json())


@router.get("/checkouts/{checkout_id}", response_model=CheckoutOut)
def get_checkout(checkout_id: Id, caller: CallerDep, uow: ReadUoW):
    return CheckoutOut.of(service.get_checkout(uow, store_id=caller.store_id, checkout_id=checkout_id))


@router.post(
    "/checkouts/{checkout_id}/complete",
    response_model=OrderOut,
    status_code=201,
    responses={402: {"description": "payment declined"}, 409: {"description": "out of stock"}},
)
async def complete_checkout(
    checkout_id: Id,
    request: Request,
    caller: CallerDep,
    lanes: LanesDep,
    idempotency_key: Annotated[str | None, Header()] = None,
):
    completion = Completion(
        caller.store_id, checkout_id, caller.actor, idempotency_key, await fingerprint(request)
    )
    answer = await lanes.complete(completion)
    return _json(answer.status, answer.body, replayed=answer.replayed)
