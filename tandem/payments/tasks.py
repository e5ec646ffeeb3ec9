"""Worker sweep: finish payment operations whose caller died before settling them."""

import logging
from datetime import datetime

from tandem.errors import TandemError
from tandem.payments import service as payments
from tandem.payments.domain import Purpose, TransactionKind, TransactionStatus
from tandem.payments.models import PaymentTransaction
from tandem.runtime import Runtime
from tandem.timeline.domain import WORKER

log = logging.getLogger(__name__)


def settle_stale_payments(runtime: Runtime, now: datetime) -> int:
    with runtime.uow() as uow:
        claimed = payments.claim_stale(uow.session, now=now, limit=20)
        uow.commit()
    for transaction_id in claimed:
        _replay(runtime, transaction_id, now)
    return len(claimed)


def _replay(runtime: Runtime, transaction_id: int, now: datetime) -> None:
    with runtime.uow(read_only=True) as uow:
        tx = uow.session.get(PaymentTransaction, transaction_id)
        waiting_customer = tx.status == TransactionStatus.AWAITING_CUSTOMER
        call = payments.confirmation_call(tx) if waiting_customer else payments.call_for(uow.session, tx)
        purpose, store_id = tx.purpose, tx.store_id
    # No transaction is open during the gateway call.
    result = payments.perform(runtime.gateway, call)
    if result is None:
        return  # still unknown: the lease runs out and it is tried again
    with runtime.uow() as uow:
        try:
            _finish(uow, purpose, store_id, call, result, now)
        except TandemError as exc:  # e.g. the replayed charge was declined
            log.info("payment %s settled by the sweeper: %s", transaction_id, exc.message)


def _finish(uow, purpose: str, store_id: int, call: payments.GatewayCall, result, now: datetime) -> None:
    from tandem.checkout import service as checkout
    from tandem.orders import service as orders
    from tandem.preorders import charging
    from tandem.suppliers import refunds as supplier_refunds
    from tandem.suppliers import supplier_orders

    if purpose == Purpose.SCHEDULE:
        charging.finish_charge(uow, call=call, result=result, now=now)
    elif purpose == Purpose.COLLECTIVE_REFUND:
        supplier_refunds.finish_refund(uow, transaction_id=call.transaction_id, result=result, now=now)
    elif purpose == Purpose.COLLECTIVE:
        supplier_orders.finish_collective_payment(
            uow, transaction_id=call.transaction_id, result=result, now=now
        )
    elif purpose != Purpose.CHECKOUT:
        orders.finish_payment(uow, transaction_id=call.transaction_id, result=result, actor=WORKER, now=now)
    elif call.kind in (TransactionKind.SALE, TransactionKind.AUTHORIZATION):
        checkout.finish_payment(
            uow, store_id=store_id, transaction_id=call.transaction_id, result=result, actor=WORKER, now=now
        )
    else:
        checkout.settle_reversal(uow, transaction_id=call.transaction_id, result=result, now=now)
