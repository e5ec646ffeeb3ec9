"""Cancellations, refunds and returns of supplier orders in the admin UI over HTTP (SPEC §2.3):
each form shows only when the supplier order allows it, each action works, and an action
refused by the use case says why on the page and changes nothing."""

import re

import pytest

from tandem.suppliers.domain import ReturnReason
from tests.e2e.test_admin_network import (
    has_action,
    in_english,
    reaches_the_supplier,
    supplier_order_of,
    supplier_order_page,
)
from tests.e2e.test_admin_pages import csrf_of, flash_of, logged_in, order_page
from tests.support.network import build

POLICY = {
    "window_days": 30,
    "restocking_fee_percent": 15,
    "label_provider": "retailer",
    "final_sale_skus": [],
}


@pytest.fixture
def network(make_store):
    return build(make_store)


@pytest.fixture
def automatic(make_store):
    """Both stores charge collective payments automatically: the supplier is paid when the order opens."""
    network = build(make_store, retailer_payments=True, supplier_payments=True)
    network.retailer.patch("/store", {"billing_card_token": "tok_success"})
    return network


def so_of(store, supplier_order_id: int) -> dict:
    return store.get(f"/supplier_orders/{supplier_order_id}").json()


def path(supplier_order: dict, action: str) -> str:
    return f"/admin/supplier_orders/{supplier_order['id']}/{action}"


def send(client, page, action_path: str, **data):
    return client.post(action_path, data={"csrf_token": csrf_of(page), **data})


def ship(network, supplier_order: dict, quantity: int | None = None) -> None:
    body = {"tracking_company": "DHL", "tracking_number": "1"}
    if quantity:
        body["line_items"] = [{"id": supplier_order["line_items"][0]["id"], "quantity": quantity}]
    shipped = network.supplier.post(f"/supplier_orders/{supplier_order['id']}/fulfillments", body)
    assert shipped.status_code == 201, shipped.text


def as_supplier(client, network) -> None:
    logged_in(client, network.supplier)
    in_english(client)  # the network's supplier is a French store


def panel_of(page) -> str:
    return page.text[page.text.index('id="supplier-orders"') :]


# -- the retailer asks to cancel ---------------------------------------------------------------


def test_the_retailer_requests_a_cancellation_from_its_order_page(client, network, clock, worker):
    order, supplier_order = reaches_the_supplier(network, clock, worker)
    logged_in(client, network.retailer)
    page = order_page(client, order["id"])
    assert has_action(page, path(supplier_order, "request_cancellation"))

    sent = send(
        client,
        page,
        path(supplier_order, "request_cancellation"),
        message="The customer changed her mind",
        next=f"/admin/orders/{order['id']}",
    )

    assert sent.url.path == f"/admin/orders/{order['id']}"
    assert flash_of(sent) == "Your cancellation request was sent to the supplier."
    after = so_of(network.retailer, supplier_order["id"])
    assert (after["status"], after["cancellation_status"]) == ("open", "requested")
    assert after["cancellation_message"] == "The customer changed her mind"
    panel = panel_of(sent)
    assert "Cancellation requested" in panel and "it has not answered yet" in panel
    assert not has_action(sent, path(supplier_order, "request_cancellation"))


def test_no_cancellation_request_before_the_supplier_has_the_order(client, network):
    order = network.retailer.place_order(network.variant["id"])
    supplier_order = supplier_order_of(network, order)
    logged_in(client, network.retailer)
    page = order_page(client, order["id"])

    forced = send(client, page, path(supplier_order, "request_cancellation"))

    assert not has_action(page, path(supplier_order, "request_cancellation"))
    assert flash_of(forced).startswith("A cancellation cannot be requested now")
    after = so_of(network.retailer, supplier_order["id"])
    assert (after["status"], after["cancellation_status"]) == ("scheduled", None)


