"""The admin UI of the supplier network over HTTP: the supplier-order panel on the retailer's
order page, the supplier's incoming orders and fulfilment form, connections and imports, and
the store's settings (SPEC §2.1, §2.3)."""

import re

import pytest
from sqlalchemy import select

from tandem.catalog.models import Product
from tests.e2e.test_admin_pages import csrf_of, flash_of, logged_in, order_page
from tests.support.network import build, supplier_product


def supplier_order_of(network, order) -> dict:
    [supplier_order] = network.retailer.order(order["id"])["supplier_orders"]
    return supplier_order


def reaches_the_supplier(network, clock, worker, quantity: int = 2) -> tuple[dict, dict]:
    """A paid retailer order whose review window has passed: open in the supplier's store."""
    order = network.retailer.place_order(network.variant["id"], quantity)
    clock.advance(seconds=120)
    worker.run_until_idle()
    supplier_order = supplier_order_of(network, order)
    assert supplier_order["status"] == "open"
    return order, supplier_order


def supplier_order_page(client, supplier_order_id: int):
    page = client.get(f"/admin/supplier_orders/{supplier_order_id}")
    assert page.status_code == 200, page.text
    return page


def panel_of(page) -> str:
    return page.text[page.text.index('id="supplier-orders"') :]


def has_action(page, path: str) -> bool:
    return f'action="{path}"' in page.text


def in_english(client) -> None:
    """The supplier of tests.support.network speaks French; its staff member switches to English."""
    client.post("/admin/locale", data={"csrf_token": csrf_of(client.get("/admin/orders")), "locale": "en"})


def fulfil_form(page) -> dict:
    """The fulfil form's fields as the page fills them (each line's quantity defaults to what is left)."""
    form = page.text[page.text.index('id="fulfill"') :]
    return {
        "line_id": re.findall(r'name="line_id" value="(\d+)"', form),
        "quantity": re.findall(r'name="quantity" value="(\d+)"', form),
    }


@pytest.fixture
def network(make_store):
    return build(make_store)


# -- the retailer's order page ---------------------------------------------------------------


def test_order_page_shows_a_scheduled_supplier_order_with_its_countdown_and_release_time(
    client, network, clock
):
    order = network.retailer.place_order(network.variant["id"], 2)
    clock.advance(seconds=20)
    logged_in(client, network.retailer)

    page = order_page(client, order["id"])

    panel = page.text[page.text.index('id="supplier-orders"') :]
    assert "Atelier Nord" in panel and "Scheduled" in panel and "Pull marin M" in panel
    assert "Goes to the supplier in" in panel and ">1 min 40 s<" in panel
    assert "Nov 22, 2026, 9:02\u202fAM" in panel
    assert 'data-seconds-left="100"' in panel
    assert '<script src="/admin/static/countdown.js' in page.text
    assert "request_fulfillment" not in page.text


def test_the_countdown_script_is_served_from_the_admins_own_origin(client, network):
    script = client.get("/admin/static/countdown.js")

    assert script.status_code == 200 and "data-seconds-left" in script.text.replace("secondsLeft", "")
    assert "javascript" in script.headers["content-type"]


def test_the_panel_follows_the_supplier_order_once_it_is_open(client, network, clock, worker):
    order, _ = reaches_the_supplier(network, clock, worker)
    logged_in(client, network.retailer)

    page = order_page(client, order["id"])

    panel = page.text[page.text.index('id="supplier-orders"') :]
    assert "In progress" in panel and "With the supplier since Nov 22, 2026, 9:02\u202fAM" in panel
    assert "Collective payment" in panel and "€36.00" in panel
    assert "countdown.js" not in page.text


def test_the_request_button_is_offered_only_while_the_supplier_order_awaits_it(client, make_store, network):
    manual = build(make_store, capture="manual")
    awaiting = manual.retailer.place_order(manual.variant["id"])
    supplier_order = supplier_order_of(manual, awaiting)
    automatic = network.retailer.place_order(network.variant["id"])
    request_path = f"/admin/supplier_orders/{supplier_order['id']}/request_fulfillment"

    logged_in(client, network.retailer)
    assert "request_fulfillment" not in order_page(client, automatic["id"]).text
    logged_in(client, manual.retailer)
    page = order_page(client, awaiting["id"])
    assert "Awaiting fulfillment request" in page.text and has_action(page, request_path)

    sent = client.post(
        request_path, data={"csrf_token": csrf_of(page), "next": f"/admin/orders/{awaiting['id']}"}
    )

    assert sent.url.path == f"/admin/orders/{awaiting['id']}"
    assert flash_of(sent) == "The fulfillment request was sent to the supplier."
    assert supplier_order_of(manual, awaiting)["status"] == "open"
    assert not has_action(sent, request_path) and "In progress" in sent.text


