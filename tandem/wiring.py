"""Explicit start-up wiring: which subscribers, job handlers and sweeps exist."""

import time
from collections.abc import Callable
from datetime import datetime

from tandem.bus import Bus


def subscribe_all(bus: Bus) -> None:
    """Domains that react to order events register here."""
    from tandem.automation import subscribers as automation
    from tandem.notifications import subscribers as notifications
    from tandem.preorders import subscribers as preorders
    from tandem.suppliers import subscribers as suppliers

    automation.subscribe(bus)  # first: a rule's hold is on the order before a supplier order is scheduled
    suppliers.subscribe(bus)  # then supplier orders exist before mails and webhooks are written
    preorders.subscribe(bus)  # and payment schedules
    notifications.subscribe(bus)


def register_finishers(finishers) -> None:
    """What settles each purpose's payments (the one payment sequence, payments.service)."""
    from tandem.checkout import completing
    from tandem.orders import service as orders
    from tandem.payments.domain import Purpose
    from tandem.preorders import charging
    from tandem.suppliers import refunds as supplier_refunds
    from tandem.suppliers import supplier_orders

    finishers.register(Purpose.CHECKOUT, completing.finish_payment)
    for purpose in (Purpose.ORDER_CAPTURE, Purpose.ORDER_VOID, Purpose.ORDER_REFUND):
        finishers.register(purpose, orders.finish_payment)
    finishers.register(Purpose.SCHEDULE, charging.finish_charge)
    finishers.register(Purpose.COLLECTIVE, supplier_orders.finish_collective_payment)
    finishers.register(Purpose.COLLECTIVE_REFUND, supplier_refunds.finish_refund)


def job_handlers() -> dict:
    from tandem.automation import service as automation
    from tandem.notifications import tasks as notification_tasks
    from tandem.orders import tasks as order_tasks
    from tandem.preorders import tasks as preorder_tasks
    from tandem.suppliers import tasks as supplier_tasks

    return {
        **order_tasks.HANDLERS,
        **notification_tasks.HANDLERS,
        **supplier_tasks.HANDLERS,
        **automation.HANDLERS,
        **preorder_tasks.HANDLERS,
    }


def sweeps() -> list[Callable]:
    from tandem.idempotency.service import purge_old
    from tandem.inventory.tasks import reclaim_lapsed_reservations
    from tandem.payments.tasks import settle_stale_payments

    return [reclaim_lapsed_reservations, settle_stale_payments, every(3600, purge_old)]


def every(seconds: float, sweep: Callable) -> Callable:
    """Run `sweep` at most once per `seconds` of real time in this process."""
    last = [float("-inf")]

    def throttled(runtime, now: datetime) -> int:
        if time.monotonic() - last[0] < seconds:
            return 0
        last[0] = time.monotonic()
        return sweep(runtime, now)

    throttled.__name__ = sweep.__name__
    return throttled


def batch_handlers() -> dict:
    """Jobs the worker may run many at a time, in one transaction."""
    from tandem.notifications import tasks as notification_tasks

    return {**notification_tasks.BATCH_HANDLERS}


def failure_handlers() -> dict:
    """Told when a job fails outside its handler's own bookkeeping (the outbox shows it)."""
    from tandem.notifications import tasks as notification_tasks

    return {**notification_tasks.FAILURE_HANDLERS}


def build_worker(runtime, **options):
    from tandem.worker.runner import Worker

    return Worker(
        runtime,
        handlers=job_handlers(),
        batch_handlers=batch_handlers(),
        failure_handlers=failure_handlers(),
        sweeps=sweeps(),
        **options,
    )
