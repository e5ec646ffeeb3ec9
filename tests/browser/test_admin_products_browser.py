"""Staff create a product and change its stock from the admin, on a desktop and on a phone."""

import os
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = os.environ.get("TANDEM_SCREENSHOTS")  # a directory, to look at the pages


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_staff_create_a_product_and_change_its_stock(chromium, live_server, make_store, viewport):
    from playwright.sync_api import expect

    shop = make_store("Atelier Manuel")
    context = chromium.new_context(locale="en-GB", viewport=viewport)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(f"{live_server}/admin/products")
    page.get_by_label("Email").fill(shop.staff_email)
    page.get_by_label("Password").fill(shop.staff_password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Products", exact=True)).to_be_visible()

    form = page.locator("#new-product form")
    form.get_by_label("Title", exact=True).fill("Linen shirt")
    first = form.locator("fieldset").first
    first.get_by_label("Variant title").fill("M")
    first.get_by_label("SKU").fill("LIN-M")
    first.get_by_label("Price", exact=True).fill("49.00")
    first.get_by_label("Wholesale price").fill("20.00")
    first.get_by_label("Initial stock").fill("4")
    form.get_by_role("button", name="Create product").click()

    expect(page.get_by_role("status")).to_have_text("The product was created.")
    expect(page.locator("#products")).to_contain_text("LIN-M")
    _fits(page, viewport)
    _screenshot(page, f"products-{viewport['width']}")

    page.get_by_role("link", name="Linen shirt").click()
    expect(page.get_by_role("heading", name="Linen shirt")).to_be_visible()
    page.get_by_label("Available to sell").fill("9")
    page.get_by_role("button", name="Set stock").click()

    expect(page.get_by_role("status")).to_have_text("The stock was set.")
    expect(page.locator(".stock-available")).to_have_text("9")
    expect(page.locator("#stock-movements")).to_contain_text("4 → 9")
    _fits(page, viewport)
    _screenshot(page, f"product-{viewport['width']}")
    variant = shop.get("/products").json()["products"][0]["variants"][0]
    assert (variant["sku"], variant["available"], variant["price"]) == ("LIN-M", 9, "49.00")
    context.close()


def _fits(page, viewport: dict) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def _screenshot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def test_the_navigation_links_to_products(page, live_server, make_store):
    from playwright.sync_api import expect

    shop = make_store("Atelier Manuel")
    page.goto(f"{live_server}/admin/login")
    page.get_by_label("Email").fill(shop.staff_email)
    page.get_by_label("Password").fill(shop.staff_password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Products").click()
    expect(page).to_have_url(re.compile(r"/admin/products$"))
