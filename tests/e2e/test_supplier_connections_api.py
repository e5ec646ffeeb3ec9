"""Connections between retailers and suppliers, and importing a supplier's products."""

import pytest

from tests.support.network import build, connect, import_product, supplier_product


@pytest.fixture
def stores(make_store):
    return make_store("Maison Camille"), make_store("Atelier Nord", kind="supplier")


def test_a_retailer_connects_to_a_supplier_who_accepts(stores):
    retailer, supplier = stores
    requested = retailer.post("/connections", {"supplier_store_id": supplier.store_id}).json()
    assert requested["status"] == "requested"
    assert supplier.get("/connections").json()["connections"][0]["retailer_name"] == "Maison Camille"
    accepted = supplier.post(f"/connections/{requested['id']}/accept").json()
    assert accepted["status"] == "active" and accepted["accepted_at"]
    assert retailer.get("/connections").json()["connections"][0]["status"] == "active"


def test_only_the_supplier_accepts(stores):
    retailer, supplier = stores
    requested = retailer.post("/connections", {"supplier_store_id": supplier.store_id}).json()
    assert retailer.post(f"/connections/{requested['id']}/accept").status_code == 403
    assert retailer.get("/connections").json()["connections"][0]["status"] == "requested"


def test_a_stranger_cannot_see_or_answer_a_connection(stores, make_store):
    retailer, supplier = stores
    requested = retailer.post("/connections", {"supplier_store_id": supplier.store_id}).json()
    stranger = make_store("Someone Else", kind="supplier")
    assert stranger.post(f"/connections/{requested['id']}/accept").status_code == 404
    assert stranger.get("/connections").json()["connections"] == []


def test_a_connection_is_accepted_once(stores):
    retailer, supplier = stores
    connection_id = connect(retailer, supplier)
    assert supplier.post(f"/connections/{connection_id}/accept").status_code == 409
    assert supplier.post(f"/connections/{connection_id}/decline").status_code == 409


def test_a_declined_connection_allows_no_import(stores):
    retailer, supplier = stores
    requested = retailer.post("/connections", {"supplier_store_id": supplier.store_id}).json()
    assert supplier.post(f"/connections/{requested['id']}/decline").json()["status"] == "declined"
    product = supplier_product(supplier)
    assert retailer.post("/products/import", {"supplier_product_id": product["id"]}).status_code == 404


def test_connecting_twice_is_409(stores):
    retailer, supplier = stores
    connect(retailer, supplier)
    response = retailer.post("/connections", {"supplier_store_id": supplier.store_id})
    assert response.status_code == 409


def test_only_retailers_connect_and_only_to_suppliers(stores, make_store):
    retailer, supplier = stores
    assert supplier.post("/connections", {"supplier_store_id": supplier.store_id}).status_code == 403
    other_retailer = make_store("Another Shop")
    response = retailer.post("/connections", {"supplier_store_id": other_retailer.store_id})
    assert response.status_code == 422 and response.json()["error"]["field"] == "supplier_store_id"
    assert retailer.post("/connections", {"supplier_store_id": 9999}).status_code == 422


def test_a_supplier_selling_in_another_currency_is_refused(make_store):
    retailer = make_store("Maison Camille")
    supplier = make_store("Mill Co", kind="supplier", currency="USD")
    response = retailer.post("/connections", {"supplier_store_id": supplier.store_id})
    assert response.status_code == 422


def test_a_connected_retailer_browses_the_suppliers_catalog(stores):
    retailer, supplier = stores
    connection_id = connect(retailer, supplier)
    product = supplier_product(supplier, wholesale="18.00")
    catalog = retailer.get(f"/connections/{connection_id}/products").json()["products"]
    assert [p["id"] for p in catalog] == [product["id"]]
    assert catalog[0]["variants"][0]["wholesale_price"] == "18.00"
    assert supplier.get(f"/connections/{connection_id}/products").status_code == 404


def test_an_imported_product_sells_the_suppliers_stock(make_store):
    network = build(make_store, quantity=7, price="59.00")
    variant = network.variant
    assert variant["linked_variant_id"] == network.supplier_variant["id"]
    assert (variant["price"], variant["wholesale_price"], variant["available"]) == ("59.00", "18.00", 7)
    assert variant["on_hand"] is None  # no stock of its own
    network.retailer.place_order(variant["id"], 2)
    assert network.retailer.variant(variant["id"])["available"] == 5
    supplier_stock = network.supplier.variant(network.supplier_variant["id"])
    assert (supplier_stock["available"], supplier_stock["committed"]) == (5, 2)


def test_an_import_keeps_the_suppliers_price_unless_told_and_can_retitle(stores):
    retailer, supplier = stores
    connect(retailer, supplier)
    product = supplier_product(supplier, price="40.00")
    imported = import_product(retailer, product["id"], title="Marinière")
    assert (imported["title"], imported["variants"][0]["price"], imported["vendor"]) == (
        "Marinière",
        "40.00",
        "Atelier Nord",
    )


def test_an_unconnected_retailer_cannot_import(stores):
    retailer, supplier = stores
    product = supplier_product(supplier)
    response = retailer.post("/products/import", {"supplier_product_id": product["id"]})
    assert response.status_code == 404


def test_a_product_is_imported_once(stores):
    retailer, supplier = stores
    connect(retailer, supplier)
    product = supplier_product(supplier)
    import_product(retailer, product["id"])
    assert retailer.post("/products/import", {"supplier_product_id": product["id"]}).status_code == 409


def test_a_product_without_wholesale_price_cannot_be_imported(stores):
    retailer, supplier = stores
    connect(retailer, supplier)
    product = supplier.post("/products", {"title": "Tee", "variants": [{"price": "20.00"}]}).json()
    response = retailer.post("/products/import", {"supplier_product_id": product["id"]})
    assert response.status_code == 422


def test_a_linked_variants_stock_is_set_by_its_supplier_only(make_store):
    network = build(make_store)
    response = network.retailer.post("/inventory/set", {"variant_id": network.variant["id"], "available": 99})
    assert response.status_code == 409
    assert (
        network.supplier.post(
            "/inventory/set", {"variant_id": network.supplier_variant["id"], "available": 3}
        ).status_code
        == 200
    )
    assert network.retailer.variant(network.variant["id"])["available"] == 3


def test_two_retailers_share_one_suppliers_stock(make_store):
    network = build(make_store, quantity=3)
    other = make_store("Boutique Sud")
    connect(other, network.supplier)
    theirs = import_product(other, network.supplier_variant["product_id"])["variants"][0]
    network.retailer.place_order(network.variant["id"], 2)
    assert other.variant(theirs["id"])["available"] == 1
    assert other.checkout(theirs["id"], 2).status_code == 409
    other.place_order(theirs["id"], 1)
    assert network.retailer.checkout(network.variant["id"], 1).status_code == 409
