from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tandem.db import Base, BigId


class Connection(Base):
    """A retailer selling a supplier's products (the retailer asks, the supplier accepts)."""

    __tablename__ = "connections"
    __table_args__ = (UniqueConstraint("retailer_store_id", "supplier_store_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    retailer_store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    supplier_store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]


class SupplierOrder(Base):
    """The part of a retailer order that one supplier ships."""

    __tablename__ = "supplier_orders"
    __table_args__ = (
        UniqueConstraint("order_id", "supplier_store_id"),
        Index("ix_supplier_orders_supplier_status", "supplier_store_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    retailer_store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    supplier_store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    status: Mapped[str] = mapped_column(String(20))
    release_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    currency: Mapped[str] = mapped_column(String(3))
    wholesale_total: Mapped[int] = mapped_column(BigInteger)
    shipping_total: Mapped[int] = mapped_column(BigInteger)
    automatic_payments: Mapped[bool]
    payment_status: Mapped[str] = mapped_column(String(20))
    payment_amount: Mapped[int] = mapped_column(BigInteger)
    cancellation_status: Mapped[str | None] = mapped_column(String(12))
    # The supplier's reason for cancelling or for declining a request.
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    cancellation_message: Mapped[str | None] = mapped_column(Text)  # the retailer's note with its request
    cancellation_requested_at: Mapped[datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(String(12))
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    lines: Mapped[list["SupplierOrderLine"]] = relationship(order_by="SupplierOrderLine.id", lazy="selectin")


class SupplierOrderLine(Base):
    __tablename__ = "supplier_order_lines"
    __table_args__ = (CheckConstraint("fulfilled_quantity <= quantity", name="fulfilled_within_quantity"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    supplier_order_id: Mapped[int] = mapped_column(ForeignKey("supplier_orders.id"), index=True)
    line_item_id: Mapped[int] = mapped_column(ForeignKey("line_items.id"))
    supplier_variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"))
    title: Mapped[str] = mapped_column(String(255))
    sku: Mapped[str | None] = mapped_column(String(255))
    quantity: Mapped[int] = mapped_column(BigInteger)
    wholesale_price: Mapped[int] = mapped_column(BigInteger)
    fulfilled_quantity: Mapped[int] = mapped_column(BigInteger, default=0)

    @property
    def remaining(self) -> int:
        return self.quantity - self.fulfilled_quantity


class SupplierRefund(Base):
    """Money the supplier gives back to the retailer (through the gateway, or by hand)."""

    __tablename__ = "supplier_refunds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    supplier_order_id: Mapped[int] = mapped_column(ForeignKey("supplier_orders.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("payment_transactions.id"))
    return_id: Mapped[int | None] = mapped_column(ForeignKey("supplier_returns.id"))
    created_at: Mapped[datetime]
    settled_at: Mapped[datetime | None]


class SupplierReturn(Base):
    """A retailer sending goods back to the supplier, under the supplier's return policy."""

    __tablename__ = "supplier_returns"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    supplier_order_id: Mapped[int] = mapped_column(ForeignKey("supplier_orders.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    decline_message: Mapped[str | None] = mapped_column(Text)
    restocked: Mapped[bool | None]
    refund_amount: Mapped[int | None] = mapped_column(BigInteger)
    restocking_fee: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    lines: Mapped[list["SupplierReturnLine"]] = relationship(
        order_by="SupplierReturnLine.id", lazy="selectin"
    )


class SupplierReturnLine(Base):
    __tablename__ = "supplier_return_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("supplier_returns.id"), index=True)
    supplier_order_line_id: Mapped[int] = mapped_column(ForeignKey("supplier_order_lines.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)
