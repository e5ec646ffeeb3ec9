from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tandem.db import Base, BigId


class AutomationRule(Base):
    __tablename__ = "automation_rules"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    condition: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(12))
    hold_reason: Mapped[str | None] = mapped_column(String(40))
    tag: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
