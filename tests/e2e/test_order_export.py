"""Orders as CSV: one row per line item, the list's filters, times in the store's time zone,
from the admin (the list as filtered on screen) and from the API."""

import csv
import io

from tests.e2e.test_admin_pages import csrf_of, flash_of, logged_in, order_page


def _rows(response) -> list[dict]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith('attachment; filename="orders-')
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


def _two_line_order(shop):
    shirt = shop.product(quantity=5, price="25.00", sku="SHIRT")
    scarf = shop.product(quantity=5, price="10.00", title="Écharpe en laine", sku="SCARF")
    checkout = shop.checkout(
        shirt["id"],
        2,
        line_items=[
            {"variant_id": shirt["id"], "quantity": 2},
            {"variant_id": scarf["id"], "quantity": 1},
        ],
    )
    assert checkout.status_code == 201, checkout.text
    return shop.post(f"/checkouts/{checkout.json()['id']}/complete").json()


def test_the_api_exports_one_row_per_line_item_with_the_stores_time(shop):
    assert shop.patch("/store", {"timezone": "Europe/Paris"}).status_code == 200
    order = _two_line_order(shop)
    fulfilled = shop.post(
        f"/orders/{order['id']}/fulfillments", {"tracking_company": "Colissimo", "tracking_number": "6A1"}
    )
    assert fulfilled.status_code == 201, fulfilled.text

    rows = _rows(shop.get("/orders.csv"))

    assert [(r["sku"], r["title"], r["quantity"], r["unit_price"], r["line_total"]) for r in rows] == [
        ("SHIRT", "Linen shirt", "2", "25.00", "50.00"),
        ("SCARF", "Écharpe en laine", "1", "10.00", "10.00"),
    ]
    first = rows[0]
    assert first["order"] == order["name"] and first["order_total"] == "60.00" and first["currency"] == "EUR"
    assert first["customer"] == "Camille Martin" and first["email"] == "camille@example.com"
    assert first["fulfillment_status"] == "fulfilled" and first["tracking"] == "Colissimo 6A1"
    assert first["date"] == "2026-11-22 10:00"  # 09:00 UTC, in Paris


def test_the_api_export_takes_the_lists_filters_and_refuses_a_bad_one(shop):
    paid = shop.place_order(shop.product()["id"], email="paid@example.com")
    declined_variant = shop.product(sku="S2")
    shop.checkout(declined_variant["id"], card="tok_success", email="open@example.com")

    rows = _rows(shop.get("/orders.csv", params={"q": "paid@example.com"}))
    bad = shop.get("/orders.csv", params={"financial_status": "rich"})

    assert {row["order"] for row in rows} == {paid["name"]}
    assert bad.status_code == 422 and "financial_status" in bad.text


def test_the_admin_exports_the_list_as_filtered_on_screen(client, shop):
    held = shop.place_order(shop.product()["id"], email="held@example.com")
    shop.place_order(shop.product(sku="S2")["id"], email="other@example.com")
    logged_in(client, shop)
    page = order_page(client, held["id"])
    done = client.post(
        f"/admin/orders/{held['id']}/hold", data={"csrf_token": csrf_of(page), "reason": "other"}
    )
    assert flash_of(done) == "Fulfillment is on hold."
    listed = client.get("/admin/orders", params={"fulfillment_status": "on_hold"})
    assert (
        'href="/admin/orders.csv?tab=all&amp;sort=-created_at&amp;fulfillment_status=on_hold"' in listed.text
    )

    rows = _rows(client.get("/admin/orders.csv", params={"fulfillment_status": "on_hold"}))

    assert [row["email"] for row in rows] == ["held@example.com"]


def test_an_export_of_more_orders_than_a_page_has_every_order_once(shop, runtime):
    from tandem.orders import export

    variant = shop.product(quantity=20)
    placed = [shop.place_order(variant["id"])["name"] for _ in range(7)]
    export.PAGE, saved = 3, export.PAGE
    try:
        rows = _rows(shop.get("/orders.csv", params={"sort": "number"}))
    finally:
        export.PAGE = saved

    assert [row["order"] for row in rows] == placed
