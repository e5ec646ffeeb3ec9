"""A supplier fulfils an incoming order from the admin UI, and the retailer sees it shipped,
in a real browser."""

import re

import pytest

from tests.support.network import build

pytestmark = pytest.mark.browser
TRACKING = "6A12345678901"


def log_in(page, base_url: str, store) -> None:
    page.goto(f"{base_url}/admin/orders")
    page.get_by_label("Email").fill(store.staff_email)
    page.get_by_label("Password").fill(store.staff_password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/admin/orders$"))


def test_the_supplier_fulfils_an_order_and_the_retailer_sees_its_tracking(
    page, live_server, make_store, clock, worker
):
    from playwright.sync_api import expect

    network = build(make_store)
    order = network.retailer.place_order(network.variant["id"], 2)
    clock.advance(seconds=120)  # the review window passes: the supplier order opens
    worker.run_until_idle()

    log_in(page, live_server, network.supplier)
    page.get_by_role("button", name="EN").click()  # the supplier's store speaks French
    page.get_by_role("link", name="Supplier orders").click()
    page.get_by_role("link", name=order["name"]).click()
    form = page.locator("#fulfill")
    expect(form.get_by_label("Pull marin M")).to_have_value("2")
    form.get_by_label("Carrier").fill("Colissimo")
    form.get_by_label("Tracking number").fill(TRACKING)
    form.get_by_label("Tracking link (optional)").fill(f"https://www.laposte.fr/suivi?code={TRACKING}")
    form.get_by_role("button", name="Fulfill items").click()

    expect(page.get_by_role("status")).to_have_text("The items were marked as fulfilled.")
    expect(page.locator(".title-row")).to_contain_text("Fulfilled")
    expect(page.locator("#fulfill")).to_have_count(0)
    expect(page.locator("#fulfillments")).to_contain_text(TRACKING)

    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server, network.retailer)
    page.get_by_role("link", name=order["name"]).click()
    expect(page.locator(".title-row")).to_contain_text("Fulfilled")
    panel = page.locator("#supplier-orders")
    expect(panel).to_contain_text("Fulfilled")
    expect(panel.get_by_role("link", name=TRACKING)).to_have_attribute(
        "href", f"https://www.laposte.fr/suivi?code={TRACKING}"
    )
    assert network.retailer.order(order["id"])["fulfillment_status"] == "fulfilled"


def test_the_supplier_declines_a_cancellation_request_and_the_retailer_reads_why(
    page, live_server, make_store, clock, worker
):
    from playwright.sync_api import expect

    network = build(make_store)
    order = network.retailer.place_order(network.variant["id"])
    clock.advance(seconds=120)  # the supplier order opens
    worker.run_until_idle()

    log_in(page, live_server, network.retailer)
    page.get_by_role("link", name=order["name"]).click()
    panel = page.locator("#supplier-orders")
    panel.locator("summary", has_text="Request cancellation").click()
    request = panel.locator("form[action$='/request_cancellation']")
    request.get_by_label("Note to the supplier (optional)").fill("The customer changed her mind")
    request.get_by_role("button", name="Request cancellation").click()
    expect(page.get_by_role("status")).to_have_text("Your cancellation request was sent to the supplier.")
    expect(panel).to_contain_text("Cancellation requested")
    page.get_by_role("button", name="Log out").click()

    log_in(page, live_server, network.supplier)
    page.get_by_role("button", name="EN").click()  # the supplier's store speaks French
    page.get_by_role("link", name="Supplier orders").click()
    page.get_by_role("link", name=order["name"]).click()
    cancellation = page.locator("#cancellation")
    expect(cancellation).to_contain_text("The retailer asks you to cancel this order.")
    expect(cancellation).to_contain_text("Retailer’s note: The customer changed her mind")
    cancellation.get_by_label("Why you decline (the retailer sees it)").fill("Already packed")
    cancellation.get_by_role("button", name="Decline the cancellation").click()
    expect(page.get_by_role("status")).to_have_text(
        "You declined the cancellation. The retailer sees your message."
    )
    page.get_by_role("button", name="Log out").click()

    log_in(page, live_server, network.retailer)
    page.get_by_role("link", name=order["name"]).click()
    expect(page.locator("#supplier-orders")).to_contain_text(
        "The supplier declined your cancellation request: Already packed"
    )
    [supplier_order] = network.retailer.order(order["id"])["supplier_orders"]
    assert (supplier_order["status"], supplier_order["cancellation_status"]) == ("open", "declined")
