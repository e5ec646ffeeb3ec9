"""Products, variants and their stock."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from tandem.catalog.models import Product, Variant
from tandem.db import UnitOfWork
from tandem.errors import Conflict, NotFound
from tandem.inventory import service as inventory
from tandem.inventory.domain import StockFigures
from tandem.money import parse_field
from tandem.paging import Page, PageRequest, newest_first
from tandem.stores.models import Store
from tandem.timeline.domain import SYSTEM, Actor


@dataclass(frozen=True)
class NewVariant:
    sku: str | None
    price: Decimal
    title: str = "Default"
    wholesale_price: Decimal | None = None
    inventory_quantity: int = 0


@dataclass(frozen=True)
class VariantView:
    variant: Variant
    stock: StockFigures | None


def create_product(
    uow: UnitOfWork,
    *,
    store_id: int,
    title: str,
    description: str,
    vendor: str | None,
    variants: list[NewVariant],
    now: datetime,
) -> Product:
    currency = uow.session.get(Store, store_id).currency
    product = Product(
        store_id=store_id, title=title, description=description, vendor=vendor, created_at=now, updated_at=now
    )
    uow.session.add(product)
    uow.session.flush()
    for position, new in enumerate(variants, start=1):
        field = f"variants[{position - 1}]"
        wholesale = new.wholesale_price
        variant = Variant(
            store_id=store_id,
            product_id=product.id,
            position=position,
            title=new.title,
            sku=new.sku,
            price=parse_field(new.price, currency, f"{field}.price"),
            wholesale_price=None
            if wholesale is None
            else parse_field(wholesale, currency, f"{field}.wholesale_price"),
            created_at=now,
        )
        uow.session.add(variant)
        uow.session.flush()
        inventory.create_level(
            uow.session, variant_id=variant.id, store_id=store_id, on_hand=new.inventory_quantity
        )
    uow.commit()
    uow.session.refresh(product)
    return product


def get_product(uow: UnitOfWork, *, store_id: int, product_id: int) -> Product:
    product = uow.session.scalar(
        select(Product)
        .options(selectinload(Product.variants))
        .where(Product.id == product_id, Product.store_id == store_id)
    )
    if product is None:
        raise NotFound("product not found")
    return product


def list_products(
    uow: UnitOfWork, *, store_id: int, page: PageRequest, q: str | None = None
) -> Page[Product]:
    """Newest first; `q` finds a product by a part of its title or of one of its variants' SKUs."""
    query = select(Product).options(selectinload(Product.variants)).where(Product.store_id == store_id)
    if q:
        pattern = f"%{_escape_like(q.lower())}%"
        by_sku = select(Variant.product_id).where(
            Variant.store_id == store_id, func.lower(Variant.sku).like(pattern, escape="\\")
        )
        query = query.where(or_(func.lower(Product.title).like(pattern, escape="\\"), Product.id.in_(by_sku)))
    return newest_first(uow.session, query, Product.id, page)


def update_prices(
    uow: UnitOfWork,
    *,
    store_id: int,
    variant_id: int,
    price: Decimal,
    wholesale_price: Decimal | None,
    now: datetime,
) -> Variant:
    """Set a variant's price and wholesale price (none: not offered to retailers)."""
    variant = _variant(uow.session, store_id, variant_id)
    currency = uow.session.get(Store, store_id).currency
    variant.price = parse_field(price, currency, "price")
    variant.wholesale_price = (
        None if wholesale_price is None else parse_field(wholesale_price, currency, "wholesale_price")
    )
    variant.product.updated_at = now
    uow.commit()
    return variant


def get_variant(uow: UnitOfWork, *, store_id: int, variant_id: int, now: datetime) -> VariantView:
    variant = _variant(uow.session, store_id, variant_id)
    stock = inventory.figures(uow.session, [variant.stock_variant_id], now)
    return VariantView(variant, stock.get(variant.stock_variant_id))


def stock_of(uow: UnitOfWork, variants: list[Variant], now: datetime) -> dict[int, StockFigures]:
    """Stock figures keyed by variant id (linked variants show their supplier's stock)."""
    figures = inventory.figures(uow.session, [v.stock_variant_id for v in variants], now)
    return {v.id: figures.get(v.stock_variant_id) for v in variants}


def set_available(
    uow: UnitOfWork, *, store_id: int, variant_id: int, available: int, now: datetime, actor: Actor = SYSTEM
) -> VariantView:
    variant = _variant(uow.session, store_id, variant_id)
    if variant.linked_variant_id is not None:
        raise Conflict("this variant's stock belongs to its supplier", code="linked_variant")
    figures = inventory.set_available(
        uow.session, variant_id=variant.id, available=available, now=now, actor=actor
    )
    uow.commit()
    return VariantView(variant, figures)


def variants_by_id(session: Session, *, store_id: int, variant_ids: list[int]) -> dict[int, Variant]:
    rows = session.scalars(
        select(Variant)
        .options(joinedload(Variant.product), joinedload(Variant.linked))
        .where(Variant.id.in_(variant_ids), Variant.store_id == store_id)
    )
    return {v.id: v for v in rows}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _variant(session: Session, store_id: int, variant_id: int) -> Variant:
    variant = session.scalar(select(Variant).where(Variant.id == variant_id, Variant.store_id == store_id))
    if variant is None:
        raise NotFound("variant not found")
    return variant
