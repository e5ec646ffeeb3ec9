"""Cancelling and refunding: money never goes back beyond what was captured."""

import pytest


def test_cancelling_a_paid_order_refunds_it_and_restocks(shop):
    variant = shop.product(quantity=5, price="20.00")
    order = shop.place_order(variant["id"], 2)
    response = shop.post(f"/orders/{order['id']}/cancel", {"reason": "customer"})
    assert response.status_code == 200
    cancelled = response.json()
    assert (cancelled["status"], cancelled["financial_status"], cancelled["cancel_reason"]) == (
        "cancelled",
        "refunded",
        "customer",
    )
    assert cancelled["total_refunded"] == "40.00"
    assert cancelled["refunds"][0]["status"] == "success"
    assert shop.variant(variant["id"])["available"] == 5
    assert cancelled["allowed_actions"] == []


def test_cancelling_an_authorised_order_voids_it(make_store):
    manual = make_store(capture="manual")
    order = manual.place_order(manual.product()["id"])
    cancelled = manual.post(f"/orders/{order['id']}/cancel", {"reason": "fraud"}).json()
    assert cancelled["financial_status"] == "voided"
    assert [t["kind"] for t in cancelled["transactions"]] == ["authorization", "void"]


def test_cancelling_without_refund_keeps_the_money(shop):
    order = shop.place_order(shop.product(price="20.00")["id"])
    cancelled = shop.post(f"/orders/{order['id']}/cancel", {"refund": False}).json()
    assert (cancelled["status"], cancelled["financial_status"]) == ("cancelled", "paid")
    assert "refund" in cancelled["allowed_actions"]


def test_cancelling_without_restock_writes_the_units_off(shop):
    variant = shop.product(quantity=5)
    order = shop.place_order(variant["id"], 2)
    shop.post(f"/orders/{order['id']}/cancel", {"restock": False})
    stock = shop.variant(variant["id"])
    assert (stock["on_hand"], stock["committed"], stock["available"]) == (3, 0, 3)


def test_a_held_order_can_be_cancelled(shop):
    order = shop.place_order(shop.product()["id"])
    shop.post(f"/orders/{order['id']}/holds", {"reason": "high_risk_of_fraud"})
    cancelled = shop.post(f"/orders/{order['id']}/cancel", {"reason": "fraud"}).json()
    assert (cancelled["status"], cancelled["fulfillment_status"]) == ("cancelled", "unfulfilled")
    assert all(h["released_at"] for h in cancelled["holds"])


@pytest.mark.parametrize("shipped", [1, 2])
def test_an_order_with_shipped_items_cannot_be_cancelled(shop, shipped):
    variant = shop.product(quantity=5)
    order = shop.place_order(variant["id"], 2)
    line = order["line_items"][0]["id"]
    shop.post(f"/orders/{order['id']}/fulfillments", {"line_items": [{"id": line, "quantity": shipped}]})
    response = shop.post(f"/orders/{order['id']}/cancel")
    assert response.status_code == 409
    after = shop.order(order["id"])
    assert (after["status"], after["financial_status"]) == ("open", "paid")


def test_an_order_cannot_be_cancelled_twice(shop):
    variant = shop.product(quantity=5)
    order = shop.place_order(variant["id"])
    shop.post(f"/orders/{order['id']}/cancel")
    assert shop.post(f"/orders/{order['id']}/cancel").status_code == 409
    assert shop.variant(variant["id"])["available"] == 5


def test_a_retried_cancel_with_the_same_key_refunds_once(shop):
    order = shop.place_order(shop.product(price="20.00")["id"])
    first = shop.post(f"/orders/{order['id']}/cancel", key="cancel-1")
    again = shop.post(f"/orders/{order['id']}/cancel", key="cancel-1")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert shop.order(order["id"])["total_refunded"] == "20.00"


def test_a_partial_refund_by_amount(shop):
    order = shop.place_order(shop.product(price="50.00")["id"])
    response = shop.post(f"/orders/{order['id']}/refunds", {"amount": "15.00", "note": "late delivery"})
    assert response.status_code == 201
    refund = response.json()
    assert (refund["amount"], refund["status"], refund["note"]) == ("15.00", "success", "late delivery")
    after = shop.order(order["id"])
    assert (after["financial_status"], after["total_refunded"]) == ("partially_refunded", "15.00")


