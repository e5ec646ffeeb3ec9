"""The supplier refunds the retailer; returns under the supplier's return policy."""

import pytest

from tests.support.mail import parts
from tests.support.network import build


def _open_and_ship(network, clock, worker, quantity=2, ship=True):
    order = network.retailer.place_order(network.variant["id"], quantity)
    clock.advance(seconds=120)
    worker.run_until_idle()
    [supplier_order] = network.retailer.order(order["id"])["supplier_orders"]
    if ship:
        network.supplier.post(
            f"/supplier_orders/{supplier_order['id']}/fulfillments",
            {"tracking_company": "DHL", "tracking_number": "1"},
        )
    return order, supplier_order


def _so(store, supplier_order_id) -> dict:
    return store.get(f"/supplier_orders/{supplier_order_id}").json()


@pytest.fixture
def automatic(make_store):
    network = build(make_store, retailer_payments=True, supplier_payments=True)
    network.retailer.patch("/store", {"billing_card_token": "tok_success"})
    return network


@pytest.fixture
def manual(make_store):
    return build(make_store)


def test_with_automatic_payments_a_supplier_refund_goes_back_through_the_gateway(automatic, clock, worker):
    _, supplier_order = _open_and_ship(automatic, clock, worker)  # collected: 2 x 18.00
    url = f"/supplier_orders/{supplier_order['id']}/refunds"
    first = automatic.supplier.post(url, {"amount": "10.00", "note": "Late shipment"})
    assert first.status_code == 201 and first.json()["status"] == "succeeded"
    assert (
        _so(automatic.retailer, supplier_order["id"])["collective_payment"]["status"] == "partially_refunded"
    )
    automatic.supplier.post(url, {"amount": "26.00"})
    assert _so(automatic.retailer, supplier_order["id"])["collective_payment"]["status"] == "refunded"


def test_a_supplier_never_refunds_more_than_was_collected(automatic, clock, worker):
    _, supplier_order = _open_and_ship(automatic, clock, worker)
    url = f"/supplier_orders/{supplier_order['id']}/refunds"
    automatic.supplier.post(url, {"amount": "30.00"})
    response = automatic.supplier.post(url, {"amount": "6.01"})
    assert response.status_code == 422 and response.json()["error"]["field"] == "amount"
    assert len(_so(automatic.supplier, supplier_order["id"])["refunds"]) == 1


def test_a_retried_supplier_refund_refunds_once(automatic, clock, worker, runtime):
    _, supplier_order = _open_and_ship(automatic, clock, worker)
    url = f"/supplier_orders/{supplier_order['id']}/refunds"
    first = automatic.supplier.post(url, {"amount": "5.00"}, key="refund-1")
    again = automatic.supplier.post(url, {"amount": "5.00"}, key="refund-1")
    assert again.json() == first.json()
    assert len(_so(automatic.supplier, supplier_order["id"])["refunds"]) == 1


def test_nothing_can_be_refunded_before_anything_was_collected(manual, clock, worker):
    _, supplier_order = _open_and_ship(manual, clock, worker)  # not marked received
    response = manual.supplier.post(f"/supplier_orders/{supplier_order['id']}/refunds", {"amount": "1.00"})
    assert response.status_code == 409


def test_without_automatic_payments_the_refund_is_sent_by_hand(manual, clock, worker, smtp):
    _, supplier_order = _open_and_ship(manual, clock, worker)
    base = f"/supplier_orders/{supplier_order['id']}"
    manual.supplier.post(f"{base}/payment/mark_received")
    refund = manual.supplier.post(f"{base}/refunds", {"amount": "12.00"}).json()
    assert refund["status"] == "manual_pending"
    assert _so(manual.retailer, supplier_order["id"])["collective_payment"]["status"] == "paid"
    worker.run_until_idle()
    told = [m for m in smtp.to(manual.retailer.staff_email) if "12" in parts(m)["plain"]]
    assert len(told) == 1
    assert manual.retailer.post(f"{base}/refunds/{refund['id']}/mark_sent").status_code == 404
    sent = manual.supplier.post(f"{base}/refunds/{refund['id']}/mark_sent").json()
    assert sent["status"] == "sent"
    assert _so(manual.retailer, supplier_order["id"])["collective_payment"]["status"] == "partially_refunded"
    assert manual.supplier.post(f"{base}/refunds/{refund['id']}/mark_sent").status_code == 409


@pytest.fixture
def policy(automatic):
    automatic.supplier.patch(
        "/store",
        {
            "return_policy": {
                "window_days": 30,
                "restocking_fee_percent": 15,
                "label_provider": "retailer",
                "final_sale_skus": ["FINAL-1"],
            }
        },
    )
    return automatic


def test_the_return_policy_is_shown_to_connected_retailers(policy):
    [connection] = policy.retailer.get("/connections").json()["connections"]
    assert connection["return_policy"] == {
        "window_days": 30,
        "restocking_fee_percent": 15,
        "label_provider": "retailer",
        "final_sale_skus": ["FINAL-1"],
    }


