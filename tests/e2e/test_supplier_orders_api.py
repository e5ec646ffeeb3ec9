"""Supplier orders: the 2-minute review window, holds, manual capture, collective payments,
and the supplier's fulfilment copied to the retailer order (SPEC §2.3)."""

import pytest

from tests.support.mail import parts
from tests.support.network import build


def _supplier_order(network, order) -> dict:
    [supplier_order] = network.retailer.order(order["id"])["supplier_orders"]
    return supplier_order


def _reload(store, supplier_order_id) -> dict:
    response = store.get(f"/supplier_orders/{supplier_order_id}")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def network(make_store):
    return build(make_store)


def test_a_paid_order_waits_two_minutes_before_reaching_the_supplier(network, clock, worker):
    order = network.retailer.place_order(network.variant["id"], 2)
    supplier_order = _supplier_order(network, order)
    assert (supplier_order["status"], supplier_order["release_at"]) == ("scheduled", "2026-11-22T09:02:00Z")
    assert network.retailer.order(order["id"])["fulfillment_status"] == "scheduled"
    assert network.supplier.get(f"/supplier_orders/{supplier_order['id']}").status_code == 404
    assert network.supplier.get("/supplier_orders").json()["supplier_orders"] == []
    clock.advance(seconds=119)
    worker.run_until_idle()
    assert _reload(network.retailer, supplier_order["id"])["status"] == "scheduled"
    clock.advance(seconds=1)
    worker.run_until_idle()
    opened = _reload(network.supplier, supplier_order["id"])
    assert opened["status"] == "open" and opened["order_id"] is None
    assert opened["shipping_address"]["city"] == "Paris"
    assert [s["id"] for s in network.supplier.get("/supplier_orders").json()["supplier_orders"]] == [
        opened["id"]
    ]
    assert network.retailer.order(order["id"])["fulfillment_status"] == "in_progress"
    assert opened["events"][-1]["actor"]["kind"] == "worker"


def test_a_hold_inside_the_window_keeps_the_order_from_the_supplier(network, clock, worker):
    order = network.retailer.place_order(network.variant["id"])
    supplier_order = _supplier_order(network, order)
    network.retailer.post(f"/orders/{order['id']}/holds", {"reason": "high_risk_of_fraud"})
    assert _reload(network.retailer, supplier_order["id"])["status"] == "on_hold"
    clock.advance(minutes=5)
    worker.run_until_idle()
    assert _reload(network.retailer, supplier_order["id"])["status"] == "on_hold"
    assert network.supplier.get("/supplier_orders").json()["supplier_orders"] == []
    network.retailer.post(f"/orders/{order['id']}/holds/release")
    assert _reload(network.retailer, supplier_order["id"])["status"] == "open"  # at once: window passed


def test_releasing_a_hold_inside_the_window_waits_for_its_end(network, clock, worker):
    order = network.retailer.place_order(network.variant["id"])
    supplier_order = _supplier_order(network, order)
    network.retailer.post(f"/orders/{order['id']}/holds", {"reason": "other"})
    clock.advance(seconds=30)
    network.retailer.post(f"/orders/{order['id']}/holds/release")
    assert _reload(network.retailer, supplier_order["id"])["status"] == "scheduled"
    clock.advance(seconds=90)
    worker.run_until_idle()
    assert _reload(network.retailer, supplier_order["id"])["status"] == "open"


def test_cancelling_before_the_supplier_sees_it_cancels_it_directly(network, clock, worker):
    order = network.retailer.place_order(network.variant["id"], 2)
    supplier_order = _supplier_order(network, order)
    network.retailer.post(f"/orders/{order['id']}/cancel", {"reason": "fraud"})
    assert _reload(network.retailer, supplier_order["id"])["status"] == "cancelled"
    clock.advance(minutes=5)
    worker.run_until_idle()
    assert network.supplier.get("/supplier_orders").json()["supplier_orders"] == []
    assert network.supplier.variant(network.supplier_variant["id"])["available"] == 10


def test_an_order_already_with_the_supplier_cannot_be_cancelled_directly(network, clock, worker):
    order = network.retailer.place_order(network.variant["id"])
    clock.advance(seconds=120)
    worker.run_until_idle()
    assert network.retailer.post(f"/orders/{order['id']}/cancel").status_code == 409
    assert network.retailer.post(f"/orders/{order['id']}/holds", {"reason": "other"}).status_code == 409


