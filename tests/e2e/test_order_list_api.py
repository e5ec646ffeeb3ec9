"""The orders list: Unfulfilled / Unpaid tabs, search, sort, cursor pagination."""

import pytest


@pytest.fixture
def orders(make_store, clock, worker):
    """Orders in several states in one manual-capture store."""
    shop = make_store("Atelier", capture="manual")
    variant = shop.product(quantity=50, price="10.00")
    made = {}
    made["authorized"] = shop.place_order(variant["id"], 1, email="auth@example.com")
    clock.advance(minutes=1)
    made["paid"] = shop.place_order(variant["id"], 2, email="paid@example.com")
    shop.post(f"/orders/{made['paid']['id']}/capture")
    clock.advance(minutes=1)
    made["fulfilled"] = shop.place_order(variant["id"], 3, email="shipped@example.com")
    shop.post(f"/orders/{made['fulfilled']['id']}/capture")
    shop.post(f"/orders/{made['fulfilled']['id']}/fulfillments")
    clock.advance(minutes=1)
    made["cancelled"] = shop.place_order(variant["id"], 4, email="gone@example.com")
    shop.post(f"/orders/{made['cancelled']['id']}/cancel")
    return shop, {k: v["id"] for k, v in made.items()}


def _ids(shop, **params) -> list[int]:
    response = shop.get("/orders", params=params)
    assert response.status_code == 200, response.text
    return [o["id"] for o in response.json()["orders"]]


def test_orders_are_listed_newest_first(orders):
    shop, ids = orders
    assert _ids(shop) == [ids["cancelled"], ids["fulfilled"], ids["paid"], ids["authorized"]]


def test_the_unpaid_tab_lists_pending_authorized_partially_paid_and_expired(orders):
    shop, ids = orders
    assert _ids(shop, financial_status="unpaid") == [ids["authorized"]]


def test_the_unfulfilled_tab_hides_fulfilled_and_cancelled_orders(orders):
    shop, ids = orders
    assert _ids(shop, fulfillment_status="unfulfilled") == [ids["paid"], ids["authorized"]]


def test_exact_statuses_can_be_combined(orders):
    shop, ids = orders
    assert _ids(shop, financial_status="paid,voided") == [ids["cancelled"], ids["fulfilled"], ids["paid"]]
    assert _ids(shop, status="cancelled") == [ids["cancelled"]]


def test_an_unknown_filter_value_is_refused(orders):
    shop, _ = orders
    response = shop.get("/orders", params={"financial_status": "rich"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "financial_status"


def test_orders_can_be_sorted_by_total(orders):
    shop, ids = orders
    assert _ids(shop, sort="total") == [ids["authorized"], ids["paid"], ids["fulfilled"], ids["cancelled"]]


def test_an_unknown_sort_is_refused(orders):
    shop, _ = orders
    assert shop.get("/orders", params={"sort": "colour"}).status_code == 422


def test_orders_can_be_found_by_email_or_number(orders):
    shop, ids = orders
    assert _ids(shop, q="shipped@") == [ids["fulfilled"]]
    number = shop.order(ids["paid"])["number"]
    assert _ids(shop, q=f"#{number}") == [ids["paid"]]
    assert _ids(shop, q="100%_") == []


def test_pages_follow_the_cursor_without_gaps_or_repeats(orders):
    shop, ids = orders
    seen, cursor = [], None
    while True:
        params = {"limit": 1, "sort": "created_at"} | ({"cursor": cursor} if cursor else {})
        page = shop.get("/orders", params=params).json()
        seen += [o["id"] for o in page["orders"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [ids["authorized"], ids["paid"], ids["fulfilled"], ids["cancelled"]]


def test_a_forged_cursor_is_refused(orders):
    shop, _ = orders
    response = shop.get("/orders", params={"cursor": "bm9wZQ"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "cursor"
