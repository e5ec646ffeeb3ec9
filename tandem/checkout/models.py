from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tandem.db import Base, BigId


class Checkout(Base):
    __tablename__ = "checkouts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    email: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int] = mapped_column(BigInteger)
    shipping_total: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    # Charged at checkout: the total, less the balances of pre-order lines (charged later).
    due_now: Mapped[int] = mapped_column(BigInteger, default=0)
    shipping_address: Mapped[dict[str, Any]]
    billing_address: Mapped[dict[str, Any] | None]
    card_token: Mapped[str | None] = mapped_column(String(100))
    payment_method_id: Mapped[int | None] = mapped_column(ForeignKey("payment_methods.id"))
    reserved_until: Mapped[datetime]
    order_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]

    lines: Mapped[list["CheckoutLine"]] = relationship(order_by="CheckoutLine.id", lazy="selectin")


class CheckoutLine(Base):
    __tablename__ = "checkout_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    checkout_id: Mapped[int] = mapped_column(ForeignKey("checkouts.id"), index=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"))
    stock_variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id"))
    product_title: Mapped[str] = mapped_column(String(255))
    variant_title: Mapped[str] = mapped_column(String(255))
    sku: Mapped[str | None] = mapped_column(String(255))
    quantity: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)
    supplier_store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    wholesale_price: Mapped[int | None] = mapped_column(BigInteger)
    # Sold as a pre-order: only the deposit is paid at checkout.
    selling_plan_id: Mapped[int | None] = mapped_column(ForeignKey("selling_plans.id"))
    deposit: Mapped[int | None] = mapped_column(BigInteger)
