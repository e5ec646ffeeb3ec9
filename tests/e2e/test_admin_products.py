"""Staff list, search, create and edit products from the admin: prices, stock (a stock movement
naming who changed it), selling plans; an imported product shows the supplier's stock read-only."""

import re

from sqlalchemy import func, select

from tandem.catalog.models import Product
from tandem.inventory.models import StockMovement
from tests.e2e.test_admin_pages import csrf_of, flash_of, logged_in
from tests.support.network import build


def products_page(client, query: str = ""):
    page = client.get(f"/admin/products{query}")
    assert page.status_code == 200, page.text
    return page


def product_page(client, product_id: int):
    page = client.get(f"/admin/products/{product_id}")
    assert page.status_code == 200, page.text
    return page


def product_count(runtime) -> int:
    with runtime.uow(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(Product))


def movements(runtime) -> list[StockMovement]:
    with runtime.uow(read_only=True) as uow:
        return list(uow.session.scalars(select(StockMovement).order_by(StockMovement.id)))


def new_product_form(page, **fields) -> dict:
    form = {
        "csrf_token": csrf_of(page),
        "title": "Linen shirt",
        "variant_title": ["S", "M", ""],
        "sku": ["LIN-S", "LIN-M", ""],
        "price": ["49.00", "52.00", ""],
        "wholesale_price": ["20.00", "", ""],
        "stock": ["4", "0", "0"],
    }
    return form | fields


def test_the_list_shows_price_and_stock_newest_first_and_is_linked_from_the_navigation(client, shop):
    shop.product(title="Old scarf", sku="SCARF-1", price="19.00", quantity=3)
    shop.product(title="New shirt", sku="SHIRT-9", price="25.00", quantity=7)
    logged_in(client, shop)

    page = products_page(client)

    assert 'href="/admin/products"' in client.get("/admin/orders").text
    assert page.text.index("New shirt") < page.text.index("Old scarf")
    assert "SHIRT-9" in page.text and "€25.00" in page.text
    assert re.search(r">\s*7 / 7\s*<", page.text)


def test_search_finds_a_product_by_title_or_sku(client, shop):
    shop.product(title="Wool scarf", sku="SCARF-1")
    shop.product(title="Linen shirt", sku="SHIRT-9")
    logged_in(client, shop)

    by_title = products_page(client, "?q=wool")
    by_sku = products_page(client, "?q=shirt-9")

    assert "Wool scarf" in by_title.text and "Linen shirt" not in by_title.text
    assert "Linen shirt" in by_sku.text and "Wool scarf" not in by_sku.text


def test_the_list_pages_with_a_cursor(client, shop, monkeypatch):
    from tandem.admin import products

    monkeypatch.setattr(products, "LIST_SIZE", 2)
    for n in range(3):
        shop.product(title=f"Product {n}", sku=f"P-{n}")
    logged_in(client, shop)

    first = products_page(client)
    cursor = re.search(r'href="/admin/products\?q=&amp;cursor=([^"]+)"', first.text).group(1)
    second = products_page(client, f"?cursor={cursor}")

    assert "Product 2" in first.text and "Product 0" not in first.text
    assert "Product 0" in second.text and "Product 2" not in second.text


def test_staff_create_a_product_with_variants_and_initial_stock(client, shop):
    logged_in(client, shop)
    page = products_page(client)

    done = client.post("/admin/products", data=new_product_form(page))

    assert flash_of(done) == "The product was created."
    listed = shop.get("/products").json()["products"]
    assert [p["title"] for p in listed] == ["Linen shirt"]
    variants = {v["sku"]: v for v in listed[0]["variants"]}
    assert variants["LIN-S"]["price"] == "49.00" and variants["LIN-S"]["wholesale_price"] == "20.00"
    assert variants["LIN-S"]["available"] == 4 and variants["LIN-M"]["available"] == 0
    assert variants["LIN-M"]["title"] == "M" and variants["LIN-M"]["wholesale_price"] is None


