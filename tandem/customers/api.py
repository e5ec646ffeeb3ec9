from typing import Annotated

from fastapi import APIRouter, Query

from tandem.api.deps import CallerDep, Now, PageDep, ReadUoW, UoW
from tandem.api.types import Id, SearchText
from tandem.customers import service
from tandem.customers.schemas import (
    CardIn,
    CustomerIn,
    CustomerList,
    CustomerOut,
    PaymentMethodOut,
)

router = APIRouter(tags=["customers"])


@router.post("/customers", response_model=CustomerOut, status_code=201)
def create_customer(body: CustomerIn, caller: CallerDep, uow: UoW, now: Now):
    customer = service.create_customer(uow, store_id=caller.store_id, now=now, **body.model_dump())
    return CustomerOut.of(customer)


@router.get("/customers", response_model=CustomerList)
def list_customers(
    caller: CallerDep,
    uow: ReadUoW,
    page: PageDep,
    q: Annotated[SearchText | None, Query()] = None,
):
    found = service.list_customers(uow, store_id=caller.store_id, q=q, page=page)
    return CustomerList(customers=[CustomerOut.of(c) for c in found.items], next_cursor=found.next_cursor)


@router.get("/customers/{customer_id}", response_model=CustomerOut)
def get_customer(customer_id: Id, caller: CallerDep, uow: ReadUoW):
    return CustomerOut.of(service.get_customer(uow, store_id=caller.store_id, customer_id=customer_id))


@router.post("/customers/{customer_id}/payment_methods", response_model=PaymentMethodOut, status_code=201)
def add_payment_method(customer_id: Id, body: CardIn, caller: CallerDep, uow: UoW, now: Now):
    method = service.add_payment_method(
        uow,
        store_id=caller.store_id,
        customer_id=customer_id,
        card_token=body.card_token,
        actor=caller.actor,
        now=now,
    )
    return PaymentMethodOut.of(method)


@router.put("/customers/{customer_id}/payment_methods/{payment_method_id}", response_model=PaymentMethodOut)
def replace_payment_method(
    customer_id: Id, payment_method_id: Id, body: CardIn, caller: CallerDep, uow: UoW, now: Now
):
    """A new card in place of this one; the old one is kept as `replaced`. Returns the new card."""
    method = service.replace_payment_method(
        uow,
        store_id=caller.store_id,
        customer_id=customer_id,
        payment_method_id=payment_method_id,
        card_token=body.card_token,
        actor=caller.actor,
        now=now,
    )
    return PaymentMethodOut.of(method)


@router.delete(
    "/customers/{customer_id}/payment_methods/{payment_method_id}", response_model=PaymentMethodOut
)
def revoke_payment_method(customer_id: Id, payment_method_id: Id, caller: CallerDep, uow: UoW, now: Now):
    """Revoke the card: kept in the history with revoked_at, never charged again."""
    method = service.revoke_payment_method(
        uow,
        store_id=caller.store_id,
        customer_id=customer_id,
        payment_method_id=payment_method_id,
        actor=caller.actor,
        now=now,
    )
    return PaymentMethodOut.of(method)


@router.post(
    "/customers/{customer_id}/payment_methods/{payment_method_id}/send_update_email",
    response_model=PaymentMethodOut,
    status_code=202,
)
def send_update_email(customer_id: Id, payment_method_id: Id, caller: CallerDep, uow: UoW, now: Now):
    """Mail the customer a signed, single-use link to update this card."""
    method = service.request_card_update(
        uow,
        store_id=caller.store_id,
        customer_id=customer_id,
        payment_method_id=payment_method_id,
        actor=caller.actor,
        now=now,
    )
    return PaymentMethodOut.of(method)
