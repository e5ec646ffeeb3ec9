from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tandem.db import Base, BigId


class IdempotencyRecord(Base):
    """A request made with an Idempotency-Key, and the response it got."""

    __tablename__ = "idempotency_records"
    __table_args__ = (
        UniqueConstraint("store_id", "key"),
        Index("ix_idempotency_records_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))
    owner: Mapped[str] = mapped_column(String(100))  # its process (tandem.liveness) / its request
    lease_until: Mapped[datetime]
    response_status: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
