"""Staff fulfil and refund the store's own items from the order page; a refund asks twice."""

import re

from sqlalchemy import select

from tandem.notifications.models import Email
from tests.e2e.test_admin_pages import csrf_of, flash_of, has_form, logged_in, order_page


def _form_key(page) -> str:
    return re.search(r'name="form_key" value="([^"]*)"', page.text).group(1)


def _shipping_emails(runtime, order: dict) -> int:
    with runtime.uow(read_only=True) as uow:
        emails = uow.session.scalars(select(Email).where(Email.template == "shipping_confirmation")).all()
    return sum(1 for email in emails if email.context["order"]["number"] == order["number"])


def _two_line_order(shop):
    shirt = shop.product(quantity=5, price="25.00", sku="SHIRT")
    scarf = shop.product(quantity=5, price="10.00", title="Wool scarf", sku="SCARF")
    body = {
        "email": "camille@example.com",
        "line_items": [
            {"variant_id": shirt["id"], "quantity": 2},
            {"variant_id": scarf["id"], "quantity": 1},
        ],
        "shipping_address": shop_address(),
        "card_token": "tok_success",
    }
    checkout = shop.post("/checkouts", body).json()
    order = shop.post(f"/checkouts/{checkout['id']}/complete").json()
    lines = {line["sku"]: line for line in order["line_items"]}
    return order, lines, shirt, scarf


def shop_address():
    from tests.support.api import ADDRESS

    return ADDRESS


def test_staff_fulfil_chosen_lines_with_tracking_and_the_customer_is_told(client, shop, runtime):
    order, lines, _, _ = _two_line_order(shop)
    logged_in(client, shop)
    page = order_page(client, order["id"])
    assert has_form(page, order["id"], "fulfill")

    done = client.post(
        f"/admin/orders/{order['id']}/fulfill",
        data={
            "csrf_token": csrf_of(page),
            "line_id": [lines["SHIRT"]["id"], lines["SCARF"]["id"]],
            "quantity": ["1", "0"],
            "tracking_company": "Colissimo",
            "tracking_number": "6A123",
            "tracking_url": "https://track.example/6A123",
            "notify_customer": "true",
        },
    )

    assert flash_of(done) == "The items were marked as fulfilled."
    after = shop.order(order["id"])
    assert after["fulfillment_status"] == "partially_fulfilled"
    shipped = {line["sku"]: line["fulfilled_quantity"] for line in after["line_items"]}
    assert shipped == {"SHIRT": 1, "SCARF": 0}
    assert after["fulfillments"][0]["tracking_number"] == "6A123"
    assert _shipping_emails(runtime, order) == 1


def test_fulfilling_without_notifying_sends_no_email(client, shop, runtime):
    order, lines, _, _ = _two_line_order(shop)
    logged_in(client, shop)
    page = order_page(client, order["id"])

    done = client.post(
        f"/admin/orders/{order['id']}/fulfill",
        data={
            "csrf_token": csrf_of(page),
            "line_id": [lines["SHIRT"]["id"], lines["SCARF"]["id"]],
            "quantity": ["2", "1"],
        },
    )

    assert flash_of(done) == "The items were marked as fulfilled."
    after = shop.order(order["id"])
    assert after["fulfillment_status"] == "fulfilled"
    assert _shipping_emails(runtime, order) == 0
    assert not has_form(done, order["id"], "fulfill")


def test_a_fulfilment_form_with_nothing_chosen_or_too_many_changes_nothing(client, shop):
    order, lines, _, _ = _two_line_order(shop)
    logged_in(client, shop)
    token = csrf_of(order_page(client, order["id"]))
    ids = [lines["SHIRT"]["id"], lines["SCARF"]["id"]]

    nothing = client.post(
        f"/admin/orders/{order['id']}/fulfill",
        data={"csrf_token": token, "line_id": ids, "quantity": ["0", "0"]},
    )
    too_many = client.post(
        f"/admin/orders/{order['id']}/fulfill",
        data={"csrf_token": token, "line_id": ids, "quantity": ["3", "0"]},
    )

    assert flash_of(nothing) == "Choose at least one item to fulfill."
    assert flash_of(too_many).startswith("This action was refused")
    assert shop.order(order["id"])["fulfillment_status"] == "unfulfilled"


def test_a_refund_is_shown_for_confirmation_before_anything_moves(client, shop):
    order, lines, shirt, _ = _two_line_order(shop)
    logged_in(client, shop)
    page = order_page(client, order["id"])
    assert has_form(page, order["id"], "refund")

    review = client.post(
        f"/admin/orders/{order['id']}/refund",
        data={
            "csrf_token": csrf_of(page),
            "form_key": _form_key(page),
            "line_id": [lines["SHIRT"]["id"], lines["SCARF"]["id"]],
            "quantity": ["1", "0"],
            "restock": "true",
        },
    )

    assert review.status_code == 200
    assert "Refund order #" in review.text and "€25.00 goes back to the customer." in review.text
    assert 'name="confirmed" value="true"' in review.text
    after = shop.order(order["id"])
    assert after["financial_status"] == "paid" and after["refunds"] == []
    assert shop.variant(shirt["id"])["available"] == 3


