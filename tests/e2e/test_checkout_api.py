"""Checkout: reserve, pay, turn into an order; never oversell, never undersell."""

from tests.support.api import ADDRESS


def test_a_checkout_reserves_its_stock_until_reserved_until(shop, clock):
    variant = shop.product(quantity=5)
    response = shop.checkout(variant["id"], 2)
    assert response.status_code == 201
    checkout = response.json()
    assert checkout["status"] == "open"
    assert checkout["total"] == "50.00"
    assert checkout["reserved_until"] == "2026-11-22T09:10:00Z"
    assert shop.variant(variant["id"])["available"] == 3


def test_a_checkout_for_more_than_is_available_is_409_and_reserves_nothing(shop):
    variant = shop.product(quantity=2)
    response = shop.checkout(variant["id"], 3)
    assert response.status_code == 409
    error = response.json()["error"]
    assert (error["code"], error["available"], error["requested"]) == ("out_of_stock", 2, 3)
    assert shop.variant(variant["id"])["available"] == 2


def test_a_multi_line_checkout_reserves_all_lines_or_none(shop):
    plenty, scarce = shop.product(quantity=10, sku="A"), shop.product(quantity=1, sku="B")
    body = {
        "email": "a@example.com",
        "shipping_address": ADDRESS,
        "card_token": "tok_success",
        "line_items": [
            {"variant_id": plenty["id"], "quantity": 2},
            {"variant_id": scarce["id"], "quantity": 2},
        ],
    }
    assert shop.post("/checkouts", body).status_code == 409
    assert shop.variant(plenty["id"])["available"] == 10


def test_lines_for_the_same_variant_are_merged(shop):
    variant = shop.product(quantity=5)
    body = {
        "email": "a@example.com",
        "shipping_address": ADDRESS,
        "card_token": "tok_success",
        "line_items": [
            {"variant_id": variant["id"], "quantity": 1},
            {"variant_id": variant["id"], "quantity": 2},
        ],
    }
    checkout = shop.post("/checkouts", body).json()
    assert [(line["quantity"]) for line in checkout["line_items"]] == [3]


def test_a_checkout_needs_exactly_one_payment_source(shop):
    variant = shop.product()
    response = shop.checkout(variant["id"], card=None)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "card_token"


