"""Strict input over HTTP: a bad value is a 422 naming the field, and nothing changes."""

import pytest
from sqlalchemy import func, select

from tandem.catalog.models import Product
from tandem.errors import InvalidInput
from tandem.stores import service as stores
from tandem.stores.domain import StoreKind
from tandem.stores.models import Store
from tests.support.api import ADDRESS


def field_of(response) -> str:
    return response.json()["error"]["field"]


def product_count(runtime) -> int:
    with runtime.uow(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(Product))


@pytest.mark.parametrize("quantity", [True, "1", 1.0])
def test_a_quantity_must_be_a_json_integer(shop, quantity):
    variant = shop.product(quantity=5)
    body = {
        "email": "camille@example.com",
        "line_items": [{"variant_id": variant["id"], "quantity": quantity}],
        "shipping_address": ADDRESS,
        "card_token": "tok_success",
    }
    response = shop.post("/checkouts", body)
    assert response.status_code == 422, response.text
    assert field_of(response) == "line_items[0].quantity"
    assert shop.get(f"/variants/{variant['id']}").json()["available"] == 5


@pytest.mark.parametrize("variant_id", [True, "1"])
def test_an_id_in_a_body_must_be_a_json_integer(shop, variant_id):
    shop.product(quantity=5)
    response = shop.post("/inventory/set", {"variant_id": variant_id, "available": 3})
    assert response.status_code == 422
    assert field_of(response) == "variant_id"


@pytest.mark.parametrize("available", [False, True, "0", 2.5])
def test_stock_set_to_a_non_integer_is_refused_and_stock_kept(shop, available):
    variant = shop.product(quantity=7)
    response = shop.post("/inventory/set", {"variant_id": variant["id"], "available": available})
    assert response.status_code == 422
    assert field_of(response) == "available"
    assert shop.get(f"/variants/{variant['id']}").json()["available"] == 7


@pytest.mark.parametrize("price", ["١", "1_000", "1e3", " 5", "-1", "5.", 9.99, True, None])
def test_a_price_must_be_an_ascii_decimal_string(shop, runtime, price):
    response = shop.post("/products", {"title": "Shirt", "variants": [{"price": price}]})
    assert response.status_code == 422, response.text
    assert field_of(response) == "variants[0].price"
    assert product_count(runtime) == 0


def test_a_price_as_a_decimal_string_or_whole_number_is_taken(shop):
    response = shop.post("/products", {"title": "Shirt", "variants": [{"price": "10.50"}, {"price": 12}]})
    assert response.status_code == 201, response.text
    assert [v["price"] for v in response.json()["variants"]] == ["10.50", "12.00"]


@pytest.mark.parametrize("fee", ["١٠", "1_000", 3.5])
def test_a_shipping_fee_with_foreign_digits_is_refused(shop, fee):
    before = shop.get("/store").json()
    response = shop.patch("/store", {"supplier_shipping_fee": fee})
    assert response.status_code == 422
    assert field_of(response) == "supplier_shipping_fee"
    assert shop.get("/store").json() == before


@pytest.mark.parametrize("currency", ["XXX", "XTS", "XAU", "XDR", "eur", "EURO", "DEM"])
def test_a_currency_must_be_one_in_use(shop, currency):
    response = shop.patch("/store", {"currency": currency})
    assert response.status_code == 422
    assert field_of(response) == "currency"
    assert shop.get("/store").json()["currency"] == "EUR"


def test_a_currency_in_use_is_taken(shop):
    response = shop.patch("/store", {"currency": "JPY"})
    assert response.status_code == 200
    assert response.json()["currency"] == "JPY"


REQUIRED_SETTINGS = [
    "name",
    "kinds",
    "email",
    "currency",
    "locale",
    "timezone",
    "payment_capture",
    "collective_automatic_payments",
    "sender_name",
    "sender_email",
    "billing_card_token",
    "supplier_shipping_fee",
    "return_policy",
]


@pytest.mark.parametrize("setting", REQUIRED_SETTINGS)
def test_null_for_a_store_setting_is_refused_and_nothing_is_wiped(shop, setting):
    shop.patch(
        "/store", {"email": "shop@example.com", "sender_name": "Shop", "sender_email": "s@example.com"}
    )
    before = shop.get("/store").json()
    other = {"timezone": "Europe/Paris"} if setting != "timezone" else {"locale": "fr"}
    response = shop.patch("/store", {setting: None, **other})
    assert response.status_code == 422, response.text
    assert field_of(response) == setting
    assert "null" in response.json()["error"]["message"]
    assert shop.get("/store").json() == before


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("sender_name", "Shop\r\nBcc: victim@example.com"),
        ("sender_name", "Shop\nX"),
        ("sender_name", "Shop\u2028X"),
        ("sender_name", "Shop\x85X"),
        ("name", "Shop\rX"),
        ("sender_email", "shop@example.com\r\nBcc: victim@example.com"),
        ("sender_email", "shop\x01@example.com"),
        ("email", "shop\x1f@example.com"),
    ],
)
def test_text_that_goes_into_an_email_header_must_be_one_line(shop, setting, value):
    before = shop.get("/store").json()
    response = shop.patch("/store", {setting: value})
    assert response.status_code == 422
    assert field_of(response) == setting
    assert shop.get("/store").json() == before


