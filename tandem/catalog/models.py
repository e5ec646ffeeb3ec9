from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tandem.db import Base, BigId


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    vendor: Mapped[str | None] = mapped_column(String(255))
    # A retailer's product imported from a supplier's.
    imported_from_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    variants: Mapped[list["Variant"]] = relationship(back_populates="product", order_by="Variant.position")


class Variant(Base):
    __tablename__ = "variants"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(255))
    sku: Mapped[str | None] = mapped_column(String(255))
    price: Mapped[int] = mapped_column(BigInteger)
    wholesale_price: Mapped[int | None] = mapped_column(BigInteger)
    # A retailer's variant imported from a supplier has no stock of its own:
    # its stock is the supplier variant's (SPEC §2.1).
    linked_variant_id: Mapped[int | None] = mapped_column(ForeignKey("variants.id"), index=True)
    created_at: Mapped[datetime]

    product: Mapped[Product] = relationship(back_populates="variants")
    linked: Mapped["Variant | None"] = relationship(remote_side=[id])

    @property
    def stock_variant_id(self) -> int:
        return self.linked_variant_id or self.id
