"""Gateway operations as rows: begin (in the caller's transaction), perform, settle.

A transaction row is written `pending` in the same transaction as the change that
needs the money movement. The gateway is called after that commit, outside any
lock, with an idempotency key; the result is settled in a new transaction. If the
process dies in between, the sweeper (payments.tasks) replays the same call with
the same key and settles it: nothing lost, nothing charged twice.
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tandem.customers.models import PaymentMethod
from tandem.payments.domain import TransactionKind, TransactionStatus, move_transaction
from tandem.payments.gateway import Gateway, GatewayResult, GatewayStatus, PaymentSource
from tandem.payments.models import PaymentTransaction

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


def perform(gateway: Gateway, call: GatewayCall) -> GatewayResult | None:
    """Call the gateway; None when the outcome is unknown (the sweeper will replay it)."""
    try:
        return _dispatch(gateway, call)
    except Exception:  # a crash or timeout inside the provider: outcome unknown
        log.exception("gateway call %s failed; it stays pending", call.key)
        return None


def _dispatch(gateway: Gateway, call: GatewayCall) -> GatewayResult:
    if call.confirm:
        return gateway.confirm(reference=call.parent_reference, idempotency_key=call.key)
    kind = TransactionKind(call.kind)
    if kind in (TransactionKind.SALE, TransactionKind.AUTHORIZATION):
        source = PaymentSource(card_token=call.card_token, vaulted_reference=call.vaulted_reference)
        charge = gateway.sale if kind is TransactionKind.SALE else gateway.authorize
        return charge(
            source=source,
            amount=call.amount,
            currency=call.currency,
            idempotency_key=call.key,
            off_session=call.off_session,
        )
    if kind is TransactionKind.CAPTURE:
        return gateway.capture(
            authorization=call.parent_reference, amount=call.amount, idempotency_key=call.key
        )
    if kind is TransactionKind.VOID:
        return gateway.void(authorization=call.parent_reference, idempotency_key=call.key)
    return gateway.refund(charge=call.parent_reference, amount=call.amount, idempotency_key=call.key)


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
    """Record the gateway's answer. A confirmation keeps the charge's own reference (refunds
    go against the charge)."""
    confirming = tx.status == TransactionStatus.AWAITING_CUSTOMER
    move_transaction(tx, SETTLED_AS[result.status])
    if not confirming:
        tx.gateway_reference = result.reference or tx.gateway_reference
    tx.message = result.message[:500]
    tx.processed_at = now
    tx.locked_until = None


def claim_stale(session: Session, *, now: datetime, limit: int) -> list[int]:
    """Take over operations whose caller is gone (lease expired): pending calls, and
    confirmations a customer started that were never settled."""
    waiting = (TransactionStatus.PENDING.value, TransactionStatus.AWAITING_CUSTOMER.value)
    candidates = list(
        session.scalars(
            select(PaymentTransaction.id)
            .where(PaymentTransaction.status.in_(waiting), PaymentTransaction.locked_until < now)
            .limit(limit)
        )
    )
    claimed = []
    for tx_id in candidates:
        result = session.execute(
            update(PaymentTransaction)
            .where(
                PaymentTransaction.id == tx_id,
                PaymentTransaction.status.in_(waiting),
                PaymentTransaction.locked_until < now,
            )
            .values(locked_until=now + LEASE)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            claimed.append(tx_id)
    return claimed
