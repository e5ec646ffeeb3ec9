"""Completing checkouts, a batch at a time, in the one payment sequence (payments.service):

1. `begin`, one transaction: claim the Idempotency-Keys, move the checkouts to `completing`
   (their units stay held while the gateway works) and write their pending payments;
2. the gateway calls, outside any transaction, all at once;
3. `settle`, one transaction: record the answers, turn the reservations of the paid
   checkouts into orders (orders.placing), reopen the others, and store every response
   with its Idempotency-Key.

If the process dies between 1 and 3, the payments sweeper replays the gateway call with the
same key and ends it with `finish_payment`, the finisher of Purpose.CHECKOUT.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, String, select, tuple_, update
from sqlalchemy.orm import Session

from tandem.checkout import domain, records
from tandem.checkout.domain import CheckoutEvent, CheckoutStatus
from tandem.checkout.models import Checkout
from tandem.checkout.records import CheckoutRecord
from tandem.checkout.reserving import stock_later
from tandem.customers import service as customers
from tandem.customers.models import PaymentMethod
from tandem.db import UnitOfWork, UTCDateTime, any_of, rows_table
from tandem.errors import Conflict, NotFound, OutOfStock, PaymentFailed, TandemError, error_json
from tandem.idempotency import service as idempotency
from tandem.inventory import reservations
from tandem.orders import placing
from tandem.orders.schemas import placed_order_json
from tandem.payments import service as payments
from tandem.payments.domain import Purpose, TransactionKind, TransactionStatus
from tandem.payments.models import PaymentTransaction
from tandem.payments.service import GatewayCall, TxRecord
from tandem.stores.domain import PaymentCapture
from tandem.timeline.domain import Actor

# A reservation about to lapse is extended by this much when payment starts.
PAYMENT_WINDOW = timedelta(seconds=120)
SOLD_OUT_WHILE_PAYING = "sold out while the payment was processed; the payment was reversed"


@dataclass(frozen=True)
class Completion:
    """One request to complete a checkout."""

    store_id: int
    checkout_id: int
    actor: Actor
    key: str | None = None  # Idempotency-Key
    fingerprint: str = ""


@dataclass(frozen=True)
class Answer:
    """The response a request gets (and that its Idempotency-Key stores)."""

    status: int
    body: str
    replayed: bool = False
    order_id: int | None = None
    error: TandemError | None = None

    @classmethod
    def of_error(cls, error: TandemError) -> "Answer":
        return cls(error.status, error_json(error), error=error)


@dataclass(frozen=True)
class Wait:
    """Another request holds the Idempotency-Key: wait for its response."""

    completion: Completion


@dataclass
class Paying:
    """A checkout whose payment began (step 1); `call` goes to the gateway (step 2)."""

    completion: Completion
    checkout: CheckoutRecord
    tx: TxRecord | None  # None: nothing is due now (a pre-order without deposit)
    call: GatewayCall | None
    claim: idempotency.Claim | None
    result: object = None  # the gateway's answer (GatewayResult), or None if it is unknown


Begun = Paying | Answer | Wait


# -- 1. begin -----------------------------------------------------------------------------------


def begin(uow: UnitOfWork, batch: list[Completion], now: datetime) -> list[Begun]:
    """Step 1 for a batch; the caller commits."""
    session = uow.session
    outcomes: list[Begun | None] = [None] * len(batch)
    claims = _claim_keys(session, batch, outcomes, now, uow.ports.owner)
    live = [i for i, outcome in enumerate(outcomes) if outcome is None]
    checkouts = _start(session, batch, live, outcomes)
    _keep_units(session, checkouts, outcomes, now)
    _check_cards(session, checkouts, outcomes)
    for index in checkouts:
        if outcomes[index] is not None:
            _reopen(session, [checkouts[index].id])
    paying = _pending_payments(uow, batch, checkouts, outcomes, claims, now)
    for index, entry in paying.items():
        outcomes[index] = entry
    _store_answers(session, claims, outcomes)
    return outcomes


def _claim_keys(
    session: Session, batch: list[Completion], outcomes: list, now: datetime, process: str | None
) -> dict:
    keyed = [i for i, c in enumerate(batch) if c.key is not None]
    found = idempotency.claim_many(
        session,
        [(batch[i].store_id, batch[i].key, batch[i].fingerprint) for i in keyed],
        now,
        process=process,
    )
    claims = {}
    for index, outcome in zip(keyed, found, strict=True):
        if isinstance(outcome, idempotency.Claim):
            claims[index] = outcome
        elif isinstance(outcome, idempotency.StoredResponse):
            outcomes[index] = Answer(outcome.status, outcome.body, replayed=True)
        elif isinstance(outcome, idempotency.InProgress):
            outcomes[index] = Wait(batch[index])
        else:
            outcomes[index] = Answer.of_error(outcome)
    return claims


def _start(
    session: Session, batch: list[Completion], live: list[int], outcomes: list
) -> dict[int, CheckoutRecord]:
    """Move the open checkouts to `completing` (by the table); the others get their answer."""
    first: dict[int, int] = {}
    for index in live:
        if batch[index].checkout_id in first:
            outcomes[index] = Answer.of_error(_in_progress())
        else:
            first[batch[index].checkout_id] = index
    if not first:
        return {}
    sources, target = domain.guard(CheckoutEvent.BEGIN_PAYMENT)
    table = Checkout.__table__
    pairs = [(checkout_id, batch[index].store_id) for checkout_id, index in first.items()]
    wanted = rows_table(session, "wanted", [("id", BigInteger), ("store_id", BigInteger)], pairs)
    moved = (
        session.connection()
        .execute(
            update(table)
            .where(
                tuple_(table.c.id, table.c.store_id).in_(select(wanted.c.id, wanted.c.store_id)),
                table.c.status.in_(sources),
                table.c.due_now > 0,
            )
            .values(status=target)
            .returning(table)
        )
        .all()
    )
    checkouts = {first[row.id]: records.from_row(row) for row in moved}
    records.with_lines(session, list(checkouts.values()))
    unmoved = {checkout_id: index for checkout_id, index in first.items() if index not in checkouts}
    for checkout_id, index in unmoved.items():
        outcomes[index] = _why_not(session, batch[index], checkout_id)
    return checkouts


def _why_not(session: Session, completion: Completion, checkout_id: int) -> Begun:
    row = (
        session.connection()
        .execute(
            select(Checkout.store_id, Checkout.status, Checkout.order_id, Checkout.due_now).where(
                Checkout.id == checkout_id
            )
        )
        .first()
    )
    if row is None or row.store_id != completion.store_id:
        return Answer.of_error(NotFound("checkout not found"))
    if row.status == CheckoutStatus.OPEN and row.due_now == 0:
        return Paying(completion, records.load(session, checkout_id), None, None, None)
    return Answer.of_error(_refusal(row.status, row.order_id))


def _refusal(status: str, order_id: int | None) -> Conflict:
    if status == CheckoutStatus.COMPLETED:
        return Conflict("checkout already completed", code="checkout_completed", order_id=order_id)
    return _in_progress()


def _in_progress() -> Conflict:
    return Conflict("this checkout's payment is already in progress", code="checkout_in_progress")


def _keep_units(
    session: Session, checkouts: dict[int, CheckoutRecord], outcomes: list, now: datetime
) -> None:
    """Units about to lapse are held long enough to finish paying; lapsed ones are taken
    again if still free (else the buyer hears it is sold out)."""
    near = {i: c for i, c in checkouts.items() if c.reserved_until < now + PAYMENT_WINDOW}
    if not near:
        return
    until = now + PAYMENT_WINDOW
    held = reservations.extend(session, [c.id for c in near.values()], until)
    _set_reserved_until(session, [c.id for c in near.values()], until)
    short = {}
    for index, checkout in near.items():
        checkout.reserved_until = until
        if lacking := reservations.missing(wanted_units(session, checkout), held.get(checkout.id, {})):
            short[index] = lacking
    grants = reservations.grant(session, list(short.values()), now, reclaim_first=True)
    holds = []
    for (index, lacking), granted in zip(short.items(), grants.granted, strict=True):
        if granted:
            holds.append((near[index].id, lacking, until))
        else:
            variant_id, units = grants.short_of(lacking)
            available = max(grants.free.get(variant_id, 0), 0)
            outcomes[index] = Answer.of_error(
                OutOfStock("not enough stock", variant_id=variant_id, requested=units, available=available)
            )
    reservations.hold(session, holds, now)


def _set_reserved_until(session: Session, checkout_ids: list[int], until: datetime) -> None:
    session.connection().execute(
        update(Checkout)
        .where(any_of(session, Checkout.id, checkout_ids))
        .values(reserved_until=until)
        .execution_options(synchronize_session=False)
    )


def wanted_units(session: Session, checkout: CheckoutRecord) -> dict[int, int]:
    """Units the checkout holds per stock variant: all lines but pre-orders reserved at fulfilment."""
    later = _lines_stocked_later(session, checkout)
    return reservations.sum_by_variant(
        (line.stock_variant_id, line.quantity) for line in checkout.lines if line.id not in later
    )


def _lines_stocked_later(session: Session, checkout: CheckoutRecord) -> frozenset[int]:
    plan_ids = {line.selling_plan_id for line in checkout.lines if line.selling_plan_id}
    if not plan_ids:
        return frozenset()
    later = stock_later(session, plan_ids)
    return frozenset(line.id for line in checkout.lines if line.selling_plan_id in later)


def _check_cards(session: Session, checkouts: dict[int, CheckoutRecord], outcomes: list) -> None:
    """A card on file must still be usable when the payment starts."""
    for index, checkout in checkouts.items():
        if checkout.payment_method_id is None or outcomes[index] is not None:
            continue
        try:
            customers.usable_payment_method(
                session,
                store_id=checkout.store_id,
                customer_id=checkout.customer_id,
                payment_method_id=checkout.payment_method_id,
            )
        except TandemError as error:
            outcomes[index] = Answer.of_error(error)


def _reopen(session: Session, checkout_ids: list[int]) -> None:
    sources, target = domain.guard(CheckoutEvent.PAYMENT_FAILED)
    session.connection().execute(
        update(Checkout)
        .where(any_of(session, Checkout.id, checkout_ids), Checkout.status.in_(sources))
        .values(status=target)
        .execution_options(synchronize_session=False)
    )


def _pending_payments(
    uow: UnitOfWork,
    batch: list[Completion],
    checkouts: dict[int, CheckoutRecord],
    outcomes: list,
    claims: dict,
    now: datetime,
) -> dict[int, Paying]:
    """The pending transaction of each checkout that goes on paying, one statement for all."""
    going = {i: c for i, c in checkouts.items() if outcomes[i] is None}
    txs = [
        payments.pending(
            store_id=c.store_id,
            kind=_charge_kind(uow, c),
            purpose=Purpose.CHECKOUT,
            amount=c.due_now,
            currency=c.currency,
            gateway=uow.gateway.name,
            now=now,
            checkout_id=c.id,
            card_token=c.card_token,
            payment_method_id=c.payment_method_id,
            locked_by=uow.ports.owner,
        )
        for c in going.values()
    ]
    payments.begin_many(uow.session, txs)
    vaulted = _vaulted_references(uow.session, list(going.values()))
    paying = {}
    for (index, checkout), tx in zip(going.items(), txs, strict=True):
        call = GatewayCall(
            transaction_id=tx.id,
            kind=tx.kind,
            amount=tx.amount,
            currency=tx.currency,
            key=tx.idempotency_key,
            card_token=tx.card_token,
            vaulted_reference=vaulted.get(checkout.payment_method_id),
        )
        paying[index] = Paying(batch[index], checkout, tx, call, claims.get(index))
    for index, outcome in enumerate(outcomes):  # nothing due: no payment, but the key is theirs
        if isinstance(outcome, Paying):
            outcome.claim = claims.get(index)
    return paying


def _charge_kind(uow: UnitOfWork, checkout: CheckoutRecord) -> TransactionKind:
    """Stores that capture by hand authorise; a pre-order's deposit is always taken."""
    capture = uow.caches.store(uow.session, checkout.store_id).payment_capture
    if capture == PaymentCapture.AUTOMATIC or any(line.selling_plan_id for line in checkout.lines):
        return TransactionKind.SALE
    return TransactionKind.AUTHORIZATION


