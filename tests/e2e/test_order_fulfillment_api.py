"""Fulfilling the store's own items, with tracking."""


def test_fulfilling_everything_ships_the_stock_and_records_tracking(shop):
    variant = shop.product(quantity=5)
    order = shop.place_order(variant["id"], 2)
    response = shop.post(
        f"/orders/{order['id']}/fulfillments",
        {
            "tracking_company": "La Poste",
            "tracking_number": "6A123",
            "tracking_url": "https://www.laposte.fr/outils/suivre-vos-envois?code=6A123",
        },
    )
    assert response.status_code == 201
    fulfillment = response.json()
    assert fulfillment["tracking_number"] == "6A123"
    assert fulfillment["line_items"] == [{"line_item_id": order["line_items"][0]["id"], "quantity": 2}]
    shipped = shop.order(order["id"])
    assert shipped["fulfillment_status"] == "fulfilled"
    assert "fulfill" not in shipped["allowed_actions"]
    stock = shop.variant(variant["id"])
    assert (stock["on_hand"], stock["committed"], stock["available"]) == (3, 0, 3)


def test_a_partial_fulfilment_leaves_the_rest_to_ship(shop):
    order = shop.place_order(shop.product()["id"], 3)
    line = order["line_items"][0]["id"]
    shop.post(f"/orders/{order['id']}/fulfillments", {"line_items": [{"id": line, "quantity": 2}]})
    partial = shop.order(order["id"])
    assert partial["fulfillment_status"] == "partially_fulfilled"
    assert partial["line_items"][0]["fulfillable_quantity"] == 1
    shop.post(f"/orders/{order['id']}/fulfillments", {"line_item_ids": [line]})
    assert shop.order(order["id"])["fulfillment_status"] == "fulfilled"


def test_fulfilling_more_than_is_left_is_refused(shop):
    order = shop.place_order(shop.product()["id"], 1)
    line = order["line_items"][0]["id"]
    response = shop.post(f"/orders/{order['id']}/fulfillments", {"line_items": [{"id": line, "quantity": 2}]})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "line_items[0].quantity"
    assert shop.order(order["id"])["fulfillment_status"] == "unfulfilled"


def test_a_line_cannot_be_listed_twice(shop):
    order = shop.place_order(shop.product()["id"], 2)
    line = order["line_items"][0]["id"]
    response = shop.post(
        f"/orders/{order['id']}/fulfillments",
        {"line_items": [{"id": line, "quantity": 1}, {"id": line, "quantity": 1}]},
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "line_items[1].id"


def test_a_fulfilled_order_cannot_be_fulfilled_again(shop):
    order = shop.place_order(shop.product()["id"])
    shop.post(f"/orders/{order['id']}/fulfillments")
    assert shop.post(f"/orders/{order['id']}/fulfillments").status_code == 409


def test_a_tracking_url_must_be_http(shop):
    order = shop.place_order(shop.product()["id"])
    response = shop.post(f"/orders/{order['id']}/fulfillments", {"tracking_url": "javascript:alert(1)"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "tracking_url"


def test_a_retried_fulfilment_with_the_same_key_ships_once(shop):
    variant = shop.product(quantity=5)
    order = shop.place_order(variant["id"], 2)
    line = order["line_items"][0]["id"]
    body = {"line_items": [{"id": line, "quantity": 1}]}
    first = shop.post(f"/orders/{order['id']}/fulfillments", body, key="ship-1")
    again = shop.post(f"/orders/{order['id']}/fulfillments", body, key="ship-1")
    assert again.json() == first.json()
    assert len(shop.order(order["id"])["fulfillments"]) == 1
    assert shop.variant(variant["id"])["on_hand"] == 4


def test_a_cancelled_order_cannot_be_fulfilled(shop):
    order = shop.place_order(shop.product()["id"])
    shop.post(f"/orders/{order['id']}/cancel")
    assert shop.post(f"/orders/{order['id']}/fulfillments").status_code == 409


def test_an_order_can_be_archived_and_unarchived(shop):
    order = shop.place_order(shop.product()["id"])
    assert shop.post(f"/orders/{order['id']}/archive").json()["status"] == "archived"
    assert shop.post(f"/orders/{order['id']}/archive").status_code == 409
    assert shop.post(f"/orders/{order['id']}/unarchive").json()["status"] == "open"
    assert shop.post(f"/orders/{order['id']}/unarchive").status_code == 409
