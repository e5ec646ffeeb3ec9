"""Checkout: reserve stock, then pay and turn the reservation into an order.

Completion runs in three steps so no lock is held while the gateway works:
  1. a short transaction marks the checkout `completing`, secures its reservations
     and writes the pending payment transaction;
  2. the gateway call, outside any transaction;
  3. a short transaction settles the payment and creates the order (or frees the
     stock after a decline).
If the process dies between 1 and 3, payments.tasks replays step 2 with the same
idempotency key and runs step 3.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tandem.catalog.service import variants_by_id
from tandem.checkout import domain
from tandem.checkout.domain import CheckoutEvent
from tandem.checkout.models import Checkout, CheckoutLine
from tandem.customers import service as customers
from tandem.customers.models import Customer
from tandem.db import UnitOfWork
from tandem.errors import Conflict, InvalidInput, NotFound, OutOfStock, PaymentFailed
from tandem.inventory import service as inventory
from tandem.inventory.domain import ReservationStatus
from tandem.inventory.models import Reservation
from tandem.orders import service as orders
from tandem.orders.models import Order
from tandem.payments import service as payments
from tandem.payments.domain import Purpose, TransactionKind, TransactionStatus
from tandem.payments.gateway import GatewayResult, GatewayStatus
from tandem.payments.models import PaymentTransaction
from tandem.preorders import service as preorders
from tandem.preorders.models import SellingPlan
from tandem.stores.domain import PaymentCapture
from tandem.stores.models import Store
from tandem.timeline.domain import Actor

T = TypeVar("T")
# A reservation about to lapse is extended by this much when payment starts.
PAYMENT_WINDOW = timedelta(seconds=120)


@dataclass(frozen=True)
class LineRequest:
    variant_id: int
    quantity: int
    selling_plan_id: int | None = None


@dataclass(frozen=True)
class CheckoutRequest:
    lines: list[LineRequest]
    shipping_address: dict
    billing_address: dict | None = None
    customer_id: int | None = None
    email: str | None = None
    card_token: str | None = None
    payment_method_id: int | None = None


def create_checkout(uow: UnitOfWork, *, store_id: int, request: CheckoutRequest, now: datetime) -> Checkout:
    """Validate the cart and reserve its stock until reserved_until; 409 if it is not there."""
    _check_request(request)
    card = _vault_for_preorder(uow, request)
    return _with_stock(uow, lambda: _create(uow, store_id, request, card, now), now)


def _vault_for_preorder(uow: UnitOfWork, request: CheckoutRequest):
    """A pre-order's balance is charged later: its card is kept at the gateway (before any
    transaction begins, as every gateway call)."""
    if request.card_token is None or not any(line.selling_plan_id for line in request.lines):
        return None
    return customers.vault_card(uow.runtime.gateway, request.card_token)


def _create(uow: UnitOfWork, store_id: int, request: CheckoutRequest, card, now: datetime) -> Checkout:
    session = uow.session
    store = session.get(Store, store_id)
    customer = _customer(session, store_id, request, now)
    payment_method_id = request.payment_method_id
    if payment_method_id is not None:
        customers.usable_payment_method(
            session, store_id=store_id, customer_id=customer.id, payment_method_id=payment_method_id
        )
    if card is not None:
        payment_method_id = customers.keep_card(
            session,
            store_id=store_id,
            customer_id=customer.id,
            card=card,
            gateway=uow.runtime.gateway.name,
            now=now,
        ).id
    checkout = Checkout(
        store_id=store_id,
        customer_id=customer.id,
        email=customer.email,
        status=domain.CheckoutStatus.OPEN.value,
        currency=store.currency,
        shipping_address=request.shipping_address,
        billing_address=request.billing_address,
        card_token=None if card else request.card_token,
        payment_method_id=payment_method_id,
        shipping_total=0,
        reserved_until=now + timedelta(seconds=uow.runtime.settings.checkout_reservation_seconds),
        created_at=now,
        lines=_priced_lines(session, store_id, request.lines),
    )
    checkout.subtotal = sum(line.price * line.quantity for line in checkout.lines)
    checkout.total = checkout.subtotal + checkout.shipping_total
    # Paid now: full price, or a pre-order's deposit (the balance is charged later).
    checkout.due_now = checkout.shipping_total + sum(
        line.deposit if line.selling_plan_id else line.price * line.quantity for line in checkout.lines
    )
    session.add(checkout)
    session.flush()
    _reserve(session, checkout, now)
    uow.commit()
    return checkout


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
    call = _with_stock(
        uow, lambda: _begin_payment(uow, store_id=store_id, checkout_id=checkout_id, now=now), now
    )
    if call is None:
        return _place_unpaid(uow, store_id=store_id, checkout_id=checkout_id, actor=actor, now=now)
    result = payments.perform(uow.runtime.gateway, call)
    return finish_payment(
        uow, store_id=store_id, transaction_id=call.transaction_id, result=result, actor=actor, now=now
    )


def _begin_payment(
    uow: UnitOfWork, *, store_id: int, checkout_id: int, now: datetime
) -> payments.GatewayCall:
    session = uow.session
    checkout = _locked(session, store_id, checkout_id)
    domain.ensure_can_complete(checkout)
    _secure_reservations(session, checkout, now)
    _method(session, checkout)  # still usable?
    if checkout.due_now == 0:
        uow.rollback()
        return None
    tx = payments.begin(
        session,
        store_id=store_id,
        kind=_charge_kind(session.get(Store, store_id), checkout),
        purpose=Purpose.CHECKOUT,
        amount=checkout.due_now,
        currency=checkout.currency,
        gateway=uow.runtime.gateway.name,
        now=now,
        checkout_id=checkout.id,
        card_token=checkout.card_token,
        payment_method_id=checkout.payment_method_id,
    )
    domain.move(checkout, CheckoutEvent.BEGIN_PAYMENT)
    call = payments.call_for(session, tx)
    uow.commit()
    return call


def _charge_kind(store: Store, checkout: Checkout) -> TransactionKind:
    """Stores that capture by hand authorise; a pre-order's deposit is always taken."""
    if store.payment_capture == PaymentCapture.AUTOMATIC or any(
        line.selling_plan_id for line in checkout.lines
    ):
        return TransactionKind.SALE
    return TransactionKind.AUTHORIZATION