def _vaulted_references(session: Session, checkouts: list[CheckoutRecord]) -> dict[int, str]:
    ids = {c.payment_method_id for c in checkouts} - {None}
    if not ids:
        return {}
    return dict(
        session.connection()
        .execute(select(PaymentMethod.id, PaymentMethod.gateway_reference).where(PaymentMethod.id.in_(ids)))
        .all()
    )


def _store_answers(session: Session, claims: dict, outcomes: list) -> None:
    """Requests that end at step 1 keep their answer with their key."""
    done = [
        (claims[i], o.status, o.body) for i, o in enumerate(outcomes) if i in claims and isinstance(o, Answer)
    ]
    if not idempotency.finish_many(session, done):
        raise KeyTakenOver


class KeyTakenOver(Exception):
    """Another request took an Idempotency-Key over (its lease had run out): roll back."""


class SettledElsewhere(Exception):
    """A payment was settled by someone else meanwhile (the sweeper): roll back, go one by one."""


# -- 3. settle ----------------------------------------------------------------------------------


@dataclass
class _Settling:
    paying: Paying
    settled: TxRecord | None = None  # the payment once the gateway answered
    answer: Answer | None = None
    order: placing.PlacedOrder | None = None
    reversal: TxRecord | None = None
    placement: placing.Placement | None = None
    later: frozenset[int] = field(default_factory=frozenset)