def test_with_manual_capture_the_retailer_requests_fulfilment(make_store, clock, worker):
    network = build(make_store, capture="manual")
    order = network.retailer.place_order(network.variant["id"])
    supplier_order = _supplier_order(network, order)
    assert supplier_order["status"] == "awaiting_request"
    assert supplier_order["allowed_actions"] == ["request_fulfillment"]
    clock.advance(minutes=10)
    worker.run_until_idle()
    assert _reload(network.retailer, supplier_order["id"])["status"] == "awaiting_request"
    assert (
        network.supplier.post(f"/supplier_orders/{supplier_order['id']}/request_fulfillment").status_code
        == 404
    )
    requested = network.retailer.post(f"/supplier_orders/{supplier_order['id']}/request_fulfillment")
    assert requested.status_code == 200 and requested.json()["status"] == "open"
    again = network.retailer.post(f"/supplier_orders/{supplier_order['id']}/request_fulfillment")
    assert again.status_code == 409


def test_a_held_order_cannot_be_requested(make_store):
    network = build(make_store, capture="manual")
    order = network.retailer.place_order(network.variant["id"])
    supplier_order = _supplier_order(network, order)
    network.retailer.post(f"/orders/{order['id']}/holds", {"reason": "high_risk_of_fraud"})
    response = network.retailer.post(f"/supplier_orders/{supplier_order['id']}/request_fulfillment")
    assert response.status_code == 409
    assert _reload(network.retailer, supplier_order["id"])["status"] == "awaiting_request"


def test_without_automatic_payments_the_supplier_marks_the_payment_received(make_store, clock, worker):
    network = build(make_store, retailer_payments=True)  # only one side: not automatic
    network.supplier.patch("/store", {"supplier_shipping_fee": "4.50"})
    order = network.retailer.place_order(network.variant["id"], 2)
    clock.advance(seconds=120)
    worker.run_until_idle()
    supplier_order = _reload(network.supplier, _supplier_order(network, order)["id"])
    assert supplier_order["collective_payment"] == {
        "status": "pending",
        "amount": "40.50",
        "currency": "EUR",
        "automatic": False,
    }
    url = f"/supplier_orders/{supplier_order['id']}/payment/mark_received"
    assert network.retailer.post(url).status_code == 404
    assert network.supplier.post(url).json()["collective_payment"]["status"] == "paid"
    assert network.supplier.post(url).status_code == 409


def test_the_shipping_fee_is_the_one_set_when_the_order_was_placed(make_store, clock, worker):
    network = build(make_store)
    network.supplier.patch("/store", {"supplier_shipping_fee": "4.50"})
    order = network.retailer.place_order(network.variant["id"], 1)
    network.supplier.patch("/store", {"supplier_shipping_fee": "9.00"})
    clock.advance(seconds=120)
    worker.run_until_idle()
    assert _supplier_order(network, order)["collective_payment"]["amount"] == "22.50"


def test_with_automatic_payments_the_retailer_is_charged_when_it_opens(make_store, clock, worker):
    network = build(make_store, retailer_payments=True, supplier_payments=True)
    network.retailer.patch("/store", {"billing_card_token": "tok_success"})
    order = network.retailer.place_order(network.variant["id"], 2)
    clock.advance(seconds=120)
    worker.run_until_idle()
    payment = _supplier_order(network, order)["collective_payment"]
    assert payment == {"status": "paid", "amount": "36.00", "currency": "EUR", "automatic": True}


def test_automatic_payments_charge_even_for_an_unpaid_retailer_order(make_store, worker):
    network = build(make_store, capture="manual", retailer_payments=True, supplier_payments=True)
    network.retailer.patch("/store", {"billing_card_token": "tok_success"})
    order = network.retailer.place_order(network.variant["id"])
    assert order["financial_status"] == "authorized"
    network.retailer.post(f"/supplier_orders/{_supplier_order(network, order)['id']}/request_fulfillment")
    worker.run_until_idle()
    assert _supplier_order(network, order)["collective_payment"]["status"] == "paid"
    assert network.retailer.order(order["id"])["financial_status"] == "authorized"


