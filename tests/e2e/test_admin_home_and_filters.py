"""The admin's home (counts of what needs attention, 30 days of orders and revenue) and the
orders list's filters, customer names, item counts and attention badges."""

import re

from tests.e2e.test_admin_pages import csrf_of, flash_of, lists, logged_in, order_page
from tests.e2e.test_admin_preorders import preorder


def _count(page, kind: str) -> int:
    found = re.search(
        rf'href="/admin/orders\?attention={kind}"><span class="attention-count">(\d+)<', page.text
    )
    return int(found.group(1))


def _hold(client, order_id: int) -> None:
    page = order_page(client, order_id)
    held = client.post(
        f"/admin/orders/{order_id}/hold", data={"csrf_token": csrf_of(page), "reason": "other"}
    )
    assert flash_of(held) == "Fulfillment is on hold."


def test_staff_land_on_the_home_page_which_counts_what_needs_attention(client, shop, clock, worker):
    first = shop.place_order(shop.product()["id"])
    shop.place_order(shop.product(sku="S2")["id"])
    failing = preorder(shop, card="tok_error", deposit=0)
    logged_in(client, shop)
    _hold(client, first["id"])
    clock.advance(days=2)  # the balance falls due; the card fails
    worker.run_until_idle()

    home = client.get("/admin")

    assert home.status_code == 200 and "Needs your attention" in home.text
    assert _count(home, "on_hold") == 1 and _count(home, "balance_problem") == 1
    assert _count(home, "notice") == 0 and _count(home, "in_review") == 0
    listed = client.get("/admin/orders?attention=balance_problem")
    assert lists(listed, failing["id"]) and not lists(listed, first["id"])
    assert "Balance failed" in listed.text


def test_the_charts_count_the_last_30_days_of_orders_in_the_stores_time_zone(client, shop):
    shop.place_order(shop.product(price="12.50")["id"])
    shop.place_order(shop.product(price="7.50", sku="S2")["id"])
    logged_in(client, shop)

    home = client.get("/admin").text

    orders_total = re.search(r'id="orders-chart-title">.*?<p class="chart-total">(\d+)', home, re.S).group(1)
    revenue = re.search(r'id="revenue-chart-title">.*?<p class="chart-total">([^<]+)<', home, re.S).group(1)
    assert orders_total == "2" and revenue.strip() == "€20.00"
    assert home.count('<rect x="') == 60 and "<script" not in home.split("<main")[1].split("</main>")[0]


def test_filters_combine_with_tabs_and_search_and_stay_in_the_links(client, shop):
    paid = shop.place_order(shop.product()["id"], email="paid@example.com")
    held = shop.place_order(shop.product(sku="S2")["id"], email="held@example.com")
    logged_in(client, shop)
    _hold(client, held["id"])

    page = client.get(
        "/admin/orders", params={"tab": "unfulfilled", "fulfillment_status": "on_hold", "sort": "number"}
    )

    assert lists(page, held["id"]) and not lists(page, paid["id"])
    assert 'href="?tab=all&amp;sort=number&amp;fulfillment_status=on_hold"' in page.text
    assert '<option value="on_hold" selected>' in page.text


def test_a_date_range_is_read_in_the_stores_time_zone_and_nonsense_is_ignored(client, shop, clock):
    order = shop.place_order(shop.product()["id"])  # the test clock: 2026-11-22 09:00 UTC
    logged_in(client, shop)
    day = order["created_at"][:10]

    inside = client.get("/admin/orders", params={"since": day, "until": day})
    after = client.get("/admin/orders", params={"since": "2026-11-23"})
    nonsense = client.get("/admin/orders", params={"since": "yesterday", "financial_status": "rich"})

    assert lists(inside, order["id"]) and not lists(after, order["id"])
    assert nonsense.status_code == 200 and lists(nonsense, order["id"])


def test_the_list_shows_the_customer_name_and_the_item_count(client, shop):
    variant = shop.product()
    order = shop.place_order(variant["id"], quantity=3)
    logged_in(client, shop)

    page = client.get("/admin/orders").text
    row = page.split(f'href="/admin/orders/{order["id"]}"')[1].split("</tr>")[0]

    assert "Camille" in row and '<td class="num">3</td>' in row