def test_a_held_order_offers_no_request_and_a_forced_one_is_refused(client, make_store):
    manual = build(make_store, capture="manual")
    order = manual.retailer.place_order(manual.variant["id"])
    supplier_order = supplier_order_of(manual, order)
    manual.retailer.post(f"/orders/{order['id']}/holds", {"reason": "high_risk_of_fraud"})
    logged_in(client, manual.retailer)
    page = order_page(client, order["id"])
    request_path = f"/admin/supplier_orders/{supplier_order['id']}/request_fulfillment"

    forced = client.post(request_path, data={"csrf_token": csrf_of(page)})

    assert not has_action(page, request_path)
    assert "Release the holds to send the fulfillment request." in page.text
    assert forced.status_code == 200
    assert flash_of(forced).startswith("This action was refused: the order is on hold")
    assert supplier_order_of(manual, order)["status"] == "awaiting_request"


def test_the_panel_holds_a_scheduled_supplier_order_and_releases_it(client, network, clock):
    order = network.retailer.place_order(network.variant["id"])
    logged_in(client, network.retailer)
    page = order_page(client, order["id"])
    assert "Hold before it goes to the supplier" in panel_of(page)

    held = client.post(
        f"/admin/orders/{order['id']}/hold",
        data={"csrf_token": csrf_of(page), "reason": "high_risk_of_fraud"},
    )

    assert supplier_order_of(network, order)["status"] == "on_hold"
    panel = panel_of(held)
    assert "Hold before it goes to the supplier" not in panel
    assert f'action="/admin/orders/{order["id"]}/release"' in panel
    released = client.post(f"/admin/orders/{order['id']}/release", data={"csrf_token": csrf_of(held)})
    assert flash_of(released) == "The hold was released."
    assert supplier_order_of(network, order)["status"] == "scheduled"
    assert "Release the holds and let it go to the supplier" not in panel_of(released)


def test_an_open_supplier_order_offers_no_hold_in_the_panel(client, network, clock, worker):
    order, _ = reaches_the_supplier(network, clock, worker)
    logged_in(client, network.retailer)

    panel = panel_of(order_page(client, order["id"]))

    assert "Hold before it goes to the supplier" not in panel
    assert "Release the holds and let it go to the supplier" not in panel


def test_the_retailer_opens_its_supplier_order_read_only(client, network, clock, worker):
    order, supplier_order = reaches_the_supplier(network, clock, worker)
    logged_in(client, network.retailer)

    page = supplier_order_page(client, supplier_order["id"])

    assert "Supplier: Atelier Nord" in page.text
    assert f'href="/admin/orders/{order["id"]}"' in page.text
    assert "Supplier order status changed from Scheduled to In progress" in page.text
    assert 'id="fulfill"' not in page.text and "mark_payment_received" not in page.text


# -- the supplier's area ---------------------------------------------------------------------


def test_the_supplier_lists_only_orders_that_reached_it(client, network, clock, worker):
    _, opened = reaches_the_supplier(network, clock, worker)
    waiting = network.retailer.place_order(network.variant["id"])
    scheduled = supplier_order_of(network, waiting)
    logged_in(client, network.supplier)

    to_fulfil = client.get("/admin/supplier_orders")
    everything = client.get("/admin/supplier_orders?status=all")

    for page in (to_fulfil, everything):
        assert f'href="/admin/supplier_orders/{opened["id"]}"' in page.text
        assert f'href="/admin/supplier_orders/{scheduled["id"]}"' not in page.text
    assert "Maison Camille" in to_fulfil.text and "Paris" in to_fulfil.text
    assert client.get(f"/admin/supplier_orders/{scheduled['id']}").status_code == 404
    assert (
        f'href="/admin/supplier_orders/{opened["id"]}"'
        not in client.get("/admin/supplier_orders?status=fulfilled").text
    )


