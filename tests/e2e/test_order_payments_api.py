"""Capture, mark as paid, authorisation expiry."""

import pytest


@pytest.fixture
def manual(make_store):
    return make_store("Atelier Manuel", capture="manual")


def test_capturing_an_authorised_order_makes_it_paid(manual):
    variant = manual.product(price="30.00")
    order = manual.place_order(variant["id"])
    response = manual.post(f"/orders/{order['id']}/capture")
    assert response.status_code == 200
    captured = response.json()
    assert (captured["financial_status"], captured["total_captured"]) == ("paid", "30.00")
    assert [t["kind"] for t in captured["transactions"]] == ["authorization", "capture"]
    assert "capture" not in captured["allowed_actions"]


def test_a_partial_capture_leaves_the_order_partially_paid(manual):
    variant = manual.product(price="30.00")
    order = manual.place_order(variant["id"])
    captured = manual.post(f"/orders/{order['id']}/capture", {"amount": "10.00"}).json()
    assert (captured["financial_status"], captured["total_outstanding"]) == ("partially_paid", "20.00")


def test_capturing_more_than_authorised_is_refused_and_changes_nothing(manual):
    variant = manual.product(price="30.00")
    order = manual.place_order(variant["id"])
    response = manual.post(f"/orders/{order['id']}/capture", {"amount": "30.01"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "amount"
    assert manual.order(order["id"])["financial_status"] == "authorized"


def test_a_paid_order_cannot_be_captured(shop):
    variant = shop.product()
    order = shop.place_order(variant["id"])
    response = shop.post(f"/orders/{order['id']}/capture")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"
    assert len(shop.order(order["id"])["transactions"]) == 1


def test_a_retried_capture_with_the_same_key_captures_once(manual, runtime):
    variant = manual.product(price="30.00")
    order = manual.place_order(variant["id"])
    first = manual.post(f"/orders/{order['id']}/capture", key="cap")
    again = manual.post(f"/orders/{order['id']}/capture", key="cap")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert [t["kind"] for t in manual.order(order["id"])["transactions"]] == ["authorization", "capture"]


def test_an_authorisation_expires_after_seven_days(manual, clock, worker):
    variant = manual.product()
    order = manual.place_order(variant["id"])
    clock.advance(days=7, seconds=-1)
    worker.run_until_idle()
    assert manual.order(order["id"])["financial_status"] == "authorized"
    clock.advance(seconds=1)
    worker.run_until_idle()
    expired = manual.order(order["id"])
    assert expired["financial_status"] == "expired"
    assert expired["events"][-1]["actor"]["kind"] == "worker"
    assert "capture" not in expired["allowed_actions"]


def test_an_expired_order_can_be_marked_as_paid(manual, clock, worker):
    variant = manual.product(price="12.00")
    order = manual.place_order(variant["id"])
    clock.advance(days=8)
    worker.run_until_idle()
    response = manual.post(f"/orders/{order['id']}/mark_as_paid")
    assert response.status_code == 200
    paid = response.json()
    assert (paid["financial_status"], paid["total_captured"]) == ("paid", "12.00")
    assert paid["transactions"][-1]["gateway"] == "manual"


def test_a_captured_order_does_not_expire(manual, clock, worker):
    variant = manual.product()
    order = manual.place_order(variant["id"])
    manual.post(f"/orders/{order['id']}/capture")
    clock.advance(days=8)
    worker.run_until_idle()
    assert manual.order(order["id"])["financial_status"] == "paid"


def test_a_paid_order_cannot_be_marked_as_paid(shop):
    order = shop.place_order(shop.product()["id"])
    assert shop.post(f"/orders/{order['id']}/mark_as_paid").status_code == 409


def test_an_authorised_order_cannot_be_marked_as_paid(manual):
    order = manual.place_order(manual.product()["id"])
    assert manual.post(f"/orders/{order['id']}/mark_as_paid").status_code == 409
    assert manual.order(order["id"])["financial_status"] == "authorized"
