"""Connections between retailers and suppliers, and importing a supplier's products."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from tandem.catalog.models import Product, Variant
from tandem.db import UnitOfWork
from tandem.errors import Conflict, Forbidden, InvalidInput, NotFound
from tandem.money import parse_field
from tandem.stores.models import Store
from tandem.suppliers import domain
from tandem.suppliers.domain import ConnectionEvent, ConnectionStatus
from tandem.suppliers.models import Connection


def request_connection(
    uow: UnitOfWork, *, store_id: int, supplier_store_id: int, now: datetime
) -> Connection:
    """A retailer asks a supplier to sell its products."""
    session = uow.session
    retailer = session.get(Store, store_id)
    if not retailer.is_retailer:
        raise Forbidden("only a retailer store can connect to suppliers")
    supplier = session.get(Store, supplier_store_id)
    if supplier is None or not supplier.is_supplier or supplier.id == retailer.id:
        raise InvalidInput("supplier_store_id", "no such supplier store")
    if supplier.currency != retailer.currency:
        raise InvalidInput("supplier_store_id", f"this supplier sells in {supplier.currency}")
    if _between(session, retailer.id, supplier.id):
        raise Conflict("a connection with this supplier already exists", code="already_connected")
    connection = Connection(
        retailer_store_id=retailer.id,
        supplier_store_id=supplier.id,
        status=ConnectionStatus.REQUESTED.value,
        created_at=now,
    )
    session.add(connection)
    uow.commit()
    return connection


def answer_connection(
    uow: UnitOfWork, *, store_id: int, connection_id: int, accept: bool, now: datetime
) -> Connection:
    """The supplier accepts (or declines) a retailer's request."""
    connection = _visible(uow.session, store_id, connection_id)
    if connection.supplier_store_id != store_id:
        raise Forbidden("only the supplier answers a connection request")
    domain.move_connection(connection, ConnectionEvent.ACCEPT if accept else ConnectionEvent.DECLINE)
    if accept:
        connection.accepted_at = now
    uow.commit()
    return connection


def list_connections(uow: UnitOfWork, *, store_id: int) -> list[Connection]:
    return list(
        uow.session.scalars(
            select(Connection)
            .where(or_(Connection.retailer_store_id == store_id, Connection.supplier_store_id == store_id))
            .order_by(Connection.id)
        )
    )


def stores_of(uow: UnitOfWork, connections: list[Connection]) -> dict[int, Store]:
    ids = {c.retailer_store_id for c in connections} | {c.supplier_store_id for c in connections}
    return {s.id: s for s in uow.session.scalars(select(Store).where(Store.id.in_(ids)))}


def supplier_catalog(uow: UnitOfWork, *, store_id: int, connection_id: int) -> list[Product]:
    """What a connected retailer may import: the supplier's own products."""
    connection = _visible(uow.session, store_id, connection_id)
    if connection.retailer_store_id != store_id or connection.status != ConnectionStatus.ACTIVE:
        raise NotFound("no active connection to this supplier")
    return list(
        uow.session.scalars(
            select(Product)
            .options(selectinload(Product.variants))
            .where(Product.store_id == connection.supplier_store_id, Product.imported_from_id.is_(None))
            .order_by(Product.id)
        )
    )


def import_product(
    uow: UnitOfWork,
    *,
    store_id: int,
    supplier_product_id: int,
    price: Decimal | None,
    title: str | None,
    now: datetime,
) -> Product:
    """The retailer's own product (own title, retail price) whose variants sell the supplier's stock."""
    session = uow.session
    source = _importable(session, store_id, supplier_product_id)
    retailer = session.get(Store, store_id)
    retail_price = None if price is None else parse_field(price, retailer.currency, "price")
    product = Product(
        store_id=store_id,
        title=title or source.title,
        description=source.description,
        vendor=session.get(Store, source.store_id).name,
        imported_from_id=source.id,
        created_at=now,
        updated_at=now,
    )
    product.variants = [_linked_variant(store_id, variant, retail_price, now) for variant in source.variants]
    session.add(product)
    uow.commit()
    return product


def active_connection(session: Session, retailer_store_id: int, supplier_store_id: int) -> Connection | None:
    connection = _between(session, retailer_store_id, supplier_store_id)
    return connection if connection and connection.status == ConnectionStatus.ACTIVE else None


def automatic_payments(session: Session, retailer_store_id: int, supplier_store_id: int) -> bool:
    """Collective payments are automatic only when both stores turned them on."""
    stores = session.scalars(select(Store).where(Store.id.in_([retailer_store_id, supplier_store_id])))
    return all(store.collective_automatic_payments for store in stores)


def _importable(session: Session, store_id: int, supplier_product_id: int) -> Product:
    source = session.scalar(
        select(Product).options(selectinload(Product.variants)).where(Product.id == supplier_product_id)
    )
    if source is None or source.imported_from_id is not None or source.store_id == store_id:
        raise NotFound("supplier product not found")
    if active_connection(session, store_id, source.store_id) is None:
        raise NotFound("supplier product not found")  # not connected: it does not exist for this store
    if session.scalar(
        select(Product.id).where(Product.store_id == store_id, Product.imported_from_id == source.id)
    ):
        raise Conflict("this product was already imported", code="already_imported")
    for index, variant in enumerate(source.variants):
        if variant.wholesale_price is None:
            raise InvalidInput(
                "supplier_product_id", f"the supplier has no wholesale price for variant {index + 1}"
            )
    return source


def _linked_variant(store_id: int, source: Variant, retail_price: int | None, now: datetime) -> Variant:
    return Variant(
        store_id=store_id,
        position=source.position,
        title=source.title,
        sku=source.sku,
        price=source.price if retail_price is None else retail_price,
        wholesale_price=source.wholesale_price,
        linked_variant_id=source.id,
        created_at=now,
    )


def _between(session: Session, retailer_store_id: int, supplier_store_id: int) -> Connection | None:
    return session.scalar(
        select(Connection).where(
            Connection.retailer_store_id == retailer_store_id,
            Connection.supplier_store_id == supplier_store_id,
        )
    )


def _visible(session: Session, store_id: int, connection_id: int) -> Connection:
    connection = session.get(Connection, connection_id)
    if connection is None or store_id not in (connection.retailer_store_id, connection.supplier_store_id):
        raise NotFound("connection not found")
    return connection