def _place_unpaid(uow: UnitOfWork, *, store_id: int, checkout_id: int, actor: Actor, now: datetime) -> Order:
    """Nothing is due now (pre-orders without deposit): the order is placed at once, unpaid."""
    number = uow.runtime.numbers.next(store_id)

    def place() -> Order:
        session = uow.session
        checkout = _locked(session, store_id, checkout_id)
        domain.ensure_can_complete(checkout)
        _convert_reservations(session, checkout, now)
        return _place(uow, checkout, None, number, actor, now, CheckoutEvent.NOTHING_DUE)

    return _with_stock(uow, place, now)


def finish_payment(
    uow: UnitOfWork,
    *,
    store_id: int,
    transaction_id: int,
    result: GatewayResult | None,
    actor: Actor,
    now: datetime,
) -> Order:
    """Settle a checkout payment: create the order, or reopen the checkout."""
    if result is None:
        raise PaymentFailed(
            "the payment could not be confirmed; it will be settled shortly", code="payment_pending"
        )
    # Numbers come from their own short transaction, taken before ours begins.
    number = uow.runtime.numbers.next(store_id) if result.succeeded else None
    settle = partial(
        _settle, uow, transaction_id=transaction_id, result=result, number=number, actor=actor, now=now
    )
    try:
        return settle(may_reverse=False)
    except inventory.StockShort as short:  # a hold lapsed while the gateway worked
        uow.rollback()
        _reclaim(uow, short.variant_id, now)
        return settle(may_reverse=True)


def _settle(
    uow: UnitOfWork,
    *,
    transaction_id: int,
    result: GatewayResult,
    number: int | None,
    actor: Actor,
    now: datetime,
    may_reverse: bool,
) -> Order:
    session = uow.session
    tx = payments.lock_pending(session, transaction_id)
    if tx is None:
        return _already_settled(session, transaction_id)
    checkout = session.get(Checkout, tx.checkout_id, populate_existing=True, with_for_update=True)
    payments.settle(tx, result, now)
    if not result.succeeded:
        _reopen(session, checkout, result)
        uow.commit()
        raise _payment_error(result)
    try:
        _convert_reservations(session, checkout, now)
    except inventory.StockShort:
        if not may_reverse:
            raise
        return _reverse(uow, checkout, tx, now)
    return _place(uow, checkout, tx, number, actor, now, CheckoutEvent.PAYMENT_SUCCEEDED)


