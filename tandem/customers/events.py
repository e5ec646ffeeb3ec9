"""Facts about the cards customers keep on file, published in-transaction (pre-orders react)."""

from dataclasses import dataclass
from datetime import datetime

from tandem.customers.models import PaymentMethod
from tandem.timeline.domain import Actor


@dataclass(frozen=True)
class CardOnFile:
    """A new active card: added, or replacing `replaced`."""

    method: PaymentMethod
    replaced: PaymentMethod | None
    actor: Actor
    at: datetime


@dataclass(frozen=True)
class CardRevoked:
    method: PaymentMethod
    actor: Actor
    at: datetime


@dataclass(frozen=True)
class CardUpdateRequested:
    """The customer is mailed a signed link to update a card: staff asked (`requested`), or
    the card was removed while payments still depend on it (`revoked`)."""

    method: PaymentMethod
    actor: Actor
    at: datetime
    reason: str = "requested"
