"""API tokens: named tokens made in the admin UI (shown once), their last use, revocation; a
revoked token stops working at once in the process that revoked it, within a second elsewhere."""

import re
import time

from tandem.stores.models import ApiToken
from tests.e2e.test_admin_pages import csrf_of, flash_of, logged_in
from tests.support.api import StoreClient


def _create(client, name: str):
    page = client.get("/admin/tokens")
    return client.post("/admin/tokens", data={"csrf_token": csrf_of(page), "name": name})


def _shown_token(page) -> str:
    return re.search(r'<code class="token">([^<]+)</code>', page.text).group(1)


def test_a_named_token_is_shown_once_and_acts_as_the_store(client, shop):
    logged_in(client, shop)
    created = _create(client, "warehouse sync")
    assert created.status_code == 201
    token = _shown_token(created)
    as_token = StoreClient(client, shop.store_id, token)
    assert as_token.get("/store").json()["id"] == shop.store_id

    page = client.get("/admin/tokens")
    assert token not in page.text
    assert "warehouse sync" in page.text and token[:12] in page.text


def test_the_page_shows_when_a_token_was_last_used(client, shop):
    logged_in(client, shop)
    token = _shown_token(_create(client, "reporting"))
    row = _row_of(client.get("/admin/tokens"), "reporting")
    assert "Never" in row
    StoreClient(client, shop.store_id, token).get("/orders")
    assert "Never" not in _row_of(client.get("/admin/tokens"), "reporting")


def test_a_revoked_token_stops_working_at_once(client, shop):
    logged_in(client, shop)
    token = _shown_token(_create(client, "old script"))
    as_token = StoreClient(client, shop.store_id, token)
    assert as_token.get("/store").status_code == 200
    page = client.get("/admin/tokens")
    token_id = re.search(r'id="token-(\d+)">\s*<td><strong>old script', page.text).group(1)

    revoked = client.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": csrf_of(page)})

    assert flash_of(revoked) == "The token was revoked."
    assert as_token.get("/store").status_code == 401
    assert shop.get("/store").status_code == 200  # the store's other token still works


def test_a_token_revoked_by_another_process_stops_working_within_a_second(client, shop, runtime):
    assert shop.get("/store").status_code == 200  # now in this process's cache
    with runtime.uow() as uow:
        uow.session.query(ApiToken).filter_by(store_id=shop.store_id).update(
            {"revoked_at": runtime.clock.now()}
        )
        uow.commit()
    time.sleep(1.1)
    assert shop.get("/store").status_code == 401


def test_another_stores_token_cannot_be_revoked(client, shop, make_store):
    other = make_store("Elsewhere")
    logged_in(client, other)
    other_page = client.get("/admin/tokens")
    logged_in(client, shop)
    token_id = re.search(r'id="token-(\d+)"', other_page.text).group(1)
    response = client.post(
        f"/admin/tokens/{token_id}/revoke", data={"csrf_token": csrf_of(client.get("/admin/tokens"))}
    )
    assert response.status_code == 404
    assert other.get("/store").status_code == 200


def test_a_token_needs_a_name_in_english_and_french(client, make_store):
    shop = make_store("Maison Camille", locale="fr")
    logged_in(client, shop)
    refused = _create(client, "   ")
    assert refused.status_code == 422
    assert "Donnez au jeton un nom" in refused.text
    assert "Jetons d’API" in refused.text


def _row_of(page, name: str) -> str:
    return re.search(rf"<tr[^>]*>\s*<td><strong>{name}</strong>.*?</tr>", page.text, re.S).group(0)
