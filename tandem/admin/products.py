"""Products in the admin UI (SPEC §8): the list with stock and price and a search, a form to
create a product, and a product's page to change prices, set stock (a stock movement naming
who did it) and offer a variant under a selling plan. A variant imported from a supplier shows
the supplier's live stock, read-only."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from tandem.admin import forms
from tandem.admin.acting import FormProblem, complain, perform
from tandem.admin.deps import FormViewerDep, ViewerDep, runtime_of
from tandem.admin.pages import render
from tandem.admin.routing import AdminRoute
from tandem.api.types import Id, SearchText
from tandem.catalog import service as catalog
from tandem.catalog.models import Product, Variant
from tandem.db import UnitOfWork
from tandem.errors import NotFound
from tandem.i18n.labels import N_
from tandem.inventory import service as inventory
from tandem.inventory.domain import StockFigures
from tandem.money import to_decimal_string
from tandem.paging import EVERYTHING, PageRequest
from tandem.preorders import service as preorders
from tandem.preorders.models import SellingPlan
from tandem.stores.models import Store

router = APIRouter(prefix="/admin/products", include_in_schema=False, route_class=AdminRoute)

LIST_SIZE = 50
NEW_VARIANT_ROWS = 3
MOVEMENTS_SHOWN = 20
MAX_TEXT = 255
MAX_STOCK = 10**9

NO_TITLE = N_("Give the product a title.")
NO_VARIANT = N_("Give at least one variant a price.")
BAD_PRICE = N_("Enter a price such as 12.50.")
BAD_WHOLESALE = N_("Enter a wholesale price such as 8.00, or leave it empty.")
BAD_STOCK = N_("Enter a stock as a whole number, 0 or more.")
TOO_LONG = N_("A title or SKU is too long: 255 characters at most.")
EXPLAIN = {
    "price": BAD_PRICE,
    "wholesale_price": BAD_WHOLESALE,
    "linked_variant": N_("This variant’s stock belongs to its supplier: it cannot be set here."),
    "variant_ids": N_("This variant cannot be sold under this selling plan: %(reason)s"),
}


@dataclass(frozen=True)
class VariantRow:
    """A variant as the products pages show it."""

    variant: Variant
    stock: StockFigures | None
    plans: list[SellingPlan]

    @property
    def from_supplier(self) -> bool:
        return self.variant.linked_variant_id is not None


# -- pages -------------------------------------------------------------------------------------


@router.get("")
def products_page(
    request: Request,
    viewer: ViewerDep,
    q: Annotated[SearchText, Query()] = "",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    runtime = runtime_of(request)
    with runtime.uow(read_only=True) as uow:
        page = PageRequest(limit=LIST_SIZE, cursor=cursor)
        found = catalog.list_products(uow, store_id=viewer.store_id, page=page, q=q or None)
        variants = [v for product in found.items for v in product.variants]
        stock = catalog.stock_of(uow, variants, runtime.clock.now())
        currency = _currency(uow, viewer.store_id)
    return render(
        request,
        "products.html",
        viewer=viewer,
        products=found.items,
        stock=stock,
        currency=currency,
        q=q,
        next_cursor=found.next_cursor,
        new_rows=NEW_VARIANT_ROWS,
    )


@router.get("/{product_id}")
def product_page(request: Request, product_id: Id, viewer: ViewerDep) -> Response:
    runtime = runtime_of(request)
    with runtime.uow(read_only=True) as uow:
        product = catalog.get_product(uow, store_id=viewer.store_id, product_id=product_id)
        rows, plans = _variant_rows(uow, viewer.store_id, product, runtime.clock.now())
        movements = inventory.movements(
            uow.session, variant_ids=[v.id for v in product.variants], limit=MOVEMENTS_SHOWN
        )
        currency = _currency(uow, viewer.store_id)
    return render(
        request,
        "product.html",
        viewer=viewer,
        product=product,
        rows=rows,
        plans=plans,
        titles={v.id: v.title for v in product.variants},
        movements=movements,
        currency=currency,
        as_decimal=to_decimal_string,
    )


def _variant_rows(uow: UnitOfWork, store_id: int, product: Product, now) -> tuple[list[VariantRow], list]:
    stock = catalog.stock_of(uow, product.variants, now)
    plans = preorders.list_plans(uow, store_id=store_id, page=EVERYTHING).items
    rows = [
        VariantRow(v, stock.get(v.id), [p for p in plans if v.id in {pv.id for pv in p.variants}])
        for v in product.variants
    ]
    return rows, plans


# -- forms -------------------------------------------------------------------------------------


@router.post("")
def create_product(
    request: Request,
    viewer: FormViewerDep,
    title: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    variant_title: Annotated[list[str] | None, Form()] = None,
    sku: Annotated[list[str] | None, Form()] = None,
    price: Annotated[list[str] | None, Form()] = None,
    wholesale_price: Annotated[list[str] | None, Form()] = None,
    stock: Annotated[list[str] | None, Form()] = None,
) -> Response:
    back = "/admin/products"
    try:
        name = _required(title, NO_TITLE)
        variants = _new_variants(
            variant_title or [], sku or [], price or [], wholesale_price or [], stock or []
        )
    except FormProblem as problem:
        return complain(request, viewer, back, problem)
    return perform(
        request,
        viewer,
        catalog.create_product,
        back=back,
        done=N_("The product was created."),
        explain=EXPLAIN,
        title=name,
        description="",
        vendor=None,
        variants=variants,
    )


@router.post("/{product_id}/variants/{variant_id}/prices")
def change_prices(
    request: Request,
    product_id: Id,
    variant_id: Id,
    viewer: FormViewerDep,
    price: Annotated[str, Form(max_length=30)] = "",
    wholesale_price: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    back = _page_of(product_id)
    try:
        value, wholesale = _price(price), _wholesale(wholesale_price)
    except FormProblem as problem:
        return complain(request, viewer, back, problem)
    return perform(
        request,
        viewer,
        catalog.update_prices,
        back=back,
        done=N_("The prices were saved."),
        explain=EXPLAIN,
        variant_id=variant_id,
        price=value,
        wholesale_price=wholesale,
    )


@router.post("/{product_id}/variants/{variant_id}/stock")
def set_stock(
    request: Request,
    product_id: Id,
    variant_id: Id,
    viewer: FormViewerDep,
    available: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    back = _page_of(product_id)
    try:
        count = _stock(available)
    except FormProblem as problem:
        return complain(request, viewer, back, problem)
    return perform(
        request,
        viewer,
        catalog.set_available,
        back=back,
        done=N_("The stock was set."),
        explain=EXPLAIN,
        variant_id=variant_id,
        available=count,
        actor=viewer.actor,
    )


@router.post("/{product_id}/variants/{variant_id}/selling_plans")
def attach_plan(
    request: Request,
    product_id: Id,
    variant_id: Id,
    viewer: FormViewerDep,
    plan_id: Annotated[Id, Form()],
) -> Response:
    return perform(
        request,
        viewer,
        _attach,
        back=_page_of(product_id),
        done=N_("The variant is now sold under the selling plan."),
        explain=EXPLAIN,
        plan_id=plan_id,
        variant_id=variant_id,
    )


@router.post("/{product_id}/variants/{variant_id}/selling_plans/{plan_id}/detach")
def detach_plan(
    request: Request, product_id: Id, variant_id: Id, plan_id: Id, viewer: FormViewerDep
) -> Response:
    return perform(
        request,
        viewer,
        _detach,
        back=_page_of(product_id),
        done=N_("The variant is no longer sold under the selling plan."),
        plan_id=plan_id,
        variant_id=variant_id,
    )


def _attach(uow: UnitOfWork, *, store_id: int, now, plan_id: int, variant_id: int) -> None:
    _own_variant(uow, store_id, variant_id)
    preorders.attach_variants(uow, store_id=store_id, plan_id=plan_id, variant_ids=[variant_id])


def _detach(uow: UnitOfWork, *, store_id: int, now, plan_id: int, variant_id: int) -> None:
    _own_variant(uow, store_id, variant_id)
    preorders.detach_variant(uow, store_id=store_id, plan_id=plan_id, variant_id=variant_id)


def _own_variant(uow: UnitOfWork, store_id: int, variant_id: int) -> None:
    if not catalog.variants_by_id(uow.session, store_id=store_id, variant_ids=[variant_id]):
        raise NotFound("variant not found")


# -- reading the forms -------------------------------------------------------------------------


def _new_variants(titles, skus, prices, wholesale_prices, stocks) -> list[catalog.NewVariant]:
    """The filled rows of the new product's variants; a row without a price is left out."""
    if len(prices) > NEW_VARIANT_ROWS or any(len(text) > MAX_TEXT for text in [*titles, *skus]):
        raise FormProblem(TOO_LONG)
    columns = (_padded(titles), _padded(skus), prices, _padded(wholesale_prices), _padded(stocks))
    rows = zip(*columns, strict=False)
    variants = [
        catalog.NewVariant(
            sku=sku.strip() or None,
            price=_price(price),
            title=title.strip() or "Default",
            wholesale_price=_wholesale(wholesale),
            inventory_quantity=_stock(stock or "0"),
        )
        for title, sku, price, wholesale, stock in rows
        if price.strip()
    ]
    if not variants:
        raise FormProblem(NO_VARIANT)
    return variants


def _padded(values: list[str]) -> list[str]:
    return values + [""] * NEW_VARIANT_ROWS


def _required(raw: str, message: str) -> str:
    text = raw.strip()
    if not text:
        raise FormProblem(message)
    return text


def _price(raw: str) -> Decimal:
    return forms.amount(raw, BAD_PRICE)


def _wholesale(raw: str) -> Decimal | None:
    return forms.amount(raw, BAD_WHOLESALE) if raw.strip() else None


def _stock(raw: str) -> int:
    text = raw.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 10) or int(text) > MAX_STOCK:
        raise FormProblem(BAD_STOCK)
    return int(text)


def _page_of(product_id: int) -> str:
    return f"/admin/products/{product_id}"


def _currency(uow: UnitOfWork, store_id: int) -> str:
    return uow.session.get(Store, store_id).currency