def _place(
    uow: UnitOfWork,
    checkout: Checkout,
    payment: PaymentTransaction | None,
    number: int,
    actor: Actor,
    now: datetime,
    event: CheckoutEvent,
) -> Order:
    """Create the order and complete the checkout, in the caller's transaction, then commit."""
    stock_later = _stock_at_fulfillment(uow.session, checkout)
    order = orders.place_order(
        uow, checkout=checkout, payment=payment, number=number, actor=actor, now=now, stock_later=stock_later
    )
    domain.move(checkout, event)
    checkout.order_id, checkout.completed_at = order.id, now
    uow.commit()
    return order


def _with_stock(uow: UnitOfWork, attempt: Callable[[], T], now: datetime) -> T:
    """Run `attempt`; if stock is short, reclaim that variant's lapsed holds in a transaction
    of their own (never holding the stock row: see inventory.service) and try once more if
    units are free now (the worker may have reclaimed them a moment before we did)."""
    try:
        return attempt()
    except inventory.StockShort as short:
        uow.rollback()
        _reclaim(uow, short.variant_id, now)
        if _free_units(uow, short.variant_id, now) < short.quantity:
            raise _out_of_stock(uow, short, now) from None
    try:
        return attempt()
    except inventory.StockShort as short:
        uow.rollback()
        raise _out_of_stock(uow, short, now) from None


def _reclaim(uow: UnitOfWork, variant_id: int, now: datetime) -> int:
    with uow.runtime.uow() as reclaiming:
        units = inventory.reclaim_expired(reclaiming.session, variant_id=variant_id, now=now)
        reclaiming.commit()
    return units


def _free_units(uow: UnitOfWork, variant_id: int, now: datetime) -> int:
    available = inventory.figures(uow.session, [variant_id], now)[variant_id].available
    uow.rollback()
    return available


def _out_of_stock(uow: UnitOfWork, short: inventory.StockShort, now: datetime) -> OutOfStock:
    available = _free_units(uow, short.variant_id, now)
    return OutOfStock(
        "not enough stock", variant_id=short.variant_id, requested=short.quantity, available=max(available, 0)
    )


def _already_settled(session: Session, transaction_id: int) -> Order:
    tx = session.get(PaymentTransaction, transaction_id)
    if tx.status == TransactionStatus.SUCCESS and tx.order_id:
        return session.get(Order, tx.order_id)
    raise Conflict("this payment was already settled", code="checkout_in_progress")


def _reopen(session: Session, checkout: Checkout, result: GatewayResult) -> None:
    domain.move(checkout, CheckoutEvent.PAYMENT_FAILED)
    if result.status is GatewayStatus.DECLINED:
        release_reservations(session, checkout)


def _payment_error(result: GatewayResult) -> PaymentFailed:
    if result.status is GatewayStatus.ERROR:
        return PaymentFailed(f"payment gateway error: {result.message}", code="gateway_error")
    if result.status is GatewayStatus.REQUIRES_ACTION:
        return PaymentFailed("the card needs the customer's confirmation", code="requires_action")
    return PaymentFailed(f"payment declined: {result.message}")


def release_reservations(session: Session, checkout: Checkout) -> None:
    """Give a checkout's held units back (its payment was declined)."""
    rows = session.execute(
        update(Reservation)
        .where(Reservation.checkout_id == checkout.id, Reservation.status == ReservationStatus.ACTIVE.value)
        .values(status=ReservationStatus.RELEASED.value)
        .returning(Reservation.variant_id, Reservation.quantity)
        .execution_options(synchronize_session=False)
    ).all()
    for variant_id, quantity in _sum_by_variant(rows):
        inventory.deallocate(session, variant_id=variant_id, quantity=quantity)