def test_a_customer_email_with_a_control_character_is_refused(shop):
    response = shop.post("/customers", {"email": "camille\x07@example.com"})
    assert response.status_code == 422
    assert field_of(response) == "email"
    assert shop.get("/customers").json()["customers"] == []


@pytest.mark.parametrize(
    "address",
    [
        "http://user:pw@127.0.0.1:8080/tandem",
        "http://user@127.0.0.1:8080/tandem",
        "http://127.0.0.1:8080/tandem\r\nX-Evil: 1",
        "http://127.0.0.1:8080/\x00",
        "http://127.0.0.1:8080/a\x7fb",
        "ftp://127.0.0.1:8080/",
        "http://example.com:port/tandem",
        "http://example.com:65536/tandem",
    ],
)
def test_a_webhook_address_with_credentials_or_control_characters_is_refused(
    shop, allow_private_webhooks, address
):
    response = shop.post("/webhooks", {"topic": "orders/create", "address": address})
    assert response.status_code == 422
    assert field_of(response) == "address"
    assert shop.get("/webhooks").json()["webhooks"] == []


def test_a_plain_webhook_address_is_taken(shop, allow_private_webhooks):
    response = shop.post("/webhooks", {"topic": "orders/create", "address": "http://127.0.0.1:8080/tandem"})
    assert response.status_code == 201, response.text


def _fixed_plan(shop, value: str, variant_ids: list[int]):
    return shop.post(
        "/selling_plans",
        {
            "name": "Pre-order",
            "deposit": {"type": "fixed", "value": value},
            "balance_due": {"trigger": "on_fulfillment"},
            "variant_ids": variant_ids,
        },
    )


def test_a_fixed_deposit_above_the_variant_price_is_refused(shop):
    variant = shop.product(price="10.00")
    response = _fixed_plan(shop, "99999.00", [variant["id"]])
    assert response.status_code == 422
    assert field_of(response) == "deposit.value"
    assert shop.get("/selling_plans").json()["selling_plans"] == []


def test_a_fixed_deposit_equal_to_the_price_is_taken(shop):
    variant = shop.product(price="10.00")
    assert _fixed_plan(shop, "10.00", [variant["id"]]).status_code == 201


def test_a_variant_cheaper_than_the_fixed_deposit_cannot_join_the_plan(shop):
    dear = shop.product(price="50.00", sku="DEAR")
    cheap = shop.product(price="10.00", sku="CHEAP")
    plan = _fixed_plan(shop, "20.00", [dear["id"]]).json()
    response = shop.post(f"/selling_plans/{plan['id']}/variants", {"variant_ids": [cheap["id"]]})
    assert response.status_code == 422
    assert field_of(response) == "variant_ids"
    assert shop.get(f"/selling_plans/{plan['id']}").json()["variant_ids"] == [dear["id"]]


@pytest.mark.parametrize("flag", ["yes", "false", 0])
def test_a_flag_must_be_a_json_boolean(shop, flag):
    order = shop.place_order(shop.product()["id"])
    response = shop.post(f"/orders/{order['id']}/cancel", {"refund": flag})
    assert response.status_code == 422
    assert field_of(response) == "refund"
    assert shop.get(f"/orders/{order['id']}").json()["status"] == "open"


@pytest.mark.parametrize("method", ["TRACE", "PUT", "DELETE"])
def test_a_method_a_path_does_not_have_is_405_with_allow(shop, method):
    response = shop.client.request(method, "/api/v1/store", headers=shop._headers())
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "PATCH"}
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("field", "value"), [("name", "Shop\r\nBcc: x@example.com"), ("email", "a\x01@b.example")]
)
def test_a_store_created_outside_the_api_is_held_to_the_same_rules(runtime, field, value):
    fields = {"name": "Shop", "email": "shop@example.com", field: value}
    new = stores.NewStore(kinds=(StoreKind.RETAILER,), **fields)
    with pytest.raises(InvalidInput) as refused, runtime.uow() as uow:
        stores.create_store(uow, new=new, now=runtime.clock.now())
    assert refused.value.field == field
    with runtime.uow(read_only=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Store)) == 0


@pytest.mark.parametrize("due_at", ["0001-01-01T00:00:07+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_date_outside_the_utc_calendar_is_refused(shop, due_at):
    variant = shop.product(price="100.00")
    plan = shop.selling_plan([variant["id"]])
    order = shop.preorder(variant["id"], plan["id"])
    [schedule] = shop.order(order["id"])["payment_schedules"]
    response = shop.patch(f"/orders/{order['id']}/payment_schedules/{schedule['id']}", {"due_at": due_at})
    assert response.status_code == 422, response.text
    assert field_of(response) == "due_at"
    assert shop.order(order["id"])["payment_schedules"] == [schedule]
    refused = shop.post(
        "/selling_plans",
        {
            "name": "Later",
            "deposit": {"type": "percentage", "value": 20},
            "balance_due": {"trigger": "exact_time", "at": due_at},
            "expected_fulfillment_at": due_at,
        },
    )
    assert refused.status_code == 422, refused.text
    assert field_of(refused) in ("balance_due.at", "expected_fulfillment_at")
    assert len(shop.get("/selling_plans").json()["selling_plans"]) == 1