def test_a_checkout_needs_a_known_country(shop):
    variant = shop.product()
    response = shop.checkout(variant["id"], shipping_address={**ADDRESS, "country_code": "ZZ"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "shipping_address.country_code"


def test_completing_captures_the_payment_and_creates_a_paid_order(shop):
    variant = shop.product(quantity=5, price="25.00")
    checkout = shop.checkout(variant["id"], 2).json()
    response = shop.post(f"/checkouts/{checkout['id']}/complete")
    assert response.status_code == 201
    order = response.json()
    assert (order["financial_status"], order["fulfillment_status"], order["status"]) == (
        "paid",
        "unfulfilled",
        "open",
    )
    assert (order["name"], order["total"], order["total_captured"]) == ("#1001", "50.00", "50.00")
    assert [(t["kind"], t["status"], t["amount"]) for t in order["transactions"]] == [
        ("sale", "success", "50.00")
    ]
    assert [e["verb"] for e in order["events"]] == [
        "order_placed",
        "payment_captured",
        "financial_status_changed",
    ]
    stock = shop.variant(variant["id"])
    assert (stock["available"], stock["committed"], stock["reserved"]) == (3, 2, 0)
    assert shop.get(f"/checkouts/{checkout['id']}").json()["order_id"] == order["id"]


def test_a_manual_capture_store_only_authorises(make_store):
    shop = make_store(capture="manual")
    variant = shop.product()
    order = shop.place_order(variant["id"])
    assert order["financial_status"] == "authorized"
    assert order["total_captured"] == "0.00"
    assert order["transactions"][0]["kind"] == "authorization"


def test_a_declined_card_is_402_and_the_stock_is_free_again(shop):
    variant = shop.product(quantity=1)
    checkout = shop.checkout(variant["id"], card="tok_decline").json()
    response = shop.post(f"/checkouts/{checkout['id']}/complete")
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "payment_declined"
    assert shop.variant(variant["id"])["available"] == 1
    assert shop.get(f"/checkouts/{checkout['id']}").json()["status"] == "open"
    assert shop.get("/orders").json()["orders"] == []


def test_a_declined_checkout_can_be_completed_later_if_stock_remains(shop):
    variant = shop.product(quantity=1)
    checkout = shop.checkout(variant["id"], card="tok_decline_after_first").json()
    assert shop.post(f"/checkouts/{checkout['id']}/complete").status_code == 201


def test_a_gateway_error_is_402_and_keeps_the_reservation(shop):
    variant = shop.product(quantity=1)
    checkout = shop.checkout(variant["id"], card="tok_error").json()
    response = shop.post(f"/checkouts/{checkout['id']}/complete")
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "gateway_error"
    assert shop.variant(variant["id"])["reserved"] == 1


def test_a_card_needing_confirmation_is_charged_on_session_at_checkout(shop):
    variant = shop.product()
    assert shop.place_order(variant["id"], card="tok_requires_action")["financial_status"] == "paid"


def test_a_vaulted_card_can_pay(shop):
    customer = shop.post("/customers", {"email": "a@example.com"}).json()
    method = shop.post(f"/customers/{customer['id']}/payment_methods", {"card_token": "tok_success"}).json()
    variant = shop.product()
    body = {
        "customer_id": customer["id"],
        "payment_method_id": method["id"],
        "shipping_address": ADDRESS,
        "line_items": [{"variant_id": variant["id"], "quantity": 1}],
    }
    checkout = shop.post("/checkouts", body).json()
    order = shop.post(f"/checkouts/{checkout['id']}/complete").json()
    assert (order["financial_status"], order["customer_id"]) == ("paid", customer["id"])


def test_another_customers_card_cannot_pay(shop):
    owner = shop.post("/customers", {"email": "owner@example.com"}).json()
    method = shop.post(f"/customers/{owner['id']}/payment_methods", {"card_token": "tok_success"}).json()
    variant = shop.product()
    response = shop.checkout(variant["id"], card=None, payment_method_id=method["id"])
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "payment_method_id"


def test_a_completed_checkout_cannot_be_completed_again(shop):
    variant = shop.product(quantity=5)
    checkout = shop.checkout(variant["id"]).json()
    first = shop.post(f"/checkouts/{checkout['id']}/complete")
    again = shop.post(f"/checkouts/{checkout['id']}/complete")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "checkout_completed"
    assert again.json()["error"]["order_id"] == first.json()["id"]
    assert shop.variant(variant["id"])["committed"] == 1


def test_an_expired_reservation_frees_its_stock_for_the_next_buyer(shop, clock):
    variant = shop.product(quantity=1)
    abandoned = shop.checkout(variant["id"], email="first@example.com").json()
    assert shop.checkout(variant["id"], email="second@example.com").status_code == 409
    clock.advance(minutes=10)
    assert shop.variant(variant["id"])["available"] == 1
    order = shop.place_order(variant["id"], email="second@example.com")
    assert order["financial_status"] == "paid"
    response = shop.post(f"/checkouts/{abandoned['id']}/complete")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "out_of_stock"
    assert shop.variant(variant["id"])["available"] == 0


def test_a_checkout_completed_after_its_reservation_lapsed_gets_the_stock_again(shop, clock):
    variant = shop.product(quantity=1)
    checkout = shop.checkout(variant["id"]).json()
    clock.advance(minutes=30)
    response = shop.post(f"/checkouts/{checkout['id']}/complete")
    assert response.status_code == 201
    assert shop.variant(variant["id"])["committed"] == 1


def test_the_worker_gives_back_lapsed_reservations(shop, clock, worker):
    variant = shop.product(quantity=3)
    shop.checkout(variant["id"], 2)
    clock.advance(minutes=11)
    worker.run_until_idle()
    stock = shop.variant(variant["id"])
    assert (stock["reserved"], stock["available"], stock["on_hand"]) == (0, 3, 3)


def test_a_retried_completion_with_the_same_key_returns_the_same_order(shop):
    variant = shop.product(quantity=5)
    checkout = shop.checkout(variant["id"]).json()
    first = shop.post(f"/checkouts/{checkout['id']}/complete", key="complete-1")
    again = shop.post(f"/checkouts/{checkout['id']}/complete", key="complete-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(shop.get("/orders").json()["orders"]) == 1


def test_a_retried_decline_returns_the_same_402_without_charging_again(shop, runtime):
    variant = shop.product(quantity=1)
    checkout = shop.checkout(variant["id"], card="tok_decline").json()
    first = shop.post(f"/checkouts/{checkout['id']}/complete", key="k")
    again = shop.post(f"/checkouts/{checkout['id']}/complete", key="k")
    assert first.status_code == again.status_code == 402
    # The same answer; only the request id is this request's own (tandem.api.observing).
    assert _without_request_id(again.json()) == _without_request_id(first.json())
    assert again.json()["error"]["request_id"] == again.headers["x-request-id"]
    assert _gateway_operations(runtime) == 1


def test_a_key_reused_for_another_request_is_refused(shop):
    variant = shop.product(quantity=5)
    one, two = shop.checkout(variant["id"]).json(), shop.checkout(variant["id"]).json()
    assert shop.post(f"/checkouts/{one['id']}/complete", key="same").status_code == 201
    response = shop.post(f"/checkouts/{two['id']}/complete", key="same")
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "Idempotency-Key"
    assert shop.get(f"/checkouts/{two['id']}").json()["status"] == "open"


def test_keys_belong_to_one_store(shop, make_store):
    other = make_store("Other")
    mine, theirs = shop.product(), other.product()
    assert (
        shop.post(f"/checkouts/{shop.checkout(mine['id']).json()['id']}/complete", key="k").status_code == 201
    )
    response = other.post(f"/checkouts/{other.checkout(theirs['id']).json()['id']}/complete", key="k")
    assert response.status_code == 201


def _gateway_operations(runtime) -> int:
    from sqlalchemy import func, select

    from tandem.payments.test_gateway import TestGatewayOperation

    with runtime.uow(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(TestGatewayOperation))


def _without_request_id(body: dict) -> dict:
    return {**body, "error": {k: v for k, v in body["error"].items() if k != "request_id"}}