def test_only_suppliers_get_the_supplier_orders_link(client, network):
    logged_in(client, network.retailer)
    retailer_nav = client.get("/admin/orders").text
    logged_in(client, network.supplier)
    supplier_nav = client.get("/admin/orders").text

    assert 'href="/admin/supplier_orders"' not in retailer_nav
    assert 'href="/admin/supplier_orders"' in supplier_nav
    assert 'href="/admin/connections"' in retailer_nav and 'href="/admin/settings"' in retailer_nav


def test_the_supplier_fulfils_with_tracking_and_the_retailer_order_follows(client, network, clock, worker):
    order, supplier_order = reaches_the_supplier(network, clock, worker, quantity=2)
    logged_in(client, network.supplier)
    page = supplier_order_page(client, supplier_order["id"])
    form = fulfil_form(page)
    assert form == {"line_id": [str(supplier_order["line_items"][0]["id"])], "quantity": ["2"]}

    done = client.post(
        f"/admin/supplier_orders/{supplier_order['id']}/fulfill",
        data={
            "csrf_token": csrf_of(page),
            **form,
            "tracking_company": "Colissimo",
            "tracking_number": "6A123456789",
            "tracking_url": "https://www.laposte.fr/outils/suivre-vos-envois?code=6A123456789",
        },
    )

    assert flash_of(done) == "Les articles ont été marqués comme traités."
    assert 'id="fulfill"' not in done.text and "6A123456789" in done.text
    after = network.retailer.order(order["id"])
    assert after["fulfillment_status"] == "fulfilled"
    assert after["fulfillments"][0]["tracking_number"] == "6A123456789"
    logged_in(client, network.retailer)
    retailer_page = order_page(client, order["id"])
    assert "Fulfilled" in retailer_page.text
    assert '<a href="https://www.laposte.fr/outils/suivre-vos-envois?code=6A123456789"' in retailer_page.text


def test_a_partial_fulfilment_leaves_the_rest_to_fulfil(client, network, clock, worker):
    _, supplier_order = reaches_the_supplier(network, clock, worker, quantity=3)
    logged_in(client, network.supplier)
    in_english(client)
    page = supplier_order_page(client, supplier_order["id"])

    done = client.post(
        f"/admin/supplier_orders/{supplier_order['id']}/fulfill",
        data={
            "csrf_token": csrf_of(page),
            "line_id": fulfil_form(page)["line_id"],
            "quantity": ["1"],
            "tracking_company": "DHL",
            "tracking_number": "JD0001",
        },
    )

    assert flash_of(done) == "The items were marked as fulfilled."
    assert "Partially fulfilled" in done.text and "2 left to fulfill" in done.text
    assert fulfil_form(done)["quantity"] == ["2"]
    assert network.supplier.get(f"/supplier_orders/{supplier_order['id']}").json()["status"] == (
        "partially_fulfilled"
    )


@pytest.mark.parametrize(
    "change, message",
    [
        ({"tracking_number": ""}, "Enter the carrier and the tracking number."),
        ({"tracking_url": "javascript:alert(1)"}, "The tracking link must start with http:// or https://."),
        ({"quantity": ["0"]}, "Choose at least one item to fulfill."),
        (
            {"quantity": ["5"]},
            "This action was refused: line_items[0].quantity: 2 left to fulfil on this line",
        ),
    ],
)
def test_the_fulfil_form_refuses_what_it_cannot_ship(client, network, clock, worker, change, message):
    order, supplier_order = reaches_the_supplier(network, clock, worker, quantity=2)
    logged_in(client, network.supplier)
    in_english(client)
    page = supplier_order_page(client, supplier_order["id"])
    data = {
        "csrf_token": csrf_of(page),
        **fulfil_form(page),
        "tracking_company": "Colissimo",
        "tracking_number": "6A1",
    } | change

    refused = client.post(f"/admin/supplier_orders/{supplier_order['id']}/fulfill", data=data)

    assert refused.status_code == 200 and flash_of(refused) == message
    assert network.retailer.order(order["id"])["fulfillments"] == []


