"""The one payment sequence: pending row, gateway call outside any lock, settlement.

A transaction row is written `pending` in the same transaction as the change that
needs the money movement (`begin`). The gateway is called after that commit, outside any
lock, with an idempotency key (`pay`); the result is settled in a new transaction by the
finisher registered for the transaction's purpose (`finish`, `Finishers`). If the process
dies in between, the sweeper (payments.tasks) replays the same call with the same key and
finishes it the same way: nothing lost, nothing charged twice.
"""

import asyncio
import logging
import secrets
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import BigInteger, String, cast, func, or_, select, update
from sqlalchemy.orm import Session

from tandem.customers.models import PaymentMethod
from tandem.db import UTCDateTime, insert_rows, rows_table
from tandem.liveness import dead_owners
from tandem.payments.domain import TransactionKind, TransactionStatus, move_transaction
from tandem.payments.gateway import BlockingGateway, Gateway, GatewayResult, GatewayStatus, PaymentSource
from tandem.payments.models import PaymentTransaction

if TYPE_CHECKING:
    from tandem.timeline.domain import Actor

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=120)

SETTLED_AS = {
    GatewayStatus.SUCCEEDED: TransactionStatus.SUCCESS,
    GatewayStatus.DECLINED: TransactionStatus.FAILURE,
    GatewayStatus.ERROR: TransactionStatus.ERROR,
    GatewayStatus.REQUIRES_ACTION: TransactionStatus.AWAITING_CUSTOMER,
}


@dataclass(frozen=True)
class GatewayCall:
    """Everything needed to (re)play one gateway call, detached from the session."""

    transaction_id: int
    kind: str
    amount: int
    currency: str
    key: str
    card_token: str | None = None
    vaulted_reference: str | None = None
    parent_reference: str | None = None
    off_session: bool = False
    confirm: bool = False  # the customer confirmed a challenged charge (parent_reference)


def begin(
    session: Session,
    *,
    store_id: int,
    kind: TransactionKind,
    purpose: str,
    amount: int,
    currency: str,
    gateway: str,
    now: datetime,
    idempotency_key: str | None = None,
    **links,
) -> PaymentTransaction:
    """Write a pending transaction in the caller's transaction (with a fresh idempotency key
    unless the caller names the attempt)."""
    tx = PaymentTransaction(
        store_id=store_id,
        kind=kind.value,
        purpose=purpose,
        amount=amount,
        currency=currency,
        gateway=gateway,
        status=TransactionStatus.PENDING.value,
        idempotency_key=idempotency_key or f"tdm_{kind.value}_{secrets.token_hex(12)}",
        locked_until=now + LEASE,
        created_at=now,
        **links,
    )
    session.add(tx)
    session.flush()
    return tx


@dataclass
class TxRecord:
    """A payment transaction as the batched checkout path writes it (the fields of
    PaymentTransaction), so it is shown without being read back."""

    store_id: int
    kind: str
    purpose: str
    status: str
    amount: int
    currency: str
    gateway: str
    idempotency_key: str
    created_at: datetime
    locked_until: datetime | None = None
    locked_by: str | None = None  # the process making the call (tandem.liveness)
    checkout_id: int | None = None
    order_id: int | None = None
    card_token: str | None = None
    payment_method_id: int | None = None
    parent_id: int | None = None
    off_session: bool = False
    id: int = 0
    gateway_reference: str | None = None
    message: str | None = None
    processed_at: datetime | None = None
    payment_schedule_id: int | None = None
    refund_id: int | None = None
    supplier_order_id: int | None = None
    source_reference: str | None = None

    def row(self) -> dict:
        return {name: getattr(self, name) for name in _TX_ROW}


_TX_ROW = tuple(f.name for f in fields(TxRecord) if f.name != "id")


def pending(
    *,
    store_id: int,
    kind: TransactionKind,
    purpose: str,
    amount: int,
    currency: str,
    gateway: str,
    now: datetime,
    **links,
) -> TxRecord:
    """A pending transaction, not yet written (see begin_many)."""
    return TxRecord(
        store_id=store_id,
        kind=kind.value,
        purpose=purpose,
        status=TransactionStatus.PENDING.value,
        amount=amount,
        currency=currency,
        gateway=gateway,
        idempotency_key=f"tdm_{kind.value}_{secrets.token_hex(12)}",
        locked_until=now + LEASE,
        created_at=now,
        **links,
    )


def begin_many(session: Session, txs: list[TxRecord]) -> list[TxRecord]:
    """Write pending transactions with one statement, in the caller's transaction."""
    if txs:
        ids = insert_rows(session, PaymentTransaction.__table__, [tx.row() for tx in txs])
        for tx, tx_id in zip(txs, ids, strict=True):
            tx.id = tx_id
    return txs


def settled_record(tx: TxRecord, result: GatewayResult, now: datetime) -> TxRecord:
    """The transaction once the gateway answered (written by settle_many)."""
    return replace(tx, **settled_values(tx.status, tx.gateway_reference, result, now))


