from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tandem.db import Base, BigId


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("store_id", "email"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime]

    payment_methods: Mapped[list["PaymentMethod"]] = relationship(
        back_populates="customer", order_by="PaymentMethod.id"
    )

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.email


class PaymentMethod(Base):
    """A card vaulted at the gateway for off-session charges; revoked ones are kept."""

    __tablename__ = "payment_methods"
    __table_args__ = (Index("ix_payment_methods_customer_status", "customer_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    gateway: Mapped[str] = mapped_column(String(40))
    gateway_reference: Mapped[str] = mapped_column(String(100))
    brand: Mapped[str] = mapped_column(String(40))
    last4: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("payment_methods.id"))

    customer: Mapped[Customer] = relationship(back_populates="payment_methods", foreign_keys=[customer_id])
