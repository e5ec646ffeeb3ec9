"""The checkout routes: the two busiest of all. They are async (a request waits for its batch
and for the gateway without holding a thread or a database connection, see checkout.lanes)
and lean: the caller and the body are read by hand, not through FastAPI's dependency
machinery, which costs more than everything else a request does here."""

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import TypeAdapter

from tandem.api.deps import (
    CallerDep,
    ReadUoW,
    caller_of,
    fingerprint,
    json_body,
    lanes_of,
    parse_body,
    path_and_headers,
    path_id,
)
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


@router.post("/checkouts", response_model=CheckoutOut, status_code=201, openapi_extra=json_body(CheckoutIn))
async def create_checkout(request: Request):
    caller = await caller_of(request)
    body = parse_body(CheckoutIn, await request.body())
    checkout = await lanes_of(request).create(caller.store_id, _checkout_request(body))
    return _json(201, CheckoutOut.of(checkout).model_dump_json())


def _checkout_request(body: CheckoutIn) -> CheckoutRequest:
    return CheckoutRequest(
        lines=[LineRequest(line.variant_id, line.quantity, line.selling_plan_id) for line in body.line_items],
        shipping_address=body.shipping_address.model_dump(exclude_none=True),
        billing_address=body.billing_address.model_dump(exclude_none=True) if body.billing_address else None,
        customer_id=body.customer_id,
        email=body.email,
        card_token=body.card_token,
        payment_method_id=body.payment_method_id,
    )


@router.get("/checkouts/{checkout_id}", response_model=CheckoutOut)
def get_checkout(checkout_id: Id, caller: CallerDep, uow: ReadUoW):
    return CheckoutOut.of(service.get_checkout(uow, store_id=caller.store_id, checkout_id=checkout_id))


_COMPLETE_PARAMETERS = path_and_headers(
    {"checkout_id": TypeAdapter(Id).json_schema()}, {"idempotency-key": {"type": "string", "maxLength": 255}}
)


@router.post(
    "/checkouts/{checkout_id}/complete",
    response_model=OrderOut,
    status_code=201,
    responses={402: {"description": "payment declined"}, 409: {"description": "out of stock"}},
    openapi_extra={"parameters": _COMPLETE_PARAMETERS},
)
async def complete_checkout(request: Request):
    checkout_id = path_id(request, "checkout_id")
    idempotency_key = request.headers.get("idempotency-key")
    caller = await caller_of(request)
    completion = Completion(
        caller.store_id, checkout_id, caller.actor, idempotency_key, await fingerprint(request)
    )
    answer = await lanes_of(request).complete(completion)
    return _json(answer.status, answer.body, replayed=answer.replayed)