def _reverse(uow: UnitOfWork, checkout: Checkout, tx: PaymentTransaction, now: datetime) -> Order:
    """Stock vanished while the gateway worked (a lapsed hold): give the money back."""
    session = uow.session
    kind = TransactionKind.VOID if tx.kind == TransactionKind.AUTHORIZATION else TransactionKind.REFUND
    reversal = payments.begin(
        session,
        store_id=checkout.store_id,
        kind=kind,
        purpose=Purpose.CHECKOUT,
        amount=tx.amount,
        currency=tx.currency,
        gateway=tx.gateway,
        now=now,
        checkout_id=checkout.id,
        parent_id=tx.id,
    )
    domain.move(checkout, CheckoutEvent.PAYMENT_FAILED)
    call = payments.call_for(session, reversal)
    uow.commit()
    result = payments.perform(uow.runtime.gateway, call)
    if result is not None:
        settle_reversal(uow, transaction_id=call.transaction_id, result=result, now=now)
    raise OutOfStock("sold out while the payment was processed; the payment was reversed")


def settle_reversal(uow: UnitOfWork, *, transaction_id: int, result: GatewayResult, now: datetime) -> None:
    tx = payments.lock_pending(uow.session, transaction_id)
    if tx is not None:
        payments.settle(tx, result, now)
        uow.commit()


def _check_request(request: CheckoutRequest) -> None:
    if (request.card_token is None) == (request.payment_method_id is None):
        raise InvalidInput("card_token", "give either card_token or payment_method_id")


def _customer(session: Session, store_id: int, request: CheckoutRequest, now: datetime) -> Customer:
    if request.customer_id is not None:
        customer = session.scalar(
            select(Customer).where(Customer.id == request.customer_id, Customer.store_id == store_id)
        )
        if customer is None:
            raise InvalidInput("customer_id", "no such customer")
        return customer
    if not request.email:
        raise InvalidInput("email", "give customer_id or email")
    return customers.find_or_add(session, store_id=store_id, email=request.email, now=now)


def _priced_lines(session: Session, store_id: int, requested: list[LineRequest]) -> list[CheckoutLine]:
    quantities: dict[int, int] = defaultdict(int)
    for line in requested:
        quantities[line.variant_id] += line.quantity
    variants = variants_by_id(session, store_id=store_id, variant_ids=list(quantities))
    plans = _plans(session, store_id, requested)
    lines = []
    for index, line in enumerate(requested):
        variant = variants.get(line.variant_id)
        if variant is None:
            raise InvalidInput(f"line_items[{index}].variant_id", "no such variant in this store")
        if line.variant_id not in quantities:
            continue  # merged into the first line for this variant
        lines.append(
            CheckoutLine(
                variant_id=variant.id,
                stock_variant_id=variant.stock_variant_id,
                product_title=variant.product.title,
                variant_title=variant.title,
                sku=variant.sku,
                quantity=quantities.pop(line.variant_id),
                price=variant.price,
                # An imported product: its supplier ships it and is paid the wholesale price.
                supplier_store_id=variant.linked.store_id if variant.linked else None,
                wholesale_price=variant.linked.wholesale_price if variant.linked else None,
            )
        )
        _sell_under(lines[-1], plans.get(variant.id))
    return lines


def _plans(session: Session, store_id: int, requested: list[LineRequest]) -> dict[int, SellingPlan]:
    """{variant_id: plan} for the lines sold as pre-orders."""
    chosen: dict[int, int | None] = {}
    plans = {}
    for index, line in enumerate(requested):
        field = f"line_items[{index}].selling_plan_id"
        if chosen.setdefault(line.variant_id, line.selling_plan_id) != line.selling_plan_id:
            raise InvalidInput(field, "one selling plan per variant in a checkout")
        if line.selling_plan_id is not None:
            plans[line.variant_id] = preorders.plan_for(
                session, store_id, line.variant_id, line.selling_plan_id, field=field
            )
    return plans


def _sell_under(line: CheckoutLine, plan: SellingPlan | None) -> None:
    if plan is not None:
        line.selling_plan_id = plan.id
        line.deposit = preorders.deposit_for(plan, unit_price=line.price, quantity=line.quantity)


def _reserve(session: Session, checkout: Checkout, now: datetime) -> None:
    needed = _stock_needed(session, checkout)
    for variant_id, quantity in needed:
        _hold(session, checkout, variant_id, quantity, now)