def test_a_confirmed_refund_refunds_and_restocks_once(client, shop):
    order, lines, shirt, _ = _two_line_order(shop)
    logged_in(client, shop)
    page = order_page(client, order["id"])
    form = {
        "csrf_token": csrf_of(page),
        "form_key": _form_key(page),
        "line_id": [lines["SHIRT"]["id"]],
        "quantity": ["1"],
        "restock": "true",
        "confirmed": "true",
    }

    done = client.post(f"/admin/orders/{order['id']}/refund", data=form)
    again = client.post(f"/admin/orders/{order['id']}/refund", data=form)

    assert flash_of(done) == "The refund was made."
    assert flash_of(again) == "This form was already sent: it was done once."
    after = shop.order(order["id"])
    assert after["financial_status"] == "partially_refunded"
    assert [refund["amount"] for refund in after["refunds"]] == ["25.00"]
    assert shop.variant(shirt["id"])["available"] == 4


def test_a_refund_of_an_amount_only_and_a_refund_above_what_was_paid(client, shop):
    order, _, _, _ = _two_line_order(shop)
    logged_in(client, shop)
    page = order_page(client, order["id"])
    base = {"csrf_token": csrf_of(page), "confirmed": "true"}

    too_much = client.post(
        f"/admin/orders/{order['id']}/refund", data={**base, "form_key": "k1", "amount": "999.00"}
    )
    nothing = client.post(f"/admin/orders/{order['id']}/refund", data={**base, "form_key": "k2"})
    part = client.post(
        f"/admin/orders/{order['id']}/refund", data={**base, "form_key": "k3", "amount": "5,50"}
    )

    assert flash_of(too_much) == (
        "Enter an amount such as 12.50, no more than what was paid and not refunded yet."
    )
    assert flash_of(nothing) == "Choose the items to refund, or enter an amount."
    assert flash_of(part) == "The refund was made."
    assert [refund["amount"] for refund in shop.order(order["id"])["refunds"]] == ["5.50"]


def test_cancel_asks_for_confirmation_first_and_changes_nothing_until_then(client, shop):
    order = shop.place_order(shop.product()["id"])
    logged_in(client, shop)
    token = csrf_of(order_page(client, order["id"]))

    review = client.post(
        f"/admin/orders/{order['id']}/cancel",
        data={"csrf_token": token, "reason": "fraud", "refund": "true", "restock": "true"},
    )

    assert review.status_code == 200
    assert "Cancel order #" in review.text and "What the customer paid (€25.00) is refunded." in review.text
    assert 'name="reason" value="fraud"' in review.text and 'name="confirmed" value="true"' in review.text
    assert shop.order(order["id"])["status"] == "open"


def test_mark_as_paid_asks_for_confirmation_first(client, make_store, clock, worker):
    shop = make_store("Atelier Manuel", capture="manual")
    order = shop.place_order(shop.product()["id"])
    clock.advance(days=8)  # the authorisation expires: the money must come some other way
    worker.run_until_idle()
    logged_in(client, shop)
    token = csrf_of(order_page(client, order["id"]))

    review = client.post(f"/admin/orders/{order['id']}/mark_as_paid", data={"csrf_token": token})
    assert "Mark order #" in review.text and shop.order(order["id"])["financial_status"] == "expired"
    done = client.post(
        f"/admin/orders/{order['id']}/mark_as_paid", data={"csrf_token": token, "confirmed": "true"}
    )

    assert flash_of(done) == "The order was marked as paid."
    assert shop.order(order["id"])["financial_status"] == "paid"


def _mark_as_paid_button(page, order_id: int) -> str:
    form = re.search(
        rf'action="/admin/orders/{order_id}/mark_as_paid">.*?<button class="([^"]*)"', page.text, re.S
    )
    return form.group(1)


def test_mark_as_paid_is_not_the_main_action_while_a_balance_is_scheduled(client, shop, clock, worker):
    from tests.e2e.test_admin_preorders import preorder

    order = preorder(shop, card="tok_error", deposit=0)
    logged_in(client, shop)
    scheduled = order_page(client, order["id"])
    assert shop.order(order["id"])["payment_schedules"][0]["status"] == "pending"
    assert _mark_as_paid_button(scheduled, order["id"]) == "button"

    clock.advance(days=2)  # the balance falls due and the gateway fails: nothing is scheduled any more
    worker.run_until_idle()
    assert shop.order(order["id"])["payment_schedules"][0]["status"] != "pending"
    assert _mark_as_paid_button(order_page(client, order["id"]), order["id"]) == "button button-primary"