def test_the_supplier_marks_the_collective_payment_received(client, network, clock, worker):
    _, supplier_order = reaches_the_supplier(network, clock, worker)
    logged_in(client, network.supplier)
    in_english(client)
    page = supplier_order_page(client, supplier_order["id"])
    path = f"/admin/supplier_orders/{supplier_order['id']}/mark_payment_received"
    assert has_action(page, path) and "€36.00" in page.text

    done = client.post(path, data={"csrf_token": csrf_of(page)})

    assert flash_of(done) == "The payment was marked as received."
    assert not has_action(done, path)
    assert "The supplier received the payment of €36.00" in done.text
    payment = network.supplier.get(f"/supplier_orders/{supplier_order['id']}").json()["collective_payment"]
    assert payment["status"] == "paid"


def test_automatic_collective_payments_offer_no_mark_received_button(client, make_store, clock, worker):
    network = build(make_store, retailer_payments=True, supplier_payments=True)
    network.retailer.patch("/store", {"billing_card_token": "tok_success"})
    _, supplier_order = reaches_the_supplier(network, clock, worker)
    logged_in(client, network.supplier)

    page = supplier_order_page(client, supplier_order["id"])

    assert "mark_payment_received" not in page.text and "Payé" in page.text


def test_another_stores_supplier_order_is_not_found(client, make_store, network, clock, worker):
    _, supplier_order = reaches_the_supplier(network, clock, worker)
    stranger = make_store("Autre Boutique", kind="retailer,supplier")
    logged_in(client, stranger)
    token = csrf_of(client.get("/admin/orders"))
    base = f"/admin/supplier_orders/{supplier_order['id']}"

    page = client.get(base)
    fulfil = client.post(
        f"{base}/fulfill",
        data={
            "csrf_token": token,
            "tracking_company": "DHL",
            "tracking_number": "1",
            "line_id": "1",
            "quantity": "1",
        },
    )
    paid = client.post(f"{base}/mark_payment_received", data={"csrf_token": token})
    requested = client.post(f"{base}/request_fulfillment", data={"csrf_token": token})

    assert [r.status_code for r in (page, fulfil, paid, requested)] == [404, 404, 404, 404]
    assert "Page not found" in page.text
    assert network.retailer.order(supplier_order["order_id"])["fulfillments"] == []


def test_the_retailer_cannot_fulfil_its_own_supplier_order(client, network, clock, worker):
    order, supplier_order = reaches_the_supplier(network, clock, worker)
    logged_in(client, network.retailer)
    token = csrf_of(order_page(client, order["id"]))

    response = client.post(
        f"/admin/supplier_orders/{supplier_order['id']}/fulfill",
        data={
            "csrf_token": token,
            "tracking_company": "DHL",
            "tracking_number": "1",
            "line_id": "1",
            "quantity": "1",
        },
    )

    assert response.status_code == 404
    assert network.retailer.order(order["id"])["fulfillments"] == []


# -- connections and imports -----------------------------------------------------------------


def test_a_retailer_asks_a_supplier_who_accepts_from_the_connections_page(client, make_store):
    retailer = make_store("Maison Camille")
    supplier = make_store("Atelier Nord", kind="supplier")
    logged_in(client, retailer)
    page = client.get("/admin/connections")

    asked = client.post(
        "/admin/connections", data={"csrf_token": csrf_of(page), "supplier_store_id": str(supplier.store_id)}
    )

    assert flash_of(asked) == "Your request was sent. The supplier has to accept it."
    assert (
        "Atelier Nord" in asked.text
        and "Requested" in asked.text
        and "Waiting for the supplier" in asked.text
    )
    [connection] = retailer.get("/connections").json()["connections"]
    logged_in(client, supplier)
    inbox = client.get("/admin/connections")
    assert "Maison Camille" in inbox.text and f"{supplier.store_id}</p>" in inbox.text
    accepted = client.post(
        f"/admin/connections/{connection['id']}/accept", data={"csrf_token": csrf_of(inbox)}
    )
    assert flash_of(accepted) == "The connection was accepted. The retailer can now import your products."
    assert supplier.get("/connections").json()["connections"][0]["status"] == "active"
    logged_in(client, retailer)
    assert f'href="/admin/connections/{connection["id"]}/products"' in client.get("/admin/connections").text


