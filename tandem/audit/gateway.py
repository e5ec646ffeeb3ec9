"""SPEC §6.2, seen from the other side: the test gateway's own records agree with Tandem's
payment transactions (same idempotency key, kind, amount and outcome)."""

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from tandem.payments.domain import TransactionKind, TransactionStatus
from tandem.payments.gateway import GatewayStatus
from tandem.payments.models import PaymentTransaction
from tandem.payments.test_gateway import TestGateway, TestGatewayOperation

TEST_GATEWAY = TestGateway.name
SUCCEEDED = GatewayStatus.SUCCEEDED.value
PAYMENT_KINDS = tuple(kind.value for kind in TransactionKind)


def successes_unknown_to_gateway(conn: Connection) -> list[tuple[str, str]]:
    """Every payment Tandem counts as successful succeeded at the gateway, for the same amount."""
    tx, op = PaymentTransaction, TestGatewayOperation
    same_amount = (op.amount == tx.amount) | (tx.kind == TransactionKind.VOID.value)
    agreed = and_(op.status == SUCCEEDED, op.kind == tx.kind, same_amount)
    rows = conn.execute(
        select(tx.id, tx.kind, tx.amount, op.kind, op.amount, op.status)
        .outerjoin(op, op.idempotency_key == tx.idempotency_key)
        .where(tx.gateway == TEST_GATEWAY, tx.status == TransactionStatus.SUCCESS.value)
        .where((op.id.is_(None)) | ~agreed)
    )
    return [
        (f"payment_transactions {tx_id}", f"successful {kind} of {amount}: {_gateway_says(*theirs)}")
        for tx_id, kind, amount, *theirs in rows
    ]


def _gateway_says(kind: str | None, amount: int | None, status: str | None) -> str:
    if kind is None:
        return "the gateway has no record of it"
    return f"the gateway recorded a {kind} of {amount}, {status}"


def gateway_successes_unknown_to_tandem(conn: Connection) -> list[tuple[str, str]]:
    """Every payment that succeeded at the gateway is a successful transaction in Tandem (one
    still pending is in flight: its sweeper settles it)."""
    tx, op = PaymentTransaction, TestGatewayOperation
    known = tx.status.in_((TransactionStatus.SUCCESS.value, TransactionStatus.PENDING.value))
    rows = conn.execute(
        select(op.id, op.kind, op.amount, op.reference, tx.id, tx.status)
        .outerjoin(tx, tx.idempotency_key == op.idempotency_key)
        .where(op.status == SUCCEEDED, op.kind.in_(PAYMENT_KINDS))
        .where(tx.id.is_(None) | ~known)
    )
    return [
        (
            f"testgw_operations {op_id}",
            f"the gateway's {kind} of {amount} ({reference}) succeeded, "
            + ("Tandem has no transaction for it" if tx_id is None else f"transaction {tx_id} is {status}"),
        )
        for op_id, kind, amount, reference, tx_id, status in rows
    ]
