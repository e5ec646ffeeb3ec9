"""Checkout use cases for synchronous callers (the demo, scripts, tests): the same steps the
API's lanes run for a batch of concurrent buyers (checkout.lanes), for one buyer.

Creating reserves the stock until `reserved_until` (checkout.reserving). Completing runs
in three steps so no lock is held while the gateway works (checkout.completing).
"""

from datetime import datetime

from sqlalchemy import select

from tandem.checkout import completing
from tandem.checkout.completing import Answer, Completion, KeyTakenOver, Paying, SettledElsewhere
from tandem.checkout.models import Checkout
from tandem.checkout.records import CheckoutRecord
from tandem.checkout.reserving import (
    CheckoutRequest,
    LineRequest,
    NewCheckout,
    check_request,
    needs_vaulting,
    reserve_all,
)
from tandem.customers import service as customers
from tandem.db import UnitOfWork
from tandem.errors import Conflict, NotFound, TandemError
from tandem.orders.models import Order
from tandem.orders.schemas import order_out
from tandem.payments import service as payments
from tandem.payments.domain import TransactionStatus
from tandem.payments.models import PaymentTransaction
from tandem.timeline.domain import Actor

__all__ = ["CheckoutRequest", "LineRequest", "complete_checkout", "create_checkout", "get_checkout"]


def create_checkout(
    uow: UnitOfWork, *, store_id: int, request: CheckoutRequest, now: datetime
) -> CheckoutRecord:
    """Validate the cart and reserve its stock until reserved_until; 409 if it is not there."""
    check_request(request)
    card = customers.vault_card(uow.gateway, request.card_token) if needs_vaulting(request) else None
    [outcome] = reserve_all(uow, [NewCheckout(store_id, request, card)], now)
    if isinstance(outcome, TandemError):
        raise outcome
    return outcome


def get_checkout(uow: UnitOfWork, *, store_id: int, checkout_id: int) -> Checkout:
    checkout = uow.session.scalar(
        select(Checkout).where(Checkout.id == checkout_id, Checkout.store_id == store_id)
    )
    if checkout is None:
        raise NotFound("checkout not found")
    return checkout


def complete_checkout(
    uow: UnitOfWork, *, store_id: int, checkout_id: int, actor: Actor, now: datetime
) -> Order:
    """Pay and create the order; 409 out of stock, 402 declined (stock freed)."""
    answer = complete(uow, Completion(store_id, checkout_id, actor), now)
    if answer.error is not None:
        raise answer.error
    return uow.session.get(Order, answer.order_id)


def complete(uow: UnitOfWork, completion: Completion, now: datetime) -> Answer:
    """The three steps for one request (without an Idempotency-Key)."""
    [begun] = completing.begin(uow, [completion], now)
    uow.commit()
    if not isinstance(begun, Paying):
        return begun
    if begun.call is not None:
        begun.result = payments.perform(uow.gateway, begun.call)
    answer, reversals = settle_one(uow, begun, now)
    if reversals:  # units sold out while the gateway worked: the money goes back
        payments.pay(uow, reversals, actor=completion.actor, now=now)
    return answer


def settle_one(uow: UnitOfWork, paying: Paying, now: datetime) -> tuple[Answer, list[payments.GatewayCall]]:
    """Step 3 for one request, committed; what to answer when someone else settled it first.
    Returns the reversal calls to make (see completing.settle)."""
    try:
        [answer], reversals = completing.settle(uow, [paying], now)
        uow.commit()
    except SettledElsewhere:
        uow.rollback()
        return settled_elsewhere(uow, paying), []
    except KeyTakenOver:
        uow.rollback()
        error = Conflict("another request with this Idempotency-Key took over", code="idempotency_key_in_use")
        return Answer.of_error(error), []
    return answer, reversals


def settled_elsewhere(uow: UnitOfWork, paying: Paying) -> Answer:
    """The sweeper settled this payment first: its order, or a 409."""
    tx = uow.session.get(PaymentTransaction, paying.tx.id, populate_existing=True) if paying.tx else None
    if tx is not None and tx.status == TransactionStatus.SUCCESS and tx.order_id:
        order = uow.session.get(Order, tx.order_id)
        return Answer(201, order_out(uow.session, order).model_dump_json(), order_id=order.id)
    return Answer.of_error(Conflict("this payment was already settled", code="checkout_in_progress"))
