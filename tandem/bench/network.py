"""Who sells in a flash sale: one retailer selling its own stock, or R retailers each selling one
supplier's stock through an imported (linked) variant, so all of them race for one stock row
(SPEC §2.1)."""

from dataclasses import dataclass

import aiohttp

from tandem.bench.buyers import Shop, Storefront
from tandem.bench.databases import bench_settings

SUPPLIER_WHOLESALE_PRICE = "4.00"  # the retail price stays the supplier's 10.00


@dataclass(frozen=True)
class BenchStore:
    id: int
    token: str


@dataclass(frozen=True)
class Stores:
    retailers: list[BenchStore]
    supplier: BenchStore | None  # only when several retailers share a supplier's stock


@dataclass(frozen=True)
class Catalogue:
    storefronts: list[Storefront]  # one per retailer, in the order of Stores.retailers
    stock_variant_id: int  # the variant whose stock every buyer races for

    @property
    def sellers(self) -> list[tuple[int, int]]:
        """(retailer store id, the variant its buyers buy) of each retailer."""
        return [(s.store_id, s.variant_id) for s in self.storefronts]


def create_stores(database_url: str, secret: str, retailers: int) -> Stores:
    """In process: retailers capturing payments at checkout, and their supplier when there are several."""
    from tandem.runtime import build_runtime
    from tandem.stores.domain import StoreKind

    runtime = build_runtime(bench_settings(database_url, secret))
    try:
        if retailers == 1:
            return Stores([_create(runtime, "Flash sale", "bench", StoreKind.RETAILER)], None)
        return Stores(
            [
                _create(runtime, f"Flash sale {n}", f"bench+{n}", StoreKind.RETAILER)
                for n in range(1, retailers + 1)
            ],
            _create(runtime, "Flash sale supplier", "supplier", StoreKind.SUPPLIER),
        )
    finally:
        runtime.close()


def _create(runtime, name: str, mailbox: str, kind) -> BenchStore:
    from tandem.stores import service
    from tandem.stores.domain import PaymentCapture

    new = service.NewStore(
        name=name,
        kinds=(kind,),
        email=f"{mailbox}@flash-sale.example",
        payment_capture=PaymentCapture.AUTOMATIC,
    )
    with runtime.uow() as uow:
        created = service.create_store(uow, new=new, now=runtime.clock.now())
    return BenchStore(created.store.id, created.api_token)


async def stock_the_shelves(
    session: aiohttp.ClientSession, base_url: str, stores: Stores, units: int
) -> Catalogue:
    """Over HTTP: the product of `units` units; with a supplier, every retailer connects and imports it."""
    shops = [Shop(session, base_url, store.token) for store in stores.retailers]
    if stores.supplier is None:
        variant_id = (await shops[0].create_product(units))["variants"][0]["id"]
        return Catalogue([Storefront(stores.retailers[0].id, shops[0], variant_id)], variant_id)
    supplier = Shop(session, base_url, stores.supplier.token)
    product = await supplier.create_product(units, wholesale_price=SUPPLIER_WHOLESALE_PRICE)
    storefronts = [
        await _import(store.id, shop, supplier, stores.supplier.id, product["id"])
        for store, shop in zip(stores.retailers, shops, strict=True)
    ]
    return Catalogue(storefronts, product["variants"][0]["id"])


async def _import(
    store_id: int, retailer: Shop, supplier: Shop, supplier_id: int, product_id: int
) -> Storefront:
    connection_id = await retailer.request_connection(supplier_id)
    await supplier.accept_connection(connection_id)
    return Storefront(store_id, retailer, await retailer.import_product(product_id))