def test_a_declined_billing_card_leaves_the_payment_failed(make_store, clock, worker):
    network = build(make_store, retailer_payments=True, supplier_payments=True)
    network.retailer.patch("/store", {"billing_card_token": "tok_decline"})
    order = network.retailer.place_order(network.variant["id"])
    clock.advance(seconds=120)
    worker.run_until_idle()
    supplier_order = _supplier_order(network, order)
    assert supplier_order["collective_payment"]["status"] == "failed"
    url = f"/supplier_orders/{supplier_order['id']}/payment/mark_received"
    assert network.supplier.post(url).json()["collective_payment"]["status"] == "paid"


def test_without_a_billing_card_the_automatic_payment_fails_visibly(make_store, runtime, clock, worker):
    network = build(make_store, retailer_payments=True, supplier_payments=True)
    _forget_billing_card(runtime, network.retailer.store_id)  # a store from before cards were required
    order = network.retailer.place_order(network.variant["id"])
    clock.advance(seconds=120)
    worker.run_until_idle()
    supplier_order = _reload(network.retailer, _supplier_order(network, order)["id"])
    assert supplier_order["collective_payment"]["status"] == "failed"
    assert supplier_order["events"][-1]["data"]["message"] == "the retailer has no billing card"


def test_an_unknown_billing_card_token_is_refused(make_store):
    network = build(make_store)
    response = network.retailer.patch("/store", {"billing_card_token": "tok_nope"})
    assert response.status_code == 422 and response.json()["error"]["field"] == "billing_card_token"


def test_the_suppliers_fulfilment_reaches_the_customer_from_the_retailer(make_store, clock, worker, smtp):
    network = build(make_store, retailer_locale="fr")
    order = network.retailer.place_order(network.variant["id"], 2, email="lea@example.com")
    clock.advance(seconds=120)
    worker.run_until_idle()
    supplier_order = _supplier_order(network, order)
    response = network.supplier.post(
        f"/supplier_orders/{supplier_order['id']}/fulfillments",
        {
            "tracking_company": "Colissimo",
            "tracking_number": "8R00000000001",
            "tracking_url": "https://www.laposte.fr/outils/suivre-vos-envois?code=8R00000000001",
        },
    )
    assert response.status_code == 201
    shipped = network.retailer.order(order["id"])
    assert shipped["fulfillment_status"] == "fulfilled"
    assert shipped["fulfillments"][0]["tracking_number"] == "8R00000000001"
    assert shipped["supplier_orders"][0]["status"] == "fulfilled"
    stock = network.supplier.variant(network.supplier_variant["id"])
    assert (stock["on_hand"], stock["committed"]) == (8, 0)
    worker.run_until_idle()
    customer_mails = [m for m in smtp.wait_for(3) if m["To"] == "lea@example.com"]
    shipping = [m for m in customer_mails if "8R00000000001" in parts(m)["plain"]]
    assert len(shipping) == 1
    assert shipping[0]["From"] == f"Maison Camille <{network.retailer.staff_email}>"
    assert "expédi" in parts(shipping[0])["plain"]  # the retailer's language
    supplier_mails = smtp.to(network.supplier.staff_email)
    assert len(supplier_mails) == 1  # the new supplier order, and nothing sent to customers from it


def test_a_partial_fulfilment_leaves_both_orders_partially_fulfilled(network, clock, worker):
    order = network.retailer.place_order(network.variant["id"], 3)
    clock.advance(seconds=120)
    worker.run_until_idle()
    supplier_order = _supplier_order(network, order)
    line = supplier_order["line_items"][0]["id"]
    url = f"/supplier_orders/{supplier_order['id']}/fulfillments"
    body = {"tracking_company": "DHL", "tracking_number": "1", "line_items": [{"id": line, "quantity": 1}]}
    assert network.supplier.post(url, body).status_code == 201
    assert network.retailer.order(order["id"])["fulfillment_status"] == "partially_fulfilled"
    assert _reload(network.supplier, supplier_order["id"])["status"] == "partially_fulfilled"
    assert network.supplier.post(url, {"tracking_company": "DHL", "tracking_number": "2"}).status_code == 201
    assert network.retailer.order(order["id"])["fulfillment_status"] == "fulfilled"
    assert network.supplier.post(url, {"tracking_company": "DHL", "tracking_number": "3"}).status_code == 409


