"""Worker jobs of the orders domain."""

from datetime import datetime

from tandem.db import UnitOfWork
from tandem.orders import service
from tandem.orders.placing import EXPIRE_AUTHORIZATION


def expire_authorization(uow: UnitOfWork, payload: dict, now: datetime) -> None:
    service.expire_authorization(uow, order_id=payload["order_id"], now=now)


HANDLERS = {EXPIRE_AUTHORIZATION: expire_authorization}
