"""Pre-orders in the admin UI over HTTP: the payment schedule panel and its actions, the
manual-refund notice, and the customer page with the cards on file (SPEC §2.4)."""

import re

from tests.e2e.test_admin_pages import csrf_of, flash_of, lists, logged_in, order_page

DAY = 86400


def preorder(shop, *, card: str = "tok_success", deposit: int = 20, email: str = "lea@example.com") -> dict:
    """A €100 pre-order: the deposit paid, the balance due in a day (2026-11-23 09:00 UTC)."""
    variant = shop.product(price="100.00")
    plan = shop.selling_plan([variant["id"]], deposit=("percentage", deposit))
    return shop.preorder(variant["id"], plan["id"], card=card, email=email)


def schedule_of(shop, order_id: int) -> dict:
    [schedule] = shop.order(order_id)["payment_schedules"]
    return schedule


def post(client, page, path: str, **fields):
    """Submit a form of `page` (its CSRF token) and follow the redirect back."""
    return client.post(path, data={"csrf_token": csrf_of(page), **fields})


def schedule_path(order: dict, schedule: dict, action: str) -> str:
    return f"/admin/orders/{order['id']}/payment_schedules/{schedule['id']}/{action}"


def panel_of(page) -> str:
    found = re.search(r'<section class="card" id="payment-schedule">(.*?)</section>', page.text, re.S)
    return found.group(1) if found else ""


def sales(order: dict) -> list[dict]:
    return [t for t in order["transactions"] if t["status"] == "success"]


def emails(shop, template: str) -> list[dict]:
    return [e for e in shop.get("/emails").json()["emails"] if e["template"] == template]


# -- the panel ------------------------------------------------------------------------------------


def test_the_panel_shows_the_balance_its_status_card_and_due_date_in_the_stores_time_zone(client, shop):
    assert shop.patch("/store", {"timezone": "Europe/Paris"}).status_code == 200
    order = preorder(shop)
    logged_in(client, shop)

    panel = panel_of(order_page(client, order["id"]))

    assert "Payment schedule" in panel
    assert "€80.00" in panel and "Pending" in panel
    assert "Nov 23, 2026, 10:00\u202fAM" in panel  # 09:00 UTC in Paris
    assert "test •••• 4242" in panel
    assert 'name="due_date" value="2026-11-23"' in panel and 'name="due_time" value="10:00"' in panel
    assert "Collect payment" in panel and "Charge card on file" in panel and "Send invoice" in panel
    assert "Change due date" in panel


def test_an_order_without_a_preorder_has_no_payment_schedule_panel(client, shop):
    order = shop.place_order(shop.product()["id"])
    logged_in(client, shop)

    assert 'id="payment-schedule"' not in order_page(client, order["id"]).text


def test_an_overdue_balance_is_highlighted_with_its_last_failure(client, shop, clock, worker):
    order = preorder(shop, card="tok_error", deposit=0)
    clock.advance(DAY + 1)
    worker.run_until_idle()
    assert schedule_of(shop, order["id"])["status"] == "overdue"
    logged_in(client, shop)

    panel = panel_of(order_page(client, order["id"]))

    assert 'class="schedule schedule-overdue"' in panel
    assert '<span class="badge badge-overdue">Overdue</span>' in panel
    assert "Last failure" in panel


# -- collecting the balance -------------------------------------------------------------------------


def test_charging_the_card_on_file_collects_the_balance_and_a_second_submit_charges_nothing(client, shop):
    order = preorder(shop)
    schedule = schedule_of(shop, order["id"])
    logged_in(client, shop)
    page = order_page(client, order["id"])

    first = post(client, page, schedule_path(order, schedule, "charge"))
    again = post(client, page, schedule_path(order, schedule, "charge"))  # the same form, submitted twice

    assert flash_of(first) == "The payment was collected."
    assert flash_of(again) == "Nothing to collect: this payment was already paid or cancelled."
    after = shop.order(order["id"])
    assert after["financial_status"] == "paid"
    assert [t["amount"] for t in sales(after)] == ["20.00", "80.00"]
    assert after["payment_schedules"][0]["status"] == "paid"


