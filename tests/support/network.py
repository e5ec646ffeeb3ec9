"""A connected retailer and supplier with an imported product, for supplier-network tests."""

from dataclasses import dataclass

from tests.support.api import StoreClient


@dataclass
class Network:
    retailer: StoreClient
    supplier: StoreClient
    connection_id: int
    supplier_variant: dict  # the supplier's own variant (its stock)
    variant: dict  # the retailer's linked variant


def connect(retailer: StoreClient, supplier: StoreClient) -> int:
    requested = retailer.post("/connections", {"supplier_store_id": supplier.store_id})
    assert requested.status_code == 201, requested.text
    accepted = supplier.post(f"/connections/{requested.json()['id']}/accept")
    assert accepted.status_code == 200, accepted.text
    return requested.json()["id"]


def supplier_product(
    supplier: StoreClient,
    *,
    quantity: int = 10,
    price: str = "40.00",
    wholesale: str = "18.00",
    title: str = "Pull marin",
) -> dict:
    response = supplier.post(
        "/products",
        {
            "title": title,
            "variants": [
                {
                    "sku": "MARIN-M",
                    "title": "M",
                    "price": price,
                    "wholesale_price": wholesale,
                    "inventory_quantity": quantity,
                }
            ],
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def import_product(retailer: StoreClient, product_id: int, **extra) -> dict:
    response = retailer.post("/products/import", {"supplier_product_id": product_id, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def build(
    make_store,
    *,
    capture: str = "automatic",
    quantity: int = 10,
    retailer_payments: bool = False,
    supplier_payments: bool = False,
    retailer_locale: str = "en",
    price: str | None = "59.00",
) -> Network:
    retailer = make_store(
        "Maison Camille", capture=capture, automatic_payments=retailer_payments, locale=retailer_locale
    )
    supplier = make_store("Atelier Nord", kind="supplier", automatic_payments=supplier_payments, locale="fr")
    connection_id = connect(retailer, supplier)
    product = supplier_product(supplier, quantity=quantity)
    imported = import_product(retailer, product["id"], **({"price": price} if price else {}))
    return Network(retailer, supplier, connection_id, product["variants"][0], imported["variants"][0])
