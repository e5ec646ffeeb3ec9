"""Worker sweep: finish payment operations whose caller died before settling them."""

import logging
from datetime import datetime

from tandem.payments import service as payments
from tandem.payments.domain import TransactionStatus
from tandem.payments.models import PaymentTransaction
from tandem.timeline.domain import WORKER

log = logging.getLogger(__name__)


def settle_stale_payments(runtime, now: datetime) -> int:
    with runtime.uow() as uow:
        claimed = payments.claim_stale(uow.session, now=now, limit=20, owner=runtime.owner)
        uow.commit()
    for transaction_id in claimed:
        _replay(runtime, transaction_id, now)
    return len(claimed)


def _replay(runtime, transaction_id: int, now: datetime) -> None:
    """The same call with the same key (the gateway answers what it answered before), then
    the finisher of its purpose, as its caller would have."""
    with runtime.uow() as uow:
        tx = uow.session.get(PaymentTransaction, transaction_id)
        waiting_customer = tx.status == TransactionStatus.AWAITING_CUSTOMER
        call = payments.confirmation_call(tx) if waiting_customer else payments.call_for(uow.session, tx)
        uow.rollback()  # no transaction is open during the gateway call
        result = payments.perform(uow.gateway, call)
        if result is None:
            return  # still unknown: the lease runs out and it is tried again
        payments.finish(uow, call, result, actor=WORKER, now=now, by_worker=True)
        log.info("payment %s settled by the sweeper", transaction_id)
