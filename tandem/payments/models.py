from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tandem.db import Base, BigId


class PaymentTransaction(Base):
    """One authorisation, capture, sale, void or refund, written before the gateway call."""

    __tablename__ = "payment_transactions"
    __table_args__ = (Index("ix_payment_transactions_status_lock", "status", "locked_until"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    checkout_id: Mapped[int | None] = mapped_column(ForeignKey("checkouts.id"), index=True)
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"))
    supplier_order_id: Mapped[int | None] = mapped_column(ForeignKey("supplier_orders.id"), index=True)
    payment_schedule_id: Mapped[int | None] = mapped_column(ForeignKey("payment_schedules.id"), index=True)
    # Charged without the customer present (a pre-order balance): banks may ask them to confirm.
    off_session: Mapped[bool] = mapped_column(default=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("payment_transactions.id"))
    payment_method_id: Mapped[int | None] = mapped_column(ForeignKey("payment_methods.id"))
    kind: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    gateway: Mapped[str] = mapped_column(String(40))
    gateway_reference: Mapped[str | None] = mapped_column(String(100))
    # The charge source, kept so a sweeper can replay the exact same gateway call.
    card_token: Mapped[str | None] = mapped_column(String(100))
    # A card vaulted at the gateway that is not a customer's (a retailer's billing card).
    source_reference: Mapped[str | None] = mapped_column(String(100))
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    message: Mapped[str | None] = mapped_column(String(500))
    locked_until: Mapped[datetime | None]
    # The process making the call (tandem.liveness): if it dies, the sweeper takes over at once.
    locked_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]
