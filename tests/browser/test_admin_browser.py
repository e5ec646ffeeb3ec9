"""Staff hold a suspicious unpaid order from the admin UI, in a real browser."""

import re

import pytest

pytestmark = pytest.mark.browser


def test_staff_put_an_unpaid_order_on_hold_from_the_admin(page, live_server, make_store):
    from playwright.sync_api import expect

    shop = make_store("Atelier Manuel", capture="manual")
    variant = shop.product(quantity=10)
    authorized = shop.place_order(variant["id"], email="waiting@example.com")
    paid = shop.place_order(variant["id"], email="settled@example.com")
    assert shop.post(f"/orders/{paid['id']}/capture").status_code == 200

    page.goto(f"{live_server}/admin/orders")
    expect(page).to_have_url(re.compile(r"/admin/login\?next="))
    page.get_by_label("Email").fill(shop.staff_email)
    page.get_by_label("Password").fill(shop.staff_password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()

    page.get_by_role("link", name="Unpaid", exact=True).click()
    expect(page).to_have_url(re.compile(r"tab=unpaid"))
    expect(page.locator(f'a[href="/admin/orders/{authorized["id"]}"]')).to_have_text(authorized["name"])
    expect(page.locator(f'a[href="/admin/orders/{paid["id"]}"]')).to_have_count(0)

    page.get_by_role("link", name=authorized["name"]).click()
    hold_form = page.locator(f'form[action="/admin/orders/{authorized["id"]}/hold"]')
    hold_form.get_by_label("Reason").select_option("high_risk_of_fraud")
    hold_form.get_by_label("Note (optional)").fill("Billing and shipping countries differ")
    hold_form.get_by_role("button", name="Hold fulfillment").click()

    expect(page.get_by_role("status")).to_have_text("Fulfillment is on hold.")
    expect(page.locator(".title-row")).to_contain_text("On hold")
    holds = page.locator("#holds")
    expect(holds).to_contain_text("High risk of fraud")
    expect(holds).to_contain_text("Billing and shipping countries differ")
    expect(page.get_by_role("button", name="Release holds")).to_be_visible()
    assert shop.order(authorized["id"])["fulfillment_status"] == "on_hold"
