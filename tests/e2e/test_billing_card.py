"""A retailer's collective payments are charged to its billing card (SPEC §2.1): without one,
automatic payments cannot be turned on (over the API, in the admin UI)."""

import pytest

from tests.e2e.test_admin_pages import csrf_of, flash_of, logged_in


def test_a_retailer_without_a_billing_card_cannot_turn_on_automatic_payments(shop):
    response = shop.patch("/store", {"collective_automatic_payments": True})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "billing_card_token"
    assert shop.get("/store").json()["collective_automatic_payments"] is False


def test_a_card_sent_with_the_switch_turns_automatic_payments_on(shop):
    response = shop.patch(
        "/store", {"collective_automatic_payments": True, "billing_card_token": "tok_success"}
    )
    assert response.status_code == 200, response.text
    store = shop.get("/store").json()
    assert store["collective_automatic_payments"] is True and store["billing_card"] == {"last4": "4242"}


def test_a_supplier_needs_no_billing_card_for_automatic_payments(make_store):
    supplier = make_store("Atelier Nord", kind="supplier")
    assert supplier.patch("/store", {"collective_automatic_payments": True}).status_code == 200


def test_a_supplier_with_automatic_payments_cannot_become_a_retailer_without_a_card(make_store):
    supplier = make_store("Atelier Nord", kind="supplier", automatic_payments=True)
    response = supplier.patch("/store", {"kinds": ["retailer", "supplier"]})
    assert response.status_code == 422 and response.json()["error"]["field"] == "billing_card_token"
    assert supplier.get("/store").json()["kinds"] == ["supplier"]


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        ("en", "Automatic payments need a billing card: enter a card token beside the switch."),
        ("fr", "Les paiements automatiques demandent une carte de facturation"),
    ],
)
def test_the_settings_page_asks_for_the_card_beside_the_switch(client, make_store, locale, message):
    retailer = logged_in(client, make_store("Maison Camille", locale=locale))
    page = client.get("/admin/settings")
    switch = page.text.index('name="collective_automatic_payments"')
    assert 0 < page.text.index('name="billing_card_token"') - switch < 3000

    refused = client.post(
        "/admin/settings",
        data={
            "csrf_token": csrf_of(page),
            "payment_capture": "automatic",
            "collective_automatic_payments": "true",
        },
    )

    assert message in flash_of(refused)
    assert retailer.get("/store").json()["collective_automatic_payments"] is False
