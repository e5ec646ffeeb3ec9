from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tandem.db import Base, BigId
from tandem.timeline.domain import Actor, ActorKind


class InventoryLevel(Base):
    """Stock of one variant; the guarded UPDATEs on this row are what prevent oversell."""

    __tablename__ = "inventory_levels"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("allocated >= 0", name="allocated_not_negative"),
        CheckConstraint("allocated <= on_hand", name="allocated_within_on_hand"),
    )

    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    on_hand: Mapped[int] = mapped_column(BigInteger)
    allocated: Mapped[int] = mapped_column(BigInteger)


class Reservation(Base):
    """Units held for a checkout until `expires_at`; the row is its own timer."""

    __tablename__ = "reservations"
    __table_args__ = (
        Index("ix_reservations_variant_status_expiry", "variant_id", "status", "expires_at"),
        Index("ix_reservations_status_expiry", "status", "expires_at"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    checkout_id: Mapped[int] = mapped_column(ForeignKey("checkouts.id"), index=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12))
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]


class StockMovement(Base):
    """A change of a variant's stock made by hand (staff or API): who, when, from what to what."""

    __tablename__ = "stock_movements"
    __table_args__ = (Index("ix_stock_movements_variant", "variant_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"))
    on_hand_before: Mapped[int] = mapped_column(BigInteger)
    on_hand_after: Mapped[int] = mapped_column(BigInteger)
    available: Mapped[int] = mapped_column(BigInteger)
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]

    @property
    def actor(self) -> Actor:
        return Actor(ActorKind(self.actor_kind), self.actor_name, self.actor_id)
