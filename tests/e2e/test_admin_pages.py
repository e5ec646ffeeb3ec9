"""The admin web UI over HTTP: sessions, CSRF, the orders list, an order's page and its actions."""

import re
import string
from importlib.resources import files
from io import BytesIO

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from tandem.i18n import labels
from tandem.orders.domain import (
    Action,
    CancelReason,
    FinancialStatus,
    FulfillmentStatus,
    HoldReason,
    OrderStatus,
)

PASSWORD = "correct horse battery staple"


# -- helpers ---------------------------------------------------------------------------------


def csrf_of(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)


def log_in(client, store, *, next_url: str = ""):
    form = client.get("/admin/login")
    return client.post(
        "/admin/login",
        data={
            "email": store.staff_email,
            "password": PASSWORD,
            "csrf_token": csrf_of(form),
            "next": next_url,
        },
        follow_redirects=False,
    )


def logged_in(client, store):
    assert log_in(client, store).status_code == 303
    return store


def order_page(client, order_id: int):
    page = client.get(f"/admin/orders/{order_id}")
    assert page.status_code == 200, page.text
    return page


def has_form(page, order_id: int, action: str) -> bool:
    return f'action="/admin/orders/{order_id}/{action}"' in page.text


def lists(page, order_id: int) -> bool:
    return f'href="/admin/orders/{order_id}"' in page.text


def flash_of(page) -> str:
    found = re.search(r'class="flash flash-\w+"[^>]*>([^<]*)<', page.text)
    return found.group(1) if found else ""


def authorized_and_paid_orders(shop):
    """A manual-capture store's orders: one only authorised, one captured."""
    variant = shop.product(quantity=10)
    authorized = shop.place_order(variant["id"], email="waiting@example.com")
    paid = shop.place_order(variant["id"], email="settled@example.com")
    assert shop.post(f"/orders/{paid['id']}/capture").status_code == 200
    return authorized, paid


@pytest.fixture
def manual_shop(make_store):
    return make_store("Atelier Manuel", capture="manual")


# -- sessions --------------------------------------------------------------------------------