def settle(uow: UnitOfWork, batch: list[Paying], now: datetime) -> tuple[list[Answer], list[GatewayCall]]:
    """Step 3 for a batch (each with its `result`); the caller commits, then makes the returned
    reversal calls (units sold out while the gateway worked). Raises SettledElsewhere or
    KeyTakenOver when the batch must be rolled back and settled one by one."""
    items = [_Settling(p) for p in batch]
    unknown = [s for s in items if s.paying.tx is not None and s.paying.result is None]
    for s in unknown:  # outcome unknown: the sweeper settles it later
        s.answer = Answer.of_error(
            PaymentFailed(
                "the payment could not be confirmed; it will be settled shortly", code="payment_pending"
            )
        )
    known = [s for s in items if s.answer is None]
    for s in known:
        if s.paying.tx is not None:
            s.settled = payments.settled_record(s.paying.tx, s.paying.result, now)
    _conclude(uow, known, now)
    payments.settle_later(uow, [s.settled for s in known if s.settled is not None], SettledElsewhere)
    done = [(s.paying.claim, s.answer.status, s.answer.body) for s in items if s.paying.claim is not None]
    idempotency.finish_later(uow, done, KeyTakenOver)
    uow.writes.flush(uow.session)  # everything in one round trip; a refusal rolls the batch back
    return [s.answer for s in items], [_reversal_call(s) for s in items if s.reversal is not None]