def test_no_cancellation_request_once_something_shipped(client, network, clock, worker):
    order, supplier_order = reaches_the_supplier(network, clock, worker, quantity=2)
    ship(network, supplier_order, quantity=1)
    logged_in(client, network.retailer)
    page = supplier_order_page(client, supplier_order["id"])

    forced = send(client, page, path(supplier_order, "request_cancellation"))

    assert not has_action(page, path(supplier_order, "request_cancellation"))
    assert not has_action(order_page(client, order["id"]), path(supplier_order, "request_cancellation"))
    assert flash_of(forced).startswith("A cancellation cannot be requested now")
    assert so_of(network.retailer, supplier_order["id"])["cancellation_status"] is None


def test_a_pending_request_cannot_be_sent_twice(client, network, clock, worker):
    _, supplier_order = reaches_the_supplier(network, clock, worker)
    network.retailer.post(f"/supplier_orders/{supplier_order['id']}/request_cancellation")
    logged_in(client, network.retailer)
    page = supplier_order_page(client, supplier_order["id"])

    forced = send(client, page, path(supplier_order, "request_cancellation"), message="Again")

    assert not has_action(page, path(supplier_order, "request_cancellation"))
    assert flash_of(forced).startswith("A cancellation cannot be requested now")
    assert so_of(network.retailer, supplier_order["id"])["cancellation_message"] is None


# -- the supplier answers ----------------------------------------------------------------------


def test_the_supplier_accepts_a_cancellation_request(client, network, clock, worker):
    order, supplier_order = reaches_the_supplier(network, clock, worker, quantity=2)
    network.retailer.post(
        f"/supplier_orders/{supplier_order['id']}/request_cancellation",
        {"message": "Customer changed her mind"},
    )
    as_supplier(client, network)
    page = supplier_order_page(client, supplier_order["id"])
    assert "The retailer asks you to cancel this order." in page.text
    assert "Retailer’s note: Customer changed her mind" in page.text
    assert has_action(page, path(supplier_order, "cancellation/decline"))

    accepted = send(client, page, path(supplier_order, "cancellation/accept"))

    assert flash_of(accepted) == (
        "You accepted the cancellation. The order is cancelled and its items are back in stock."
    )
    assert so_of(network.supplier, supplier_order["id"])["status"] == "cancelled"
    assert network.supplier.variant(network.supplier_variant["id"])["available"] == 10
    assert not has_action(accepted, path(supplier_order, "cancellation/accept"))
    assert not has_action(accepted, path(supplier_order, "cancel"))
    logged_in(client, network.retailer)
    assert "The cancellation was accepted: the order is cancelled." in order_page(client, order["id"]).text


def test_the_supplier_declines_with_a_message_the_retailer_reads(client, network, clock, worker):
    order, supplier_order = reaches_the_supplier(network, clock, worker)
    network.retailer.post(f"/supplier_orders/{supplier_order['id']}/request_cancellation")
    as_supplier(client, network)
    page = supplier_order_page(client, supplier_order["id"])

    declined = send(client, page, path(supplier_order, "cancellation/decline"), message="Already packed")

    assert flash_of(declined) == "You declined the cancellation. The retailer sees your message."
    after = so_of(network.supplier, supplier_order["id"])
    assert (after["status"], after["cancellation_status"], after["cancellation_reason"]) == (
        "open",
        "declined",
        "Already packed",
    )
    assert "You declined the cancellation request: Already packed" in declined.text
    logged_in(client, network.retailer)
    retailer_page = order_page(client, order["id"])
    assert "The supplier declined your cancellation request: Already packed" in panel_of(retailer_page)
    assert has_action(retailer_page, path(supplier_order, "request_cancellation"))  # it may ask again


def test_declining_without_a_message_is_refused(client, network, clock, worker):
    _, supplier_order = reaches_the_supplier(network, clock, worker)
    network.retailer.post(f"/supplier_orders/{supplier_order['id']}/request_cancellation")
    as_supplier(client, network)
    page = supplier_order_page(client, supplier_order["id"])

    refused = send(client, page, path(supplier_order, "cancellation/decline"), message="   ")

    assert flash_of(refused) == "Write a message telling the retailer why you decline."
    assert so_of(network.supplier, supplier_order["id"])["cancellation_status"] == "requested"


