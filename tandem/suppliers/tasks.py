"""Worker jobs of the supplier network."""

from datetime import datetime

from tandem.db import UnitOfWork
from tandem.suppliers import cancellations, supplier_orders


def release(uow: UnitOfWork, payload: dict, now: datetime) -> None:
    supplier_orders.release(uow, supplier_order_id=payload["supplier_order_id"], now=now)


def charge(uow: UnitOfWork, payload: dict, now: datetime) -> None:
    supplier_orders.charge_collective_payment(uow, supplier_order_id=payload["supplier_order_id"], now=now)


def auto_cancel(uow: UnitOfWork, payload: dict, now: datetime) -> None:
    cancellations.auto_cancel(
        uow, supplier_order_id=payload["supplier_order_id"], requested_at=payload["requested_at"], now=now
    )


HANDLERS = {
    supplier_orders.RELEASE: release,
    supplier_orders.CHARGE: charge,
    cancellations.AUTO_CANCEL: auto_cancel,
}