def test_logged_out_visitor_is_sent_to_the_login_page(client):
    response = client.get("/admin/orders?tab=unpaid", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login?next=%2Fadmin%2Forders%3Ftab%3Dunpaid"


def test_staff_logs_in_and_is_taken_where_they_were_going(client, shop):
    response = log_in(client, shop, next_url="/admin/orders?tab=unpaid")

    assert response.status_code == 303
    assert response.headers["location"] == "/admin/orders?tab=unpaid"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("tandem_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/admin" in cookie
    assert client.get("/admin/orders").status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/admin", "//evil.example/admin", "/api/v1/store"])
def test_login_never_redirects_outside_the_admin(client, shop, target):
    response = log_in(client, shop, next_url=target)

    assert response.headers["location"] == "/admin"


def test_wrong_password_is_refused(client, shop):
    form = client.get("/admin/login")
    response = client.post(
        "/admin/login",
        data={"email": shop.staff_email, "password": "wrong", "csrf_token": csrf_of(form)},
        follow_redirects=False,
    )

    assert response.status_code == 401
    assert "Wrong email or password." in response.text
    assert "tandem_session" not in response.headers.get("set-cookie", "")
    assert client.get("/admin/orders", follow_redirects=False).status_code == 303


def test_login_form_without_its_token_is_refused(client, shop):
    client.get("/admin/login")
    response = client.post(
        "/admin/login",
        data={"email": shop.staff_email, "password": PASSWORD, "csrf_token": "forged"},
        follow_redirects=False,
    )

    assert response.status_code == 403
    assert client.get("/admin/orders", follow_redirects=False).status_code == 303


def test_logging_out_ends_the_session(client, shop):
    logged_in(client, shop)
    page = client.get("/admin/orders")
    session = client.cookies.get("tandem_session")

    response = client.post("/admin/logout", data={"csrf_token": csrf_of(page)}, follow_redirects=False)

    assert response.headers["location"] == "/admin/login"
    client.cookies.set("tandem_session", session, path="/admin")
    assert client.get("/admin/orders", follow_redirects=False).status_code == 303


# -- CSRF ------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "not-the-session-token"])
def test_a_form_without_the_session_csrf_token_is_refused_and_changes_nothing(client, shop, token):
    order = shop.place_order(shop.product()["id"])
    logged_in(client, shop)
    data = {"reason": "high_risk_of_fraud"} | ({} if token is None else {"csrf_token": token})

    response = client.post(f"/admin/orders/{order['id']}/hold", data=data, follow_redirects=False)

    assert response.status_code == 403
    after = shop.order(order["id"])
    assert after["holds"] == [] and after["fulfillment_status"] == "unfulfilled"
    assert len(after["events"]) == len(order["events"])


# -- orders list -----------------------------------------------------------------------------


def test_unpaid_tab_lists_an_authorized_order_and_not_a_paid_one(client, manual_shop):
    authorized, paid = authorized_and_paid_orders(manual_shop)
    logged_in(client, manual_shop)

    unpaid = client.get("/admin/orders?tab=unpaid")
    everything = client.get("/admin/orders?tab=all")

    assert lists(unpaid, authorized["id"]) and not lists(unpaid, paid["id"])
    assert lists(everything, authorized["id"]) and lists(everything, paid["id"])
    assert "waiting@example.com" in unpaid.text and "Authorized" in unpaid.text


def test_unfulfilled_tab_hides_cancelled_and_fulfilled_orders(client, shop):
    variant = shop.product(quantity=10)
    waiting, cancelled, shipped = (shop.place_order(variant["id"]) for _ in range(3))
    assert shop.post(f"/orders/{cancelled['id']}/cancel", {"reason": "customer"}).status_code == 200
    assert shop.post(f"/orders/{shipped['id']}/fulfillments", {}).status_code == 201
    logged_in(client, shop)

    unfulfilled = client.get("/admin/orders?tab=unfulfilled")

    assert lists(unfulfilled, waiting["id"])
    assert not lists(unfulfilled, cancelled["id"]) and not lists(unfulfilled, shipped["id"])


def test_search_finds_an_order_by_its_number(client, shop):
    variant = shop.product(quantity=10)
    first, second = shop.place_order(variant["id"]), shop.place_order(variant["id"])
    logged_in(client, shop)

    page = client.get("/admin/orders", params={"q": f"#{second['number']}"})

    assert lists(page, second["id"]) and not lists(page, first["id"])


def test_orders_sort_by_total_and_page_by_cursor(client, shop, monkeypatch):
    monkeypatch.setattr("tandem.admin.views.PAGE_SIZE", 2)
    prices = ("5.00", "90.00", "40.00")
    orders = [shop.place_order(shop.product(price=p, sku=f"SKU-{p}")["id"]) for p in prices]
    logged_in(client, shop)

    first = client.get("/admin/orders?sort=-total")
    cursor = re.search(r'rel="next" href="\?([^"]+)"', first.text).group(1).replace("&amp;", "&")
    second = client.get(f"/admin/orders?{cursor}")

    positions = [first.text.index(f'href="/admin/orders/{o["id"]}"') for o in (orders[1], orders[2])]
    assert positions == sorted(positions)
    assert not lists(first, orders[0]["id"]) and lists(second, orders[0]["id"])
    assert 'rel="next"' not in second.text


def test_a_cursor_that_the_list_did_not_give_out_is_a_bad_request_page(client, shop):
    logged_in(client, shop)

    page = client.get("/admin/orders?cursor=garbage")

    assert page.status_code == 422
    assert "<html" in page.text


# -- order page and actions ------------------------------------------------------------------


def test_order_page_shows_lines_totals_payment_and_timeline(client, shop):
    order = shop.place_order(shop.product(price="25.00", title="Linen shirt")["id"], quantity=2)
    logged_in(client, shop)

    page = order_page(client, order["id"])

    assert "Linen shirt" in page.text and "€50.00" in page.text
    assert "Order #1001 was placed" in page.text
    assert "A payment of €50.00 was captured" in page.text
    assert "Paid" in page.text and "Unfulfilled" in page.text


def test_the_timeline_names_the_worker_in_words(client, manual_shop, clock, worker):
    authorized, _ = authorized_and_paid_orders(manual_shop)
    clock.advance(days=8)
    worker.run_until_idle()  # the authorisation expires
    logged_in(client, manual_shop)

    page = order_page(client, authorized["id"])

    assert "The payment authorization expired" in page.text
    assert "Tandem (automatic) ·" in page.text and "worker ·" not in page.text


def test_buttons_are_shown_only_for_allowed_actions(client, manual_shop):
    authorized, paid = authorized_and_paid_orders(manual_shop)
    logged_in(client, manual_shop)

    paid_page = order_page(client, paid["id"])
    authorized_page = order_page(client, authorized["id"])

    assert not has_form(paid_page, paid["id"], "capture") and not has_form(paid_page, paid["id"], "release")
    assert has_form(paid_page, paid["id"], "hold") and has_form(paid_page, paid["id"], "cancel")
    assert has_form(authorized_page, authorized["id"], "capture")
    assert not has_form(authorized_page, authorized["id"], "mark_as_paid")


def test_release_is_offered_only_while_the_order_is_on_hold(client, shop):
    order = shop.place_order(shop.product()["id"])
    logged_in(client, shop)
    assert not has_form(order_page(client, order["id"]), order["id"], "release")

    page = client.post(
        f"/admin/orders/{order['id']}/hold",
        data={"csrf_token": csrf_of(order_page(client, order["id"])), "reason": "incorrect_address"},
    )

    assert flash_of(page) == "Fulfillment is on hold."
    assert has_form(page, order["id"], "release") and "Incorrect address" in page.text
    page = client.post(f"/admin/orders/{order['id']}/release", data={"csrf_token": csrf_of(page)})
    assert flash_of(page) == "The hold was released."
    assert not has_form(page, order["id"], "release")
    assert shop.order(order["id"])["fulfillment_status"] == "unfulfilled"


def test_capture_from_the_order_page_captures_the_payment(client, manual_shop):
    authorized, _ = authorized_and_paid_orders(manual_shop)
    logged_in(client, manual_shop)
    token = csrf_of(order_page(client, authorized["id"]))

    page = client.post(f"/admin/orders/{authorized['id']}/capture", data={"csrf_token": token})

    assert flash_of(page) == "The payment was captured."
    after = manual_shop.order(authorized["id"])
    assert after["financial_status"] == "paid"
    assert after["events"][-1]["actor"]["kind"] == "staff"


def test_cancel_from_the_order_page_uses_the_chosen_reason(client, shop):
    order = shop.place_order(shop.product()["id"])
    logged_in(client, shop)
    token = csrf_of(order_page(client, order["id"]))

    page = client.post(
        f"/admin/orders/{order['id']}/cancel",
        data={
            "csrf_token": token,
            "reason": "fraud",
            "refund": "true",
            "restock": "true",
            "confirmed": "true",
        },
    )

    assert flash_of(page) == "The order was cancelled."
    after = shop.order(order["id"])
    assert after["status"] == "cancelled" and after["cancel_reason"] == "fraud"
    assert after["financial_status"] == "refunded"
    assert not has_form(page, order["id"], "cancel") and not has_form(page, order["id"], "hold")


def test_archive_and_unarchive_from_the_order_page(client, shop):
    order = shop.place_order(shop.product()["id"])
    logged_in(client, shop)
    token = csrf_of(order_page(client, order["id"]))

    archived = client.post(f"/admin/orders/{order['id']}/archive", data={"csrf_token": token})

    assert flash_of(archived) == "The order was archived."
    assert has_form(archived, order["id"], "unarchive") and not has_form(archived, order["id"], "archive")
    assert shop.order(order["id"])["status"] == "archived"
    reopened = client.post(f"/admin/orders/{order['id']}/unarchive", data={"csrf_token": token})
    assert flash_of(reopened) == "The order was unarchived."
    assert shop.order(order["id"])["status"] == "open"


def test_a_refused_action_shows_the_error_and_changes_nothing(client, shop):
    order = shop.place_order(shop.product()["id"])
    logged_in(client, shop)
    token = csrf_of(order_page(client, order["id"]))

    page = client.post(f"/admin/orders/{order['id']}/capture", data={"csrf_token": token})

    assert page.status_code == 200
    assert flash_of(page).startswith("This action was refused: cannot capture")
    after = shop.order(order["id"])
    assert after["financial_status"] == "paid"
    assert after["transactions"] == order["transactions"] and len(after["events"]) == len(order["events"])


def test_an_unknown_hold_reason_is_a_bad_request_and_changes_nothing(client, shop):
    order = shop.place_order(shop.product()["id"])
    logged_in(client, shop)
    token = csrf_of(order_page(client, order["id"]))

    page = client.post(f"/admin/orders/{order['id']}/hold", data={"csrf_token": token, "reason": "whim"})

    assert page.status_code == 400
    assert shop.order(order["id"])["holds"] == []


def test_another_stores_order_is_not_found(client, make_store):
    mine, theirs = make_store("Mine"), make_store("Theirs")
    their_order = theirs.place_order(theirs.product()["id"])
    logged_in(client, mine)
    token = csrf_of(client.get("/admin/orders"))

    page = client.get(f"/admin/orders/{their_order['id']}")
    hold = client.post(
        f"/admin/orders/{their_order['id']}/hold", data={"csrf_token": token, "reason": "other"}
    )

    assert page.status_code == 404 and "Page not found" in page.text
    assert hold.status_code == 404
    assert theirs.order(their_order["id"])["holds"] == []


# -- language and time -----------------------------------------------------------------------


def test_a_french_store_sees_french_pages(client, make_store):
    boutique = make_store("Boutique", locale="fr")
    order = boutique.place_order(boutique.product(price="25.00")["id"])
    logged_in(client, boutique)

    listing = client.get("/admin/orders")
    page = order_page(client, order["id"])

    assert '<html lang="fr">' in listing.text
    assert "Commandes" in listing.text and "Non payé" in listing.text and "Payé" in listing.text
    assert "Suspendre le traitement" in page.text and "Risque de fraude élevé" in page.text
    assert "La commande n° 1001 a été passée" in page.text
    assert "25,00\u00a0€" in page.text
    assert "22 nov. 2026" in page.text


def test_the_language_switcher_changes_the_staff_members_language(client, shop):
    logged_in(client, shop)
    page = client.get("/admin/orders?tab=unpaid")

    switched = client.post(
        "/admin/locale",
        data={"csrf_token": csrf_of(page), "locale": "fr", "next": "/admin/orders?tab=unpaid"},
    )

    assert switched.url.path == "/admin/orders" and switched.url.query == b"tab=unpaid"
    assert "Commandes" in switched.text and '<html lang="fr">' in switched.text


def test_the_login_page_speaks_the_browsers_language(client):
    page = client.get("/admin/login", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})

    assert '<html lang="fr">' in page.text and "Se connecter" in page.text


def test_times_are_shown_in_the_stores_time_zone(client, shop):
    assert shop.patch("/store", {"timezone": "Europe/Paris"}).status_code == 200
    order = shop.place_order(shop.product()["id"])  # the test clock says 09:00 UTC
    logged_in(client, shop)

    listing = client.get("/admin/orders")
    page = order_page(client, order["id"])

    for text in (listing.text, page.text):
        assert "Nov 22, 2026, 10:00\u202fAM" in text
        assert "9:00\u202fAM" not in text


# -- catalogs --------------------------------------------------------------------------------


def test_every_ui_string_has_a_french_translation():
    package = files("tandem")
    with (package / "i18n" / "babel.cfg").open(encoding="utf-8") as mapping:
        method_map, options_map = parse_mapping_cfg(mapping)
    wanted = {message for _, _, message, _, _ in extract_from_dir(str(package), method_map, options_map)}
    po = (package / "i18n" / "locales" / "fr" / "LC_MESSAGES" / "messages.po").read_bytes()
    french = {m.id: m.string for m in read_po(BytesIO(po), locale="fr") if m.id and not m.fuzzy}

    assert sorted(m for m in wanted if not french.get(m)) == []
    for english, translated in french.items():
        assert placeholders(english) == placeholders(translated), english


def placeholders(text: str) -> set[str]:
    braces = {name for _, name, _, _ in string.Formatter().parse(text) if name}
    return braces | set(re.findall(r"%\((\w+)\)s", text))


@pytest.mark.parametrize(
    "table, values",
    [
        (labels.FINANCIAL_STATUS, FinancialStatus),
        (labels.FULFILLMENT_STATUS, FulfillmentStatus),
        (labels.ORDER_STATUS, OrderStatus),
        (labels.HOLD_REASON, HoldReason),
        (labels.CANCEL_REASON, CancelReason),
        (labels.ACTION, Action),
    ],
)
def test_every_value_shown_to_people_has_a_label(table, values):
    assert set(table) == {value.value for value in values}
