"""Customer and staff emails through a real SMTP server (aiosmtpd)."""

from tests.support.mail import parts


def _sent(worker, smtp, count: int):
    worker.run_until_idle()
    return smtp.wait_for(count)


def test_an_order_confirmation_comes_from_the_store_in_english(make_store, worker, smtp):
    shop = make_store("Maison Camille", locale="en")
    order = shop.place_order(shop.product(price="49.90")["id"], email="lea@example.com")
    [message] = _sent(worker, smtp, 1)
    assert message["From"] == f"Maison Camille <{shop.staff_email}>"
    assert message["To"] == "lea@example.com"
    assert order["name"] in message["Subject"]
    body = parts(message)
    assert "€49.90" in body["plain"] and "€49.90" in body["html"]
    assert "<html" in body["html"].lower() and "<" not in body["plain"].split("http")[0]
    assert message["Message-ID"] == shop.get("/emails").json()["emails"][0]["message_id"]


def test_an_order_confirmation_is_in_french_for_a_french_store(make_store, worker, smtp):
    shop = make_store("Maison Camille", locale="fr")
    shop.place_order(shop.product(price="49.90")["id"])
    [message] = _sent(worker, smtp, 1)
    body = parts(message)
    assert "49,90\u00a0€" in body["plain"] or "49,90 €" in body["plain"]
    assert "commande" in message["Subject"].lower()


def test_a_customer_locale_wins_over_the_store_locale(make_store, worker, smtp):
    shop = make_store("Maison Camille", locale="fr")
    customer = shop.post("/customers", {"email": "john@example.com", "locale": "en"}).json()
    variant = shop.product()
    from tests.support.api import ADDRESS

    checkout = shop.post(
        "/checkouts",
        {
            "customer_id": customer["id"],
            "shipping_address": ADDRESS,
            "card_token": "tok_success",
            "line_items": [{"variant_id": variant["id"], "quantity": 1}],
        },
    ).json()
    shop.post(f"/checkouts/{checkout['id']}/complete")
    [message] = _sent(worker, smtp, 1)
    assert "order" in message["Subject"].lower()
    assert shop.get("/emails").json()["emails"][0]["locale"] == "en"


def test_the_shipping_confirmation_carries_the_tracking_number_and_link(shop, worker, smtp):
    order = shop.place_order(shop.product()["id"])
    shop.post(
        f"/orders/{order['id']}/fulfillments",
        {
            "tracking_company": "La Poste",
            "tracking_number": "6A123456789",
            "tracking_url": "https://www.laposte.fr/outils/suivre-vos-envois?code=6A123456789",
        },
    )
    messages = _sent(worker, smtp, 2)
    shipping = [m for m in messages if m["Subject"] != messages[0]["Subject"]][0]
    body = parts(shipping)
    assert "6A123456789" in body["plain"]
    assert "https://www.laposte.fr/outils/suivre-vos-envois?code=6A123456789" in body["html"]
    assert shipping["From"].startswith("Maison Camille")


def test_a_cancellation_is_mailed_only_when_asked(shop, worker, smtp):
    variant = shop.product(quantity=5)
    quiet, told = shop.place_order(variant["id"]), shop.place_order(variant["id"])
    shop.post(f"/orders/{quiet['id']}/cancel", {"notify_customer": False})
    shop.post(f"/orders/{told['id']}/cancel", {"notify_customer": True})
    worker.run_until_idle()
    templates = [e["template"] for e in shop.get("/emails").json()["emails"]]
    assert templates.count("order_cancelled") == 1
    assert templates.count("refund_issued") == 0  # the cancellation email says it


def test_a_refund_is_mailed_once_the_money_went_back(shop, worker, smtp):
    order = shop.place_order(shop.product(price="30.00")["id"])
    shop.post(f"/orders/{order['id']}/refunds", {"amount": "12.00"})
    worker.run_until_idle()
    [refund_mail] = [e for e in shop.get("/emails").json()["emails"] if e["template"] == "refund_issued"]
    assert refund_mail["status"] == "sent"
    message = [m for m in smtp.wait_for(2) if m["Message-ID"] == refund_mail["message_id"]][0]
    assert "€12.00" in parts(message)["plain"]


def test_without_smtp_mails_are_kept_for_people_to_read(shop, worker, runtime):
    runtime.mailer = None
    shop.place_order(shop.product()["id"])
    worker.run_until_idle()
    [email] = shop.get("/emails").json()["emails"]
    assert email["status"] == "kept"
    assert email["subject"]


def test_an_unreachable_smtp_server_is_retried_then_marked_failed(shop, worker, runtime, clock):
    from tandem.notifications.smtp import SmtpMailer
    from tests.support.live import free_port

    runtime.mailer = SmtpMailer("127.0.0.1", free_port(), timeout=2)
    shop.place_order(shop.product()["id"])
    for _ in range(8):
        worker.run_until_idle()
        clock.advance(hours=4)
    [email] = shop.get("/emails", params={"status": "failed"}).json()["emails"]
    assert email["attempts"] == 7
    assert "Connect" in email["last_error"] or "refused" in email["last_error"].lower()


def test_a_failed_email_can_be_resent(shop, worker, runtime, clock, smtp):
    from tandem.notifications.smtp import SmtpMailer
    from tests.support.live import free_port

    working = runtime.mailer
    runtime.mailer = SmtpMailer("127.0.0.1", free_port(), timeout=2)
    shop.place_order(shop.product()["id"])
    for _ in range(8):
        worker.run_until_idle()
        clock.advance(hours=4)
    [email] = shop.get("/emails").json()["emails"]
    runtime.mailer = working
    assert shop.post(f"/emails/{email['id']}/resend").json()["status"] == "pending"
    worker.run_until_idle()
    [message] = smtp.wait_for(1)
    assert message["Message-ID"] == email["message_id"]
    assert shop.get("/emails").json()["emails"][0]["status"] == "sent"


def test_a_manual_refund_notice_is_mailed_to_staff(shop, worker, smtp, runtime):
    from tests.integration.test_payment_recovery import LosesAnswers  # noqa: F401

    order = shop.place_order(shop.product(price="30.00")["id"])

    class RefusesRefunds:
        def __init__(self, inner):
            self.inner, self.name = inner, inner.name

        def __getattr__(self, name):
            return getattr(self.inner, name)

        async def refund(self, **kwargs):
            from tandem.payments.gateway import GatewayResult, GatewayStatus

            return GatewayResult(GatewayStatus.DECLINED, None, "card closed")

    runtime.gateway = RefusesRefunds(runtime.gateway)
    assert shop.post(f"/orders/{order['id']}/refunds", {"amount": "30.00"}).status_code == 402
    assert shop.order(order["id"])["notices"][0]["kind"] == "manual_refund_required"
    worker.run_until_idle()
    staff = smtp.to(shop.staff_email)
    assert len(staff) == 1 and "€30.00" in parts(staff[0])["plain"]