def test_a_paid_balance_offers_no_collect_payment_nor_due_date_change(client, shop):
    order = preorder(shop)
    schedule = schedule_of(shop, order["id"])
    assert shop.post(f"/orders/{order['id']}/payment_schedules/{schedule['id']}/charge").status_code == 200
    logged_in(client, shop)

    panel = panel_of(order_page(client, order["id"]))

    assert "Paid" in panel
    assert "Collect payment" not in panel and "Change due date" not in panel
    assert "/charge" not in panel and "/send_invoice" not in panel and "/due_date" not in panel


def test_a_declined_card_is_reported_and_the_balance_is_failed(client, shop):
    order = preorder(shop, card="tok_decline_after_first")
    schedule = schedule_of(shop, order["id"])
    logged_in(client, shop)

    done = post(client, order_page(client, order["id"]), schedule_path(order, schedule, "charge"))

    assert flash_of(done) == (
        "The card was declined: the payment failed and the customer was asked for a new card."
    )
    assert schedule_of(shop, order["id"])["status"] == "failed"
    assert "card declined" in panel_of(done) and "Failed" in panel_of(done)


def test_without_a_card_on_file_only_an_invoice_is_offered(client, shop):
    order = preorder(shop)
    card = shop.get(f"/customers/{order['customer_id']}").json()["payment_methods"][0]
    assert shop.delete(f"/customers/{order['customer_id']}/payment_methods/{card['id']}").status_code == 200
    schedule = schedule_of(shop, order["id"])
    logged_in(client, shop)
    page = order_page(client, order["id"])

    refused = post(client, page, schedule_path(order, schedule, "charge"))

    assert "Charge card on file" not in panel_of(page) and "No card on file to charge." in panel_of(page)
    assert "Send invoice" in panel_of(page)
    assert flash_of(refused) == "There is no card on file for this payment: send an invoice instead."
    assert len(sales(shop.order(order["id"]))) == 1


def test_a_bank_challenge_waits_for_the_customer_and_hides_the_due_date_change(client, shop):
    order = preorder(shop, card="tok_requires_action")
    schedule = schedule_of(shop, order["id"])
    logged_in(client, shop)

    done = post(client, order_page(client, order["id"]), schedule_path(order, schedule, "charge"))

    assert flash_of(done) == "The bank asked the customer to confirm the payment: they were sent a link."
    assert schedule_of(shop, order["id"])["status"] == "awaiting_customer"
    panel = panel_of(done)
    assert "Awaiting customer" in panel and "Collect payment" in panel and "Change due date" not in panel


def test_sending_an_invoice_queues_the_mail_to_the_customer(client, shop):
    order = preorder(shop, email="lea@example.com")
    schedule = schedule_of(shop, order["id"])
    logged_in(client, shop)

    done = post(client, order_page(client, order["id"]), schedule_path(order, schedule, "send_invoice"))

    assert flash_of(done) == "The invoice is on its way to the customer."
    [invoice] = emails(shop, "invoice")
    assert invoice["to"] == "lea@example.com"
    assert schedule_of(shop, order["id"])["status"] == "pending"


def test_a_form_without_the_csrf_token_charges_nothing(client, shop):
    order = preorder(shop)
    schedule = schedule_of(shop, order["id"])
    logged_in(client, shop)

    response = client.post(schedule_path(order, schedule, "charge"), data={"csrf_token": "forged"})

    assert response.status_code == 403
    assert schedule_of(shop, order["id"])["status"] == "pending"
    assert len(sales(shop.order(order["id"]))) == 1


def test_another_stores_schedule_is_not_found(client, shop, make_store):
    order = preorder(shop)
    schedule = schedule_of(shop, order["id"])
    other = make_store("Rival Shop")
    logged_in(client, other)

    response = post(client, client.get("/admin/orders"), schedule_path(order, schedule, "charge"))

    assert response.status_code == 404
    assert schedule_of(shop, order["id"])["status"] == "pending"


# -- the due date ---------------------------------------------------------------------------------


