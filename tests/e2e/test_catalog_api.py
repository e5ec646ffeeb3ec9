"""Products, variants and stock."""


def test_a_product_is_created_with_its_variants_and_stock(shop):
    response = shop.post(
        "/products",
        {
            "title": "Linen shirt",
            "variants": [
                {
                    "sku": "S",
                    "title": "Small",
                    "price": "39.90",
                    "wholesale_price": "18.00",
                    "inventory_quantity": 4,
                },
                {"sku": "M", "title": "Medium", "price": "39.90", "inventory_quantity": 0},
            ],
        },
    )
    assert response.status_code == 201
    product = response.json()
    small, medium = product["variants"]
    assert (small["price"], small["wholesale_price"], small["available"]) == ("39.90", "18.00", 4)
    assert medium["available"] == 0
    assert shop.get(f"/products/{product['id']}").json() == product


def test_a_price_with_too_many_decimals_is_refused(shop):
    response = shop.post("/products", {"title": "Tee", "variants": [{"price": "10.999"}]})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "variants[0].price"


def test_a_negative_price_is_refused(shop):
    response = shop.post("/products", {"title": "Tee", "variants": [{"price": "-1.00"}]})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "variants[0].price"


def test_a_product_needs_a_variant(shop):
    response = shop.post("/products", {"title": "Tee", "variants": []})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "variants"


def test_available_is_on_hand_minus_committed_minus_reservations(shop):
    variant = shop.product(quantity=10)
    shop.place_order(variant["id"], 3)
    assert shop.checkout(variant["id"], 2).status_code == 201
    stock = shop.variant(variant["id"])
    assert (stock["on_hand"], stock["committed"], stock["reserved"], stock["available"]) == (10, 3, 2, 5)


def test_setting_available_keeps_committed_and_reserved_units(shop):
    variant = shop.product(quantity=10)
    shop.place_order(variant["id"], 3)
    shop.checkout(variant["id"], 2)
    response = shop.post("/inventory/set", {"variant_id": variant["id"], "available": 7})
    assert response.status_code == 200
    stock = shop.variant(variant["id"])
    assert (stock["available"], stock["on_hand"], stock["committed"], stock["reserved"]) == (7, 12, 3, 2)


def test_stock_cannot_be_set_negative(shop):
    variant = shop.product(quantity=2)
    response = shop.post("/inventory/set", {"variant_id": variant["id"], "available": -1})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "available"
    assert shop.variant(variant["id"])["available"] == 2


def test_setting_stock_of_an_unknown_variant_is_not_found(shop):
    assert shop.post("/inventory/set", {"variant_id": 999, "available": 1}).status_code == 404


def test_an_absurd_price_is_refused_before_it_can_overflow(shop):
    response = shop.post("/products", {"title": "Yacht", "variants": [{"price": "1000000000.01"}]})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "variants[0].price"


def test_the_largest_order_still_fits(shop):
    variant = shop.product(quantity=100_000, price="1000000000.00")
    order = shop.place_order(variant["id"], 100_000)
    assert order["total"] == "100000000000000.00"
