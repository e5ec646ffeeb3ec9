"""Creating checkouts, a batch at a time: validate, hold the stock, write.

Every request of a batch is checked first (reads only: a request that fails changes
nothing); then the valid ones race for stock in arrival order with one locked read and one
guarded UPDATE per variant (inventory.reservations), and the checkouts that got their units
are written with one statement per table.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from tandem.catalog.models import Product, Variant
from tandem.checkout.domain import CheckoutStatus
from tandem.checkout.models import Checkout, CheckoutLine
from tandem.checkout.records import CheckoutRecord, LineRecord, line_row
from tandem.customers import service as customers
from tandem.customers.models import Customer
from tandem.db import UnitOfWork, any_of, insert_new_rows, insert_statement, next_ids
from tandem.errors import InvalidInput, OutOfStock, TandemError
from tandem.inventory import reservations
from tandem.payments.gateway import VaultedCard
from tandem.preorders import service as preorders


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


@dataclass(frozen=True)
class NewCheckout:
    """One request of a batch: the store, what was asked, and the card vaulted for it (a
    pre-order's card is kept at the gateway before any transaction begins)."""

    store_id: int
    request: CheckoutRequest
    card: VaultedCard | None = None


@dataclass
class _Draft:
    checkout: CheckoutRecord
    wants: dict[int, int]  # stock variant -> units held now (not pre-orders reserved at fulfilment)
    new: NewCheckout


def check_request(request: CheckoutRequest) -> None:
    """What can be said without the database."""
    if (request.card_token is None) == (request.payment_method_id is None):
        raise InvalidInput("card_token", "give either card_token or payment_method_id")
    if request.customer_id is None and not request.email:
        raise InvalidInput("email", "give customer_id or email")


def needs_vaulting(request: CheckoutRequest) -> bool:
    return request.card_token is not None and any(line.selling_plan_id for line in request.lines)


def reserve_all(
    uow: UnitOfWork, batch: list[NewCheckout], now: datetime
) -> list[CheckoutRecord | TandemError]:
    """Create the checkouts of a batch, committed. Buyers who found too little stock try once
    more if reclaiming lapsed reservations (after the first commit let go of the stock rows)
    left units free."""
    answers = reserve(uow, batch, now)
    uow.commit()
    refused = [i for i, answer in enumerate(answers) if isinstance(answer, OutOfStock)]
    if not refused:
        return answers
    variants = {answers[i].details["variant_id"] for i in refused}
    free = reservations.reclaim(uow.session, sorted(variants), now)
    uow.commit()
    if free:
        again = reserve(uow, [batch[i] for i in refused], now)
        uow.commit()
        for index, answer in zip(refused, again, strict=True):
            answers[index] = answer
    return answers


def reserve(uow: UnitOfWork, batch: list[NewCheckout], now: datetime) -> list[CheckoutRecord | TandemError]:
    """Create the checkouts that are valid and whose stock is there; the others get their error."""
    answers: list[CheckoutRecord | TandemError | None] = [None] * len(batch)
    drafts = _drafts(uow, batch, answers, now)
    grants = reservations.grant(uow.session, [d.wants for d in drafts.values()], now, uow=uow)
    kept = {}
    for (index, draft), granted in zip(drafts.items(), grants.granted, strict=True):
        if granted:
            kept[index] = draft
        else:
            variant_id, units = grants.short_of(draft.wants)
            answers[index] = OutOfStock(
                "not enough stock",
                variant_id=variant_id,
                requested=units,
                available=max(grants.free[variant_id], 0),
            )
    _write(uow, list(kept.values()), now)
    for index, draft in kept.items():
        answers[index] = draft.checkout
    return answers


# -- checking (reads only) ----------------------------------------------------------------------


def _drafts(uow: UnitOfWork, batch: list[NewCheckout], answers: list, now: datetime) -> dict[int, _Draft]:
    session = uow.session
    variants = _variants(session, {line.variant_id for new in batch for line in new.request.lines})
    known = _customers_by_id(session, {new.request.customer_id for new in batch} - {None})
    drafts = {}
    for index, new in enumerate(batch):
        try:
            drafts[index] = _draft(uow, new, variants, known, now)
        except TandemError as error:
            answers[index] = error
    return drafts


def _draft(uow: UnitOfWork, new: NewCheckout, variants: dict, known: dict, now: datetime) -> _Draft:
    session, request, store_id = uow.session, new.request, new.store_id
    customer = _given_customer(request, store_id, known)
    if request.payment_method_id is not None:
        customers.usable_payment_method(
            session, store_id=store_id, customer_id=customer[0], payment_method_id=request.payment_method_id
        )
    lines = _priced_lines(session, store_id, request.lines, variants)
    later = _stock_at_fulfillment(session, lines)
    config = uow.caches.store(session, store_id)
    checkout = CheckoutRecord(
        store_id=store_id,
        customer_id=customer[0],
        email=customer[1],
        status=CheckoutStatus.OPEN.value,
        currency=config.currency,
        subtotal=sum(line.price * line.quantity for line in lines),
        shipping_total=0,
        total=0,
        due_now=0,
        shipping_address=request.shipping_address,
        billing_address=request.billing_address,
        card_token=None if new.card else request.card_token,
        payment_method_id=request.payment_method_id,
        reserved_until=now + timedelta(seconds=uow.settings.checkout_reservation_seconds),
        created_at=now,
        lines=lines,
    )
    checkout.total = checkout.subtotal + checkout.shipping_total
    # Paid now: full price, or a pre-order's deposit (the balance is charged later).
    checkout.due_now = checkout.shipping_total + sum(
        line.deposit if line.selling_plan_id else line.price * line.quantity for line in lines
    )
    wants = reservations.sum_by_variant(
        (line.stock_variant_id, line.quantity) for i, line in enumerate(lines) if i not in later
    )
    return _Draft(checkout, wants, new)


def _given_customer(request: CheckoutRequest, store_id: int, known: dict) -> tuple[int, str]:
    """(id, email) of the customer named by id; (0, email) for one known by email so far."""
    if request.customer_id is None:
        return 0, request.email.strip().lower()
    found = known.get(request.customer_id)
    if found is None or found[0] != store_id:
        raise InvalidInput("customer_id", "no such customer")
    return request.customer_id, found[1]


def _customers_by_id(session: Session, ids: set[int]) -> dict[int, tuple[int, str]]:
    if not ids:
        return {}
    rows = session.connection().execute(
        select(Customer.id, Customer.store_id, Customer.email).where(Customer.id.in_(ids))
    )
    return {r.id: (r.store_id, r.email) for r in rows}


def _variants(session: Session, ids: set[int]) -> dict[int, dict]:
    variant, product, linked = Variant.__table__, Product.__table__, Variant.__table__.alias("linked")
    rows = session.connection().execute(
        select(
            variant.c.id,
            variant.c.store_id,
            variant.c.title,
            variant.c.sku,
            variant.c.price,
            variant.c.linked_variant_id,
            product.c.title.label("product_title"),
            linked.c.store_id.label("supplier_store_id"),
            linked.c.wholesale_price.label("supplier_wholesale_price"),
        )
        .join(product, product.c.id == variant.c.product_id)
        .outerjoin(linked, linked.c.id == variant.c.linked_variant_id)
        .where(any_of(session, variant.c.id, ids))
    )
    return {r.id: r for r in rows}


def _priced_lines(
    session: Session, store_id: int, requested: list[LineRequest], variants: dict
) -> list[LineRecord]:
    quantities: dict[int, int] = defaultdict(int)
    for line in requested:
        quantities[line.variant_id] += line.quantity
    plans = _plans(session, store_id, requested)
    lines = []
    for index, line in enumerate(requested):
        variant = variants.get(line.variant_id)
        if variant is None or variant.store_id != store_id:
            raise InvalidInput(f"line_items[{index}].variant_id", "no such variant in this store")
        if line.variant_id not in quantities:
            continue  # merged into the first line for this variant
        priced = LineRecord(
            variant_id=variant.id,
            stock_variant_id=variant.linked_variant_id or variant.id,
            product_title=variant.product_title,
            variant_title=variant.title,
            sku=variant.sku,
            quantity=quantities.pop(line.variant_id),
            price=variant.price,
            # An imported product: its supplier ships it and is paid the wholesale price.
            supplier_store_id=variant.supplier_store_id,
            wholesale_price=variant.supplier_wholesale_price,
        )
        if plan := plans.get(variant.id):
            priced.selling_plan_id = plan.id
            priced.deposit = preorders.deposit_for(plan, unit_price=priced.price, quantity=priced.quantity)
        lines.append(priced)
    return lines


def _plans(session: Session, store_id: int, requested: list[LineRequest]) -> dict:
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


def _stock_at_fulfillment(session: Session, lines: list[LineRecord]) -> set[int]:
    """The positions of the lines whose stock is taken when they ship, not now."""
    plan_ids = {line.selling_plan_id for line in lines if line.selling_plan_id}
    if not plan_ids:
        return set()
    return {i for i, line in enumerate(lines) if line.selling_plan_id in stock_later(session, plan_ids)}


def stock_later(session: Session, plan_ids: set[int]) -> set[int]:
    """Of these selling plans, those that take stock at fulfilment."""
    from tandem.preorders.models import SellingPlan

    return {pid for pid in plan_ids if not preorders.reserves_on_sale(session.get(SellingPlan, pid))}


# -- writing --------------------------------------------------------------------------------------


def _write(uow: UnitOfWork, drafts: list[_Draft], now: datetime) -> None:
    if not drafts:
        return
    session = uow.session
    _customers_by_email(session, [d.checkout for d in drafts if not d.checkout.customer_id], now)
    for draft in drafts:
        if draft.new.card is not None:
            draft.checkout.payment_method_id = customers.keep_card(
                session,
                store_id=draft.checkout.store_id,
                customer_id=draft.checkout.customer_id,
                card=draft.new.card,
                gateway=uow.gateway.name,
                now=now,
            ).id
    lines = [line for d in drafts for line in d.checkout.lines]
    ids = next_ids(session, {Checkout.__table__: len(drafts), CheckoutLine.__table__: len(lines)})
    for draft, checkout_id in zip(drafts, ids[Checkout.__table__], strict=True):
        draft.checkout.id = checkout_id
        for line in draft.checkout.lines:
            line.checkout_id = checkout_id
    for line, line_id in zip(lines, ids[CheckoutLine.__table__], strict=True):
        line.id = line_id
    # Sent together with the stock change, in one round trip, while the stock row is ours.
    uow.writes.add(
        insert_statement(
            session, Checkout.__table__, [{"id": d.checkout.id, **d.checkout.row()} for d in drafts]
        )
    )
    uow.writes.add(
        insert_statement(session, CheckoutLine.__table__, [{"id": x.id, **line_row(x)} for x in lines])
    )
    holds = [(d.checkout.id, d.wants, d.checkout.reserved_until) for d in drafts]
    reservations.hold_later(uow, holds, now)


def _customers_by_email(session: Session, checkouts: list[CheckoutRecord], now: datetime) -> None:
    """The store's customer with each email, created if new (checkout by email)."""
    if not checkouts:
        return
    wanted = sorted({(c.store_id, c.email) for c in checkouts})
    created = insert_new_rows(
        session,
        Customer.__table__,
        [{"store_id": s, "email": e, "created_at": now} for s, e in wanted],
        keys=("store_id", "email"),
        returning=("id", "store_id", "email"),
    )
    found = {(r.store_id, r.email): r.id for r in created}
    if known := [pair for pair in wanted if pair not in found]:  # returning customers
        found |= _find_by_email(session, known)
    for checkout in checkouts:
        checkout.customer_id = found[(checkout.store_id, checkout.email)]


def _find_by_email(session: Session, pairs: list[tuple[int, str]]) -> dict[tuple[int, str], int]:
    rows = session.connection().execute(
        select(Customer.id, Customer.store_id, Customer.email).where(
            tuple_(Customer.store_id, Customer.email).in_(pairs)
        )
    )
    return {(r.store_id, r.email): r.id for r in rows}