def test_a_supplier_declines_a_request(client, make_store):
    retailer, supplier = make_store("Maison Camille"), make_store("Atelier Nord", kind="supplier")
    connection = retailer.post("/connections", {"supplier_store_id": supplier.store_id}).json()
    logged_in(client, supplier)
    page = client.get("/admin/connections")

    declined = client.post(
        f"/admin/connections/{connection['id']}/decline", data={"csrf_token": csrf_of(page)}
    )

    assert flash_of(declined) == "The request was declined."
    assert (
        "Declined" in declined.text and f"/admin/connections/{connection['id']}/accept" not in declined.text
    )
    assert retailer.get("/connections").json()["connections"][0]["status"] == "declined"


def test_the_retailer_cannot_accept_its_own_request(client, make_store):
    retailer, supplier = make_store("Maison Camille"), make_store("Atelier Nord", kind="supplier")
    connection = retailer.post("/connections", {"supplier_store_id": supplier.store_id}).json()
    logged_in(client, retailer)
    page = client.get("/admin/connections")

    forced = client.post(f"/admin/connections/{connection['id']}/accept", data={"csrf_token": csrf_of(page)})

    assert flash_of(forced) == "This action was refused: only the supplier answers a connection request"
    assert retailer.get("/connections").json()["connections"][0]["status"] == "requested"


@pytest.mark.parametrize(
    "typed, message",
    [
        ("abc", "Enter the supplier’s store ID: a number it can find on its Connections page."),
        ("999999", "There is no supplier store with this ID selling in your currency."),
    ],
)
def test_a_request_to_no_supplier_is_refused(client, make_store, typed, message):
    retailer = make_store("Maison Camille")
    logged_in(client, retailer)
    page = client.get("/admin/connections")

    refused = client.post(
        "/admin/connections", data={"csrf_token": csrf_of(page), "supplier_store_id": typed}
    )

    assert flash_of(refused) == message
    assert retailer.get("/connections").json()["connections"] == []


def test_the_retailer_imports_a_supplier_product_from_its_catalog(client, network, runtime):
    extra = supplier_product(network.supplier, title="Vareuse", price="80.00", wholesale="35.00")
    logged_in(client, network.retailer)
    catalog = client.get(f"/admin/connections/{network.connection_id}/products")
    assert catalog.status_code == 200
    assert "Vareuse" in catalog.text and "€35.00" in catalog.text and "€80.00" in catalog.text
    assert "In your catalog" in catalog.text  # the Pull marin, imported by the network fixture

    imported = client.post(
        f"/admin/connections/{network.connection_id}/import",
        data={
            "csrf_token": csrf_of(catalog),
            "supplier_product_id": str(extra["id"]),
            "title": "Vareuse bleue",
            "price": "89,00",
        },
    )

    assert flash_of(imported) == "The product was imported into your catalog. It sells the supplier’s stock."
    assert f'value="{extra["id"]}"' not in imported.text
    with runtime.uow(read_only=True) as uow:
        mine = uow.session.scalar(select(Product).where(Product.imported_from_id == extra["id"]))
        assert (mine.store_id, mine.title, mine.variants[0].price) == (
            network.retailer.store_id,
            "Vareuse bleue",
            8900,
        )
    again = client.post(
        f"/admin/connections/{network.connection_id}/import",
        data={"csrf_token": csrf_of(catalog), "supplier_product_id": str(extra["id"])},
    )
    assert flash_of(again) == "This product is already in your catalog."


def test_an_import_with_a_bad_price_is_refused(client, network, runtime):
    extra = supplier_product(network.supplier, title="Vareuse")
    logged_in(client, network.retailer)
    catalog = client.get(f"/admin/connections/{network.connection_id}/products")

    refused = client.post(
        f"/admin/connections/{network.connection_id}/import",
        data={"csrf_token": csrf_of(catalog), "supplier_product_id": str(extra["id"]), "price": "-5"},
    )

    assert flash_of(refused) == "Enter a price such as 59.00, or leave it empty to keep the supplier’s price."
    with runtime.uow(read_only=True) as uow:
        assert uow.session.scalar(select(Product).where(Product.imported_from_id == extra["id"])) is None


def test_a_catalog_is_only_for_the_connected_retailer(client, make_store, network):
    stranger = make_store("Autre Boutique")
    logged_in(client, network.supplier)
    as_supplier = client.get(f"/admin/connections/{network.connection_id}/products")
    logged_in(client, stranger)
    as_stranger = client.get(f"/admin/connections/{network.connection_id}/products")

    assert as_supplier.status_code == 404 and as_stranger.status_code == 404


