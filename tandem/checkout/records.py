"""Checkouts as plain records: what the batched checkout path writes, reads and answers with
(the same fields as the mapped Checkout and CheckoutLine, so the same schemas show them)."""

from dataclasses import dataclass, field, fields
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tandem.checkout.models import Checkout, CheckoutLine
from tandem.db import any_of


@dataclass
class LineRecord:
    variant_id: int
    stock_variant_id: int
    product_title: str
    variant_title: str
    sku: str | None
    quantity: int
    price: int
    supplier_store_id: int | None = None
    wholesale_price: int | None = None
    selling_plan_id: int | None = None
    deposit: int | None = None
    id: int = 0
    checkout_id: int = 0


@dataclass
class CheckoutRecord:
    store_id: int
    customer_id: int
    email: str
    status: str
    currency: str
    subtotal: int
    shipping_total: int
    total: int
    due_now: int
    shipping_address: dict
    billing_address: dict | None
    card_token: str | None
    payment_method_id: int | None
    reserved_until: datetime
    created_at: datetime
    lines: list[LineRecord] = field(default_factory=list)
    id: int = 0
    order_id: int | None = None
    completed_at: datetime | None = None

    def row(self) -> dict:
        return {name: getattr(self, name) for name in _CHECKOUT_ROW}


LINE_COLUMNS = tuple(f.name for f in fields(LineRecord) if f.name != "id")
CHECKOUT_COLUMNS = tuple(f.name for f in fields(CheckoutRecord) if f.name != "lines")
_CHECKOUT_ROW = tuple(name for name in CHECKOUT_COLUMNS if name != "id")


def line_row(line: LineRecord) -> dict:
    return {name: getattr(line, name) for name in LINE_COLUMNS}


def from_row(row) -> CheckoutRecord:
    return CheckoutRecord(**{name: getattr(row, name) for name in CHECKOUT_COLUMNS})


def with_lines(session: Session, checkouts: list[CheckoutRecord]) -> list[CheckoutRecord]:
    """Attach their lines (one query for all)."""
    by_id = {c.id: c for c in checkouts}
    if by_id:
        table = CheckoutLine.__table__
        rows = (
            session.connection()
            .execute(select(table).where(any_of(session, table.c.checkout_id, by_id)).order_by(table.c.id))
            .all()
        )
        for row in rows:
            by_id[row.checkout_id].lines.append(
                LineRecord(**{n: getattr(row, n) for n in (*LINE_COLUMNS, "id")})
            )
    return checkouts


def load(session: Session, checkout_id: int) -> CheckoutRecord | None:
    row = (
        session.connection()
        .execute(select(Checkout.__table__).where(Checkout.__table__.c.id == checkout_id))
        .first()
    )
    return with_lines(session, [from_row(row)])[0] if row else None