def test_fulfilling_more_than_ordered_is_refused(network, clock, worker):
    order = network.retailer.place_order(network.variant["id"], 1)
    clock.advance(seconds=120)
    worker.run_until_idle()
    supplier_order = _supplier_order(network, order)
    response = network.supplier.post(
        f"/supplier_orders/{supplier_order['id']}/fulfillments",
        {
            "tracking_company": "DHL",
            "tracking_number": "1",
            "line_items": [{"id": supplier_order["line_items"][0]["id"], "quantity": 2}],
        },
    )
    assert response.status_code == 422
    assert _reload(network.supplier, supplier_order["id"])["status"] == "open"


def test_only_the_supplier_fulfils_supplier_items(network, clock, worker):
    order = network.retailer.place_order(network.variant["id"])
    supplier_order = _supplier_order(network, order)
    url = f"/supplier_orders/{supplier_order['id']}/fulfillments"
    body = {"tracking_company": "DHL", "tracking_number": "1"}
    assert network.supplier.post(url, body).status_code == 404  # not open yet: it does not exist for them
    clock.advance(seconds=120)
    worker.run_until_idle()
    assert network.retailer.post(url, body).status_code == 404
    assert network.retailer.post(f"/orders/{order['id']}/fulfillments").status_code == 409


def test_supplier_order_webhooks_reach_both_stores(network, clock, worker, receiver, allow_private_webhooks):
    for store in (network.retailer, network.supplier):
        for topic in ("supplier_orders/created", "supplier_orders/fulfilled"):
            store.post("/webhooks", {"topic": topic, "address": receiver.url(f"/{store.store_id}")})
    order = network.retailer.place_order(network.variant["id"])
    clock.advance(seconds=120)
    worker.run_until_idle()
    supplier_order = _supplier_order(network, order)
    network.supplier.post(
        f"/supplier_orders/{supplier_order['id']}/fulfillments",
        {"tracking_company": "DHL", "tracking_number": "1"},
    )
    worker.run_until_idle()
    got = sorted((r.path, r.headers["X-Tandem-Topic"], r.json()["order_id"]) for r in receiver.wait_for(4))
    assert got == sorted(
        [
            (f"/{network.retailer.store_id}", "supplier_orders/created", order["id"]),
            (f"/{network.retailer.store_id}", "supplier_orders/fulfilled", order["id"]),
            (f"/{network.supplier.store_id}", "supplier_orders/created", None),
            (f"/{network.supplier.store_id}", "supplier_orders/fulfilled", None),
        ]
    )


def test_a_mixed_order_ships_own_items_and_waits_for_the_supplier(network, clock, worker):
    own = network.retailer.product(quantity=5, sku="OWN")
    from tests.support.api import ADDRESS

    checkout = network.retailer.post(
        "/checkouts",
        {
            "email": "mix@example.com",
            "shipping_address": ADDRESS,
            "card_token": "tok_success",
            "line_items": [
                {"variant_id": own["id"], "quantity": 1},
                {"variant_id": network.variant["id"], "quantity": 1},
            ],
        },
    ).json()
    order = network.retailer.post(f"/checkouts/{checkout['id']}/complete").json()
    assert network.retailer.post(f"/orders/{order['id']}/fulfillments").status_code == 201
    assert network.retailer.order(order["id"])["fulfillment_status"] == "partially_fulfilled"
    clock.advance(seconds=120)
    worker.run_until_idle()
    supplier_order = _supplier_order(network, order)
    assert [line["title"] for line in supplier_order["line_items"]] == ["Pull marin M"]
    network.supplier.post(
        f"/supplier_orders/{supplier_order['id']}/fulfillments",
        {"tracking_company": "DHL", "tracking_number": "1"},
    )
    assert network.retailer.order(order["id"])["fulfillment_status"] == "fulfilled"


def _forget_billing_card(runtime, store_id: int) -> None:
    from tandem.stores.models import Store

    with runtime.uow() as uow:
        store = uow.session.get(Store, store_id)
        store.billing_card_reference = store.billing_card_last4 = None
        uow.commit()
