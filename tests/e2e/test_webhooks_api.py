"""Webhook subscriptions and signed deliveries to a real HTTP receiver."""

import base64
import hashlib
import hmac

import pytest


def _subscribe(store, receiver, topic="orders/create") -> dict:
    response = store.post("/webhooks", {"topic": topic, "address": receiver.url()})
    assert response.status_code == 201, response.text
    return response.json()


def _valid_signature(secret: str, body: bytes, header: str) -> bool:
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, header)


def test_a_subscription_shows_its_secret_once(shop, receiver, allow_private_webhooks):
    created = _subscribe(shop, receiver)
    assert created["secret"].startswith("whsec_")
    listed = shop.get("/webhooks").json()["webhooks"]
    assert listed == [{k: v for k, v in created.items() if k != "secret"}]


def test_loopback_and_private_addresses_are_refused(shop):
    for address in (
        "http://127.0.0.1:8080/hook",
        "http://10.1.2.3/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://localhost/hook",
    ):
        response = shop.post("/webhooks", {"topic": "orders/create", "address": address})
        assert response.status_code == 422, address
        assert response.json()["error"]["field"] == "address"
    assert shop.get("/webhooks").json()["webhooks"] == []


@pytest.mark.parametrize("address", ["ftp://example.com/x", "file:///etc/passwd", "not a url"])
def test_only_http_addresses_are_accepted(shop, address):
    response = shop.post("/webhooks", {"topic": "orders/create", "address": address})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "address"


def test_an_unknown_topic_is_refused(shop, receiver, allow_private_webhooks):
    response = shop.post("/webhooks", {"topic": "orders/eaten", "address": receiver.url()})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "topic"


def test_a_new_order_is_posted_signed_with_the_order_as_the_api_shows_it(
    shop, receiver, worker, allow_private_webhooks
):
    secret = _subscribe(shop, receiver)["secret"]
    order = shop.place_order(shop.product()["id"])
    worker.run_until_idle()
    [request] = receiver.wait_for(1)
    assert request.headers["X-Tandem-Topic"] == "orders/create"
    assert request.headers["X-Tandem-Webhook-Id"]
    assert _valid_signature(secret, request.body, request.headers["X-Tandem-Hmac-SHA256"])
    body = request.json()
    assert (body["id"], body["name"], body["financial_status"]) == (order["id"], order["name"], "paid")
    assert body == {**shop.order(order["id"]), "events": body["events"], "updated_at": body["updated_at"]}


def test_a_failed_delivery_is_retried_within_ten_seconds_with_the_same_id(
    shop, receiver, worker, clock, allow_private_webhooks
):
    receiver.answers = [500]
    _subscribe(shop, receiver)
    shop.place_order(shop.product()["id"])
    worker.run_until_idle()
    assert len(receiver.wait_for(1)) == 1
    clock.advance(seconds=10)
    worker.run_until_idle()
    first, second = receiver.wait_for(2)
    assert first.headers["X-Tandem-Webhook-Id"] == second.headers["X-Tandem-Webhook-Id"]
    assert first.body == second.body
    [delivery] = shop.get("/webhook_deliveries").json()["deliveries"]
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == ("delivered", 2, 200)


def test_a_delivery_that_keeps_failing_is_marked_failed_and_can_be_resent(
    shop, receiver, worker, clock, allow_private_webhooks
):
    receiver.answers = [503] * 11
    _subscribe(shop, receiver)
    shop.place_order(shop.product()["id"])
    for _ in range(12):
        worker.run_until_idle()
        clock.advance(hours=25)
    [delivery] = shop.get("/webhook_deliveries", params={"status": "failed"}).json()["deliveries"]
    assert delivery["attempts"] == 11
    assert len(receiver.requests) == 11
    resent = shop.post(f"/webhook_deliveries/{delivery['id']}/resend")
    assert resent.json()["status"] == "pending"
    worker.run_until_idle()
    assert shop.get("/webhook_deliveries").json()["deliveries"][0]["status"] == "delivered"


def test_a_pending_delivery_cannot_be_resent(shop, receiver, allow_private_webhooks):
    _subscribe(shop, receiver)
    shop.place_order(shop.product()["id"])
    [delivery] = shop.get("/webhook_deliveries").json()["deliveries"]
    assert delivery["status"] == "pending"
    response = shop.post(f"/webhook_deliveries/{delivery['id']}/resend")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_pending"


def test_another_stores_subscription_never_receives_this_stores_events(
    shop, make_store, receiver, worker, allow_private_webhooks
):
    other = make_store("Rival Shop")
    _subscribe(other, receiver)
    shop.place_order(shop.product()["id"])
    worker.run_until_idle()
    assert receiver.requests == []
    assert other.get("/webhook_deliveries").json()["deliveries"] == []


def test_each_topic_fires_on_its_change(shop, receiver, worker, allow_private_webhooks):
    for topic in ("orders/paid", "orders/cancelled", "orders/fulfilled", "refunds/create"):
        _subscribe(shop, receiver, topic)
    variant = shop.product(quantity=5, price="20.00")
    shipped = shop.place_order(variant["id"])
    shop.post(f"/orders/{shipped['id']}/fulfillments")
    shop.post(f"/orders/{shipped['id']}/refunds", {"amount": "5.00"})
    cancelled = shop.place_order(variant["id"])
    shop.post(f"/orders/{cancelled['id']}/cancel")
    worker.run_until_idle()
    received = [
        (r.headers["X-Tandem-Topic"], r.json()["order_id" if "order_id" in r.json() else "id"])
        for r in receiver.wait_for(6)
    ]
    assert sorted(received) == sorted(
        [
            ("orders/paid", shipped["id"]),
            ("orders/fulfilled", shipped["id"]),
            ("refunds/create", shipped["id"]),
            ("orders/paid", cancelled["id"]),
            ("refunds/create", cancelled["id"]),
            ("orders/cancelled", cancelled["id"]),
        ]
    )


def test_deleting_a_subscription_cancels_what_it_had_not_received(
    shop, receiver, worker, allow_private_webhooks
):
    created = _subscribe(shop, receiver)
    shop.place_order(shop.product()["id"])
    assert shop.delete(f"/webhooks/{created['id']}").status_code == 204
    worker.run_until_idle()
    assert receiver.requests == []
    assert shop.get("/webhook_deliveries").json()["deliveries"][0]["status"] == "cancelled"
    assert shop.delete(f"/webhooks/{created['id']}").status_code == 404
    assert shop.get("/webhooks").json()["webhooks"] == []


def test_another_stores_subscription_cannot_be_deleted(shop, make_store, receiver, allow_private_webhooks):
    theirs = _subscribe(make_store("Rival Shop"), receiver)
    assert shop.delete(f"/webhooks/{theirs['id']}").status_code == 404


def test_an_address_that_turns_private_is_not_called(shop, receiver, worker, runtime, allow_private_webhooks):
    _subscribe(shop, receiver)
    runtime.settings = runtime.settings.model_copy(update={"webhook_allow_private_addresses": False})
    shop.place_order(shop.product()["id"])
    worker.run_until_idle()
    assert receiver.requests == []
    [delivery] = shop.get("/webhook_deliveries").json()["deliveries"]
    assert "private" in delivery["last_error"]
