"""Authentication, store scoping and the error format (SPEC §4)."""

import pytest


def test_a_call_without_a_token_is_refused_with_401(client):
    response = client.get("/api/v1/orders")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_a_wrong_token_is_refused_with_401(client, shop):
    response = client.get("/api/v1/orders", headers={"Authorization": "Bearer tdm_not-a-token"})
    assert response.status_code == 401


def test_a_token_is_stored_only_as_a_hash(runtime, shop):
    from sqlalchemy import select

    from tandem.stores.models import ApiToken

    with runtime.uow(read_only=True) as uow:
        hashes = list(uow.session.scalars(select(ApiToken.token_hash)))
    assert shop.token not in hashes
    assert len(hashes) == 1 and len(hashes[0]) == 64


@pytest.fixture
def other_store_order(make_store):
    other = make_store("Rival Shop")
    variant = other.product(quantity=5)
    order = other.place_order(variant["id"])
    return other, variant, order


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/orders/{order}"),
        ("post", "/orders/{order}/capture"),
        ("post", "/orders/{order}/mark_as_paid"),
        ("post", "/orders/{order}/holds/release"),
        ("post", "/orders/{order}/cancel"),
        ("post", "/orders/{order}/fulfillments"),
        ("post", "/orders/{order}/archive"),
        ("get", "/variants/{variant}"),
        ("get", "/products/{product}"),
        ("get", "/customers/{customer}"),
        ("get", "/checkouts/{checkout}"),
        ("post", "/checkouts/{checkout}/complete"),
    ],
)
def test_another_stores_resources_are_not_found(shop, other_store_order, method, path):
    other, variant, order = other_store_order
    url = path.format(
        order=order["id"],
        variant=variant["id"],
        product=variant["product_id"],
        customer=order["customer_id"],
        checkout=order["checkout_id"],
    )
    response = getattr(shop, method)(url)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert other.order(order["id"])["financial_status"] == "paid"
    assert other.order(order["id"])["status"] == "open"


def test_another_stores_order_does_not_appear_in_the_list(shop, other_store_order):
    assert shop.get("/orders").json()["orders"] == []


def test_another_stores_variant_cannot_be_bought_or_restocked(shop, other_store_order):
    _, variant, _ = other_store_order
    response = shop.checkout(variant["id"])
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "line_items[0].variant_id"
    assert shop.post("/inventory/set", {"variant_id": variant["id"], "available": 99}).status_code == 404


def test_malformed_json_is_a_400_not_a_500(shop):
    response = shop.client.post(
        "/api/v1/checkouts",
        content=b'{"line_items": [',
        headers={"Authorization": f"Bearer {shop.token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


def test_a_validation_error_names_the_field(shop):
    variant = shop.product()
    response = shop.checkout(variant["id"], quantity=0)
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] == "invalid"
    assert body["field"] == "line_items[0].quantity"


def test_unknown_fields_are_refused(shop):
    response = shop.post("/customers", {"email": "a@example.com", "favourite_colour": "blue"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "favourite_colour"


@pytest.mark.parametrize(
    "path", ["/orders/0", "/orders/-1", "/orders/abc", "/orders/99999999999999999999999"]
)
def test_impossible_ids_are_422_and_never_a_500(shop, path):
    assert shop.get(path).status_code == 422


def test_nul_characters_in_text_are_refused(shop):
    response = shop.post("/customers", {"email": "a@example.com", "first_name": "Ann\x00e"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "first_name"


def test_nul_characters_in_a_search_are_refused(shop):
    assert shop.get("/orders", params={"q": "a\x00b"}).status_code == 422


def test_an_unknown_route_answers_in_the_error_format(shop):
    response = shop.get("/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_openapi_document_is_served(client):
    document = client.get("/openapi.json").json()
    assert "/api/v1/checkouts/{checkout_id}/complete" in document["paths"]