def _conclude(uow: UnitOfWork, items: list[_Settling], now: datetime) -> None:
    """Orders for the paid (and the nothing-due), reopened checkouts for the others."""
    session = uow.session
    unpaid = [s for s in items if s.settled is None]
    owned = _complete_unpaid(session, unpaid)
    paid = [s for s in items if s.settled is not None and s.settled.status == TransactionStatus.SUCCESS]
    failed = [s for s in items if s.settled is not None and s.settled.status != TransactionStatus.SUCCESS]
    _secure_sold_units(uow, paid + owned, now)
    placing_now = [s for s in paid + owned if s.reversal is None]
    for s in placing_now:
        s.placement = placing.Placement(s.paying.checkout, s.settled, s.paying.completion.actor, s.later)
    orders = placing.place(uow, [s.placement for s in placing_now], now)
    for s, order in zip(placing_now, orders, strict=True):
        s.order = order
        if s.settled is not None:
            s.settled.order_id = order.id
        s.answer = Answer(201, placed_order_json(session, order), order_id=order.id)
    _mark_completed(uow, placing_now, now)
    _reopen_failed(session, failed)
    for s in failed:
        s.answer = Answer.of_error(_payment_error(s.settled))


def _complete_unpaid(session: Session, unpaid: list[_Settling]) -> list[_Settling]:
    """Nothing due: the checkout completes at once, if it is still open (else 409)."""
    if not unpaid:
        return []
    sources, target = domain.guard(CheckoutEvent.NOTHING_DUE)
    ids = [s.paying.checkout.id for s in unpaid]
    done = set(
        session.connection().scalars(
            update(Checkout)
            .where(any_of(session, Checkout.id, ids), Checkout.status.in_(sources))
            .values(status=target)
            .returning(Checkout.id)
        )
    )
    owned = []
    for s in unpaid:
        if s.paying.checkout.id in done:
            owned.append(s)
        else:
            current = (
                session.connection()
                .execute(
                    select(Checkout.status, Checkout.order_id).where(Checkout.id == s.paying.checkout.id)
                )
                .first()
            )
            s.answer = Answer.of_error(_refusal(current.status, current.order_id))
    return owned


def _secure_sold_units(uow: UnitOfWork, items: list[_Settling], now: datetime) -> None:
    """Reserved units become sold. Units whose hold lapsed while the gateway worked are taken
    again if free; if not, the payment is reversed and the buyer hears it is sold out."""
    session = uow.session
    for s in items:
        s.later = _lines_stocked_later(session, s.paying.checkout)
    held = reservations.convert(session, [s.paying.checkout.id for s in items])
    lacking = {}
    for s in items:
        wanted = wanted_units(session, s.paying.checkout)
        if short := reservations.missing(wanted, held.get(s.paying.checkout.id, {})):
            lacking[id(s)] = (s, short)
    if not lacking:
        return
    grants = reservations.grant(session, [short for _, short in lacking.values()], now, reclaim_first=True)
    sold = []
    for (s, short), granted in zip(lacking.values(), grants.granted, strict=True):
        if granted:
            sold.append((s.paying.checkout.id, short, now))
        else:
            _reverse(uow, s, now)
    reservations.hold(session, sold, now)
    reservations.convert(session, [checkout_id for checkout_id, _, _ in sold])


