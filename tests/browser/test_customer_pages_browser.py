"""A customer acts on the link they were mailed, in a real browser: the worker could not
collect a pre-order's balance, the mail reaches a real SMTP server, and the page behind its
link settles the balance (SPEC §2.4)."""

import re

import pytest

from tests.support.mail import parts

pytestmark = pytest.mark.browser
DAY = 86400


@pytest.fixture
def site(live_server, runtime):
    """The live server's address is the one mailed links carry, as in production."""
    runtime.settings = runtime.settings.model_copy(update={"base_url": live_server})
    return live_server


def _preorder(shop, card: str) -> dict:
    variant = shop.product(price="100.00", title="Lampe Lune")
    plan = shop.selling_plan([variant["id"]])
    return shop.preorder(variant["id"], plan["id"], card=card, email="lea@example.com")


def _balance_falls_due(clock, worker) -> None:
    clock.advance(seconds=DAY + 1)
    worker.run_until_idle()


def _schedule(shop, order_id: int) -> dict:
    [schedule] = shop.order(order_id)["payment_schedules"]
    return schedule


def mailed_link(smtp, purpose: str) -> str:
    """The link of `purpose` in the newest mail the customer received that has one."""
    for message in reversed(smtp.wait_for(1)):
        if "lea@example.com" not in message["To"]:
            continue
        found = re.search(rf"https?://\S+/p/{purpose}/\S+", parts(message)["plain"])
        if found:
            return found.group(0)
    raise AssertionError(f"no {purpose} link was mailed")


def test_a_customer_replaces_a_declined_card_and_the_balance_is_charged(
    page, site, make_store, clock, worker, smtp
):
    from playwright.sync_api import expect

    shop = make_store("Maison Lune")
    order = _preorder(shop, card="tok_decline_after_first")
    _balance_falls_due(clock, worker)
    assert _schedule(shop, order["id"])["status"] == "failed"

    link = mailed_link(smtp, "update_card")
    assert link.startswith(f"{site}/p/update_card/")
    page.goto(link)
    expect(page.get_by_role("heading", name="Update your payment method")).to_be_visible()
    expect(page.locator(".shop-name")).to_have_text("Maison Lune")
    expect(page.locator(".waiting")).to_contain_text(order["name"])
    page.get_by_role("button", name="Save card").click()  # nothing typed yet
    expect(page.locator("#card_token_error")).to_have_text("Enter a card token.")

    page.get_by_label("Card token").fill("tok_success")
    page.get_by_role("button", name="Save card").click()
    expect(page.get_by_role("heading", name="Your card is saved")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("4242")

    worker.run_until_idle()  # the failed balance is tried again with the new card
    assert _schedule(shop, order["id"])["status"] == "paid"
    assert shop.order(order["id"])["financial_status"] == "paid"

    page.goto(link)
    expect(page.get_by_role("heading", name="This link was already used")).to_be_visible()


def test_a_customer_confirms_a_payment_their_bank_challenged_in_french(
    page, site, make_store, clock, worker, smtp
):
    from playwright.sync_api import expect

    shop = make_store("Maison Lune", locale="fr")
    order = _preorder(shop, card="tok_requires_action")
    _balance_falls_due(clock, worker)
    assert _schedule(shop, order["id"])["status"] == "awaiting_customer"

    page.goto(mailed_link(smtp, "confirm_payment"))
    expect(page.get_by_role("heading", name="Confirmez votre paiement")).to_be_visible()
    expect(page.locator(".order-name")).to_have_text(order["name"])
    expect(page.locator(".amount")).to_have_text(re.compile(r"^80,00\s€$"))
    page.get_by_role("button", name="Confirmer le paiement").click()

    expect(page.get_by_role("heading", name="Paiement confirmé")).to_be_visible()
    assert _schedule(shop, order["id"])["status"] == "paid"
    assert shop.order(order["id"])["financial_status"] == "paid"


def test_a_customer_pays_an_invoice_after_a_first_card_is_declined(
    page, site, make_store, clock, worker, smtp
):
    from playwright.sync_api import expect

    shop = make_store("Maison Lune")
    order = _preorder(shop, card="tok_decline_after_first")
    _balance_falls_due(clock, worker)  # the card on file declines the balance
    schedule = _schedule(shop, order["id"])
    assert schedule["status"] == "failed"
    sent = shop.post(f"/orders/{order['id']}/payment_schedules/{schedule['id']}/send_invoice")
    assert sent.status_code == 200, sent.text
    worker.run_until_idle()

    page.goto(mailed_link(smtp, "pay_invoice"))
    expect(page.get_by_role("heading", name="Pay your balance")).to_be_visible()
    expect(page.locator(".amount")).to_have_text("€80.00")
    page.get_by_label("Card token").fill("tok_decline")
    page.get_by_role("button", name="Pay €80.00").click()
    expect(page.get_by_role("alert")).to_contain_text("Your card was declined")
    assert _schedule(shop, order["id"])["status"] == "failed"

    page.get_by_label("Card token").fill("tok_success")
    page.get_by_role("button", name="Pay €80.00").click()
    expect(page.get_by_role("heading", name="Thank you for your payment")).to_be_visible()
    assert _schedule(shop, order["id"])["status"] == "paid"
    assert shop.order(order["id"])["financial_status"] == "paid"
