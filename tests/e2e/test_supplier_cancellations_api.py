"""Cancelling a supplier order once the supplier has it (SPEC §2.3, seed 000)."""

import pytest

from tests.support.mail import parts
from tests.support.network import build


def _open(network, clock, worker, quantity=1, **store_options):
    order = network.retailer.place_order(network.variant["id"], quantity)
    clock.advance(seconds=120)
    worker.run_until_idle()
    [supplier_order] = network.retailer.order(order["id"])["supplier_orders"]
    return order, supplier_order


def _so(store, supplier_order_id) -> dict:
    return store.get(f"/supplier_orders/{supplier_order_id}").json()


@pytest.fixture
def network(make_store):
    return build(make_store)


def test_the_retailer_requests_and_the_supplier_accepts(network, clock, worker, smtp):
    order, supplier_order = _open(network, clock, worker, quantity=2)
    url = f"/supplier_orders/{supplier_order['id']}"
    requested = network.retailer.post(
        f"{url}/request_cancellation", {"message": "The customer changed her mind"}
    )
    assert requested.status_code == 200
    assert (requested.json()["cancellation_status"], requested.json()["status"]) == ("requested", "open")
    worker.run_until_idle()
    [mail] = [m for m in smtp.to(network.supplier.staff_email) if "changed her mind" in parts(m)["plain"]]
    accepted = network.supplier.post(f"{url}/cancellation/accept").json()
    assert (accepted["status"], accepted["cancellation_status"]) == ("cancelled", "accepted")
    assert network.supplier.variant(network.supplier_variant["id"])["available"] == 10
    retailer_order = network.retailer.order(order["id"])
    assert retailer_order["fulfillment_status"] == "unfulfilled"
    assert retailer_order["line_items"][0]["fulfillable_quantity"] == 0
    assert (
        "cancel" in retailer_order["allowed_actions"]
    )  # the retailer can now cancel and refund its customer
    worker.run_until_idle()
    assert len(smtp.to(network.retailer.staff_email)) == 1


def test_the_supplier_declines_and_the_retailer_may_ask_again(network, clock, worker, smtp):
    _, supplier_order = _open(network, clock, worker)
    url = f"/supplier_orders/{supplier_order['id']}"
    network.retailer.post(f"{url}/request_cancellation")
    declined = network.supplier.post(f"{url}/cancellation/decline", {"message": "Already packed"}).json()
    assert (declined["status"], declined["cancellation_status"], declined["cancellation_reason"]) == (
        "open",
        "declined",
        "Already packed",
    )
    worker.run_until_idle()
    [mail] = smtp.to(network.retailer.staff_email)
    assert "Already packed" in parts(mail)["plain"]
    again = network.retailer.post(f"{url}/request_cancellation")
    assert again.json()["cancellation_status"] == "requested"


def test_a_cancellation_cannot_be_requested_twice_in_a_row(network, clock, worker):
    _, supplier_order = _open(network, clock, worker)
    url = f"/supplier_orders/{supplier_order['id']}/request_cancellation"
    assert network.retailer.post(url).status_code == 200
    assert network.retailer.post(url).status_code == 409


def test_a_cancellation_cannot_be_requested_before_the_supplier_has_the_order(network):
    order = network.retailer.place_order(network.variant["id"])
    [supplier_order] = network.retailer.order(order["id"])["supplier_orders"]
    response = network.retailer.post(f"/supplier_orders/{supplier_order['id']}/request_cancellation")
    assert response.status_code == 409
    assert "cancel your own order" in response.json()["error"]["message"]


def test_a_cancellation_cannot_be_requested_once_something_shipped(network, clock, worker):
    _, supplier_order = _open(network, clock, worker, quantity=2)
    url = f"/supplier_orders/{supplier_order['id']}"
    network.supplier.post(
        f"{url}/fulfillments",
        {
            "tracking_company": "DHL",
            "tracking_number": "1",
            "line_items": [{"id": supplier_order["line_items"][0]["id"], "quantity": 1}],
        },
    )
    assert network.retailer.post(f"{url}/request_cancellation").status_code == 409
    network.supplier.post(f"{url}/fulfillments", {"tracking_company": "DHL", "tracking_number": "2"})
    assert network.retailer.post(f"{url}/request_cancellation").status_code == 409


