"""Customers and their vaulted cards."""


def test_a_customer_is_created_and_read_back(shop):
    response = shop.post(
        "/customers", {"email": "Camille@Example.com", "first_name": "Camille", "locale": "fr"}
    )
    assert response.status_code == 201
    customer = response.json()
    assert customer["email"] == "camille@example.com"
    assert shop.get(f"/customers/{customer['id']}").json()["first_name"] == "Camille"


def test_an_email_can_only_be_used_once_per_store(shop, make_store):
    assert shop.post("/customers", {"email": "a@example.com"}).status_code == 201
    response = shop.post("/customers", {"email": "A@example.com"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "email"
    assert make_store("Other").post("/customers", {"email": "a@example.com"}).status_code == 201


def test_an_invalid_email_is_refused(shop):
    response = shop.post("/customers", {"email": "not-an-email"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "email"


def test_customers_can_be_searched(shop):
    shop.post("/customers", {"email": "alice@example.com", "last_name": "Durand"})
    shop.post("/customers", {"email": "bob@example.com"})
    found = shop.get("/customers", params={"q": "durand"}).json()["customers"]
    assert [c["email"] for c in found] == ["alice@example.com"]


def test_a_card_is_vaulted_as_a_payment_method(shop):
    customer = shop.post("/customers", {"email": "a@example.com"}).json()
    response = shop.post(f"/customers/{customer['id']}/payment_methods", {"card_token": "tok_success"})
    assert response.status_code == 201
    method = response.json()
    assert (method["status"], method["last4"], method["revoked_at"]) == ("active", "4242", None)
    assert shop.get(f"/customers/{customer['id']}").json()["payment_methods"] == [method]


def test_an_unknown_card_token_is_refused(shop):
    customer = shop.post("/customers", {"email": "a@example.com"}).json()
    response = shop.post(f"/customers/{customer['id']}/payment_methods", {"card_token": "tok_bogus"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "card_token"
    assert shop.get(f"/customers/{customer['id']}").json()["payment_methods"] == []