def test_a_bad_return_policy_is_refused(automatic):
    response = automatic.supplier.patch(
        "/store",
        {
            "return_policy": {
                "window_days": 30,
                "restocking_fee_percent": 120,
                "label_provider": "supplier",
                "final_sale_skus": [],
            }
        },
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "return_policy.restocking_fee_percent"


def test_a_return_is_requested_approved_and_closed_with_the_restocking_fee(policy, clock, worker, smtp):
    _, supplier_order = _open_and_ship(policy, clock, worker, quantity=2)
    line = supplier_order["line_items"][0]["id"]
    clock.advance(days=10)
    requested = policy.retailer.post(
        f"/supplier_orders/{supplier_order['id']}/returns",
        {"reason": "size_or_fit", "line_items": [{"id": line, "quantity": 2}], "note": "Too small"},
    )
    assert requested.status_code == 201 and requested.json()["status"] == "requested"
    return_id = requested.json()["id"]
    assert policy.supplier.post(f"/returns/{return_id}/approve").json()["status"] == "approved"
    closed = policy.supplier.post(f"/returns/{return_id}/close", {"restock": True}).json()
    # 2 x 18.00 = 36.00 wholesale; 15 % restocking fee = 5.40
    assert (closed["status"], closed["refund_amount"], closed["restocking_fee"]) == (
        "closed",
        "30.60",
        "5.40",
    )
    after = _so(policy.retailer, supplier_order["id"])
    assert after["refunds"][0]["amount"] == "30.60" and after["refunds"][0]["status"] == "succeeded"
    assert after["collective_payment"]["status"] == "partially_refunded"
    stock = policy.supplier.variant(policy.supplier_variant["id"])
    assert (stock["on_hand"], stock["available"]) == (10, 10)
    worker.run_until_idle()
    assert smtp.to(policy.supplier.staff_email) and smtp.to(policy.retailer.staff_email)


def test_a_declined_return_refunds_nothing(policy, clock, worker):
    _, supplier_order = _open_and_ship(policy, clock, worker)
    line = supplier_order["line_items"][0]["id"]
    created = policy.retailer.post(
        f"/supplier_orders/{supplier_order['id']}/returns",
        {"reason": "changed_mind", "line_items": [{"id": line, "quantity": 1}]},
    ).json()
    declined = policy.supplier.post(f"/returns/{created['id']}/decline", {"message": "Worn"}).json()
    assert (declined["status"], declined["decline_message"]) == ("declined", "Worn")
    assert policy.supplier.post(f"/returns/{created['id']}/close").status_code == 409
    assert _so(policy.retailer, supplier_order["id"])["refunds"] == []


def test_a_return_outside_the_window_is_refused_with_the_reason(policy, clock, worker):
    _, supplier_order = _open_and_ship(policy, clock, worker)
    clock.advance(days=31)
    response = policy.retailer.post(
        f"/supplier_orders/{supplier_order['id']}/returns",
        {"reason": "defective", "line_items": [{"id": supplier_order["line_items"][0]["id"], "quantity": 1}]},
    )
    assert response.status_code == 422
    assert "30-day return window" in response.json()["error"]["message"]


def test_a_final_sale_item_cannot_be_returned(make_store, clock, worker):
    network = build(make_store)
    network.supplier.patch(
        "/store",
        {
            "return_policy": {
                "window_days": 30,
                "restocking_fee_percent": 0,
                "label_provider": "supplier",
                "final_sale_skus": ["MARIN-M"],
            }
        },
    )
    _, supplier_order = _open_and_ship(network, clock, worker)
    response = network.retailer.post(
        f"/supplier_orders/{supplier_order['id']}/returns",
        {"reason": "defective", "line_items": [{"id": supplier_order["line_items"][0]["id"], "quantity": 1}]},
    )
    assert response.status_code == 422 and "final sale" in response.json()["error"]["message"]


def test_only_shipped_units_not_yet_returned_can_be_returned(policy, clock, worker):
    _, supplier_order = _open_and_ship(policy, clock, worker, quantity=2)
    line = supplier_order["line_items"][0]["id"]
    url = f"/supplier_orders/{supplier_order['id']}/returns"
    body = {"reason": "defective", "line_items": [{"id": line, "quantity": 2}]}
    assert policy.retailer.post(url, body).status_code == 201
    response = policy.retailer.post(url, {"reason": "defective", "line_items": [{"id": line, "quantity": 1}]})
    assert response.status_code == 422 and response.json()["error"]["field"] == "line_items[0].quantity"


def test_returns_need_something_shipped_and_belong_to_the_retailer(policy, clock, worker):
    _, supplier_order = _open_and_ship(policy, clock, worker, ship=False)
    body = {
        "reason": "defective",
        "line_items": [{"id": supplier_order["line_items"][0]["id"], "quantity": 1}],
    }
    assert policy.retailer.post(f"/supplier_orders/{supplier_order['id']}/returns", body).status_code == 409
    assert policy.supplier.post(f"/supplier_orders/{supplier_order['id']}/returns", body).status_code == 404
