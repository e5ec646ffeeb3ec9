"""Every resource that can be created can be listed: newest first, `limit` and an opaque cursor."""

import itertools

import pytest

from tests.support.network import build

serial = itertools.count(1)


def _product(store) -> int:
    n = next(serial)
    response = store.post(
        "/products",
        {"title": f"Shirt {n}", "variants": [{"sku": f"S-{n}", "price": "5.00", "inventory_quantity": 5}]},
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _customer(store) -> int:
    response = store.post("/customers", {"email": f"buyer{next(serial)}@example.com"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _selling_plan(store) -> int:
    return store.selling_plan([store.product(sku=f"P-{next(serial)}")["id"]])["id"]


def _webhook(store) -> int:
    response = store.post(
        "/webhooks", {"topic": "orders/create", "address": f"http://127.0.0.1:9/{next(serial)}"}
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _rule(store) -> int:
    body = {"name": f"Rule {next(serial)}", "condition": "total > 500.0", "action": "hold"}
    response = store.post("/automation_rules", body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _order(store) -> int:
    return store.place_order(store.product(sku=f"O-{next(serial)}")["id"])["id"]


LISTS = {
    "/products": ("products", _product),
    "/customers": ("customers", _customer),
    "/selling_plans": ("selling_plans", _selling_plan),
    "/webhooks": ("webhooks", _webhook),
    "/automation_rules": ("rules", _rule),
    "/orders": ("orders", _order),
}


def _walk(store, path: str, key: str, *, limit: int, between_pages=None) -> list[int]:
    seen, cursor = [], None
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = store.get(path, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) >= {key, "next_cursor"}
        assert len(body[key]) <= limit
        seen += [item["id"] for item in body[key]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
        if between_pages:
            between_pages()


@pytest.mark.parametrize("path", list(LISTS))
def test_a_list_is_newest_first_in_pages_without_gaps_or_repeats(path, make_store, allow_private_webhooks):
    key, create = LISTS[path]
    shop, other = make_store("Maison Camille"), make_store("Elsewhere")
    made = [create(shop) for _ in range(5)]
    create(other)
    assert _walk(shop, path, key, limit=2) == sorted(made, reverse=True)


@pytest.mark.parametrize("path", list(LISTS))
def test_rows_created_between_pages_neither_repeat_nor_hide_a_row(path, make_store, allow_private_webhooks):
    key, create = LISTS[path]
    shop = make_store("Maison Camille")
    made = [create(shop) for _ in range(5)]
    added = []
    walked = _walk(shop, path, key, limit=2, between_pages=lambda: added.append(create(shop)))
    assert len(walked) == len(set(walked))
    assert walked == sorted(made, reverse=True)
    assert added and all(a > max(made) for a in added)
    first_page = shop.get(path, params={"limit": 1}).json()[key]
    assert [item["id"] for item in first_page] == [max(added)]


def test_supplier_orders_are_listed_in_pages_to_the_retailer(make_store):
    network = build(make_store, quantity=20)
    orders = [network.retailer.place_order(network.variant["id"]) for _ in range(3)]
    walked = _walk(network.retailer, "/supplier_orders", "supplier_orders", limit=2)
    assert len(walked) == len(set(walked)) == 3
    assert walked == sorted(walked, reverse=True)
    listed = network.retailer.get("/supplier_orders").json()["supplier_orders"]
    assert sorted(s["order_id"] for s in listed) == sorted(o["id"] for o in orders)
    assert make_store("Elsewhere").get("/supplier_orders").json()["supplier_orders"] == []


@pytest.mark.parametrize("path", [*LISTS, "/supplier_orders"])
def test_a_cursor_that_the_list_did_not_give_out_is_refused(path, shop):
    response = shop.get(path, params={"cursor": "not-a-cursor"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "cursor"


@pytest.mark.parametrize("limit", [0, 251, "many"])
def test_a_limit_out_of_range_is_refused(limit, shop):
    response = shop.get("/products", params={"limit": limit})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "limit"


def test_products_import_is_not_taken_for_a_product_id(shop):
    response = shop.get("/products/import")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    product_id = _product(shop)
    assert shop.get(f"/products/{product_id}").json()["id"] == product_id