def test_only_the_supplier_answers_and_only_a_pending_request(network, clock, worker):
    _, supplier_order = _open(network, clock, worker)
    url = f"/supplier_orders/{supplier_order['id']}"
    assert network.supplier.post(f"{url}/cancellation/accept").status_code == 409  # nothing requested
    network.retailer.post(f"{url}/request_cancellation")
    assert network.retailer.post(f"{url}/cancellation/accept").status_code == 404
    assert network.supplier.post(f"{url}/request_cancellation").status_code == 404
    network.supplier.post(f"{url}/cancellation/accept")
    assert network.supplier.post(f"{url}/cancellation/decline", {"message": "x"}).status_code == 409


def test_with_automatic_payments_a_request_before_collection_cancels_at_once(make_store, clock, worker):
    network = build(make_store, retailer_payments=True, supplier_payments=True)
    network.retailer.patch("/store", {"billing_card_token": "tok_decline"})  # the charge fails: not collected
    _, supplier_order = _open(network, clock, worker)
    assert _so(network.retailer, supplier_order["id"])["collective_payment"]["status"] == "failed"
    response = network.retailer.post(f"/supplier_orders/{supplier_order['id']}/request_cancellation")
    assert (response.json()["status"], response.json()["cancellation_status"]) == ("cancelled", "accepted")


def test_with_automatic_payments_a_collected_order_is_cancelled_after_the_delay(make_store, clock, worker):
    network = build(make_store, retailer_payments=True, supplier_payments=True)
    network.retailer.patch("/store", {"billing_card_token": "tok_success"})
    _, supplier_order = _open(network, clock, worker)
    network.retailer.post(f"/supplier_orders/{supplier_order['id']}/request_cancellation")
    clock.advance(days=14, seconds=-1)
    worker.run_until_idle()
    assert _so(network.retailer, supplier_order["id"])["status"] == "open"
    clock.advance(seconds=1)
    worker.run_until_idle()
    cancelled = _so(network.retailer, supplier_order["id"])
    assert (cancelled["status"], cancelled["cancellation_status"]) == ("cancelled", "accepted")
    assert cancelled["events"][-1]["actor"]["kind"] == "system"


def test_a_fulfilment_before_the_deadline_wins_over_automatic_cancellation(make_store, clock, worker):
    network = build(make_store, retailer_payments=True, supplier_payments=True)
    network.retailer.patch("/store", {"billing_card_token": "tok_success"})
    _, supplier_order = _open(network, clock, worker)
    url = f"/supplier_orders/{supplier_order['id']}"
    network.retailer.post(f"{url}/request_cancellation")
    clock.advance(days=3)
    network.supplier.post(f"{url}/fulfillments", {"tracking_company": "DHL", "tracking_number": "1"})
    clock.advance(days=12)
    worker.run_until_idle()
    assert _so(network.retailer, supplier_order["id"])["status"] == "fulfilled"


def test_an_answer_before_the_deadline_wins_over_automatic_cancellation(make_store, clock, worker):
    network = build(make_store, retailer_payments=True, supplier_payments=True)
    network.retailer.patch("/store", {"billing_card_token": "tok_success"})
    _, supplier_order = _open(network, clock, worker)
    url = f"/supplier_orders/{supplier_order['id']}"
    network.retailer.post(f"{url}/request_cancellation")
    network.supplier.post(f"{url}/cancellation/decline", {"message": "Shipped by mistake"})
    clock.advance(days=15)
    worker.run_until_idle()
    assert _so(network.retailer, supplier_order["id"])["status"] == "open"