def test_without_a_request_there_is_nothing_to_answer(client, network, clock, worker):
    _, supplier_order = reaches_the_supplier(network, clock, worker)
    as_supplier(client, network)
    page = supplier_order_page(client, supplier_order["id"])

    accepted = send(client, page, path(supplier_order, "cancellation/accept"))
    declined = send(client, page, path(supplier_order, "cancellation/decline"), message="No")

    assert not has_action(page, path(supplier_order, "cancellation/accept"))
    assert not has_action(page, path(supplier_order, "cancellation/decline"))
    for refused in (accepted, declined):
        assert flash_of(refused) == "There is no cancellation request waiting for your answer."
    after = so_of(network.supplier, supplier_order["id"])
    assert (after["status"], after["cancellation_status"]) == ("open", None)


# -- the supplier cancels on its own -----------------------------------------------------------


def test_the_supplier_cancels_with_a_reason_the_retailer_reads(client, network, clock, worker):
    order, supplier_order = reaches_the_supplier(network, clock, worker, quantity=2)
    as_supplier(client, network)
    page = supplier_order_page(client, supplier_order["id"])
    assert has_action(page, path(supplier_order, "cancel"))

    cancelled = send(client, page, path(supplier_order, "cancel"), reason="Out of stock")

    assert flash_of(cancelled) == "The order was cancelled. The retailer sees your reason."
    assert "You cancelled this order: Out of stock" in cancelled.text
    assert not has_action(cancelled, path(supplier_order, "cancel"))
    assert so_of(network.supplier, supplier_order["id"])["status"] == "cancelled"
    assert network.retailer.order(order["id"])["fulfillment_status"] == "request_declined"
    logged_in(client, network.retailer)
    assert "The supplier cancelled this order: Out of stock" in panel_of(order_page(client, order["id"]))


def test_a_cancel_without_a_reason_is_refused(client, network, clock, worker):
    _, supplier_order = reaches_the_supplier(network, clock, worker)
    as_supplier(client, network)
    page = supplier_order_page(client, supplier_order["id"])

    refused = send(client, page, path(supplier_order, "cancel"), reason="")

    assert flash_of(refused) == "Give the reason for cancelling: the retailer will see it."
    assert so_of(network.supplier, supplier_order["id"])["status"] == "open"


def test_a_fulfilled_order_offers_no_cancel_and_a_forced_one_is_refused(client, network, clock, worker):
    _, supplier_order = reaches_the_supplier(network, clock, worker)
    ship(network, supplier_order)
    as_supplier(client, network)
    page = supplier_order_page(client, supplier_order["id"])

    forced = send(client, page, path(supplier_order, "cancel"), reason="Too late")

    assert not has_action(page, path(supplier_order, "cancel"))
    assert flash_of(forced) == "This order can no longer be cancelled."
    assert so_of(network.supplier, supplier_order["id"])["status"] == "fulfilled"


def test_the_retailer_cannot_answer_cancel_or_refund_for_the_supplier(client, network, clock, worker):
    order, supplier_order = reaches_the_supplier(network, clock, worker)
    network.retailer.post(f"/supplier_orders/{supplier_order['id']}/request_cancellation")
    logged_in(client, network.retailer)
    page = order_page(client, order["id"])

    answers = [
        send(client, page, path(supplier_order, "cancellation/accept")),
        send(client, page, path(supplier_order, "cancellation/decline"), message="x"),
        send(client, page, path(supplier_order, "cancel"), reason="x"),
        send(client, page, path(supplier_order, "refunds"), amount="1.00"),
    ]

    assert [a.status_code for a in answers] == [404, 404, 404, 404]
    after = so_of(network.retailer, supplier_order["id"])
    assert (after["status"], after["cancellation_status"], after["refunds"]) == ("open", "requested", [])


# -- refunds -----------------------------------------------------------------------------------


