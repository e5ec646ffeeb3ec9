from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tandem.db import Base, BigId


class Store(Base):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    is_retailer: Mapped[bool] = mapped_column(Boolean)
    is_supplier: Mapped[bool] = mapped_column(Boolean)
    email: Mapped[str | None] = mapped_column(String(320))
    currency: Mapped[str] = mapped_column(String(3))
    locale: Mapped[str] = mapped_column(String(5))
    timezone: Mapped[str] = mapped_column(String(64))
    payment_capture: Mapped[str] = mapped_column(String(20))
    collective_automatic_payments: Mapped[bool] = mapped_column(Boolean)
    sender_name: Mapped[str | None] = mapped_column(String(200))
    sender_email: Mapped[str | None] = mapped_column(String(320))
    # Retailers: the card collective payments are charged to (vaulted at the gateway).
    billing_card_reference: Mapped[str | None] = mapped_column(String(100))
    billing_card_last4: Mapped[str | None] = mapped_column(String(4))
    # Suppliers: what they charge retailers for shipping each supplier order.
    supplier_shipping_fee: Mapped[int] = mapped_column(BigInteger, default=0)
    # Suppliers: the return policy retailers see.
    return_window_days: Mapped[int] = mapped_column(BigInteger, default=30)
    restocking_fee_percent: Mapped[int] = mapped_column(BigInteger, default=0)
    return_label_provider: Mapped[str] = mapped_column(String(12), default="supplier")
    final_sale_skus: Mapped[list[Any]] = mapped_column(default=list)
    # Bumped by every change to the settings, rules or webhooks (see tandem.caching).
    config_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime]

    @property
    def kinds(self) -> list[str]:
        return [k for k, on in (("retailer", self.is_retailer), ("supplier", self.is_supplier)) if on]


class ApiToken(Base):
    """A store's API token; only its SHA-256 is kept, the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    # Kept to the minute (LAST_USED_PRECISION): the checkout path does not write per request.
    last_used_at: Mapped[datetime | None]


class Counter(Base):
    """Per-store sequences (order numbers), handed out in blocks."""

    __tablename__ = "counters"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_value: Mapped[int] = mapped_column(BigInteger)