# -- settings --------------------------------------------------------------------------------


def test_a_retailer_saves_capture_mode_automatic_payments_and_billing_card(client, make_store):
    retailer = make_store("Maison Camille")
    logged_in(client, retailer)
    page = client.get("/admin/settings")
    assert 'id="automation-rules"' in page.text and "supplier_shipping_fee" not in page.text

    saved = client.post(
        "/admin/settings",
        data={
            "csrf_token": csrf_of(page),
            "payment_capture": "manual",
            "collective_automatic_payments": "true",
            "billing_card_token": "tok_success",
            "locale": "en",
            "timezone": "Europe/Paris",
        },
    )

    assert flash_of(saved) == "The settings were saved."
    assert "Card ending in 4242" in saved.text
    store = retailer.get("/store").json()
    assert (store["payment_capture"], store["collective_automatic_payments"]) == ("manual", True)
    assert store["billing_card"] == {"last4": "4242"} and store["timezone"] == "Europe/Paris"
    assert 'value="manual" checked' in saved.text and "<option selected>Europe/Paris</option>" in saved.text


def test_unticking_automatic_payments_turns_them_off(client, make_store):
    retailer = make_store("Maison Camille", automatic_payments=True)
    logged_in(client, retailer)
    page = client.get("/admin/settings")

    client.post("/admin/settings", data={"csrf_token": csrf_of(page), "payment_capture": "automatic"})

    assert retailer.get("/store").json()["collective_automatic_payments"] is False


def test_a_supplier_sets_its_shipping_fee(client, make_store):
    supplier = make_store("Atelier Nord", kind="supplier")
    logged_in(client, supplier)
    page = client.get("/admin/settings")
    assert "billing_card_token" not in page.text and "payment_capture" not in page.text

    saved = client.post(
        "/admin/settings", data={"csrf_token": csrf_of(page), "supplier_shipping_fee": "4,50"}
    )

    assert flash_of(saved) == "The settings were saved."
    assert supplier.get("/store").json()["supplier_shipping_fee"] == "4.50"
    assert 'value="4.50"' in saved.text


@pytest.mark.parametrize(
    "change, message",
    [
        (
            {"billing_card_token": "tok_nope"},
            "The payment gateway does not know this card token. Nothing was saved.",
        ),
        ({"timezone": "Mars/Olympus"}, "Choose a time zone from the list. Nothing was saved."),
        ({"payment_capture": "sometimes"}, "Choose automatic or manual capture. Nothing was saved."),
        ({"supplier_shipping_fee": "-1"}, "Enter a shipping fee such as 4.50. Nothing was saved."),
        ({"supplier_shipping_fee": "4.555"}, "Enter a shipping fee such as 4.50. Nothing was saved."),
    ],
)
def test_settings_refuse_bad_input_and_change_nothing(client, make_store, change, message):
    store = make_store("Maison Camille", kind="retailer,supplier")
    before = store.get("/store").json()
    logged_in(client, store)
    page = client.get("/admin/settings")
    data = {
        "csrf_token": csrf_of(page),
        "payment_capture": "manual",
        "collective_automatic_payments": "true",
        "supplier_shipping_fee": "3.00",
        "timezone": "Europe/Paris",
    } | change

    refused = client.post("/admin/settings", data=data)

    assert refused.status_code == 200 and flash_of(refused) == message
    assert store.get("/store").json() == before


def test_changing_the_store_language_speaks_it_at_once(client, make_store):
    retailer = make_store("Maison Camille")
    logged_in(client, retailer)
    page = client.get("/admin/settings")

    saved = client.post("/admin/settings", data={"csrf_token": csrf_of(page), "locale": "fr"})

    assert flash_of(saved) == "Les réglages ont été enregistrés."
    assert '<html lang="fr">' in saved.text and "Réglages" in saved.text
    assert retailer.get("/store").json()["locale"] == "fr"


# -- automation rules ------------------------------------------------------------------------


def rule_form(**change) -> dict:
    return {
        "name": "Large foreign orders",
        "condition": 'total > 50.0 && shipping_country != "DE"',
        "action": "hold",
        "hold_reason": "high_risk_of_fraud",
        "tag": "",
    } | change