def test_a_manual_refund_is_sent_by_hand_and_marked_sent(client, network, clock, worker):
    order, supplier_order = reaches_the_supplier(network, clock, worker)
    ship(network, supplier_order)
    network.supplier.post(f"/supplier_orders/{supplier_order['id']}/payment/mark_received")
    as_supplier(client, network)
    page = supplier_order_page(client, supplier_order["id"])
    assert has_action(page, path(supplier_order, "refunds")) and "Up to €36.00" in page.text

    refunded = send(client, page, path(supplier_order, "refunds"), amount="12,00", note="Late shipment")

    assert flash_of(refunded) == "The refund was recorded."
    [refund] = so_of(network.supplier, supplier_order["id"])["refunds"]
    assert (refund["amount"], refund["status"], refund["note"]) == (
        "12.00",
        "manual_pending",
        "Late shipment",
    )
    assert "To be sent by the supplier" in refunded.text and "Up to €24.00" in refunded.text
    mark_sent = path(supplier_order, f"refunds/{refund['id']}/mark_sent")
    assert has_action(refunded, mark_sent)

    logged_in(client, network.retailer)
    panel = panel_of(order_page(client, order["id"]))
    assert "€12.00" in panel and "The supplier will transfer the money." in panel
    assert "mark_sent" not in panel

    as_supplier(client, network)
    sent = send(client, supplier_order_page(client, supplier_order["id"]), mark_sent)
    assert flash_of(sent) == "The refund was marked as sent."
    assert so_of(network.supplier, supplier_order["id"])["refunds"][0]["status"] == "sent"
    assert not has_action(sent, mark_sent) and "Sent by the supplier" in sent.text

    again = send(client, sent, mark_sent)
    assert flash_of(again) == "This refund cannot be marked as sent: it is not waiting to be sent by hand."


def test_a_refund_form_sent_twice_refunds_once(client, automatic, clock, worker):
    _, supplier_order = reaches_the_supplier(automatic, clock, worker)
    as_supplier(client, automatic)
    page = supplier_order_page(client, supplier_order["id"])
    [form_key] = re.findall(r'name="form_key" value="([0-9a-f]{32})"', page.text)

    first = send(client, page, path(supplier_order, "refunds"), amount="10.00", form_key=form_key)
    second = send(client, page, path(supplier_order, "refunds"), amount="10.00", form_key=form_key)

    assert flash_of(first) == "The refund was recorded."
    assert flash_of(second) == "This form was already sent: it was done once."
    [refund] = so_of(automatic.supplier, supplier_order["id"])["refunds"]
    assert refund["status"] == "succeeded"
    fresh = re.findall(
        r'name="form_key" value="([0-9a-f]{32})"', supplier_order_page(client, supplier_order["id"]).text
    )
    assert fresh and fresh != [form_key]


def test_an_automatic_refund_goes_back_through_the_gateway(client, automatic, clock, worker):
    order, supplier_order = reaches_the_supplier(automatic, clock, worker)
    as_supplier(client, automatic)
    page = supplier_order_page(client, supplier_order["id"])
    assert "The money goes back to the retailer’s card at once." in page.text

    refunded = send(client, page, path(supplier_order, "refunds"), amount="10.00")

    assert flash_of(refunded) == "The refund was recorded."
    [refund] = so_of(automatic.supplier, supplier_order["id"])["refunds"]
    assert refund["status"] == "succeeded"
    assert "mark_sent" not in refunded.text
    logged_in(client, automatic.retailer)
    panel = panel_of(order_page(client, order["id"]))
    assert "€10.00" in panel and "Refunded" in panel and "will transfer the money" not in panel


def test_nothing_collected_means_no_refund_form(client, network, clock, worker):
    _, supplier_order = reaches_the_supplier(network, clock, worker)  # not marked received
    as_supplier(client, network)
    page = supplier_order_page(client, supplier_order["id"])

    forced = send(client, page, path(supplier_order, "refunds"), amount="1.00")

    assert not has_action(page, path(supplier_order, "refunds"))
    assert flash_of(forced) == (
        "Nothing was collected from the retailer for this order: there is nothing to refund."
    )
    assert so_of(network.supplier, supplier_order["id"])["refunds"] == []


