"""Outbox messages: emails and webhook deliveries, their lifecycles and retry schedules.

Delivery is at least once. A worker killed after the SMTP server or the webhook
receiver accepted a message, but before it recorded that, sends it again after its
lease; duplicates carry the same Message-ID / X-Tandem-Webhook-Id, so receivers
can drop them.
"""

from datetime import timedelta
from enum import StrEnum

from tandem.errors import IllegalTransition


class EmailStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    KEPT = "kept"  # no SMTP server configured: kept in the outbox for people to read
    FAILED = "failed"  # gave up after MAX_EMAIL_ATTEMPTS
    CANCELLED = "cancelled"  # no longer true when its turn came (e.g. the refund failed)


EMAIL_TRANSITIONS: dict[EmailStatus, frozenset[EmailStatus]] = {
    EmailStatus.PENDING: frozenset(
        {EmailStatus.PENDING, EmailStatus.SENT, EmailStatus.KEPT, EmailStatus.FAILED, EmailStatus.CANCELLED}
    ),
    EmailStatus.SENT: frozenset({EmailStatus.PENDING}),  # resent by staff
    EmailStatus.KEPT: frozenset({EmailStatus.PENDING}),
    EmailStatus.FAILED: frozenset({EmailStatus.PENDING}),
    EmailStatus.CANCELLED: frozenset(),
}


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"  # its subscription was deleted


DELIVERY_TRANSITIONS: dict[DeliveryStatus, frozenset[DeliveryStatus]] = {
    DeliveryStatus.PENDING: frozenset(
        {DeliveryStatus.PENDING, DeliveryStatus.DELIVERED, DeliveryStatus.FAILED, DeliveryStatus.CANCELLED}
    ),
    DeliveryStatus.DELIVERED: frozenset({DeliveryStatus.PENDING}),
    DeliveryStatus.FAILED: frozenset({DeliveryStatus.PENDING}),
    DeliveryStatus.CANCELLED: frozenset(),
}


def move(message, target, table: dict) -> None:
    """Change an outbox message's status if its table allows it."""
    current = type(target)(message.status)
    if target not in table[current]:
        raise IllegalTransition(f"a {current.value} message cannot become {target.value}")
    message.status = target.value


# Webhooks: the first retry within 10 seconds, then spreading over about two days.
WEBHOOK_RETRY_DELAYS = tuple(
    timedelta(seconds=s) for s in (5, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600)
)
EMAIL_RETRY_DELAYS = tuple(timedelta(seconds=s) for s in (10, 60, 300, 1800, 3600, 3 * 3600))
MAX_WEBHOOK_ATTEMPTS = len(WEBHOOK_RETRY_DELAYS) + 1
MAX_EMAIL_ATTEMPTS = len(EMAIL_RETRY_DELAYS) + 1


def retry_delay(delays: tuple[timedelta, ...], attempts: int) -> timedelta | None:
    """How long to wait after `attempts` failed attempts; None once they are used up."""
    return delays[attempts - 1] if 1 <= attempts <= len(delays) else None


class Topic(StrEnum):
    ORDERS_CREATE = "orders/create"
    ORDERS_PAID = "orders/paid"
    ORDERS_CANCELLED = "orders/cancelled"
    ORDERS_FULFILLED = "orders/fulfilled"
    REFUNDS_CREATE = "refunds/create"
    SUPPLIER_ORDERS_CREATED = "supplier_orders/created"
    SUPPLIER_ORDERS_FULFILLED = "supplier_orders/fulfilled"
    SUPPLIER_ORDERS_CANCELLATION_REQUESTED = "supplier_orders/cancellation_requested"
    SUPPLIER_ORDERS_CANCELLATION_ACCEPTED = "supplier_orders/cancellation_accepted"
    SUPPLIER_ORDERS_CANCELLATION_DECLINED = "supplier_orders/cancellation_declined"
    SUPPLIER_ORDERS_CANCELLED = "supplier_orders/cancelled"
    PAYMENT_SCHEDULES_FAILED = "payment_schedules/failed"
