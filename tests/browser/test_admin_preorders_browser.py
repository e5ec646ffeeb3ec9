"""Staff collect the balance of a pre-order with the card on file, in a real browser."""

import re

import pytest

pytestmark = pytest.mark.browser


def test_staff_collect_a_preorders_balance_with_the_card_on_file(page, live_server, shop):
    from playwright.sync_api import expect

    variant = shop.product(price="100.00")
    plan = shop.selling_plan([variant["id"]], deposit=("percentage", 20))
    order = shop.preorder(variant["id"], plan["id"], email="lea@example.com")

    page.goto(f"{live_server}/admin/orders/{order['id']}")
    page.get_by_label("Email").fill(shop.staff_email)
    page.get_by_label("Password").fill(shop.staff_password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(rf"/admin/orders/{order['id']}$"))

    panel = page.locator("#payment-schedule")
    expect(panel).to_contain_text("€80.00")
    expect(panel).to_contain_text("Pending")
    charge = panel.get_by_role("button", name="Charge card on file")
    expect(charge).to_be_hidden()  # inside the closed "Collect payment" menu
    panel.get_by_text("Collect payment").click()
    charge.click()

    expect(page.get_by_role("status")).to_have_text("The payment was collected.")
    expect(page.locator(".title-row")).to_contain_text("Paid")
    expect(panel).to_contain_text("Paid")
    expect(panel.get_by_text("Collect payment")).to_have_count(0)
    after = shop.order(order["id"])
    assert after["financial_status"] == "paid"
    assert [t["amount"] for t in after["transactions"] if t["status"] == "success"] == ["20.00", "80.00"]