@pytest.mark.parametrize("amount", ["36.01", "abc", "0", "-5", "1.234"])
def test_a_refund_beyond_what_was_collected_or_unreadable_is_refused(
    client, automatic, clock, worker, amount
):
    _, supplier_order = reaches_the_supplier(automatic, clock, worker)
    as_supplier(client, automatic)
    page = supplier_order_page(client, supplier_order["id"])

    refused = send(client, page, path(supplier_order, "refunds"), amount=amount)

    assert flash_of(refused) == (
        "Enter an amount such as 12.50, no more than what was collected and not refunded yet."
    )
    after = so_of(automatic.supplier, supplier_order["id"])
    assert (after["refunds"], after["collective_payment"]["status"]) == ([], "paid")


# -- returns: the retailer asks --------------------------------------------------------------


def test_the_retailer_requests_a_return_under_the_suppliers_policy(client, network, clock, worker):
    network.supplier.patch("/store", {"return_policy": POLICY})
    order, supplier_order = reaches_the_supplier(network, clock, worker, quantity=2)
    ship(network, supplier_order)
    logged_in(client, network.retailer)
    page = supplier_order_page(client, supplier_order["id"])
    form = page.text[page.text.index(f'id="request-return-{supplier_order["id"]}"') :]
    assert "30 days after shipping" in form and "15% of the wholesale price" in form
    assert "The retailer provides the return label" in form
    assert set(re.findall(r'<option value="(\w+)">', form)) == {reason.value for reason in ReturnReason}
    line_id = supplier_order["line_items"][0]["id"]

    requested = send(
        client,
        page,
        path(supplier_order, "returns"),
        reason="size_or_fit",
        line_id=[str(line_id)],
        quantity=["1"],
        note="Too small",
    )

    assert flash_of(requested) == "Your return request was sent to the supplier."
    [created] = so_of(network.retailer, supplier_order["id"])["returns"]
    assert (created["status"], created["reason"], created["note"]) == (
        "requested",
        "size_or_fit",
        "Too small",
    )
    assert created["line_items"] == [{"id": line_id, "quantity": 1}]
    assert "Return requested" in requested.text and "Size or fit" in requested.text
    assert 'max="1"' in requested.text  # one unit left to return
    assert "Return requested" in panel_of(order_page(client, order["id"]))


def test_no_return_before_anything_shipped(client, network, clock, worker):
    order, supplier_order = reaches_the_supplier(network, clock, worker)
    logged_in(client, network.retailer)
    page = supplier_order_page(client, supplier_order["id"])

    forced = send(
        client,
        page,
        path(supplier_order, "returns"),
        reason="damaged",
        line_id=[str(supplier_order["line_items"][0]["id"])],
        quantity=["1"],
    )

    assert not has_action(page, path(supplier_order, "returns"))
    assert not has_action(order_page(client, order["id"]), path(supplier_order, "returns"))
    assert flash_of(forced) == "Only items that were shipped can be returned."
    assert so_of(network.retailer, supplier_order["id"])["returns"] == []


def test_final_sale_items_are_not_offered_for_return(client, network, clock, worker):
    network.supplier.patch("/store", {"return_policy": POLICY | {"final_sale_skus": ["MARIN-M"]}})
    _, supplier_order = reaches_the_supplier(network, clock, worker)
    ship(network, supplier_order)
    logged_in(client, network.retailer)
    page = supplier_order_page(client, supplier_order["id"])

    forced = send(
        client,
        page,
        path(supplier_order, "returns"),
        reason="damaged",
        line_id=[str(supplier_order["line_items"][0]["id"])],
        quantity=["1"],
    )

    assert not has_action(page, path(supplier_order, "returns"))
    assert "Final sale" in page.text and "Nothing left to return" in page.text
    assert flash_of(forced) == (
        "The supplier’s return policy does not allow this return: final sale: MARIN-M cannot be returned"
    )
    assert so_of(network.retailer, supplier_order["id"])["returns"] == []


def test_no_return_after_the_window(client, network, clock, worker):
    network.supplier.patch("/store", {"return_policy": POLICY})
    _, supplier_order = reaches_the_supplier(network, clock, worker)
    ship(network, supplier_order)
    clock.advance(days=31)
    logged_in(client, network.retailer)
    page = supplier_order_page(client, supplier_order["id"])

    forced = send(
        client,
        page,
        path(supplier_order, "returns"),
        reason="damaged",
        line_id=[str(supplier_order["line_items"][0]["id"])],
        quantity=["1"],
    )

    assert not has_action(page, path(supplier_order, "returns"))
    assert "The return window has passed" in page.text
    assert flash_of(forced) == (
        "The supplier’s return policy does not allow this return: the 30-day return window has passed"
    )


