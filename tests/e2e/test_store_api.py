"""GET and PATCH /store."""


def test_the_store_shows_its_settings(shop):
    store = shop.get("/store").json()
    assert store["id"] == shop.store_id
    assert store["kind"] == "retailer"
    assert store["payment_capture"] == "automatic"
    assert store["currency"] == "EUR"


def test_settings_can_be_changed(shop):
    response = shop.patch(
        "/store",
        {
            "payment_capture": "manual",
            "locale": "fr",
            "timezone": "Europe/Paris",
            "kinds": ["retailer", "supplier"],
        },
    )
    assert response.status_code == 200
    store = shop.get("/store").json()
    assert (store["payment_capture"], store["locale"], store["timezone"]) == ("manual", "fr", "Europe/Paris")
    assert store["kinds"] == ["retailer", "supplier"]


def test_a_return_policy_given_in_part_takes_the_defaults_for_the_rest(shop):
    shop.patch(
        "/store",
        {"return_policy": {"window_days": 30, "restocking_fee_percent": 5, "label_provider": "retailer"}},
    )
    response = shop.patch("/store", {"return_policy": {"window_days": 14, "restocking_fee_percent": 0}})
    assert response.status_code == 200, response.text
    assert response.json()["return_policy"] == {
        "window_days": 14,
        "restocking_fee_percent": 0,
        "label_provider": "supplier",
        "final_sale_skus": [],
    }


def test_an_unknown_timezone_is_refused_and_nothing_changes(shop):
    response = shop.patch("/store", {"timezone": "Mars/Olympus", "locale": "fr"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "timezone"
    assert shop.get("/store").json()["locale"] == "en"


def test_an_unknown_currency_is_refused(shop):
    response = shop.patch("/store", {"currency": "XXQ"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "currency"


def test_a_store_must_keep_a_kind(shop):
    response = shop.patch("/store", {"kinds": []})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "kinds"
