"""What the database says was sold, and whether stock, orders, supplier orders and payments add up.

Everything is read from the one stock row the buyers raced for: the retailer's own variant, or,
with several retailers, the supplier's variant that their imported variants are linked to.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Connection

from tandem.audit.domain import AuditReport
from tandem.audit.money import orphan_charges_query
from tandem.audit.service import audit
from tandem.bench.databases import bench_settings
from tandem.db import make_engine
from tandem.inventory.domain import ReservationStatus
from tandem.inventory.models import InventoryLevel, Reservation
from tandem.orders.models import LineItem, Order
from tandem.payments.domain import TransactionStatus
from tandem.payments.models import PaymentTransaction
from tandem.suppliers.models import SupplierOrder, SupplierOrderLine

SUCCESS = TransactionStatus.SUCCESS.value


@dataclass(frozen=True)
class SupplierFigures:
    orders: int  # supplier orders of the retailers' orders: one per order
    units: int  # units in their lines


@dataclass(frozen=True)
class SaleFigures:
    sold: int  # units in the line items of all retailers' orders for the stock variant
    orders: int
    on_hand: int
    allocated: int  # committed units plus every active reservation, lapsed or not
    held: int  # active reservations still within their time
    lapsed: int  # active reservations past their time, not yet reclaimed
    payment_problems: list[str]
    sold_by_retailer: list[int]  # through each retailer's own variant, in the order of the sellers
    supplier: SupplierFigures | None = None  # when the retailers sell a supplier's stock

    @property
    def available(self) -> int:
        return self.on_hand - self.allocated + self.lapsed

    @property
    def committed(self) -> int:
        return self.allocated - self.held - self.lapsed


def read_figures(
    database_url: str, secret: str, *, sellers: list[tuple[int, int]], stock_variant_id: int, supplier: bool
) -> SaleFigures:
    """Read the sale's outcome straight from the tables, not from what the API answered.

    `sellers`: (retailer store id, the variant its buyers bought) of each retailer."""
    engine = make_engine(bench_settings(database_url, secret))
    try:
        with engine.execution_options(sqlite_begin="DEFERRED").connect() as conn:
            return _figures(conn, sellers, stock_variant_id, supplier, datetime.now(UTC))
    finally:
        engine.dispose()


def audit_sale(database_url: str, secret: str) -> AuditReport:
    """`tandem audit` on the sale's database, once Tandem's processes are stopped."""
    engine = make_engine(bench_settings(database_url, secret), pool_size=1)
    try:
        return audit(engine)
    finally:
        engine.dispose()


def _figures(
    conn: Connection, sellers: list[tuple[int, int]], variant_id: int, supplier: bool, now: datetime
) -> SaleFigures:
    sold, orders = conn.execute(
        select(func.coalesce(func.sum(LineItem.quantity), 0), func.count(func.distinct(Order.id)))
        .join(Order, Order.id == LineItem.order_id)
        .where(LineItem.stock_variant_id == variant_id)
    ).one()
    level = InventoryLevel
    on_hand, allocated = conn.execute(
        select(level.on_hand, level.allocated).where(level.variant_id == variant_id)
    ).one()
    held, lapsed = _active_reservations(conn, variant_id, now)
    store_ids = [store_id for store_id, _ in sellers]
    problems = _payment_problems(conn, store_ids)
    by_retailer = _sold_by_retailer(conn, sellers, variant_id)
    supplier_figures = _supplier_orders(conn, store_ids) if supplier else None
    return SaleFigures(
        int(sold), int(orders), on_hand, allocated, held, lapsed, problems, by_retailer, supplier_figures
    )


def _sold_by_retailer(conn: Connection, sellers: list[tuple[int, int]], variant_id: int) -> list[int]:
    rows = conn.execute(
        select(LineItem.store_id, LineItem.variant_id, func.sum(LineItem.quantity))
        .where(LineItem.stock_variant_id == variant_id)
        .group_by(LineItem.store_id, LineItem.variant_id)
    ).all()
    sold = {(store_id, variant): int(units) for store_id, variant, units in rows}
    return [sold.get(seller, 0) for seller in sellers]


def _supplier_orders(conn: Connection, store_ids: list[int]) -> SupplierFigures:
    count, units = conn.execute(
        select(
            func.count(func.distinct(SupplierOrder.id)),
            func.coalesce(func.sum(SupplierOrderLine.quantity), 0),
        )
        .select_from(SupplierOrder)
        .outerjoin(SupplierOrderLine, SupplierOrderLine.supplier_order_id == SupplierOrder.id)
        .where(SupplierOrder.retailer_store_id.in_(store_ids))
    ).one()
    return SupplierFigures(int(count), int(units))


def _active_reservations(conn: Connection, variant_id: int, now: datetime) -> tuple[int, int]:
    lapsed = Reservation.expires_at <= now
    held, gone = conn.execute(
        select(
            func.coalesce(func.sum(case((lapsed, 0), else_=Reservation.quantity)), 0),
            func.coalesce(func.sum(case((lapsed, Reservation.quantity), else_=0)), 0),
        ).where(Reservation.variant_id == variant_id, Reservation.status == ReservationStatus.ACTIVE.value)
    ).one()
    return int(held), int(gone)


def _payment_problems(conn: Connection, store_ids: list[int]) -> list[str]:
    """Every order has exactly one successful payment, equal to its total; no charge is left orphaned."""
    tx = PaymentTransaction
    rows = conn.execute(
        select(Order.id, Order.total, func.count(tx.id), func.coalesce(func.sum(tx.amount), 0))
        .outerjoin(tx, and_(tx.order_id == Order.id, tx.status == SUCCESS))
        .where(Order.store_id.in_(store_ids))
        .group_by(Order.id, Order.total)
    ).all()
    problems = [
        f"order {order_id}: {count} successful payment transaction(s) for {paid}, its total is {total}"
        for order_id, total, count, paid in rows
        if count != 1 or paid != total
    ]
    return problems + _orphan_charges(conn, store_ids) + _pending_payments(conn, store_ids)


def _orphan_charges(conn: Connection, store_ids: list[int]) -> list[str]:
    orphans = orphan_charges_query().where(PaymentTransaction.store_id.in_(store_ids)).subquery()
    count = conn.scalar(select(func.count()).select_from(orphans))
    return [f"{count} successful charge(s) with no order and no reversal"] if count else []


def _pending_payments(conn: Connection, store_ids: list[int]) -> list[str]:
    tx = PaymentTransaction
    pending = conn.scalar(
        select(func.count(tx.id)).where(
            tx.store_id.in_(store_ids), tx.status == TransactionStatus.PENDING.value
        )
    )
    return [f"{pending} payment transaction(s) still pending"] if pending else []


def consistency_problems(figures: SaleFigures, *, completed_answers: int) -> list[dict]:
    """Mismatches between what was sold, what is committed, what was paid and what buyers were told."""
    problems = [{"kind": "payment", "message": message} for message in figures.payment_problems]
    if figures.committed != figures.sold:
        message = f"{figures.committed} units committed but {figures.sold} sold"
        problems.append({"kind": "committed", "message": message})
    if figures.orders != completed_answers:
        message = f"{figures.orders} orders in the database but {completed_answers} checkouts answered 201"
        problems.append({"kind": "orders", "message": message})
    if sum(figures.sold_by_retailer) != figures.sold:
        message = f"retailers sold {figures.sold_by_retailer} through their variants, {figures.sold} in all"
        problems.append({"kind": "retailers", "message": message})
    return problems + supplier_problems(figures)


def supplier_problems(figures: SaleFigures) -> list[dict]:
    """With a supplier: one supplier order per retailer order, for the same units."""
    supplier = figures.supplier
    if supplier is None or (supplier.orders, supplier.units) == (figures.orders, figures.sold):
        return []
    message = (
        f"{supplier.orders} supplier orders for {supplier.units} units, "
        f"but {figures.orders} orders for {figures.sold} units"
    )
    return [{"kind": "supplier_orders", "message": message}]
