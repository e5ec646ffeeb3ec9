"""Connections in the admin UI (SPEC §2.1): a retailer asks a supplier, the supplier accepts or
declines, and a connected retailer imports the supplier's products into its own catalog."""

from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from tandem.admin.acting import FormProblem, complain, perform
from tandem.admin.deps import FormViewerDep, ViewerDep, runtime_of
from tandem.admin.pages import render
from tandem.admin.routing import AdminRoute
from tandem.api.types import MAX_ID, Id
from tandem.catalog import service as catalog
from tandem.catalog.models import Product
from tandem.catalog.schemas import ProductOut
from tandem.db import UnitOfWork
from tandem.i18n.labels import N_
from tandem.suppliers import service
from tandem.suppliers.schemas import ConnectionOut

router = APIRouter(prefix="/admin/connections", include_in_schema=False, route_class=AdminRoute)
HERE = "/admin/connections"
MAX_PRICE = Decimal("1e9")  # as the API's Amount
EXPLAIN = {
    "already_connected": N_("You are already connected to this supplier, or your request awaits its answer."),
    "supplier_store_id": N_("There is no supplier store with this ID selling in your currency."),
    "already_imported": N_("This product is already in your catalog."),
}


@router.get("")
def connections_page(request: Request, viewer: ViewerDep) -> Response:
    with runtime_of(request).uow(read_only=True) as uow:
        found = service.list_connections(uow, store_id=viewer.store_id)
        stores = service.stores_of(uow, found)
        rows = [ConnectionOut.of(c, stores) for c in found]
    return render(request, "connections.html", viewer=viewer, rows=rows)


@router.post("")
def request_connection(
    request: Request, viewer: FormViewerDep, supplier_store_id: Annotated[str, Form(max_length=30)] = ""
) -> Response:
    try:
        supplier = _store_id(supplier_store_id)
    except FormProblem as problem:
        return complain(request, viewer, HERE, problem)
    return perform(
        request,
        viewer,
        service.request_connection,
        back=HERE,
        done=N_("Your request was sent. The supplier has to accept it."),
        explain=EXPLAIN,
        supplier_store_id=supplier,
    )


@router.post("/{connection_id}/accept")
def accept(request: Request, connection_id: Id, viewer: FormViewerDep) -> Response:
    done = N_("The connection was accepted. The retailer can now import your products.")
    return _answer(request, viewer, connection_id, accept=True, done=done)


@router.post("/{connection_id}/decline")
def decline(request: Request, connection_id: Id, viewer: FormViewerDep) -> Response:
    return _answer(request, viewer, connection_id, accept=False, done=N_("The request was declined."))


def _answer(request: Request, viewer, connection_id: int, *, accept: bool, done: str) -> Response:
    return perform(
        request,
        viewer,
        service.answer_connection,
        back=HERE,
        done=done,
        connection_id=connection_id,
        accept=accept,
    )


# -- the supplier's catalog, for a connected retailer -----------------------------------------


@router.get("/{connection_id}/products")
def catalog_page(request: Request, connection_id: Id, viewer: ViewerDep) -> Response:
    runtime = runtime_of(request)
    with runtime.uow(read_only=True) as uow:
        products = service.supplier_catalog(uow, store_id=viewer.store_id, connection_id=connection_id)
        connection, currency = _connection(uow, viewer.store_id, connection_id)
        stock = catalog.stock_of(uow, [v for p in products for v in p.variants], runtime.clock.now())
        imported = _already_imported(uow, viewer.store_id, [p.id for p in products])
    return render(
        request,
        "supplier_catalog.html",
        viewer=viewer,
        connection=connection,
        products=[ProductOut.of(p, stock, currency) for p in products],
        imported=imported,
    )


@router.post("/{connection_id}/import")
def import_product(
    request: Request,
    connection_id: Id,
    viewer: FormViewerDep,
    supplier_product_id: Annotated[Id, Form()],
    title: Annotated[str, Form(max_length=255)] = "",
    price: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    back = f"{HERE}/{connection_id}/products"
    try:
        retail_price = _price(price)
    except FormProblem as problem:
        return complain(request, viewer, back, problem)
    return perform(
        request,
        viewer,
        service.import_product,
        back=back,
        done=N_("The product was imported into your catalog. It sells the supplier’s stock."),
        explain=EXPLAIN,
        supplier_product_id=supplier_product_id,
        price=retail_price,
        title=title.strip().replace("\x00", "") or None,
    )


def _store_id(raw: str) -> int:
    raw = raw.strip().lstrip("#")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        raise FormProblem(N_("Enter the supplier’s store ID: a number it can find on its Connections page."))
    return int(raw)


def _price(raw: str) -> Decimal | None:
    """A retail price typed as "59.00" or "59,00"; empty keeps the supplier's suggested price."""
    raw = raw.strip().replace(",", ".")
    if not raw:
        return None
    try:
        price = Decimal(raw)
    except InvalidOperation:
        price = None
    if price is None or not price.is_finite() or not 0 <= price <= MAX_PRICE:
        raise FormProblem(N_("Enter a price such as 59.00, or leave it empty to keep the supplier’s price."))
    return price


def _connection(uow: UnitOfWork, store_id: int, connection_id: int) -> tuple[ConnectionOut, str]:
    """The connection, and the currency both stores sell in."""
    [connection] = [c for c in service.list_connections(uow, store_id=store_id) if c.id == connection_id]
    stores = service.stores_of(uow, [connection])
    return ConnectionOut.of(connection, stores), stores[store_id].currency


def _already_imported(uow: UnitOfWork, store_id: int, supplier_product_ids: list[int]) -> set[int]:
    # A read the suppliers service does not offer yet; it belongs there.
    if not supplier_product_ids:
        return set()
    return set(
        uow.session.scalars(
            select(Product.imported_from_id).where(
                Product.store_id == store_id, Product.imported_from_id.in_(supplier_product_ids)
            )
        )
    )