def test_a_retailer_adds_a_rule_that_holds_the_next_paid_order(client, network):
    logged_in(client, network.retailer)
    page = client.get("/admin/settings")
    assert "No rules yet." in page.text

    added = client.post("/admin/settings/automation_rules", data={"csrf_token": csrf_of(page), **rule_form()})

    assert flash_of(added) == "The rule was added. It applies to orders paid from now on."
    [rule] = network.retailer.get("/automation_rules").json()["rules"]
    assert (rule["name"], rule["action"]) == (
        "Large foreign orders",
        {"type": "hold", "reason": "high_risk_of_fraud"},
    )
    rules = added.text[added.text.index('id="automation-rules"') :]
    assert "Large foreign orders" in rules and "High risk of fraud" in rules
    assert "total &gt; 50.0 &amp;&amp; shipping_country != &#34;DE&#34;" in rules
    order = network.retailer.place_order(network.variant["id"])
    assert network.retailer.order(order["id"])["fulfillment_status"] == "on_hold"
    assert supplier_order_of(network, order)["status"] == "on_hold"
    timeline = order_page(client, order["id"]).text
    assert "Automation rule “Large foreign orders” ·" in timeline


def test_a_tag_rule_and_its_deletion(client, network):
    logged_in(client, network.retailer)
    page = client.get("/admin/settings")
    added = client.post(
        "/admin/settings/automation_rules",
        data={
            "csrf_token": csrf_of(page),
            **rule_form(name="VIP", condition="total > 1.0", action="tag", tag="vip"),
        },
    )
    [rule] = network.retailer.get("/automation_rules").json()["rules"]
    assert rule["action"] == {"type": "tag", "tag": "vip"} and "Add a tag" in added.text
    delete_path = f"/admin/settings/automation_rules/{rule['id']}/delete"
    assert f'action="{delete_path}"' in added.text

    deleted = client.post(delete_path, data={"csrf_token": csrf_of(added)})
    again = client.post(delete_path, data={"csrf_token": csrf_of(added)})

    assert flash_of(deleted) == "The rule was deleted." and "No rules yet." in deleted.text
    assert network.retailer.get("/automation_rules").json()["rules"] == []
    assert again.status_code == 404


@pytest.mark.parametrize(
    "change, message",
    [
        ({"name": " "}, "Give the rule a name of at most 200 characters. Nothing was saved."),
        ({"condition": ""}, "Write the condition, e.g. total > 500.0. Nothing was saved."),
        ({"action": "explode"}, "Choose what the rule does. Nothing was saved."),
        ({"hold_reason": "whim"}, "Choose a hold reason from the list. Nothing was saved."),
        ({"action": "tag", "tag": ""}, "Enter the tag to add. Nothing was saved."),
        ({"action": "tag", "tag": "x" * 101}, "A tag has at most 100 characters. Nothing was saved."),
        (
            {"condition": "total >"},
            "This condition cannot be used: cannot read the condition",
        ),
        (
            {"condition": "weight > 2.0"},
            "This condition cannot be used: unknown value weight; conditions can use: total, subtotal",
        ),
        (
            {"condition": "total"},
            "This condition cannot be used: the condition must be true or false (for example total > 500.0)."
            " Nothing was saved.",
        ),
    ],
)
def test_a_rule_that_cannot_be_used_is_refused(client, network, change, message):
    logged_in(client, network.retailer)
    page = client.get("/admin/settings")

    refused = client.post(
        "/admin/settings/automation_rules", data={"csrf_token": csrf_of(page), **rule_form(**change)}
    )

    assert flash_of(refused).replace("&gt;", ">").startswith(message)
    assert network.retailer.get("/automation_rules").json()["rules"] == []


def test_another_stores_rule_cannot_be_deleted(client, make_store, network):
    rule = network.retailer.post(
        "/automation_rules", {"name": "Big", "condition": "total > 1.0", "action": "hold"}
    ).json()
    stranger = make_store("Autre Boutique")
    logged_in(client, stranger)

    response = client.post(
        f"/admin/settings/automation_rules/{rule['id']}/delete",
        data={"csrf_token": csrf_of(client.get("/admin/settings"))},
    )

    assert response.status_code == 404
    assert len(network.retailer.get("/automation_rules").json()["rules"]) == 1