def test_a_new_product_with_bad_input_is_refused_and_nothing_is_created(client, shop, runtime):
    logged_in(client, shop)
    page = products_page(client)

    no_title = client.post("/admin/products", data=new_product_form(page, title="  "))
    bad_price = client.post("/admin/products", data=new_product_form(page, price=["abc", "", ""]))
    bad_stock = client.post("/admin/products", data=new_product_form(page, stock=["-2", "0", "0"]))
    no_price = client.post("/admin/products", data=new_product_form(page, price=["", "", ""]))

    assert flash_of(no_title) == "Give the product a title."
    assert flash_of(bad_price) == "Enter a price such as 12.50."
    assert flash_of(bad_stock) == "Enter a stock as a whole number, 0 or more."
    assert flash_of(no_price) == "Give at least one variant a price."
    assert product_count(runtime) == 0


def test_staff_change_prices_of_a_variant(client, shop):
    variant = shop.product(price="25.00")
    logged_in(client, shop)
    page = product_page(client, variant["product_id"])
    url = f"/admin/products/{variant['product_id']}/variants/{variant['id']}/prices"

    done = client.post(url, data={"csrf_token": csrf_of(page), "price": "29,90", "wholesale_price": "12.00"})

    assert flash_of(done) == "The prices were saved."
    after = shop.variant(variant["id"])
    assert (after["price"], after["wholesale_price"]) == ("29.90", "12.00")


def test_a_bad_price_is_refused_and_changes_nothing(client, shop):
    variant = shop.product(price="25.00")
    logged_in(client, shop)
    page = product_page(client, variant["product_id"])
    url = f"/admin/products/{variant['product_id']}/variants/{variant['id']}/prices"

    refused = client.post(url, data={"csrf_token": csrf_of(page), "price": "-3", "wholesale_price": ""})

    assert flash_of(refused) == "Enter a price such as 12.50."
    assert shop.variant(variant["id"])["price"] == "25.00"


def test_setting_stock_records_who_and_when(client, shop, runtime, clock):
    variant = shop.product(quantity=3)
    logged_in(client, shop)
    page = product_page(client, variant["product_id"])
    url = f"/admin/products/{variant['product_id']}/variants/{variant['id']}/stock"

    done = client.post(url, data={"csrf_token": csrf_of(page), "available": "12"})

    assert flash_of(done) == "The stock was set."
    assert shop.variant(variant["id"])["available"] == 12
    [movement] = movements(runtime)
    assert (movement.variant_id, movement.on_hand_before, movement.on_hand_after) == (variant["id"], 3, 12)
    assert movement.actor_kind == "staff" and movement.created_at == clock.now()
    assert "3 → 12" in done.text and movement.actor_name in done.text


def test_a_negative_stock_is_refused_and_changes_nothing(client, shop, runtime):
    variant = shop.product(quantity=3)
    logged_in(client, shop)
    page = product_page(client, variant["product_id"])
    url = f"/admin/products/{variant['product_id']}/variants/{variant['id']}/stock"

    refused = client.post(url, data={"csrf_token": csrf_of(page), "available": "-1"})

    assert flash_of(refused) == "Enter a stock as a whole number, 0 or more."
    assert shop.variant(variant["id"])["available"] == 3
    assert movements(runtime) == []


def test_attach_and_detach_a_selling_plan(client, shop):
    variant = shop.product(price="100.00")
    other = shop.product(price="50.00", sku="OTHER")
    plan = shop.selling_plan([other["id"]], name="Spring pre-order")
    logged_in(client, shop)
    page = product_page(client, variant["product_id"])
    base = f"/admin/products/{variant['product_id']}/variants/{variant['id']}/selling_plans"

    attached = client.post(base, data={"csrf_token": csrf_of(page), "plan_id": str(plan["id"])})

    assert flash_of(attached) == "The variant is now sold under the selling plan."
    assert shop.get(f"/selling_plans/{plan['id']}").json()["variant_ids"] == [variant["id"], other["id"]]
    assert f"{base}/{plan['id']}/detach" in attached.text

    detached = client.post(f"{base}/{plan['id']}/detach", data={"csrf_token": csrf_of(page)})

    assert flash_of(detached) == "The variant is no longer sold under the selling plan."
    assert shop.get(f"/selling_plans/{plan['id']}").json()["variant_ids"] == [other["id"]]


