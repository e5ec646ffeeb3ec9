"""Fulfilment holds (SPEC §2.5)."""


def test_an_order_can_carry_several_holds_and_is_held_until_the_last_is_released(shop):
    order = shop.place_order(shop.product()["id"])
    first = shop.post(f"/orders/{order['id']}/holds", {"reason": "high_risk_of_fraud", "note": "odd email"})
    assert first.status_code == 201
    assert first.json()["fulfillment_status"] == "on_hold"
    second = shop.post(f"/orders/{order['id']}/holds", {"reason": "incorrect_address"}).json()
    hold_ids = [h["id"] for h in second["holds"]]
    partly = shop.post(f"/orders/{order['id']}/holds/release", {"hold_ids": hold_ids[:1]}).json()
    assert partly["fulfillment_status"] == "on_hold"
    released = shop.post(f"/orders/{order['id']}/holds/release", {"hold_ids": hold_ids[1:]}).json()
    assert released["fulfillment_status"] == "unfulfilled"
    assert all(h["released_at"] for h in released["holds"])
    assert [h["note"] for h in released["holds"]] == ["odd email", None]


def test_releasing_without_ids_releases_every_hold(shop):
    order = shop.place_order(shop.product()["id"])
    shop.post(f"/orders/{order['id']}/holds", {"reason": "other"})
    shop.post(f"/orders/{order['id']}/holds", {"reason": "awaiting_payment"})
    assert shop.post(f"/orders/{order['id']}/holds/release").json()["fulfillment_status"] == "unfulfilled"


def test_a_hold_is_in_the_timeline_with_its_actor(shop):
    order = shop.place_order(shop.product()["id"])
    held = shop.post(f"/orders/{order['id']}/holds", {"reason": "high_risk_of_fraud"}).json()
    event = [e for e in held["events"] if e["verb"] == "hold_placed"][0]
    assert event["actor"]["kind"] == "api"
    assert event["data"]["reason"] == "high_risk_of_fraud"


def test_an_unknown_hold_reason_is_refused(shop):
    order = shop.place_order(shop.product()["id"])
    response = shop.post(f"/orders/{order['id']}/holds", {"reason": "bored"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "reason"


def test_releasing_an_order_without_holds_is_409(shop):
    order = shop.place_order(shop.product()["id"])
    assert shop.post(f"/orders/{order['id']}/holds/release").status_code == 409


def test_releasing_an_unknown_hold_is_refused_and_releases_nothing(shop):
    order = shop.place_order(shop.product()["id"])
    shop.post(f"/orders/{order['id']}/holds", {"reason": "other"})
    response = shop.post(f"/orders/{order['id']}/holds/release", {"hold_ids": [999]})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "hold_ids[0]"
    assert shop.order(order["id"])["fulfillment_status"] == "on_hold"


def test_a_fulfilled_order_cannot_be_held(shop):
    order = shop.place_order(shop.product()["id"])
    shop.post(f"/orders/{order['id']}/fulfillments")
    response = shop.post(f"/orders/{order['id']}/holds", {"reason": "other"})
    assert response.status_code == 409
    assert shop.order(order["id"])["holds"] == []


def test_a_held_order_cannot_be_fulfilled(shop):
    order = shop.place_order(shop.product()["id"])
    shop.post(f"/orders/{order['id']}/holds", {"reason": "other"})
    assert shop.post(f"/orders/{order['id']}/fulfillments").status_code == 409
    assert shop.order(order["id"])["fulfillments"] == []


def test_a_partially_fulfilled_order_returns_to_partially_fulfilled_after_its_hold(shop):
    order = shop.place_order(shop.product()["id"], 2)
    line = order["line_items"][0]["id"]
    shop.post(f"/orders/{order['id']}/fulfillments", {"line_items": [{"id": line, "quantity": 1}]})
    shop.post(f"/orders/{order['id']}/holds", {"reason": "other"})
    released = shop.post(f"/orders/{order['id']}/holds/release").json()
    assert released["fulfillment_status"] == "partially_fulfilled"


def test_a_cancelled_order_cannot_be_held(shop):
    order = shop.place_order(shop.product()["id"])
    shop.post(f"/orders/{order['id']}/cancel")
    assert shop.post(f"/orders/{order['id']}/holds", {"reason": "other"}).status_code == 409