def settle_many(session: Session, txs: list[TxRecord]) -> bool:
    """Write settled transactions (settled_record) with one statement, each only if it is still
    pending; False if any was settled by someone else meanwhile."""
    if not txs:
        return True
    return len(session.connection().execute(_settling(session, txs)).all()) == len(txs)


def settle_later(uow, txs: list[TxRecord], refused: type[Exception]) -> None:
    """settle_many, sent with the transaction's writes; `refused` is raised then if any was
    settled by someone else meanwhile."""
    if txs:
        uow.writes.add(_settling(uow.session, txs), expect=len(txs), refused=refused)


def _settling(session: Session, txs: list[TxRecord]):
    table = PaymentTransaction.__table__
    settled = rows_table(
        session,
        "settled",
        [
            ("id", BigInteger),
            ("status", String),
            ("gateway_reference", String),
            ("message", String),
            ("processed_at", UTCDateTime()),
            ("order_id", BigInteger),
        ],
        [(t.id, t.status, t.gateway_reference, t.message, t.processed_at, t.order_id) for t in txs],
    )
    return (
        update(table)
        .where(table.c.id == settled.c.id, table.c.status == TransactionStatus.PENDING.value)
        .values(
            status=settled.c.status,
            gateway_reference=settled.c.gateway_reference,
            message=settled.c.message,
            processed_at=settled.c.processed_at,
            order_id=func.coalesce(cast(settled.c.order_id, BigInteger), table.c.order_id),
            locked_until=None,
        )
        .returning(table.c.id)
    )


def record_manual(
    session: Session,
    *,
    store_id: int,
    order_id: int,
    amount: int,
    currency: str,
    now: datetime,
    kind: TransactionKind = TransactionKind.SALE,
    message: str = "marked as paid",
) -> PaymentTransaction:
    """A payment received outside the gateway (bank transfer, cash)."""
    tx = PaymentTransaction(
        store_id=store_id,
        order_id=order_id,
        kind=kind.value,
        purpose="manual",
        amount=amount,
        currency=currency,
        gateway="manual",
        status=TransactionStatus.SUCCESS.value,
        idempotency_key=f"tdm_manual_{secrets.token_hex(12)}",
        message=message,
        created_at=now,
        processed_at=now,
    )
    session.add(tx)
    session.flush()
    return tx


def call_for(session: Session, tx: PaymentTransaction) -> GatewayCall:
    """The gateway call a pending transaction stands for (the same one on every replay)."""
    parent_reference = vaulted_reference = None
    if tx.parent_id is not None:
        parent_reference = session.get(PaymentTransaction, tx.parent_id).gateway_reference
    if tx.payment_method_id is not None:
        vaulted_reference = session.get(PaymentMethod, tx.payment_method_id).gateway_reference
    vaulted_reference = tx.source_reference or vaulted_reference
    return GatewayCall(
        transaction_id=tx.id,
        kind=tx.kind,
        amount=tx.amount,
        currency=tx.currency,
        key=tx.idempotency_key,
        card_token=tx.card_token,
        vaulted_reference=vaulted_reference,
        parent_reference=parent_reference,
        off_session=tx.off_session,
    )


def confirmation_call(tx: PaymentTransaction) -> GatewayCall:
    """Completing a charge the bank challenged, once the customer confirmed it."""
    return GatewayCall(
        transaction_id=tx.id,
        kind=tx.kind,
        amount=tx.amount,
        currency=tx.currency,
        key=f"{tx.idempotency_key}_confirm",
        parent_reference=tx.gateway_reference,
        confirm=True,
    )


async def perform_async(gateway: Gateway, call: GatewayCall) -> GatewayResult | None:
    """Call the gateway; None when the outcome is unknown (the sweeper will replay it)."""
    try:
        return await _dispatch(gateway, call)
    except Exception:  # a crash or timeout inside the provider: outcome unknown
        log.exception("gateway call %s failed; it stays pending", call.key)
        return None


def perform(gateway: BlockingGateway, call: GatewayCall) -> GatewayResult | None:
    """`perform_async` for synchronous code."""
    return perform_all(gateway, [call])[0]


def perform_all(gateway: BlockingGateway, calls: list[GatewayCall]) -> list[GatewayResult | None]:
    """Several calls at once (a slow provider costs one round trip, not one per call)."""

    async def together():
        return await asyncio.gather(*(perform_async(gateway.inner, call) for call in calls))

    return list(gateway.run(together())) if calls else []


