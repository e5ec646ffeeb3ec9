from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tandem.db import Base, BigId


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("store_id", "number"),
        Index("ix_orders_store_created", "store_id", "created_at", "id"),
        Index("ix_orders_store_financial", "store_id", "financial_status"),
        Index("ix_orders_store_fulfillment", "store_id", "fulfillment_status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    number: Mapped[int] = mapped_column(BigInteger)
    checkout_id: Mapped[int | None] = mapped_column(ForeignKey("checkouts.id"), unique=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int] = mapped_column(BigInteger)
    shipping_total: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))
    financial_status: Mapped[str] = mapped_column(String(20))
    fulfillment_status: Mapped[str] = mapped_column(String(20))
    cancel_reason: Mapped[str | None] = mapped_column(String(20))
    cancelled_at: Mapped[datetime | None]
    shipping_address: Mapped[dict[str, Any]]
    billing_address: Mapped[dict[str, Any] | None]
    note: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    line_items: Mapped[list["LineItem"]] = relationship(order_by="LineItem.id", lazy="selectin")
    holds: Mapped[list["FulfillmentHold"]] = relationship(order_by="FulfillmentHold.id")
    fulfillments: Mapped[list["Fulfillment"]] = relationship(order_by="Fulfillment.id")
    refunds: Mapped[list["Refund"]] = relationship(order_by="Refund.id")

    @property
    def name(self) -> str:
        return f"#{self.number}"

    @property
    def active_holds(self) -> list["FulfillmentHold"]:
        return [h for h in self.holds if h.released_at is None]


class LineItem(Base):
    __tablename__ = "line_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("fulfilled_quantity + removed_quantity <= quantity", name="within_quantity"),
        CheckConstraint("refunded_quantity <= quantity", name="refunds_within_quantity"),
        CheckConstraint("returned_quantity <= fulfilled_quantity", name="returns_within_shipped"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"))
    stock_variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"))
    product_title: Mapped[str] = mapped_column(String(255))
    variant_title: Mapped[str] = mapped_column(String(255))
    sku: Mapped[str | None] = mapped_column(String(255))
    quantity: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)
    fulfilled_quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    removed_quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    returned_quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    # Units are allocated at sale, unless a pre-order plan commits them at fulfilment.
    stock_allocated: Mapped[bool] = mapped_column(default=True)
    # A supplier's item (an imported product): the supplier ships it, the retailer pays wholesale.
    supplier_store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    wholesale_price: Mapped[int | None] = mapped_column(BigInteger)
    selling_plan_id: Mapped[int | None] = mapped_column(ForeignKey("selling_plans.id"))

    @property
    def fulfillable_quantity(self) -> int:
        return self.quantity - self.fulfilled_quantity - self.removed_quantity


class FulfillmentHold(Base):
    __tablename__ = "fulfillment_holds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    reason: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    held_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    released_at: Mapped[datetime | None]
    released_by: Mapped[str | None] = mapped_column(String(200))


class Fulfillment(Base):
    __tablename__ = "fulfillments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    supplier_order_id: Mapped[int | None] = mapped_column(ForeignKey("supplier_orders.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    tracking_company: Mapped[str | None] = mapped_column(String(100))
    tracking_number: Mapped[str | None] = mapped_column(String(100))
    tracking_url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime]

    lines: Mapped[list["FulfillmentLine"]] = relationship(order_by="FulfillmentLine.id", lazy="selectin")


class FulfillmentLine(Base):
    __tablename__ = "fulfillment_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fulfillment_id: Mapped[int] = mapped_column(ForeignKey("fulfillments.id"), index=True)
    line_item_id: Mapped[int] = mapped_column(ForeignKey("line_items.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)


class Refund(Base):
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
    # Part of a cancellation: the cancellation email tells the customer, not a refund email.
    for_cancellation: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]

    lines: Mapped[list["RefundLine"]] = relationship(order_by="RefundLine.id", lazy="selectin")


class RefundLine(Base):
    __tablename__ = "refund_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id"), index=True)
    line_item_id: Mapped[int] = mapped_column(ForeignKey("line_items.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)
    restock_type: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(BigInteger)


class Notice(Base):
    """Something staff must act on, shown prominently (e.g. a manual refund is required)."""

    __tablename__ = "order_notices"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    amount: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(200))