def _reverse(uow: UnitOfWork, s: _Settling, now: datetime) -> None:
    """Stock vanished while the gateway worked (a lapsed hold): give the money back."""
    paid = s.settled
    if paid is None:  # nothing was paid: just say it is gone
        s.answer = Answer.of_error(OutOfStock("not enough stock"))
        return
    kind = TransactionKind.VOID if paid.kind == TransactionKind.AUTHORIZATION else TransactionKind.REFUND
    [s.reversal] = payments.begin_many(
        uow.session,
        [
            payments.pending(
                store_id=paid.store_id,
                kind=kind,
                purpose=Purpose.CHECKOUT,
                amount=paid.amount,
                currency=paid.currency,
                gateway=paid.gateway,
                now=now,
                checkout_id=paid.checkout_id,
                parent_id=paid.id,
                locked_by=uow.ports.owner,
            )
        ],
    )
    _reopen(uow.session, [s.paying.checkout.id])
    s.answer = Answer.of_error(OutOfStock(SOLD_OUT_WHILE_PAYING))


def _reversal_call(s: _Settling) -> GatewayCall:
    tx = s.reversal
    return GatewayCall(
        transaction_id=tx.id,
        kind=tx.kind,
        amount=tx.amount,
        currency=tx.currency,
        key=tx.idempotency_key,
        parent_reference=s.settled.gateway_reference,
    )


def _mark_completed(uow: UnitOfWork, items: list[_Settling], now: datetime) -> None:
    """Paid checkouts go from completing to completed (nothing-due ones already are): both get
    their order, with one statement sent with the transaction's writes."""
    if not items:
        return
    session = uow.session
    table = Checkout.__table__
    completed = rows_table(
        session,
        "completed",
        [("id", BigInteger), ("order_id", BigInteger), ("completed_at", UTCDateTime()), ("status", String)],
        [(s.paying.checkout.id, s.order.id, now, CheckoutStatus.COMPLETED.value) for s in items],
    )
    sources, _ = domain.guard(CheckoutEvent.PAYMENT_SUCCEEDED)
    statement = (
        update(table)
        .where(table.c.id == completed.c.id, table.c.status.in_([*sources, CheckoutStatus.COMPLETED.value]))
        .values(
            status=completed.c.status, order_id=completed.c.order_id, completed_at=completed.c.completed_at
        )
        .returning(table.c.id)
    )
    uow.writes.add(statement, expect=len(items), refused=SettledElsewhere)


def _reopen_failed(session: Session, failed: list[_Settling]) -> None:
    if not failed:
        return
    _reopen(session, [s.paying.checkout.id for s in failed])
    declined = [s.paying.checkout.id for s in failed if s.settled.status == TransactionStatus.FAILURE]
    if declined:
        reservations.release(session, declined)


def _payment_error(tx: TxRecord) -> PaymentFailed:
    if tx.status == TransactionStatus.ERROR:
        return PaymentFailed(f"payment gateway error: {tx.message}", code="gateway_error")
    if tx.status == TransactionStatus.AWAITING_CUSTOMER:
        return PaymentFailed("the card needs the customer's confirmation", code="requires_action")
    return PaymentFailed(f"payment declined: {tx.message}")


# -- the sweeper's end of a payment whose caller died (Purpose.CHECKOUT) -------------------------


def finish_payment(
    uow: UnitOfWork, tx, call: GatewayCall, *, actor: Actor, now: datetime, by_worker: bool
) -> None:
    """Finisher: a checkout payment settled by the sweeper (or one settled one by one) ends as
    the batch would have ended it. Reversals need nothing more."""
    if tx.kind not in (TransactionKind.SALE, TransactionKind.AUTHORIZATION):
        return
    checkout = records.load(uow.session, tx.checkout_id)
    if checkout is None or checkout.status != CheckoutStatus.COMPLETING:
        return
    item = _Settling(Paying(Completion(checkout.store_id, checkout.id, actor), checkout, None, call, None))
    item.settled = _record_of(tx)
    _conclude(uow, [item], now)
    if item.order is not None:
        tx.order_id = item.order.id
    if item.reversal is not None:  # the sweeper's next pass makes the call
        uow.session.execute(
            update(PaymentTransaction)
            .where(PaymentTransaction.id == item.reversal.id)
            .values(locked_until=now)
            .execution_options(synchronize_session=False)
        )


def _record_of(tx) -> TxRecord:
    return TxRecord(**{name: getattr(tx, name) for name in TxRecord.__dataclass_fields__})
