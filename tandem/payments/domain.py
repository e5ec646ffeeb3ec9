"""Payment transactions and what they add up to."""

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from tandem.errors import IllegalTransition


class TransactionKind(StrEnum):
    AUTHORIZATION = "authorization"
    CAPTURE = "capture"
    SALE = "sale"  # authorised and captured at once
    VOID = "void"
    REFUND = "refund"


class TransactionStatus(StrEnum):
    PENDING = "pending"  # written before the gateway is called; a sweeper finishes it after a crash
    SUCCESS = "success"
    FAILURE = "failure"
    ERROR = "error"
    AWAITING_CUSTOMER = "awaiting_customer"  # the bank asked the customer to confirm


TRANSACTION_TRANSITIONS: dict[TransactionStatus, frozenset[TransactionStatus]] = {
    TransactionStatus.PENDING: frozenset(
        {
            TransactionStatus.SUCCESS,
            TransactionStatus.FAILURE,
            TransactionStatus.ERROR,
            TransactionStatus.AWAITING_CUSTOMER,
        }
    ),
    TransactionStatus.AWAITING_CUSTOMER: frozenset(
        {TransactionStatus.SUCCESS, TransactionStatus.FAILURE, TransactionStatus.ERROR}
    ),
}


def move_transaction(tx: "TransactionLike", target: TransactionStatus) -> None:
    """Settle a transaction, if the table allows it from its current status."""
    allowed = TRANSACTION_TRANSITIONS.get(TransactionStatus(tx.status), frozenset())
    if target not in allowed:
        raise IllegalTransition(f"transaction cannot go from {tx.status} to {target}")
    tx.status = target.value


class Purpose(StrEnum):
    """What a transaction finishes when its gateway call returns."""

    CHECKOUT = "checkout"
    ORDER_CAPTURE = "order_capture"
    ORDER_VOID = "order_void"
    ORDER_REFUND = "order_refund"
    COLLECTIVE = "collective"  # a retailer paying its supplier
    COLLECTIVE_REFUND = "collective_refund"  # a supplier giving money back to a retailer
    SCHEDULE = "schedule"  # a pre-order's balance
    MANUAL = "manual"


MONEY_IN = (TransactionKind.SALE, TransactionKind.CAPTURE)


class TransactionLike(Protocol):
    id: int
    kind: str
    status: str
    amount: int
    parent_id: int | None


@dataclass(frozen=True)
class PaymentTotals:
    captured: int
    refunded: int
    refunds_pending: int
    open_authorization: int
    operation_pending: bool

    @property
    def refundable(self) -> int:
        return self.captured - self.refunded - self.refunds_pending

    @property
    def net_paid(self) -> int:
        return self.captured - self.refunded


def totals(transactions: list[TransactionLike]) -> PaymentTotals:
    ok = [t for t in transactions if t.status == TransactionStatus.SUCCESS]
    settled_parents = {t.parent_id for t in ok if t.kind in (TransactionKind.CAPTURE, TransactionKind.VOID)}
    return PaymentTotals(
        captured=sum(t.amount for t in ok if t.kind in MONEY_IN),
        refunded=sum(t.amount for t in ok if t.kind == TransactionKind.REFUND),
        refunds_pending=sum(
            t.amount
            for t in transactions
            if t.kind == TransactionKind.REFUND and t.status == TransactionStatus.PENDING
        ),
        open_authorization=sum(
            t.amount for t in ok if t.kind == TransactionKind.AUTHORIZATION and t.id not in settled_parents
        ),
        operation_pending=any(t.status == TransactionStatus.PENDING for t in transactions),
    )


def open_authorizations(transactions: list[TransactionLike]) -> list[TransactionLike]:
    ok = [t for t in transactions if t.status == TransactionStatus.SUCCESS]
    settled = {t.parent_id for t in ok if t.kind in (TransactionKind.CAPTURE, TransactionKind.VOID)}
    return [t for t in ok if t.kind == TransactionKind.AUTHORIZATION and t.id not in settled]


def plan_refund(transactions: list[TransactionLike], amount: int) -> list[tuple[TransactionLike, int]]:
    """Split a refund over the captured payments, newest first: [(payment, amount)]."""
    refunded: dict[int, int] = {}
    for t in transactions:
        if t.kind == TransactionKind.REFUND and t.status in (
            TransactionStatus.SUCCESS,
            TransactionStatus.PENDING,
        ):
            refunded[t.parent_id] = refunded.get(t.parent_id, 0) + t.amount
    plan, left = [], amount
    payments = [t for t in transactions if t.kind in MONEY_IN and t.status == TransactionStatus.SUCCESS]
    for payment in sorted(payments, key=lambda t: t.id, reverse=True):
        room = payment.amount - refunded.get(payment.id, 0)
        take = min(room, left)
        if take > 0:
            plan.append((payment, take))
            left -= take
    if left:
        raise ValueError("refund exceeds what was captured")
    return plan
