"""Automation rules: a CEL condition over the paid order, and hold / cancel / tag."""

import pytest

from tests.support.api import ADDRESS
from tests.support.network import build


def _rule(store, condition, action="hold", name="Big foreign orders"):
    return store.post("/automation_rules", {"name": name, "condition": condition, "action": action})


def test_a_rule_is_saved_and_listed_with_the_values_it_may_use(shop):
    response = _rule(
        shop,
        "total > 500.0 && shipping_country != billing_country",
        {"type": "hold", "reason": "high_risk_of_fraud"},
    )
    assert response.status_code == 201
    listed = shop.get("/automation_rules").json()
    assert listed["rules"] == [response.json()]
    assert "shipping_country" in listed["variables"]


@pytest.mark.parametrize(
    "condition, words",
    [
        ("total >", "cannot read"),
        ("colour == 'red'", "unknown value colour"),
        ("total", "true or false"),
    ],
)
def test_a_bad_condition_is_refused_with_the_reason(shop, condition, words):
    response = _rule(shop, condition)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "condition" and words in error["message"]
    assert shop.get("/automation_rules").json()["rules"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "n" * 201, "condition": "total > 1.0", "action": "cancel"}, "name"),
        (
            {"name": "tag", "condition": "total > 1.0", "action": {"type": "tag", "tag": "t" * 101}},
            "action.tag",
        ),
    ],
)
def test_names_and_tags_longer_than_what_is_kept_are_refused(shop, body, field):
    response = shop.post("/automation_rules", body)

    assert response.status_code == 422 and response.json()["error"]["field"] == field
    assert shop.get("/automation_rules").json()["rules"] == []


def test_a_tag_rule_needs_its_tag(shop):
    response = _rule(shop, "total > 1.0", {"type": "tag"})
    assert response.status_code == 422 and response.json()["error"]["field"] == "action.tag"


def test_a_matching_rule_holds_the_paid_order_and_says_so(shop):
    _rule(shop, "total > 50.0", {"type": "hold", "reason": "high_risk_of_fraud"})
    big = shop.place_order(shop.product(price="60.00")["id"])
    small = shop.place_order(shop.product(price="10.00", sku="S")["id"])
    held = shop.order(big["id"])
    assert held["fulfillment_status"] == "on_hold"
    assert held["holds"][0]["held_by"] == "Big foreign orders"
    assert [e["actor"]["kind"] for e in held["events"] if e["verb"] == "rule_matched"] == ["rule"]
    assert shop.order(small["id"])["fulfillment_status"] == "unfulfilled"


def test_a_rule_compares_shipping_and_billing_countries(shop):
    _rule(shop, "shipping_country != billing_country")
    variant = shop.product(quantity=5)
    same = shop.place_order(variant["id"])
    checkout = shop.post(
        "/checkouts",
        {
            "email": "far@example.com",
            "shipping_address": ADDRESS,
            "card_token": "tok_success",
            "billing_address": {**ADDRESS, "country_code": "US"},
            "line_items": [{"variant_id": variant["id"], "quantity": 1}],
        },
    ).json()
    foreign = shop.post(f"/checkouts/{checkout['id']}/complete").json()
    assert shop.order(same["id"])["fulfillment_status"] == "unfulfilled"
    assert shop.order(foreign["id"])["fulfillment_status"] == "on_hold"


def test_a_tag_rule_tags_first_orders(shop):
    _rule(shop, "customer_order_count == 1", {"type": "tag", "tag": "first-order"})
    variant = shop.product(quantity=5)
    first = shop.place_order(variant["id"], email="new@example.com")
    second = shop.place_order(variant["id"], email="new@example.com")
    assert shop.order(first["id"])["tags"] == ["first-order"]
    assert shop.order(second["id"])["tags"] == []


def test_a_cancel_rule_holds_at_once_then_cancels_and_refunds(shop, worker):
    _rule(shop, 'email_domain == "mailinator.com"', "cancel", name="Throwaway emails")
    variant = shop.product(quantity=5, price="30.00")
    order = shop.place_order(variant["id"], email="x@mailinator.com")
    assert shop.order(order["id"])["fulfillment_status"] == "on_hold"
    worker.run_until_idle()
    cancelled = shop.order(order["id"])
    assert (cancelled["status"], cancelled["financial_status"], cancelled["cancel_reason"]) == (
        "cancelled",
        "refunded",
        "fraud",
    )
    assert shop.variant(variant["id"])["available"] == 5


def test_rules_run_when_a_manual_capture_order_gets_paid(make_store):
    manual = make_store(capture="manual")
    _rule(manual, "total > 1.0")
    order = manual.place_order(manual.product()["id"])
    assert manual.order(order["id"])["fulfillment_status"] == "unfulfilled"  # authorised, not paid
    manual.post(f"/orders/{order['id']}/capture")
    assert manual.order(order["id"])["fulfillment_status"] == "on_hold"


def test_a_rule_hold_keeps_the_order_from_the_supplier(make_store, clock, worker):
    network = build(make_store)
    _rule(network.retailer, "has_supplier_items && quantity >= 2")
    order = network.retailer.place_order(network.variant["id"], 2)
    [supplier_order] = network.retailer.order(order["id"])["supplier_orders"]
    assert supplier_order["status"] == "on_hold"
    clock.advance(minutes=5)
    worker.run_until_idle()
    assert network.supplier.get("/supplier_orders").json()["supplier_orders"] == []


def test_rules_belong_to_their_store(shop, make_store):
    rule = _rule(shop, "total > 1.0").json()
    other = make_store("Rival Shop")
    assert other.get("/automation_rules").json()["rules"] == []
    assert other.delete(f"/automation_rules/{rule['id']}").status_code == 404
    assert shop.delete(f"/automation_rules/{rule['id']}").status_code == 204
    assert shop.get("/automation_rules").json()["rules"] == []
