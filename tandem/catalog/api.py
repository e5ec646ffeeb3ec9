from fastapi import APIRouter

from tandem.api.deps import CallerDep, Now, PageDep, ReadUoW, UoW
from tandem.api.types import Id
from tandem.catalog import service
from tandem.catalog.schemas import InventorySet, ProductIn, ProductList, ProductOut, VariantOut
from tandem.stores.models import Store

router = APIRouter(tags=["catalog"])


@router.post("/products", response_model=ProductOut, status_code=201)
def create_product(body: ProductIn, caller: CallerDep, uow: UoW, now: Now):
    variants = [service.NewVariant(**v.model_dump()) for v in body.variants]
    product = service.create_product(
        uow,
        store_id=caller.store_id,
        title=body.title,
        description=body.description,
        vendor=body.vendor,
        variants=variants,
        now=now,
    )
    return product_out(uow, product, now)


@router.get("/products", response_model=ProductList)
def list_products(caller: CallerDep, uow: ReadUoW, now: Now, page: PageDep):
    found = service.list_products(uow, store_id=caller.store_id, page=page)
    variants = [v for product in found.items for v in product.variants]
    stock, currency = service.stock_of(uow, variants, now), _currency(uow, caller.store_id)
    return ProductList(
        products=[ProductOut.of(p, stock, currency) for p in found.items], next_cursor=found.next_cursor
    )


# `:int`: /products/import (POST, tandem.suppliers.api) is not a product id, whatever the method.
@router.get("/products/{product_id:int}", response_model=ProductOut)
def get_product(product_id: Id, caller: CallerDep, uow: ReadUoW, now: Now):
    return product_out(uow, service.get_product(uow, store_id=caller.store_id, product_id=product_id), now)


@router.get("/variants/{variant_id}", response_model=VariantOut)
def get_variant(variant_id: Id, caller: CallerDep, uow: ReadUoW, now: Now):
    view = service.get_variant(uow, store_id=caller.store_id, variant_id=variant_id, now=now)
    return VariantOut.of(view.variant, view.stock, _currency(uow, caller.store_id))


@router.post("/inventory/set", response_model=VariantOut)
def set_inventory(body: InventorySet, caller: CallerDep, uow: UoW, now: Now):
    view = service.set_available(
        uow,
        store_id=caller.store_id,
        variant_id=body.variant_id,
        available=body.available,
        now=now,
        actor=caller.actor,
    )
    return VariantOut.of(view.variant, view.stock, _currency(uow, caller.store_id))


def product_out(uow, product, now) -> ProductOut:
    stock = service.stock_of(uow, product.variants, now)
    return ProductOut.of(product, stock, _currency(uow, product.store_id))


def _currency(uow, store_id: int) -> str:
    return uow.session.get(Store, store_id).currency