@pytest.mark.parametrize(
    "change, message",
    [
        ({"reason": ""}, "Choose the reason for the return."),
        ({"quantity": ["0"]}, "Choose at least one item to return."),
        ({"quantity": []}, "Choose how many of each item to return."),
        (
            {"quantity": ["3"]},
            "This action was refused: line_items[0].quantity: 2 shipped and not yet returned",
        ),
    ],
)
def test_a_return_form_that_cannot_be_used_is_refused(client, network, clock, worker, change, message):
    _, supplier_order = reaches_the_supplier(network, clock, worker, quantity=2)
    ship(network, supplier_order)
    logged_in(client, network.retailer)
    page = supplier_order_page(client, supplier_order["id"])
    data = {
        "reason": "damaged",
        "line_id": [str(supplier_order["line_items"][0]["id"])],
        "quantity": ["1"],
    } | change

    refused = send(client, page, path(supplier_order, "returns"), **data)

    assert flash_of(refused) == message
    assert so_of(network.retailer, supplier_order["id"])["returns"] == []


# -- returns: the supplier decides -------------------------------------------------------------


def requested_return(network, clock, worker, quantity: int = 2) -> tuple[dict, dict, dict]:
    order, supplier_order = reaches_the_supplier(network, clock, worker, quantity=quantity)
    ship(network, supplier_order)
    created = network.retailer.post(
        f"/supplier_orders/{supplier_order['id']}/returns",
        {
            "reason": "damaged",
            "line_items": [{"id": supplier_order["line_items"][0]["id"], "quantity": quantity}],
        },
    )
    assert created.status_code == 201, created.text
    return order, supplier_order, created.json()


def test_the_supplier_approves_then_closes_a_return_without_restocking(client, automatic, clock, worker):
    automatic.supplier.patch("/store", {"return_policy": POLICY})
    order, supplier_order, created = requested_return(automatic, clock, worker)
    base = path(supplier_order, f"returns/{created['id']}")
    as_supplier(client, automatic)
    page = supplier_order_page(client, supplier_order["id"])
    assert has_action(page, f"{base}/approve") and has_action(page, f"{base}/decline")
    assert not has_action(page, f"{base}/close")

    approved = send(client, page, f"{base}/approve")

    assert flash_of(approved) == "You approved the return. Close it once the goods are back."
    assert not has_action(approved, f"{base}/approve") and has_action(approved, f"{base}/close")
    closed = send(client, approved, f"{base}/close", restock="false")
    assert flash_of(closed) == "The return was closed and the retailer refunded."
    [after] = so_of(automatic.supplier, supplier_order["id"])["returns"]
    assert (after["status"], after["restocked"], after["refund_amount"], after["restocking_fee"]) == (
        "closed",
        False,
        "30.60",
        "5.40",
    )
    assert automatic.supplier.variant(automatic.supplier_variant["id"])["available"] == 8
    assert not has_action(closed, f"{base}/close")
    logged_in(client, automatic.retailer)
    panel = panel_of(order_page(client, order["id"]))
    assert "Return closed" in panel and "Refunded €30.60 (restocking fee: €5.40)." in panel
    assert "For return #" in panel


def test_closing_with_restock_puts_the_items_back(client, automatic, clock, worker):
    _, supplier_order, created = requested_return(automatic, clock, worker)
    automatic.supplier.post(f"/returns/{created['id']}/approve")
    as_supplier(client, automatic)
    page = supplier_order_page(client, supplier_order["id"])
    base = path(supplier_order, f"returns/{created['id']}")

    without_choice = send(client, page, f"{base}/close")
    closed = send(client, page, f"{base}/close", restock="true")

    assert flash_of(without_choice) == "Choose whether the items go back in stock."
    assert flash_of(closed) == "The return was closed and the retailer refunded."
    assert automatic.supplier.variant(automatic.supplier_variant["id"])["available"] == 10