def test_refunds_add_up_to_a_full_refund(shop):
    order = shop.place_order(shop.product(price="50.00")["id"])
    shop.post(f"/orders/{order['id']}/refunds", {"amount": "15.00"})
    shop.post(f"/orders/{order['id']}/refunds", {"amount": "35.00"})
    assert shop.order(order["id"])["financial_status"] == "refunded"


def test_a_refund_beyond_what_was_captured_is_refused_and_changes_nothing(shop):
    order = shop.place_order(shop.product(price="50.00")["id"])
    shop.post(f"/orders/{order['id']}/refunds", {"amount": "40.00"})
    response = shop.post(f"/orders/{order['id']}/refunds", {"amount": "10.01"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "amount"
    after = shop.order(order["id"])
    assert (after["total_refunded"], len(after["refunds"])) == ("40.00", 1)


def test_a_fully_refunded_order_cannot_be_refunded_again(shop):
    order = shop.place_order(shop.product(price="10.00")["id"])
    shop.post(f"/orders/{order['id']}/refunds", {"amount": "10.00"})
    response = shop.post(f"/orders/{order['id']}/refunds", {"amount": "1.00"})
    assert response.status_code == 409
    assert shop.order(order["id"])["total_refunded"] == "10.00"


def test_an_unpaid_order_cannot_be_refunded(make_store):
    manual = make_store(capture="manual")
    order = manual.place_order(manual.product()["id"])
    assert manual.post(f"/orders/{order['id']}/refunds", {"amount": "1.00"}).status_code == 409


def test_a_refund_needs_lines_or_an_amount(shop):
    order = shop.place_order(shop.product()["id"])
    response = shop.post(f"/orders/{order['id']}/refunds", {})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "amount"


def test_refunding_unshipped_lines_with_cancel_restocks_them(shop):
    variant = shop.product(quantity=5, price="10.00")
    order = shop.place_order(variant["id"], 3)
    line = order["line_items"][0]["id"]
    refund = shop.post(
        f"/orders/{order['id']}/refunds",
        {"line_items": [{"line_item_id": line, "quantity": 2, "restock_type": "cancel"}]},
    ).json()
    assert refund["amount"] == "20.00"
    after = shop.order(order["id"])
    assert after["line_items"][0]["fulfillable_quantity"] == 1
    assert shop.variant(variant["id"])["available"] == 4
    shop.post(f"/orders/{order['id']}/fulfillments")
    assert shop.order(order["id"])["fulfillment_status"] == "fulfilled"


def test_refunding_returned_lines_puts_them_back_on_hand(shop):
    variant = shop.product(quantity=5, price="10.00")
    order = shop.place_order(variant["id"], 2)
    shop.post(f"/orders/{order['id']}/fulfillments")
    line = order["line_items"][0]["id"]
    shop.post(
        f"/orders/{order['id']}/refunds",
        {"line_items": [{"line_item_id": line, "quantity": 1, "restock_type": "return"}]},
    )
    stock = shop.variant(variant["id"])
    assert (stock["on_hand"], stock["available"]) == (4, 4)
    assert shop.order(order["id"])["line_items"][0]["returned_quantity"] == 1


def test_unshipped_units_cannot_be_refunded_as_returns(shop):
    order = shop.place_order(shop.product()["id"], 2)
    line = order["line_items"][0]["id"]
    response = shop.post(
        f"/orders/{order['id']}/refunds",
        {"line_items": [{"line_item_id": line, "quantity": 1, "restock_type": "return"}]},
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "line_items[0].quantity"


def test_shipped_units_cannot_be_refunded_as_cancelled(shop):
    order = shop.place_order(shop.product()["id"], 1)
    shop.post(f"/orders/{order['id']}/fulfillments")
    line = order["line_items"][0]["id"]
    response = shop.post(
        f"/orders/{order['id']}/refunds",
        {"line_items": [{"line_item_id": line, "quantity": 1, "restock_type": "cancel"}]},
    )
    assert response.status_code == 422


def test_a_line_cannot_be_refunded_twice_over(shop):
    order = shop.place_order(shop.product(price="10.00")["id"], 2)
    line = order["line_items"][0]["id"]
    first = {"line_items": [{"line_item_id": line, "quantity": 2}], "amount": "1.00"}
    assert shop.post(f"/orders/{order['id']}/refunds", first).status_code == 201
    response = shop.post(
        f"/orders/{order['id']}/refunds", {"line_items": [{"line_item_id": line, "quantity": 1}]}
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "line_items[0].quantity"


def test_a_line_of_another_order_cannot_be_refunded(shop):
    variant = shop.product(quantity=5)
    first, second = shop.place_order(variant["id"]), shop.place_order(variant["id"])
    response = shop.post(
        f"/orders/{first['id']}/refunds",
        {"line_items": [{"line_item_id": second["line_items"][0]["id"], "quantity": 1}]},
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "line_items[0].line_item_id"


def test_a_retried_refund_with_the_same_key_refunds_once(shop):
    order = shop.place_order(shop.product(price="50.00")["id"])
    first = shop.post(f"/orders/{order['id']}/refunds", {"amount": "5.00"}, key="r1")
    again = shop.post(f"/orders/{order['id']}/refunds", {"amount": "5.00"}, key="r1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert shop.order(order["id"])["total_refunded"] == "5.00"


def test_money_balances_after_captures_and_refunds(shop, runtime):
    order = shop.place_order(shop.product(price="50.00")["id"], 2)
    shop.post(f"/orders/{order['id']}/refunds", {"amount": "30.00"})
    line = order["line_items"][0]["id"]
    shop.post(
        f"/orders/{order['id']}/refunds",
        {"line_items": [{"line_item_id": line, "quantity": 1, "restock_type": "cancel"}]},
    )
    after = shop.order(order["id"])
    captured = sum(
        float(t["amount"])
        for t in after["transactions"]
        if t["kind"] in ("sale", "capture") and t["status"] == "success"
    )
    refunded = sum(
        float(t["amount"])
        for t in after["transactions"]
        if t["kind"] == "refund" and t["status"] == "success"
    )
    assert (captured, refunded) == (100.0, 80.0)
    assert _gateway_net(runtime) == 2000


def test_a_marked_as_paid_order_is_refunded_outside_the_gateway(make_store, clock, worker):
    manual = make_store(capture="manual")
    order = manual.place_order(manual.product(price="12.00")["id"])
    clock.advance(days=8)
    worker.run_until_idle()
    manual.post(f"/orders/{order['id']}/mark_as_paid")
    refund = manual.post(f"/orders/{order['id']}/refunds", {"amount": "12.00"}).json()
    assert refund["transactions"] == []
    after = manual.order(order["id"])
    assert after["financial_status"] == "refunded"
    assert after["transactions"][-1]["gateway"] == "manual"


def _gateway_net(runtime) -> int:
    """What the test gateway holds: captured minus refunded, in cents."""
    from sqlalchemy import select

    from tandem.payments.test_gateway import TestGatewayOperation as Op

    with runtime.uow(read_only=True) as uow:
        rows = uow.session.execute(select(Op.kind, Op.amount).where(Op.status == "succeeded")).all()
    return sum(a for k, a in rows if k in ("sale", "capture")) - sum(a for k, a in rows if k == "refund")


def test_a_held_order_with_shipped_items_cannot_be_cancelled(shop):
    variant = shop.product(quantity=5)
    order = shop.place_order(variant["id"], 2)
    line = order["line_items"][0]["id"]
    shop.post(f"/orders/{order['id']}/fulfillments", {"line_items": [{"id": line, "quantity": 1}]})
    held = shop.post(f"/orders/{order['id']}/holds", {"reason": "other"}).json()
    assert "cancel" not in held["allowed_actions"]
    assert shop.post(f"/orders/{order['id']}/cancel").status_code == 409
    assert shop.order(order["id"])["status"] == "open"


def test_refunding_the_last_unshipped_units_of_a_held_order_completes_it(shop):
    variant = shop.product(quantity=5)
    order = shop.place_order(variant["id"], 2)
    line = order["line_items"][0]["id"]
    shop.post(f"/orders/{order['id']}/fulfillments", {"line_items": [{"id": line, "quantity": 1}]})
    shop.post(f"/orders/{order['id']}/holds", {"reason": "other"})
    response = shop.post(
        f"/orders/{order['id']}/refunds",
        {"line_items": [{"line_item_id": line, "quantity": 1, "restock_type": "cancel"}]},
    )
    assert response.status_code == 201
    assert shop.order(order["id"])["fulfillment_status"] == "fulfilled"


def test_cancelling_an_authorised_order_refunds_no_units(make_store):
    manual = make_store(capture="manual")
    order = manual.place_order(manual.product()["id"])
    cancelled = manual.post(f"/orders/{order['id']}/cancel").json()
    assert cancelled["refunds"] == []
    assert cancelled["line_items"][0]["refunded_quantity"] == 0
    assert cancelled["line_items"][0]["fulfillable_quantity"] == 0
