"""Money going back: cancelling an order and refunding it (by lines or by amount).

Restock types: `cancel` removes unshipped units and frees their stock; `return`
brings shipped units back on hand; `no_restock` gives money back for units
without touching stock or shipping.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from tandem.customers.domain import PaymentMethodStatus
from tandem.customers.models import PaymentMethod
from tandem.db import UnitOfWork
from tandem.errors import Conflict, InvalidInput, NotFound
from tandem.inventory import service as inventory
from tandem.inventory.domain import RestockType
from tandem.money import parse_field, to_decimal_string
from tandem.orders import domain, events
from tandem.orders.domain import Action, CancelReason, PaymentEvent
from tandem.orders.models import LineItem, Notice, Order, Refund, RefundLine
from tandem.orders.service import (
    lock_order,
    notice_manual_refund,
    payment_totals,
    publish_financial,
    raise_unless_succeeded,
    record,
    refresh_fulfillment,
    run_payments,
    transactions_if_idle,
)
from tandem.payments import domain as payment_domain
from tandem.payments import service as payments
from tandem.payments.domain import Purpose, TransactionKind
from tandem.payments.gateway import GatewayResult, GatewayStatus
from tandem.payments.models import PaymentTransaction
from tandem.timeline.domain import Actor, Change


@dataclass(frozen=True)
class RefundLineRequest:
    line_item_id: int
    quantity: int
    restock_type: RestockType = RestockType.NO_RESTOCK


@dataclass(frozen=True)
class RefundRequest:
    lines: list[RefundLineRequest]
    amount: Decimal | None = None
    note: str | None = None


@dataclass(frozen=True)
class CancelRequest:
    reason: CancelReason = CancelReason.OTHER
    refund: bool = True
    restock: bool = True
    notify_customer: bool = True


def refund_order(
    uow: UnitOfWork, *, store_id: int, order_id: int, request: RefundRequest, actor: Actor, now: datetime
) -> Refund:
    """Refund lines and/or an amount; never more than was captured and not yet refunded."""
    session = uow.session
    order = lock_order(session, store_id, order_id)
    domain.ensure_allowed(order, Action.REFUND)
    txs = transactions_if_idle(session, order)
    lines = _refund_lines(order, request.lines)
    amount = (
        sum(line.amount for line in lines)
        if request.amount is None
        else parse_field(request.amount, order.currency, "amount")
    )
    _check_amount(amount, lines, payment_domain.totals(txs).refundable, order.currency)
    refund = Refund(
        order_id=order.id,
        amount=amount,
        note=request.note,
        for_cancellation=False,
        created_by=actor.name,
        created_at=now,
        lines=lines,
    )
    session.add(refund)
    session.flush()
    _apply_lines(session, order, lines)
    calls, changes = _refund_calls(uow, order, txs, refund, actor, now)
    changes += [
        Change("refund_created", {"amount": amount, "note": request.note}),
        *refresh_fulfillment(session, order),
    ]
    record(session, order, changes, actor, now)
    uow.publish(events.RefundCreated(order, refund.id, actor, now))
    by_hand = any(change.verb == "manual_refund_required" for change in changes)
    if amount and not calls and not by_hand:  # refunded outside the gateway, at once
        uow.publish(events.RefundSucceeded(order, refund.id, actor, now))
    raise_unless_succeeded(run_payments(uow, calls, actor, now), "refund")
    return refund


def cancel_order(
    uow: UnitOfWork, *, store_id: int, order_id: int, request: CancelRequest, actor: Actor, now: datetime
) -> Order:
    """Cancel: void or refund the payment, restock (or write off) unshipped units."""
    session = uow.session
    order = lock_order(session, store_id, order_id)
    domain.ensure_allowed(order, Action.CANCEL)
    txs = transactions_if_idle(session, order)
    totals = payment_domain.totals(txs)
    previous = order.financial_status
    changes = domain.cancel(order, reason=request.reason, now=now)
    refunding = request.refund and totals.refundable > 0
    lines = _remove_unshipped(session, order, restock=request.restock, refund=refunding)
    changes += _release_holds(order, actor, now)
    calls = [_void_call(session, order, auth, now) for auth in payment_domain.open_authorizations(txs)]
    refund = _cancellation_refund(session, order, lines, totals.refundable, actor, now) if refunding else None
    if refund:
        refund_calls, refund_changes = _refund_calls(uow, order, txs, refund, actor, now)
        calls, changes = calls + refund_calls, changes + refund_changes
    if not totals.captured and not calls:
        changes += domain.apply_payment(order, PaymentEvent.VOID)
    changes += refresh_fulfillment(session, order)
    record(session, order, changes, actor, now)
    publish_financial(uow, order, previous, actor, now)
    uow.publish(events.OrderCancelled(order, request.notify_customer, actor, now))
    if refund:
        uow.publish(events.RefundCreated(order, refund.id, actor, now))
    run_payments(uow, calls, actor, now)
    return order


def _refund_lines(order: Order, requested: list[RefundLineRequest]) -> list[RefundLine]:
    by_id = {line.id: line for line in order.line_items}
    lines = []
    for index, want in enumerate(requested):
        line = by_id.pop(want.line_item_id, None)
        if line is None:
            raise InvalidInput(
                f"line_items[{index}].line_item_id", "not a line of this order (or listed twice)"
            )
        room = _room(line, want.restock_type)
        if not 0 < want.quantity <= room:
            raise InvalidInput(
                f"line_items[{index}].quantity",
                f"can refund at most {room} with restock_type {want.restock_type}",
            )
        lines.append(
            RefundLine(
                line_item_id=line.id,
                quantity=want.quantity,
                restock_type=want.restock_type.value,
                amount=line.price * want.quantity,
            )
        )
    return lines


def _room(line: LineItem, restock_type: RestockType) -> int:
    unrefunded = line.quantity - line.refunded_quantity
    if restock_type is RestockType.CANCEL:
        return min(unrefunded, line.fulfillable_quantity)
    if restock_type is RestockType.RETURN:
        return min(unrefunded, line.fulfilled_quantity - line.returned_quantity)
    return unrefunded


def _check_amount(amount: int, lines: list[RefundLine], refundable: int, currency: str) -> None:
    if amount < 0:
        raise InvalidInput("amount", "cannot be negative")
    if amount == 0 and not lines:
        raise InvalidInput("amount", "give line_items or an amount to refund")
    if amount > refundable:
        raise InvalidInput(
            "amount", f"exceeds what can be refunded ({to_decimal_string(refundable, currency)} {currency})"
        )


def _apply_lines(session: Session, order: Order, lines: list[RefundLine]) -> None:
    by_id = {line.id: line for line in order.line_items}
    for refund_line in sorted(lines, key=lambda rl: by_id[rl.line_item_id].stock_variant_id):
        line, quantity = by_id[refund_line.line_item_id], refund_line.quantity
        line.refunded_quantity += quantity
        if refund_line.restock_type == RestockType.CANCEL:
            line.removed_quantity += quantity
            _free_units(session, line, quantity, restock=True)
        elif refund_line.restock_type == RestockType.RETURN:
            line.returned_quantity += quantity
            inventory.restock(session, variant_id=line.stock_variant_id, quantity=quantity)


def _free_units(session: Session, line: LineItem, quantity: int, *, restock: bool) -> None:
    """Units that will not ship: back to available, or written off."""
    if not line.stock_allocated:
        return  # stock was never taken (reserved at fulfilment)
    if restock:
        inventory.deallocate(session, variant_id=line.stock_variant_id, quantity=quantity)
    else:
        inventory.ship(session, variant_id=line.stock_variant_id, quantity=quantity)


def _remove_unshipped(session: Session, order: Order, *, restock: bool, refund: bool) -> list[RefundLine]:
    removed = []
    for line in sorted(order.line_items, key=lambda li: li.stock_variant_id):
        quantity = line.fulfillable_quantity
        if quantity <= 0:
            continue
        line.removed_quantity += quantity
        _free_units(session, line, quantity, restock=restock)
        restock_type = RestockType.CANCEL if restock else RestockType.NO_RESTOCK
        removed.append(
            RefundLine(
                line_item_id=line.id,
                quantity=quantity,
                restock_type=restock_type.value,
                amount=line.price * quantity,
            )
        )
        if refund:
            line.refunded_quantity += quantity
    return removed


def _release_holds(order: Order, actor: Actor, now: datetime) -> list[Change]:
    changes = []
    for hold in order.active_holds:
        hold.released_at, hold.released_by = now, actor.name
        changes.append(Change("hold_released", {"reason": hold.reason}))
    return changes


def _cancellation_refund(
    session: Session, order: Order, lines: list[RefundLine], amount: int, actor: Actor, now: datetime
) -> Refund:
    refund = Refund(
        order_id=order.id,
        amount=amount,
        note="order cancelled",
        for_cancellation=True,
        created_by=actor.name,
        created_at=now,
        lines=lines,
    )
    session.add(refund)
    session.flush()
    return refund


def _refund_calls(
    uow: UnitOfWork, order: Order, txs: list[PaymentTransaction], refund: Refund, actor: Actor, now: datetime
) -> tuple[list[payments.GatewayCall], list[Change]]:
    """Pending refund transactions to send to the gateway; payments received outside
    the gateway are refunded outside it too, recorded at once; a payment whose card the
    customer removed cannot be refunded automatically (a notice asks staff to do it)."""
    session = uow.session
    calls, changes = [], []
    for payment, amount in payment_domain.plan_refund(txs, refund.amount):
        if _card_removed(session, payment):
            changes += _refund_by_hand(uow, order, payment, refund, amount, actor, now)
            continue
        if payment.gateway == "manual":
            payments.record_manual(
                session,
                store_id=order.store_id,
                order_id=order.id,
                amount=amount,
                currency=order.currency,
                now=now,
                kind=TransactionKind.REFUND,
                message="refunded outside Tandem",
            )
            changes += _refunded_now(session, order, amount)
            continue
        tx = _begin_refund(session, order, payment, refund, amount, now)
        calls.append(payments.call_for(session, tx))
    return calls, changes


def _begin_refund(
    session: Session, order: Order, payment: PaymentTransaction, refund: Refund, amount: int, now: datetime
) -> PaymentTransaction:
    return payments.begin(
        session,
        store_id=order.store_id,
        kind=TransactionKind.REFUND,
        purpose=Purpose.ORDER_REFUND,
        amount=amount,
        currency=order.currency,
        gateway=payment.gateway,
        now=now,
        order_id=order.id,
        parent_id=payment.id,
        refund_id=refund.id,
    )


def _card_removed(session: Session, payment: PaymentTransaction) -> bool:
    if payment.payment_method_id is None:
        return False
    return session.get(PaymentMethod, payment.payment_method_id).status == PaymentMethodStatus.REVOKED


def _refund_by_hand(
    uow: UnitOfWork,
    order: Order,
    payment: PaymentTransaction,
    refund: Refund,
    amount: int,
    actor: Actor,
    now: datetime,
) -> list[Change]:
    """The refund is recorded as failed at once (no gateway call) and staff are told."""
    tx = _begin_refund(uow.session, order, payment, refund, amount, now)
    reason = "the card was removed from the customer's account"
    payments.settle(tx, GatewayResult(GatewayStatus.DECLINED, None, reason), now)
    uow.publish(events.ManualRefundRequired(order, amount, reason, actor, now))
    return [
        Change("refund_failed", {"amount": amount, "message": reason}),
        *notice_manual_refund(uow.session, order, tx),
    ]


def resolve_notice(
    uow: UnitOfWork, *, store_id: int, order_id: int, notice_id: int, actor: Actor, now: datetime
) -> Notice:
    """Staff dealt with a notice; for a manual refund, the money they sent is recorded."""
    session = uow.session
    order = lock_order(session, store_id, order_id)
    notice = session.get(Notice, notice_id, with_for_update=True, populate_existing=True)
    if notice is None or notice.order_id != order.id:
        raise NotFound("notice not found")
    if notice.resolved_at is not None:
        raise Conflict("this notice was already resolved", code="notice_resolved")
    changes = [Change("notice_resolved", {"kind": notice.kind, "amount": notice.amount})]
    if notice.kind == "manual_refund_required" and notice.amount:
        changes += _record_hand_refund(session, order, notice.amount, now)
    notice.resolved_at, notice.resolved_by = now, actor.name
    previous = order.financial_status
    record(session, order, changes, actor, now)
    publish_financial(uow, order, previous, actor, now)
    uow.commit()
    return notice


def _record_hand_refund(session: Session, order: Order, amount: int, now: datetime) -> list[Change]:
    refundable = payment_totals(session, order.id).refundable
    if amount > refundable:
        raise Conflict(
            f"recording {to_decimal_string(amount, order.currency)} would refund more than was captured "
            f"({to_decimal_string(refundable, order.currency)} left)",
            code="refund_exceeds_captured",
        )
    payments.record_manual(
        session,
        store_id=order.store_id,
        order_id=order.id,
        amount=amount,
        currency=order.currency,
        now=now,
        kind=TransactionKind.REFUND,
        message="refunded by hand",
    )
    return _refunded_now(session, order, amount)


def _refunded_now(session: Session, order: Order, amount: int) -> list[Change]:
    totals = payment_totals(session, order.id)
    event = domain.refund_event(refunded=totals.refunded, captured=totals.captured)
    return [Change("refund_succeeded", {"amount": amount}), *domain.apply_payment(order, event)]


def _void_call(session: Session, order: Order, authorization, now: datetime) -> payments.GatewayCall:
    tx = payments.begin(
        session,
        store_id=order.store_id,
        kind=TransactionKind.VOID,
        purpose=Purpose.ORDER_VOID,
        amount=authorization.amount,
        currency=order.currency,
        gateway=authorization.gateway,
        now=now,
        order_id=order.id,
        parent_id=authorization.id,
    )
    return payments.call_for(session, tx)