def test_the_due_date_is_changed_in_the_stores_time_zone(client, shop):
    assert shop.patch("/store", {"timezone": "Europe/Paris"}).status_code == 200
    order = preorder(shop)
    schedule = schedule_of(shop, order["id"])
    logged_in(client, shop)

    done = post(
        client,
        order_page(client, order["id"]),
        schedule_path(order, schedule, "due_date"),
        due_date="2026-11-30",
        due_time="15:30",
    )

    assert flash_of(done) == "The due date was changed."
    assert schedule_of(shop, order["id"])["due_at"] == "2026-11-30T14:30:00Z"
    assert "Nov 30, 2026, 3:30\u202fPM" in panel_of(done)


def test_a_due_date_in_the_past_is_refused_and_changes_nothing(client, shop):
    order = preorder(shop)
    schedule = schedule_of(shop, order["id"])
    events = len(shop.order(order["id"])["events"])
    logged_in(client, shop)

    refused = post(
        client,
        order_page(client, order["id"]),
        schedule_path(order, schedule, "due_date"),
        due_date="2026-11-21",
        due_time="09:00",
    )

    assert flash_of(refused) == "The new due date must be in the future."
    after = shop.order(order["id"])
    assert after["payment_schedules"][0]["due_at"] == "2026-11-23T09:00:00Z"
    assert len(after["events"]) == events


def test_a_due_date_that_is_not_a_date_is_refused(client, shop):
    order = preorder(shop)
    schedule = schedule_of(shop, order["id"])
    logged_in(client, shop)

    refused = post(
        client,
        order_page(client, order["id"]),
        schedule_path(order, schedule, "due_date"),
        due_date="23/11/2026",
        due_time="09:00",
    )

    assert flash_of(refused) == "Enter the new due date and time."
    assert schedule_of(shop, order["id"])["due_at"] == "2026-11-23T09:00:00Z"


def test_the_due_date_of_a_paid_balance_cannot_be_changed(client, shop):
    order = preorder(shop)
    schedule = schedule_of(shop, order["id"])
    logged_in(client, shop)
    page = order_page(client, order["id"])
    post(client, page, schedule_path(order, schedule, "charge"))

    refused = post(
        client, page, schedule_path(order, schedule, "due_date"), due_date="2026-12-01", due_time="09:00"
    )

    assert flash_of(refused) == "The due date of this payment can no longer be changed."
    assert schedule_of(shop, order["id"])["due_at"] == "2026-11-23T09:00:00Z"


# -- the manual refund notice ---------------------------------------------------------------------


def cancelled_without_card(shop) -> dict:
    """The customer's card was removed, then the pre-order cancelled: the deposit must be refunded by hand."""
    order = preorder(shop)
    card = shop.get(f"/customers/{order['customer_id']}").json()["payment_methods"][0]
    assert shop.delete(f"/customers/{order['customer_id']}/payment_methods/{card['id']}").status_code == 200
    assert shop.post(f"/orders/{order['id']}/cancel", {"reason": "customer"}).status_code == 200
    return shop.order(order["id"])


def test_a_manual_refund_notice_is_a_banner_that_staff_mark_as_sent(client, shop):
    order = cancelled_without_card(shop)
    [notice] = order["notices"]
    logged_in(client, shop)
    page = order_page(client, order["id"])
    banner = re.search(r'<div class="notice" role="alert">(.*?)</form>', page.text, re.S).group(1)
    assert "A manual refund is required — €20.00" in banner and "Mark refund as sent" in banner

    done = post(client, page, f"/admin/orders/{order['id']}/notices/{notice['id']}/resolve")
    again = post(client, page, f"/admin/orders/{order['id']}/notices/{notice['id']}/resolve")

    assert flash_of(done) == "The refund you sent was recorded."
    assert 'class="notice"' not in done.text
    assert flash_of(again) == "This notice was already resolved."
    after = shop.order(order["id"])
    assert after["notices"][0]["resolved_at"]
    assert after["financial_status"] == "refunded" and after["total_refunded"] == "20.00"


# -- the customer page ------------------------------------------------------------------------------


def customer_page(client, customer_id: int):
    page = client.get(f"/admin/customers/{customer_id}")
    assert page.status_code == 200, page.text
    return page


def card_path(customer_id: int, card_id: int, action: str) -> str:
    return f"/admin/customers/{customer_id}/payment_methods/{card_id}/{action}"