def test_a_second_request_gets_its_own_full_delay(make_store, clock, worker):
    network = build(make_store, retailer_payments=True, supplier_payments=True)
    network.retailer.patch("/store", {"billing_card_token": "tok_success"})
    _, supplier_order = _open(network, clock, worker)
    url = f"/supplier_orders/{supplier_order['id']}"
    network.retailer.post(f"{url}/request_cancellation")
    network.supplier.post(f"{url}/cancellation/decline", {"message": "No"})
    clock.advance(days=7)
    network.retailer.post(f"{url}/request_cancellation")
    clock.advance(days=7, seconds=1)  # the first request's deadline passes
    worker.run_until_idle()
    assert _so(network.retailer, supplier_order["id"])["status"] == "open"
    clock.advance(days=7)
    worker.run_until_idle()
    assert _so(network.retailer, supplier_order["id"])["status"] == "cancelled"


def test_the_supplier_cancels_on_its_own_and_the_retailer_sees_why(network, clock, worker, smtp):
    order, supplier_order = _open(network, clock, worker, quantity=2)
    response = network.supplier.post(
        f"/supplier_orders/{supplier_order['id']}/cancel", {"reason": "Out of stock at the workshop"}
    )
    assert response.json()["status"] == "cancelled"
    retailer_order = network.retailer.order(order["id"])
    assert retailer_order["fulfillment_status"] == "request_declined"
    assert retailer_order["supplier_orders"][0]["cancellation_reason"] == "Out of stock at the workshop"
    assert retailer_order["notices"][0]["kind"] == "supplier_cancelled"
    assert network.supplier.variant(network.supplier_variant["id"])["available"] == 10
    refund = network.retailer.post(
        f"/orders/{order['id']}/refunds",
        {"line_items": [{"line_item_id": retailer_order["line_items"][0]["id"], "quantity": 2}]},
    )
    assert refund.status_code == 201
    worker.run_until_idle()
    assert any(
        "Out of stock at the workshop" in parts(m)["plain"] for m in smtp.to(network.retailer.staff_email)
    )


def test_the_supplier_cancels_the_unshipped_rest_of_a_partly_shipped_order(network, clock, worker):
    order, supplier_order = _open(network, clock, worker, quantity=3)
    url = f"/supplier_orders/{supplier_order['id']}"
    network.supplier.post(
        f"{url}/fulfillments",
        {
            "tracking_company": "DHL",
            "tracking_number": "1",
            "line_items": [{"id": supplier_order["line_items"][0]["id"], "quantity": 1}],
        },
    )
    network.supplier.post(f"{url}/cancel", {"reason": "Last two are damaged"})
    assert network.retailer.order(order["id"])["fulfillment_status"] == "request_declined"
    stock = network.supplier.variant(network.supplier_variant["id"])
    assert (stock["on_hand"], stock["available"]) == (9, 9)


def test_the_retailer_cannot_cancel_for_the_supplier(network, clock, worker):
    _, supplier_order = _open(network, clock, worker)
    assert (
        network.retailer.post(f"/supplier_orders/{supplier_order['id']}/cancel", {"reason": "x"}).status_code
        == 404
    )


def test_cancellation_webhooks_reach_both_sides(network, clock, worker, receiver, allow_private_webhooks):
    for store in (network.retailer, network.supplier):
        for topic in (
            "supplier_orders/cancellation_requested",
            "supplier_orders/cancellation_accepted",
            "supplier_orders/cancelled",
        ):
            store.post("/webhooks", {"topic": topic, "address": receiver.url(f"/{store.store_id}")})
    _, supplier_order = _open(network, clock, worker)
    url = f"/supplier_orders/{supplier_order['id']}"
    network.retailer.post(f"{url}/request_cancellation")
    network.supplier.post(f"{url}/cancellation/accept")
    worker.run_until_idle()
    topics = sorted((r.path, r.headers["X-Tandem-Topic"]) for r in receiver.wait_for(6))
    assert len(topics) == 6 and {path for path, _ in topics} == {
        f"/{network.retailer.store_id}",
        f"/{network.supplier.store_id}",
    }