def test_rule_forms_need_the_session_csrf_token(client, network):
    rule = network.retailer.post(
        "/automation_rules", {"name": "Big", "condition": "total > 1.0", "action": "hold"}
    ).json()
    logged_in(client, network.retailer)

    added = client.post("/admin/settings/automation_rules", data={"csrf_token": "forged", **rule_form()})
    deleted = client.post(
        f"/admin/settings/automation_rules/{rule['id']}/delete", data={"csrf_token": "forged"}
    )

    assert (added.status_code, deleted.status_code) == (403, 403)
    assert [r["name"] for r in network.retailer.get("/automation_rules").json()["rules"]] == ["Big"]


def test_a_supplier_only_store_has_no_rules_section(client, network):
    logged_in(client, network.supplier)

    page = client.get("/admin/settings")

    assert 'id="automation-rules"' not in page.text and 'id="return-policy"' in page.text


# -- CSRF and language -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, data",
    [
        ("/admin/settings", {"payment_capture": "manual"}),
        ("/admin/connections", {"supplier_store_id": "2"}),
        ("/admin/supplier_orders/{id}/fulfill", {"tracking_company": "DHL", "tracking_number": "1"}),
        ("/admin/supplier_orders/{id}/mark_payment_received", {}),
    ],
)
def test_forms_without_the_session_csrf_token_are_refused(client, network, clock, worker, path, data):
    order, supplier_order = reaches_the_supplier(network, clock, worker)
    logged_in(client, network.supplier)

    response = client.post(
        path.format(id=supplier_order["id"]), data={"csrf_token": "forged", **data}, follow_redirects=False
    )

    assert response.status_code == 403
    after = network.supplier.get(f"/supplier_orders/{supplier_order['id']}").json()
    assert after["status"] == "open" and after["collective_payment"]["status"] == "pending"
    assert network.supplier.get("/store").json()["payment_capture"] == "automatic"
    assert network.supplier.get("/connections").json()["connections"][0]["status"] == "active"


def test_the_supplier_area_speaks_french(client, network, clock, worker):
    _, supplier_order = reaches_the_supplier(network, clock, worker)
    logged_in(client, network.supplier)  # the network's supplier is a French store

    listing = client.get("/admin/supplier_orders")
    page = supplier_order_page(client, supplier_order["id"])
    connections = client.get("/admin/connections")
    settings = client.get("/admin/settings")

    assert '<html lang="fr">' in listing.text and "Commandes fournisseur" in listing.text
    assert "À traiter" in listing.text and "En cours" in listing.text
    assert "Traiter les articles" in page.text and "Transporteur" in page.text
    assert "Paiement groupé" in page.text and "36,00\u00a0€" in page.text
    assert "passé de «\u00a0Planifié\u00a0» à «\u00a0En cours\u00a0»" in page.text
    assert "22 nov. 2026" in page.text
    assert "Connectée" in connections.text and "Frais de port par commande fournisseur (EUR)" in settings.text
    assert "Politique de retour" in settings.text and "Votre politique de retour" in page.text


def test_a_french_retailer_manages_its_rules_in_french(client, make_store):
    retailer = make_store("Maison Camille", locale="fr")
    logged_in(client, retailer)
    page = client.get("/admin/settings")

    refused = client.post(
        "/admin/settings/automation_rules", data={"csrf_token": csrf_of(page), **rule_form(action="tag")}
    )

    assert "Ajouter une règle" in page.text and "Ce qu’une condition peut utiliser" in page.text
    assert "le total de la commande" in page.text and "Ajouter une étiquette" in page.text
    assert flash_of(refused) == "Saisissez l’étiquette à ajouter. Rien n’a été enregistré."


def test_a_french_retailer_sees_the_panel_in_french(client, make_store, clock):
    network = build(make_store, retailer_locale="fr")
    order = network.retailer.place_order(network.variant["id"])
    logged_in(client, network.retailer)

    page = order_page(client, order["id"])

    panel = page.text[page.text.index('id="supplier-orders"') :]
    assert "Commandes fournisseur" in panel and "Planifié" in panel
    assert "Suspendre avant l’envoi au fournisseur" in panel
    assert "Part chez le fournisseur dans" in panel and ">2 min 0 s<" in panel
    assert "22 nov. 2026, 09:02" in panel
    assert 'data-minutes="%(minutes)s min %(seconds)s s"' in panel
