"""Addresses as merchants send them to Shopify (SPEC §2.2): names whole or split, countries by name
or ISO code, null for an absent field; responses carry both forms."""

import pytest

SHOPIFY_ADDRESS = {
    "name": "Jo Martin",
    "company": None,
    "address1": "12 rue de la Paix",
    "address2": None,
    "city": "Paris",
    "province": "Île-de-France",
    "province_code": "IDF",
    "zip": "75002",
    "country": "France",
    "phone": "+33 1 23 45 67 89",
}


def _ordered_with(shop, address: dict) -> dict:
    variant = shop.product()
    checkout = shop.checkout(variant["id"], shipping_address=address)
    assert checkout.status_code == 201, checkout.text
    completed = shop.post(f"/checkouts/{checkout.json()['id']}/complete")
    assert completed.status_code == 201, completed.text
    return shop.order(completed.json()["id"])["shipping_address"]


def test_a_shopify_style_address_is_accepted_and_shown_in_both_forms(shop):
    shown = _ordered_with(shop, SHOPIFY_ADDRESS)
    assert shown["name"] == "Jo Martin"
    assert (shown["first_name"], shown["last_name"]) == ("Jo", "Martin")
    assert (shown["country_code"], shown["country"]) == ("FR", "France")
    assert (shown["province_code"], shown["phone"]) == ("IDF", "+33 1 23 45 67 89")
    assert "company" not in shown and "address2" not in shown


@pytest.mark.parametrize(
    ("country", "code"),
    [("Allemagne", "DE"), ("germany", "DE"), ("Côte d’Ivoire", "CI"), ("cote d'ivoire", "CI"), ("be", "BE")],
)
def test_a_country_is_understood_by_english_or_french_name_or_iso_code(shop, country, code):
    shown = _ordered_with(shop, {**SHOPIFY_ADDRESS, "country": country})
    assert shown["country_code"] == code


def test_first_and_last_names_give_the_whole_name(shop):
    address = {
        **SHOPIFY_ADDRESS,
        "name": None,
        "first_name": "Camille",
        "last_name": "Martin",
        "country": None,
    }
    shown = _ordered_with(shop, {**address, "country_code": "fr"})
    assert (shown["name"], shown["first_name"], shown["last_name"]) == ("Camille Martin", "Camille", "Martin")
    assert shown["country_code"] == "FR"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"country": "Atlantis"}, "shipping_address.country"),
        ({"country": None}, "shipping_address.country_code"),
        ({"country": None, "country_code": "XX"}, "shipping_address.country_code"),
        ({"country": "France", "country_code": "DE"}, "shipping_address"),
        ({"address1": None}, "shipping_address.address1"),
        ({"nickname": "Jo"}, "shipping_address.nickname"),
    ],
)
def test_an_address_that_cannot_be_read_is_refused_naming_the_field(shop, change, field):
    variant = shop.product(quantity=3)
    response = shop.checkout(variant["id"], shipping_address={**SHOPIFY_ADDRESS, **change})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field
    assert shop.variant(variant["id"])["available"] == 3