def test_the_supplier_declines_a_return_with_a_message(client, network, clock, worker):
    order, supplier_order, created = requested_return(network, clock, worker)
    base = path(supplier_order, f"returns/{created['id']}")
    as_supplier(client, network)
    page = supplier_order_page(client, supplier_order["id"])

    silent = send(client, page, f"{base}/decline", message="")
    declined = send(client, page, f"{base}/decline", message="Worn items")

    assert flash_of(silent) == "Write a message telling the retailer why you decline the return."
    assert flash_of(declined) == "You declined the return. The retailer sees your message."
    [after] = so_of(network.supplier, supplier_order["id"])["returns"]
    assert (after["status"], after["decline_message"]) == ("declined", "Worn items")
    assert not has_action(declined, f"{base}/approve")
    approve_anyway = send(client, declined, f"{base}/approve")
    assert flash_of(approve_anyway) == "This return no longer waits for this step."
    assert so_of(network.supplier, supplier_order["id"])["returns"][0]["status"] == "declined"
    logged_in(client, network.retailer)
    assert "The supplier declined the return: Worn items" in panel_of(order_page(client, order["id"]))


def test_a_return_is_acted_on_only_by_its_supplier_from_its_own_supplier_order(
    client, network, clock, worker
):
    _, supplier_order, created = requested_return(network, clock, worker)
    _, other = reaches_the_supplier(network, clock, worker)
    as_supplier(client, network)
    supplier_page = supplier_order_page(client, other["id"])
    elsewhere = send(client, supplier_page, path(other, f"returns/{created['id']}/approve"))
    logged_in(client, network.retailer)
    retailer_page = supplier_order_page(client, supplier_order["id"])

    by_retailer = send(client, retailer_page, path(supplier_order, f"returns/{created['id']}/approve"))

    assert (elsewhere.status_code, by_retailer.status_code) == (404, 404)
    assert f"returns/{created['id']}/approve" not in retailer_page.text
    assert so_of(network.retailer, supplier_order["id"])["returns"][0]["status"] == "requested"


# -- the supplier's return policy ------------------------------------------------------------


def test_a_supplier_edits_its_return_policy(client, network):
    as_supplier(client, network)
    page = client.get("/admin/settings")
    assert 'id="return-policy"' in page.text

    saved = send(
        client,
        page,
        "/admin/settings/return_policy",
        window_days="14",
        restocking_fee_percent="10",
        label_provider="customer",
        final_sale_skus="SALE-2\nSALE-1, SALE-2",
    )

    assert flash_of(saved) == "The return policy was saved."
    assert network.supplier.get("/store").json()["return_policy"] == {
        "window_days": 14,
        "restocking_fee_percent": 10,
        "label_provider": "customer",
        "final_sale_skus": ["SALE-1", "SALE-2"],
    }
    assert 'name="window_days" min="0" max="365" step="1" value="14"' in saved.text
    assert 'value="customer" selected' in saved.text and "SALE-1\nSALE-2</textarea>" in saved.text


@pytest.mark.parametrize(
    "change, message",
    [
        ({"window_days": "two weeks"}, "Enter the return window as a number of days, 0 to 365."),
        ({"window_days": "400"}, "Enter the return window as a number of days, 0 to 365."),
        ({"restocking_fee_percent": "120"}, "Enter the restocking fee as a percentage, 0 to 100."),
        ({"label_provider": "nobody"}, "Choose who provides the return label."),
    ],
)
def test_a_bad_return_policy_is_refused(client, network, change, message):
    before = network.supplier.get("/store").json()["return_policy"]
    as_supplier(client, network)
    page = client.get("/admin/settings")
    data = {"window_days": "14", "restocking_fee_percent": "10", "label_provider": "supplier"} | change

    refused = send(client, page, "/admin/settings/return_policy", **data)

    assert flash_of(refused) == message
    assert network.supplier.get("/store").json()["return_policy"] == before