def test_another_stores_product_is_not_found_and_stays_unchanged(client, shop, make_store):
    other = make_store("Autre boutique")
    theirs = other.product(quantity=5, price="30.00", title="Their shirt")
    mine = shop.product()
    logged_in(client, shop)
    page = product_page(client, mine["product_id"])
    token = csrf_of(page)
    product_id, variant_id = theirs["product_id"], theirs["id"]

    assert client.get(f"/admin/products/{product_id}").status_code == 404
    stock = client.post(
        f"/admin/products/{product_id}/variants/{variant_id}/stock",
        data={"csrf_token": token, "available": "0"},
    )
    prices = client.post(
        f"/admin/products/{mine['product_id']}/variants/{variant_id}/prices",
        data={"csrf_token": token, "price": "1.00"},
    )
    assert (stock.status_code, prices.status_code) == (404, 404)
    assert "Their shirt" not in products_page(client).text
    after = other.variant(variant_id)
    assert (after["price"], after["available"]) == ("30.00", 5)


def test_an_imported_product_shows_the_suppliers_live_stock_read_only(client, make_store):
    network = build(make_store, quantity=6)
    logged_in(client, network.retailer)
    product_id = network.variant["product_id"]

    page = product_page(client, product_id)
    network.supplier.post("/inventory/set", {"variant_id": network.supplier_variant["id"], "available": 4})
    later = product_page(client, product_id)

    assert "The stock shown is the supplier’s, live: it is read-only here." in page.text
    assert f"/variants/{network.variant['id']}/stock" not in page.text
    assert re.search(r'class="stock-available">6<', page.text)
    assert re.search(r'class="stock-available">4<', later.text)
    forced = client.post(
        f"/admin/products/{product_id}/variants/{network.variant['id']}/stock",
        data={"csrf_token": csrf_of(page), "available": "50"},
    )
    assert flash_of(forced) == "This variant’s stock belongs to its supplier: it cannot be set here."
    assert network.retailer.variant(network.variant["id"])["available"] == 4


def test_the_products_page_speaks_french(client, make_store):
    boutique = make_store("Boutique", locale="fr")
    variant = boutique.product()
    logged_in(client, boutique)

    assert "Nouveau produit" in products_page(client).text
    assert "Modifications du stock" in product_page(client, variant["product_id"]).text


def test_stock_set_through_the_api_is_a_movement_naming_the_token(client, shop, runtime):
    variant = shop.product(quantity=2)

    assert shop.post("/inventory/set", {"variant_id": variant["id"], "available": 5}).status_code == 200

    [movement] = movements(runtime)
    assert (movement.actor_kind, movement.on_hand_before, movement.on_hand_after) == ("api", 2, 5)
    logged_in(client, shop)
    assert movement.actor_name in product_page(client, variant["product_id"]).text


def test_a_plan_whose_deposit_is_above_the_price_is_refused_and_nothing_is_attached(client, shop):
    cheap = shop.product(price="5.00", sku="CHEAP")
    dear = shop.product(price="100.00", sku="DEAR")
    plan = shop.selling_plan([dear["id"]], deposit=("fixed", "20.00"))
    logged_in(client, shop)
    page = product_page(client, cheap["product_id"])

    refused = client.post(
        f"/admin/products/{cheap['product_id']}/variants/{cheap['id']}/selling_plans",
        data={"csrf_token": csrf_of(page), "plan_id": str(plan["id"])},
    )

    assert flash_of(refused).startswith("This variant cannot be sold under this selling plan:")
    assert shop.get(f"/selling_plans/{plan['id']}").json()["variant_ids"] == [dear["id"]]
