from pydantic import BaseModel, Field

from tandem.api.presenting import money
from tandem.api.types import Amount, BodyId, Input, LongText, OptionalText, StockCount, Text
from tandem.catalog.models import Product, Variant
from tandem.inventory.domain import StockFigures


class VariantIn(Input):
    sku: OptionalText | None = None
    title: Text = "Default"
    price: Amount
    wholesale_price: Amount | None = None
    inventory_quantity: StockCount = 0


class ProductIn(Input):
    title: Text
    description: LongText = ""
    vendor: OptionalText | None = None
    variants: list[VariantIn] = Field(min_length=1, max_length=100)


class InventorySet(Input):
    variant_id: BodyId
    available: StockCount


class VariantOut(BaseModel):
    id: int
    product_id: int
    title: str
    sku: str | None
    price: str
    wholesale_price: str | None
    currency: str
    linked_variant_id: int | None
    available: int | None
    on_hand: int | None
    committed: int | None
    reserved: int | None

    @classmethod
    def of(cls, variant: Variant, stock: StockFigures | None, currency: str) -> "VariantOut":
        own = variant.linked_variant_id is None and stock is not None
        return cls(
            id=variant.id,
            product_id=variant.product_id,
            title=variant.title,
            sku=variant.sku,
            price=money(variant.price, currency),
            wholesale_price=money(variant.wholesale_price, currency),
            currency=currency,
            linked_variant_id=variant.linked_variant_id,
            available=max(stock.available, 0) if stock else None,
            on_hand=stock.on_hand if own else None,
            committed=stock.committed if own else None,
            reserved=stock.reserved if own else None,
        )


class ProductOut(BaseModel):
    id: int
    title: str
    description: str
    vendor: str | None
    variants: list[VariantOut]

    @classmethod
    def of(cls, product: Product, stock: dict[int, StockFigures], currency: str) -> "ProductOut":
        return cls(
            id=product.id,
            title=product.title,
            description=product.description,
            vendor=product.vendor,
            variants=[VariantOut.of(v, stock.get(v.id), currency) for v in product.variants],
        )


class ProductList(BaseModel):
    products: list[ProductOut]
    next_cursor: str | None = None
