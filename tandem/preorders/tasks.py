"""Worker jobs of pre-orders."""

from datetime import datetime

from tandem.db import UnitOfWork
from tandem.preorders import charging
from tandem.preorders.service import CHARGE_SCHEDULE


def charge_schedule(uow: UnitOfWork, payload: dict, now: datetime) -> None:
    charging.charge_due(uow, schedule_id=payload["schedule_id"], due_at=payload["due_at"], now=now)


HANDLERS = {CHARGE_SCHEDULE: charge_schedule}