def test_a_retailer_has_no_return_policy_to_edit(client, network):
    logged_in(client, network.retailer)
    page = client.get("/admin/settings")

    forced = send(client, page, "/admin/settings/return_policy", window_days="1", restocking_fee_percent="0")

    assert 'id="return-policy"' not in page.text
    assert flash_of(forced) == "Only a supplier store has a return policy."
    assert network.retailer.get("/store").json()["return_policy"]["window_days"] == 30


# -- CSRF --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "store, action, data",
    [
        ("retailer", "request_cancellation", {}),
        ("retailer", "returns", {"reason": "damaged", "line_id": "1", "quantity": "1"}),
        ("supplier", "cancellation/accept", {}),
        ("supplier", "cancel", {"reason": "Out of stock"}),
        ("supplier", "refunds", {"amount": "1.00"}),
    ],
)
def test_forms_without_the_session_csrf_token_are_refused(
    client, network, clock, worker, store, action, data
):
    _, supplier_order = reaches_the_supplier(network, clock, worker)
    network.supplier.post(f"/supplier_orders/{supplier_order['id']}/payment/mark_received")
    logged_in(client, getattr(network, store))

    response = client.post(path(supplier_order, action), data={"csrf_token": "forged", **data})

    assert response.status_code == 403
    after = so_of(network.supplier, supplier_order["id"])
    assert (after["status"], after["cancellation_status"], after["refunds"]) == ("open", None, [])


def test_the_return_policy_form_needs_the_session_csrf_token(client, network):
    before = network.supplier.get("/store").json()["return_policy"]
    logged_in(client, network.supplier)

    response = client.post(
        "/admin/settings/return_policy",
        data={"csrf_token": "forged", "window_days": "1", "restocking_fee_percent": "0"},
    )

    assert response.status_code == 403
    assert network.supplier.get("/store").json()["return_policy"] == before


# -- in French ----------------------------------------------------------------------------------


def test_both_sides_speak_french(client, make_store, clock, worker):
    network = build(make_store, retailer_locale="fr")
    order, supplier_order = reaches_the_supplier(network, clock, worker)
    network.supplier.post(f"/supplier_orders/{supplier_order['id']}/payment/mark_received")
    logged_in(client, network.retailer)
    retailer_page = order_page(client, order["id"])
    network.retailer.post(f"/supplier_orders/{supplier_order['id']}/request_cancellation")
    logged_in(client, network.supplier)  # a French store

    supplier_page = supplier_order_page(client, supplier_order["id"])
    declined = send(
        client, supplier_page, path(supplier_order, "cancellation/decline"), message="Déjà emballée"
    )
    settings = client.get("/admin/settings")

    assert "Demander l’annulation" in panel_of(retailer_page)
    assert "Note au fournisseur (facultative)" in panel_of(retailer_page)
    assert "Le détaillant vous demande d’annuler cette commande." in supplier_page.text
    assert "Accepter l’annulation" in supplier_page.text and "Refuser l’annulation" in supplier_page.text
    assert "Annuler cette commande" in supplier_page.text and "Rembourser le détaillant" in supplier_page.text
    assert "Jusqu’à 36,00\u00a0€" in supplier_page.text
    assert flash_of(declined) == "Vous avez refusé l’annulation. Le détaillant voit votre message."
    assert (
        "Politique de retour" in settings.text
        and "Délai de retour (jours après l’expédition)" in settings.text
    )
    logged_in(client, network.retailer)
    panel = panel_of(order_page(client, order["id"]))
    assert "Le fournisseur a refusé votre demande d’annulation : Déjà emballée" in panel


def test_a_french_retailer_reads_the_return_form_in_french(client, make_store, clock, worker):
    network = build(make_store, retailer_locale="fr")
    network.supplier.patch("/store", {"return_policy": POLICY})
    _, supplier_order = reaches_the_supplier(network, clock, worker)
    ship(network, supplier_order)
    logged_in(client, network.retailer)

    page = supplier_order_page(client, supplier_order["id"])

    assert "Demander un retour" in page.text and "Motif du retour" in page.text
    assert "30 jours après l’expédition" in page.text and "15 % du prix de gros" in page.text
    assert "Le détaillant fournit l’étiquette de retour" in page.text and "Taille ou coupe" in page.text
