"""Facts about payment schedules that mails and webhooks follow, published in-transaction."""

from dataclasses import dataclass
from datetime import datetime

from tandem.orders.models import Order
from tandem.preorders.models import PaymentSchedule
from tandem.timeline.domain import Actor


@dataclass(frozen=True)
class ScheduleFailed:
    """Declined, or no card left: the customer is asked for a new card."""

    order: Order
    schedule: PaymentSchedule
    reason: str
    actor: Actor
    at: datetime


@dataclass(frozen=True)
class ScheduleNeedsConfirmation:
    """The bank asked the customer to confirm the charge (3-D Secure)."""

    order: Order
    schedule: PaymentSchedule
    actor: Actor
    at: datetime


@dataclass(frozen=True)
class InvoiceSent:
    order: Order
    schedule: PaymentSchedule
    actor: Actor
    at: datetime