def test_the_order_page_links_to_the_customer_who_sees_orders_and_cards(client, shop):
    order = preorder(shop, email="lea@example.com")
    logged_in(client, shop)

    assert f'href="/admin/customers/{order["customer_id"]}"' in order_page(client, order["id"]).text
    page = customer_page(client, order["customer_id"])

    assert "lea@example.com" in page.text and lists(page, order["id"])
    cards = re.search(r'id="payment-methods">(.*?)</section>', page.text, re.S).group(1)
    assert "test •••• 4242" in cards and '<span class="badge badge-active">Active</span>' in cards
    assert "Revoke card" in cards and "Replace card" in cards and "Send update-card email" in cards


def test_the_customers_list_finds_a_customer_by_email(client, shop):
    lea = shop.post("/customers", {"email": "lea@example.com", "last_name": "Durand"}).json()
    tom = shop.post("/customers", {"email": "tom@example.com"}).json()
    logged_in(client, shop)

    everyone = client.get("/admin/customers")
    found = client.get("/admin/customers", params={"q": "durand"})

    assert 'href="/admin/customers"' in everyone.text  # in the navigation
    assert f'href="/admin/customers/{lea["id"]}"' in everyone.text
    assert f'href="/admin/customers/{tom["id"]}"' in everyone.text
    assert f'href="/admin/customers/{lea["id"]}"' in found.text
    assert f'href="/admin/customers/{tom["id"]}"' not in found.text


def test_revoking_a_card_keeps_it_revoked_and_a_second_revoke_is_refused(client, shop):
    order = preorder(shop)
    customer_id = order["customer_id"]
    [card] = shop.get(f"/customers/{customer_id}").json()["payment_methods"]
    logged_in(client, shop)
    page = customer_page(client, customer_id)

    done = post(client, page, card_path(customer_id, card["id"], "revoke"))
    again = post(client, page, card_path(customer_id, card["id"], "revoke"))

    assert flash_of(done) == "The card was revoked: it will not be charged again."
    assert flash_of(again) == "This card was already revoked or replaced."
    [after] = shop.get(f"/customers/{customer_id}").json()["payment_methods"]
    assert after["status"] == "revoked" and after["revoked_at"]
    assert '<span class="badge badge-revoked">Revoked</span>' in again.text
    assert "Revoked on Nov 22, 2026" in again.text
    assert schedule_of(shop, order["id"])["status"] == "failed"  # nothing left to charge


def test_replacing_a_card_puts_the_new_one_on_file(client, shop):
    order = preorder(shop)
    customer_id = order["customer_id"]
    [card] = shop.get(f"/customers/{customer_id}").json()["payment_methods"]
    logged_in(client, shop)

    done = post(
        client,
        customer_page(client, customer_id),
        card_path(customer_id, card["id"], "replace"),
        card_token="tok_requires_action",
    )

    assert flash_of(done) == "The card was replaced."
    old, new = shop.get(f"/customers/{customer_id}").json()["payment_methods"]
    assert old["status"] == "replaced" and old["replaced_by_id"] == new["id"]
    assert new["status"] == "active" and new["last4"] == "3155"
    assert "Replaced on Nov 22, 2026, 9:00\u202fAM by test •••• 3155" in done.text
    assert schedule_of(shop, order["id"])["payment_method_id"] == new["id"]


def test_an_unknown_card_token_is_refused_and_changes_nothing(client, shop):
    order = preorder(shop)
    customer_id = order["customer_id"]
    [card] = shop.get(f"/customers/{customer_id}").json()["payment_methods"]
    logged_in(client, shop)
    page = customer_page(client, customer_id)

    unknown = post(client, page, card_path(customer_id, card["id"], "replace"), card_token="tok_nonsense")
    empty = post(client, page, f"/admin/customers/{customer_id}/payment_methods", card_token="  ")

    assert flash_of(unknown) == "This card was not accepted: check the card token."
    assert flash_of(empty) == "Enter a card token."
    assert shop.get(f"/customers/{customer_id}").json()["payment_methods"] == [card]


def test_a_card_is_added_to_a_customer(client, shop):
    customer = shop.post("/customers", {"email": "tom@example.com"}).json()
    logged_in(client, shop)

    done = post(
        client,
        customer_page(client, customer["id"]),
        f"/admin/customers/{customer['id']}/payment_methods",
        card_token="tok_success",
    )

    assert flash_of(done) == "The card was added."
    [card] = shop.get(f"/customers/{customer['id']}").json()["payment_methods"]
    assert card["status"] == "active" and card["last4"] == "4242"