async def _dispatch(gateway: Gateway, call: GatewayCall) -> GatewayResult:
    if call.confirm:
        return await gateway.confirm(reference=call.parent_reference, idempotency_key=call.key)
    kind = TransactionKind(call.kind)
    if kind in (TransactionKind.SALE, TransactionKind.AUTHORIZATION):
        source = PaymentSource(card_token=call.card_token, vaulted_reference=call.vaulted_reference)
        charge = gateway.sale if kind is TransactionKind.SALE else gateway.authorize
        return await charge(
            source=source,
            amount=call.amount,
            currency=call.currency,
            idempotency_key=call.key,
            off_session=call.off_session,
        )
    if kind is TransactionKind.CAPTURE:
        return await gateway.capture(
            authorization=call.parent_reference, amount=call.amount, idempotency_key=call.key
        )
    if kind is TransactionKind.VOID:
        return await gateway.void(authorization=call.parent_reference, idempotency_key=call.key)
    return await gateway.refund(charge=call.parent_reference, amount=call.amount, idempotency_key=call.key)


def lock_pending(
    session: Session, transaction_id: int, status: TransactionStatus = TransactionStatus.PENDING
) -> PaymentTransaction | None:
    """The transaction, locked, if it still waits for its result (or the customer)."""
    tx = session.execute(
        select(PaymentTransaction)
        .where(PaymentTransaction.id == transaction_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    return tx if tx.status == status else None


def settle(tx: PaymentTransaction, result: GatewayResult, now: datetime) -> None:
    """Record the gateway's answer on a locked transaction."""
    values = settled_values(tx.status, tx.gateway_reference, result, now)
    move_transaction(tx, TransactionStatus(values.pop("status")))
    for name, value in values.items():
        setattr(tx, name, value)


def settled_values(status: str, reference: str | None, result: GatewayResult, now: datetime) -> dict:
    """The columns a gateway answer sets. A confirmation keeps the charge's own reference
    (refunds go against the charge)."""
    confirming = status == TransactionStatus.AWAITING_CUSTOMER
    return {
        "status": SETTLED_AS[result.status].value,
        "gateway_reference": reference if confirming else (result.reference or reference),
        "message": result.message[:500],
        "processed_at": now,
        "locked_until": None,
    }


# -- the sequence -----------------------------------------------------------------------------


class Finisher(Protocol):
    def __call__(
        self,
        uow,
        tx: PaymentTransaction,
        call: GatewayCall,
        *,
        actor: "Actor",
        now: datetime,
        by_worker: bool,
    ) -> None: ...


class Finishers:
    """What each purpose does once its transaction is settled (wired in tandem.wiring), inside
    the settling transaction. A finisher never commits."""

    def __init__(self) -> None:
        self._by_purpose: dict[str, Finisher] = {}

    def register(self, purpose: str, finisher: Finisher) -> None:
        self._by_purpose[purpose] = finisher

    def __getitem__(self, purpose: str) -> Finisher:
        return self._by_purpose[purpose]


def pay(
    uow, calls: list[GatewayCall], *, actor: "Actor", now: datetime, by_worker: bool = False
) -> list[PaymentTransaction | None]:
    """Commit the pending transactions, call the gateway for all of them at once (no
    transaction open), then finish each; None where the outcome is unknown (the sweeper
    finishes it later)."""
    uow.commit()
    results = perform_all(uow.gateway, calls)
    return [
        finish(uow, call, result, actor=actor, now=now, by_worker=by_worker)
        for call, result in zip(calls, results, strict=True)
    ]


def finish(
    uow, call: GatewayCall, result: GatewayResult | None, *, actor: "Actor", now: datetime, by_worker: bool
) -> PaymentTransaction | None:
    """Settle one answer and let its purpose's finisher act, in one transaction. A transaction
    someone else settled first is returned as it is."""
    if result is None:
        return None
    waiting = TransactionStatus.AWAITING_CUSTOMER if call.confirm else TransactionStatus.PENDING
    tx = lock_pending(uow.session, call.transaction_id, waiting)
    if tx is None:
        uow.rollback()
        return uow.session.get(PaymentTransaction, call.transaction_id, populate_existing=True)
    settle(tx, result, now)
    uow.finishers[tx.purpose](uow, tx, call, actor=actor, now=now, by_worker=by_worker)
    uow.commit()
    return tx


def claim_stale(session: Session, *, now: datetime, limit: int, owner: str | None = None) -> list[int]:
    """Take over operations whose caller is gone (its process died, or its lease expired):
    pending calls, and confirmations a customer started that were never settled."""
    waiting = (TransactionStatus.PENDING.value, TransactionStatus.AWAITING_CUSTOMER.value)
    stale = or_(PaymentTransaction.locked_until < now, PaymentTransaction.locked_by.in_(dead_owners(now)))
    candidates = list(
        session.scalars(
            select(PaymentTransaction.id).where(PaymentTransaction.status.in_(waiting), stale).limit(limit)
        )
    )
    claimed = []
    for tx_id in candidates:
        result = session.execute(
            update(PaymentTransaction)
            .where(PaymentTransaction.id == tx_id, PaymentTransaction.status.in_(waiting), stale)
            .values(locked_until=now + LEASE, locked_by=owner)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            claimed.append(tx_id)
    return claimed
