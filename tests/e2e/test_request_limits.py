"""Limits over HTTP: body size (413), auth before the body (401), sign-in and card-form
throttling (429 with Retry-After, a message in the page's language), the optional per-token
API rate limit, and the security headers."""

import re
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tandem.api.app import create_app
from tandem.catalog.models import Product
from tests.e2e.test_customer_pages import _schedule, invoiced_balance, mailed_link, submit
from tests.support.api import ADDRESS, StoreClient

FRENCH_REFUSAL = "Trop de tentatives échouées"
ENGLISH_REFUSAL = "Too many failed attempts"


@contextmanager
def serving(runtime, **settings):
    """A second app on the same database, with these settings changed."""
    runtime.settings = runtime.settings.model_copy(update=settings)
    with TestClient(create_app(runtime=runtime)) as client:
        yield client


def as_store(client, shop) -> StoreClient:
    return StoreClient(client, shop.store_id, shop.token, shop.staff_email, shop.staff_password)


def product_count(runtime) -> int:
    with runtime.uow(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(Product))


def big_product(size: int) -> dict:
    return {"title": "Shirt", "description": "x" * size, "variants": [{"price": "10.00"}]}


# -- body size ------------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_with_413_and_nothing_is_created(runtime, shop):
    with serving(runtime, max_body_bytes=2048) as client:
        store = as_store(client, shop)
        assert store.post("/products", big_product(1000)).status_code == 201
        response = store.post("/products", big_product(3000))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert product_count(runtime) == 1


def test_a_chunked_body_over_the_limit_is_refused_while_it_is_read(runtime, shop):
    chunks = [b'{"title": "Shirt", "description": "', b"x" * 1500, b"x" * 1500, b'", "variants": []}']
    with serving(runtime, max_body_bytes=2048) as client:
        headers = {"Authorization": f"Bearer {shop.token}", "Content-Type": "application/json"}
        response = client.post("/api/v1/products", content=iter(chunks), headers=headers)
    assert response.status_code == 413
    assert product_count(runtime) == 0


def test_an_oversized_checkout_is_refused_before_it_is_read(runtime, shop):
    variant = shop.product(quantity=3)
    address = {**ADDRESS, "address2": "x" * 3000}
    with serving(runtime, max_body_bytes=2048) as client:
        response = as_store(client, shop).checkout(variant["id"], shipping_address=address)
    assert response.status_code == 413
    assert shop.variant(variant["id"])["available"] == 3


def test_an_oversized_body_without_a_token_is_413_before_anything_else(runtime):
    with serving(runtime, max_body_bytes=2048) as client:
        response = client.post("/api/v1/products", content=b"{" * 5000)
    assert response.status_code == 413


# -- authentication before the body ---------------------------------------------------------------


def test_malformed_json_without_a_token_is_401(client):
    response = client.post(
        "/api/v1/products", content=b'{"title": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_malformed_json_with_a_token_is_400(shop):
    response = shop.client.post(
        "/api/v1/products",
        content=b'{"title": ',
        headers={"Authorization": f"Bearer {shop.token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


# -- sign-in throttling ---------------------------------------------------------------------------


def log_in(client, email: str, password: str, locale: str = "en"):
    headers = {"Accept-Language": locale}
    form = client.get("/admin/login", headers=headers)
    csrf = re.search(r'name="csrf_token" value="([^"]*)"', form.text).group(1)
    return client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": csrf},
        headers=headers,
        follow_redirects=False,
    )


@pytest.mark.parametrize(("locale", "message"), [("en", ENGLISH_REFUSAL), ("fr", FRENCH_REFUSAL)])
def test_an_account_is_throttled_after_failed_sign_ins(runtime, shop, locale, message):
    with serving(runtime, login_rate_limit="3/minute", login_address_rate_limit="100/minute") as client:
        for _ in range(3):
            assert log_in(client, shop.staff_email, "wrong", locale).status_code == 401
        refused = log_in(client, shop.staff_email, shop.staff_password, locale)
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert message in refused.text
        assert "tandem_session" not in refused.cookies
        assert log_in(client, "someone-else@example.com", "wrong", locale).status_code == 401


def test_a_client_address_is_throttled_across_accounts(runtime, shop):
    with serving(runtime, login_rate_limit="100/minute", login_address_rate_limit="4/minute") as client:
        for n in range(4):
            assert log_in(client, f"guess{n}@example.com", "wrong").status_code == 401
        refused = log_in(client, shop.staff_email, shop.staff_password)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1


def test_a_right_password_is_not_counted_as_a_failure(runtime, shop):
    with serving(runtime, login_rate_limit="2/minute") as client:
        for _ in range(4):
            assert log_in(client, shop.staff_email, shop.staff_password).status_code == 303


# -- the customer pages' card forms ---------------------------------------------------------------


@pytest.mark.parametrize(("locale", "message"), [("en", ENGLISH_REFUSAL), ("fr", FRENCH_REFUSAL)])
def test_a_card_form_is_throttled_after_declined_cards(
    runtime, make_store, clock, worker, smtp, locale, message
):
    shop = make_store("Maison Lune", locale=locale)
    order = invoiced_balance(shop, clock, worker)
    link = mailed_link(smtp, "pay_invoice")
    with serving(runtime, login_rate_limit="2/minute") as client:
        for _ in range(2):
            assert submit(client, link, card_token="tok_decline").status_code == 402
        refused = submit(client, link, card_token="tok_success")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert message in refused.text
    assert _schedule(shop, order["id"])["status"] != "paid"


# -- per-token API rate limit ---------------------------------------------------------------------


def test_the_api_rate_limit_is_off_by_default(shop):
    response = shop.get("/store")
    assert response.status_code == 200
    assert "x-ratelimit-limit" not in response.headers


def test_a_token_over_its_api_rate_limit_gets_429_and_changes_nothing(runtime, make_store):
    shop, other = make_store(), make_store("Other shop")
    variant = shop.product(quantity=5)
    with serving(runtime, api_rate_limit="3/minute") as client:
        store = as_store(client, shop)
        remaining = [store.get("/store").headers["x-ratelimit-remaining"] for _ in range(3)]
        refused = store.post("/inventory/set", {"variant_id": variant["id"], "available": 0})
        other_store = as_store(client, other).get("/store")
    assert remaining == ["2", "1", "0"]
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_requests"
    assert refused.headers["x-ratelimit-limit"] == "3"
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert shop.variant(variant["id"])["available"] == 5
    assert other_store.status_code == 200  # counted per token


# -- headers --------------------------------------------------------------------------------------


def test_api_responses_are_neither_cached_nor_sniffed(shop, client):
    for response in (shop.get("/store"), client.get("/api/v1/store")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in shop.get("/store").headers


def test_hsts_is_sent_when_the_site_is_served_over_https(runtime, shop):
    with serving(runtime, base_url="https://shop.example") as client:
        for response in (as_store(client, shop).get("/store"), client.get("/healthz")):
            assert response.headers["strict-transport-security"].startswith("max-age=")