def _hold(session: Session, checkout: Checkout, variant_id: int, quantity: int, now: datetime) -> None:
    inventory.allocate_or_raise(session, variant_id=variant_id, quantity=quantity)
    session.add(
        Reservation(
            checkout_id=checkout.id,
            variant_id=variant_id,
            quantity=quantity,
            status=ReservationStatus.ACTIVE.value,
            expires_at=checkout.reserved_until,
            created_at=now,
        )
    )


def _secure_reservations(session: Session, checkout: Checkout, now: datetime) -> None:
    """Make sure the checkout's units are held long enough to finish paying."""
    if checkout.reserved_until >= now + PAYMENT_WINDOW:
        return  # nothing can have lapsed
    hold_until = now + PAYMENT_WINDOW
    session.execute(
        update(Reservation)
        .where(Reservation.checkout_id == checkout.id, Reservation.status == ReservationStatus.ACTIVE.value)
        .values(expires_at=hold_until)
        .execution_options(synchronize_session=False)
    )
    checkout.reserved_until = hold_until
    missing = _missing_units(session, checkout)
    for variant_id, quantity in sorted(missing.items()):
        _hold(session, checkout, variant_id, quantity, now)


def _missing_units(session: Session, checkout: Checkout) -> dict[int, int]:
    held = session.execute(
        select(Reservation.variant_id, Reservation.quantity).where(
            Reservation.checkout_id == checkout.id,
            Reservation.status.in_([ReservationStatus.ACTIVE.value, ReservationStatus.CONVERTED.value]),
        )
    ).all()
    missing = dict(_stock_needed(session, checkout))
    for variant_id, quantity in held:
        missing[variant_id] -= quantity
    return {v: q for v, q in missing.items() if q > 0}


def _convert_reservations(session: Session, checkout: Checkout, now: datetime) -> None:
    """Reserved units become the order's; StockShort if some lapsed and cannot be held again."""
    converted = session.execute(
        update(Reservation)
        .where(Reservation.checkout_id == checkout.id, Reservation.status == ReservationStatus.ACTIVE.value)
        .values(status=ReservationStatus.CONVERTED.value)
        .returning(Reservation.variant_id, Reservation.quantity)
        .execution_options(synchronize_session=False)
    ).all()
    missing = dict(_stock_needed(session, checkout))
    for variant_id, quantity in converted:
        missing[variant_id] -= quantity
    for variant_id, quantity in sorted((v, q) for v, q in missing.items() if q > 0):
        inventory.allocate_or_raise(session, variant_id=variant_id, quantity=quantity)
        session.add(
            Reservation(
                checkout_id=checkout.id,
                variant_id=variant_id,
                quantity=quantity,
                status=ReservationStatus.CONVERTED.value,
                expires_at=now,
                created_at=now,
            )
        )


def _method(session: Session, checkout: Checkout):
    if checkout.payment_method_id is None:
        return None
    return customers.usable_payment_method(
        session,
        store_id=checkout.store_id,
        customer_id=checkout.customer_id,
        payment_method_id=checkout.payment_method_id,
    )


def _locked(session: Session, store_id: int, checkout_id: int) -> Checkout:
    checkout = session.scalar(
        select(Checkout)
        .where(Checkout.id == checkout_id, Checkout.store_id == store_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if checkout is None:
        raise NotFound("checkout not found")
    return checkout


def _stock_needed(session: Session, checkout: Checkout) -> list[tuple[int, int]]:
    """Units to hold per stock variant: all lines but pre-orders that take stock at fulfilment."""
    later = _stock_at_fulfillment(session, checkout)
    return _sum_by_variant(
        (line.stock_variant_id, line.quantity) for line in checkout.lines if line.id not in later
    )


def _stock_at_fulfillment(session: Session, checkout: Checkout) -> set[int]:
    """The lines (ids) whose stock is taken when they ship, not now."""
    plans = {line.selling_plan_id for line in checkout.lines if line.selling_plan_id}
    later = {pid for pid in plans if not preorders.reserves_on_sale(session.get(SellingPlan, pid))}
    return {line.id for line in checkout.lines if line.selling_plan_id in later}


def _sum_by_variant(pairs) -> list[tuple[int, int]]:
    totals: dict[int, int] = defaultdict(int)
    for variant_id, quantity in pairs:
        totals[variant_id] += quantity
    return sorted(totals.items())