def test_staff_send_the_update_card_email_but_not_for_a_replaced_card(client, shop):
    order = preorder(shop, email="lea@example.com")
    customer_id = order["customer_id"]
    [card] = shop.get(f"/customers/{customer_id}").json()["payment_methods"]
    logged_in(client, shop)
    page = customer_page(client, customer_id)

    sent = post(client, page, card_path(customer_id, card["id"], "send_update_email"))
    post(client, page, card_path(customer_id, card["id"], "replace"), card_token="tok_success")
    refused = post(client, page, card_path(customer_id, card["id"], "send_update_email"))

    assert flash_of(sent) == "An email with a link to update the card is on its way to the customer."
    assert flash_of(refused) == "This card was already replaced: send the link for the card that replaced it."
    [mail] = emails(shop, "payment_method_update")
    assert mail["to"] == "lea@example.com"


def test_another_stores_customer_is_not_found(client, shop, make_store):
    order = preorder(shop)
    [card] = shop.get(f"/customers/{order['customer_id']}").json()["payment_methods"]
    other = make_store("Rival Shop")
    logged_in(client, other)

    page = client.get(f"/admin/customers/{order['customer_id']}")
    revoke = post(
        client, client.get("/admin/customers"), card_path(order["customer_id"], card["id"], "revoke")
    )

    assert page.status_code == 404 and revoke.status_code == 404
    assert shop.get(f"/customers/{order['customer_id']}").json()["payment_methods"][0]["status"] == "active"


# -- the orders list ------------------------------------------------------------------------------


def test_a_partially_paid_preorder_is_in_the_unpaid_and_unfulfilled_tabs(client, shop):
    order = preorder(shop)
    paid = shop.place_order(shop.product(sku="PAID")["id"])
    logged_in(client, shop)

    unpaid = client.get("/admin/orders?tab=unpaid")
    unfulfilled = client.get("/admin/orders?tab=unfulfilled")

    assert order["financial_status"] == "partially_paid"
    assert lists(unpaid, order["id"]) and not lists(unpaid, paid["id"])
    assert lists(unfulfilled, order["id"])
    assert "Partially paid" in unpaid.text


# -- French ---------------------------------------------------------------------------------------


def test_a_french_store_sees_the_panel_and_the_customer_page_in_french(client, make_store):
    boutique = make_store("Boutique", locale="fr")
    order = preorder(boutique)
    logged_in(client, boutique)

    panel = panel_of(order_page(client, order["id"]))
    customer = customer_page(client, order["customer_id"])

    assert "Échéancier de paiement" in panel and "En attente" in panel and "80,00\u00a0€" in panel
    assert "Encaisser le paiement" in panel and "Débiter la carte enregistrée" in panel
    assert "Envoyer une facture" in panel and "Modifier l’échéance" in panel
    assert "Moyens de paiement" in customer.text and "Révoquer la carte" in customer.text
    assert ">Clients<" in customer.text


def test_every_schedule_and_card_status_has_a_label():
    from tandem.customers.domain import PaymentMethodStatus
    from tandem.i18n.labels import PAYMENT_METHOD_STATUS, SCHEDULE_STATUS
    from tandem.preorders.domain import ScheduleStatus

    assert set(SCHEDULE_STATUS) == {status.value for status in ScheduleStatus}
    assert set(PAYMENT_METHOD_STATUS) == {status.value for status in PaymentMethodStatus}


def test_every_supplier_refund_and_return_value_has_a_label():
    from tandem.i18n.labels import LABEL_PROVIDER, RETURN_REASON, RETURN_STATUS, SUPPLIER_REFUND_STATUS
    from tandem.suppliers import domain

    assert set(RETURN_REASON) == {reason.value for reason in domain.ReturnReason}
    assert set(RETURN_STATUS) == {status.value for status in domain.ReturnStatus}
    assert set(LABEL_PROVIDER) == {provider.value for provider in domain.LabelProvider}
    assert set(SUPPLIER_REFUND_STATUS) == {status.value for status in domain.SupplierRefundStatus}
