"""Stock arithmetic.

A stock row keeps `on_hand` and `allocated` (units committed to orders plus units
reserved by checkouts). Expired reservations still count in `allocated` until
they are reclaimed, so availability adds them back:

    available = on_hand - allocated + expired_unreclaimed
"""

from dataclasses import dataclass
from enum import StrEnum


class ReservationStatus(StrEnum):
    ACTIVE = "active"
    CONVERTED = "converted"  # became an order's committed units
    RELEASED = "released"  # the checkout gave it back (decline, cancel)
    EXPIRED = "expired"  # reclaimed after reserved_until


class RestockType(StrEnum):
    NO_RESTOCK = "no_restock"
    CANCEL = "cancel"  # unfulfilled units go back to available
    RETURN = "return"  # fulfilled units come back on hand


@dataclass(frozen=True)
class StockFigures:
    on_hand: int
    allocated: int
    reserved_active: int
    reserved_expired: int

    @property
    def reserved(self) -> int:
        return self.reserved_active

    @property
    def committed(self) -> int:
        return self.allocated - self.reserved_active - self.reserved_expired

    @property
    def available(self) -> int:
        return self.on_hand - self.allocated + self.reserved_expired


def on_hand_for(available: int, figures: StockFigures) -> int:
    """The on-hand count that makes `available` true once expired holds are reclaimed."""
    if available < 0:
        raise ValueError("available cannot be negative")
    return available + figures.committed + figures.reserved_active
