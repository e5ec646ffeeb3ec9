"""The outbox in the admin UI: reading kept mails, attempts, resending."""

from tests.e2e.test_admin_pages import csrf_of, flash_of, logged_in


def test_without_smtp_a_developer_reads_the_mails_in_the_outbox(client, shop, worker, runtime):
    runtime.mailer = None
    order = shop.place_order(shop.product()["id"], email="lea@example.com")
    worker.run_until_idle()
    logged_in(client, shop)
    page = client.get("/admin/outbox")
    assert page.status_code == 200
    assert "lea@example.com" in page.text and "Kept (no mail server)" in page.text
    [email] = shop.get("/emails").json()["emails"]
    detail = client.get(f"/admin/outbox/emails/{email['id']}")
    assert order["name"] in detail.text
    assert email["message_id"].replace("<", "&lt;").replace(">", "&gt;") in detail.text
    html = client.get(f"/admin/outbox/emails/{email['id']}/html")
    assert html.headers["content-security-policy"].endswith("sandbox")
    assert "<html" in html.text.lower()


def test_a_pending_mail_can_be_read_before_the_worker_renders_it(client, shop):
    shop.place_order(shop.product()["id"])
    logged_in(client, shop)
    [email] = shop.get("/emails").json()["emails"]
    assert email["subject"] is None
    detail = client.get(f"/admin/outbox/emails/{email['id']}")
    assert detail.status_code == 200 and "Waiting to be sent" in detail.text


def test_a_kept_mail_is_resent_from_its_page(client, shop, worker, runtime, smtp):
    mailer, runtime.mailer = runtime.mailer, None
    shop.place_order(shop.product()["id"])
    worker.run_until_idle()
    runtime.mailer = mailer
    logged_in(client, shop)
    [email] = shop.get("/emails").json()["emails"]
    page = client.get(f"/admin/outbox/emails/{email['id']}")
    done = client.post(f"/admin/outbox/emails/{email['id']}/resend", data={"csrf_token": csrf_of(page)})
    assert "sent again" in flash_of(done)
    worker.run_until_idle()
    assert [m["Message-ID"] for m in smtp.wait_for(1)] == [email["message_id"]]


def test_resending_without_the_csrf_token_is_refused(client, shop, worker, runtime):
    runtime.mailer = None
    shop.place_order(shop.product()["id"])
    worker.run_until_idle()
    logged_in(client, shop)
    [email] = shop.get("/emails").json()["emails"]
    response = client.post(f"/admin/outbox/emails/{email['id']}/resend", data={"csrf_token": "forged"})
    assert response.status_code == 403
    assert shop.get("/emails").json()["emails"][0]["status"] == "kept"


def test_another_stores_mail_is_not_found(client, shop, make_store, runtime):
    other = make_store("Rival Shop")
    other.place_order(other.product()["id"])
    [theirs] = other.get("/emails").json()["emails"]
    logged_in(client, shop)
    assert client.get(f"/admin/outbox/emails/{theirs['id']}").status_code == 404
    assert client.get(f"/admin/outbox/emails/{theirs['id']}/html").status_code == 404


def test_webhook_deliveries_are_listed_and_a_failed_one_resent(
    client, shop, worker, receiver, clock, allow_private_webhooks
):
    receiver.answers = [500] * 11
    shop.post("/webhooks", {"topic": "orders/create", "address": receiver.url()})
    shop.place_order(shop.product()["id"])
    for _ in range(12):
        worker.run_until_idle()
        clock.advance(hours=25)
    logged_in(client, shop)
    page = client.get("/admin/outbox", params={"kind": "webhooks", "status": "failed"})
    assert "orders/create" in page.text and "HTTP 500" in page.text
    [delivery] = shop.get("/webhook_deliveries").json()["deliveries"]
    client.post(f"/admin/outbox/webhooks/{delivery['id']}/resend", data={"csrf_token": csrf_of(page)})
    worker.run_until_idle()
    assert shop.get("/webhook_deliveries").json()["deliveries"][0]["status"] == "delivered"


def test_the_outbox_is_in_french_for_a_french_store(client, make_store):
    shop = make_store("Maison Camille", locale="fr")
    logged_in(client, shop)
    assert "Boîte d’envoi" in client.get("/admin/outbox").text
