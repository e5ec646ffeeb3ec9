from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tandem.db import Base, BigId

selling_plan_variants = Table(
    "selling_plan_variants",
    Base.metadata,
    Column("selling_plan_id", ForeignKey("selling_plans.id"), primary_key=True),
    Column("variant_id", ForeignKey("variants.id"), primary_key=True, index=True),
)


class SellingPlan(Base):
    """A pre-order plan: the deposit, when the balance is due, when stock is taken."""

    __tablename__ = "selling_plans"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    deposit_type: Mapped[str] = mapped_column(String(12))
    deposit_value: Mapped[int] = mapped_column(BigInteger)
    balance_trigger: Mapped[str] = mapped_column(String(24))
    balance_due_at: Mapped[datetime | None]
    balance_after_seconds: Mapped[int | None] = mapped_column(BigInteger)
    inventory_reserve: Mapped[str] = mapped_column(String(16))
    expected_fulfillment_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    variants: Mapped[list["Variant"]] = relationship(  # noqa: F821 - catalog's Variant
        "Variant", secondary=selling_plan_variants, lazy="selectin", order_by="Variant.id"
    )


class PaymentSchedule(Base):
    """The balance of a pre-order: charged to the card on file when due."""

    __tablename__ = "payment_schedules"
    __table_args__ = (Index("ix_payment_schedules_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    selling_plan_id: Mapped[int] = mapped_column(ForeignKey("selling_plans.id"))
    payment_method_id: Mapped[int | None] = mapped_column(ForeignKey("payment_methods.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    trigger: Mapped[str] = mapped_column(String(24))
    due_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(BigInteger, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    paid_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
