"""An outbox message that cannot be rendered, built or sent never hides: each attempt counts,
the error is kept, the documented backoff is followed to `failed`, and the admin Outbox and
/metrics show it."""

from datetime import timedelta

from sqlalchemy import select, update

from tandem.notifications import service
from tandem.notifications.domain import EMAIL_RETRY_DELAYS, WEBHOOK_RETRY_DELAYS
from tandem.notifications.models import DeliveryAttempt, Email, WebhookSubscription
from tandem.stores.models import Store
from tandem.worker.models import Job
from tests.e2e.test_admin_pages import logged_in


def _queue_unrenderable_email(runtime, store_id: int) -> int:
    """An order confirmation whose context lacks its order: the template cannot be rendered."""
    with runtime.uow() as uow:
        store = uow.session.get(Store, store_id)
        service.queue_email(
            uow.session,
            store=store,
            template="order_confirmation",
            to_address="lea@example.com",
            to_name="Léa",
            locale="fr",
            context={},
            base_url=runtime.settings.base_url,
            now=runtime.clock.now(),
        )
        uow.commit()
    [email] = _emails(runtime)
    return email.id


def _emails(runtime) -> list[Email]:
    with runtime.uow(read_only=True) as uow:
        return list(uow.session.scalars(select(Email).order_by(Email.id)))


def _email(runtime, email_id: int) -> Email:
    with runtime.uow(read_only=True) as uow:
        return uow.session.get(Email, email_id)


def _attempts(runtime, email_id: int) -> list[DeliveryAttempt]:
    with runtime.uow(read_only=True) as uow:
        return service.attempts_of(uow, email_id=email_id)


def _metric(client, line_start: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{line_start} not in /metrics")


def test_an_email_that_cannot_be_rendered_follows_the_backoff_to_failed(
    client, shop, worker, runtime, clock, smtp
):
    email_id = _queue_unrenderable_email(runtime, shop.store_id)
    worker.run_until_idle()
    first = _email(runtime, email_id)
    assert (first.status, first.attempts) == ("pending", 1)
    assert first.last_error.startswith("cannot render: UndefinedError")
    clock.advance(seconds=EMAIL_RETRY_DELAYS[0].total_seconds() - 1)
    worker.run_until_idle()
    assert _email(runtime, email_id).attempts == 1  # not before its first retry is due
    clock.advance(seconds=1)
    for delay in (*EMAIL_RETRY_DELAYS[1:], timedelta(0)):
        worker.run_until_idle()
        clock.advance(seconds=delay.total_seconds())
    failed = _email(runtime, email_id)
    assert (failed.status, failed.attempts) == ("failed", len(EMAIL_RETRY_DELAYS) + 1)
    assert "cannot render" in failed.last_error
    attempts = _attempts(runtime, email_id)
    assert len(attempts) == 7 and not any(a.succeeded for a in attempts)
    waits = [
        later.attempted_at - earlier.attempted_at
        for earlier, later in zip(attempts, attempts[1:], strict=False)
    ]
    assert waits == list(EMAIL_RETRY_DELAYS)
    assert smtp.messages == []
    with runtime.uow(read_only=True) as uow:  # nothing left waiting or running
        assert set(uow.session.scalars(select(Job.status))) == {"done"}


def test_a_failed_email_is_shown_in_the_admin_outbox_and_in_metrics(client, shop, worker, runtime, clock):
    runtime.mailer = None
    email_id = _queue_unrenderable_email(runtime, shop.store_id)
    assert _metric(client, 'tandem_outbox_failed{kind="email"}') == 0
    for _ in range(len(EMAIL_RETRY_DELAYS) + 1):
        worker.run_until_idle()
        clock.advance(hours=4)
    assert _email(runtime, email_id).status == "failed"
    logged_in(client, shop)
    page = client.get("/admin/outbox")
    assert "Failed emails: 1" in page.text
    assert "cannot render: UndefinedError" in page.text
    failed_only = client.get("/admin/outbox", params={"status": "failed"})
    assert "lea@example.com" in failed_only.text
    detail = client.get(f"/admin/outbox/emails/{email_id}")
    assert detail.status_code == 200 and "cannot render: UndefinedError" in detail.text
    assert "This email cannot be rendered" in detail.text
    assert client.get(f"/admin/outbox/emails/{email_id}/html").status_code == 200
    assert _metric(client, 'tandem_outbox_failed{kind="email"}') == 1
    assert _metric(client, 'tandem_outbox_failed{kind="webhook"}') == 0
    assert shop.get("/emails", params={"status": "failed"}).json()["emails"][0]["attempts"] == 7


def test_the_admin_outbox_names_failures_in_french(client, make_store, worker, runtime, clock):
    runtime.mailer = None
    shop = make_store("Maison Camille", locale="fr")
    _queue_unrenderable_email(runtime, shop.store_id)
    for _ in range(len(EMAIL_RETRY_DELAYS) + 1):
        worker.run_until_idle()
        clock.advance(hours=4)
    logged_in(client, shop)
    page = client.get("/admin/outbox", headers={"Accept-Language": "fr"})
    assert "E-mails en échec : 1" in page.text


def test_a_sender_name_that_makes_an_invalid_header_fails_visibly(client, shop, worker, runtime, clock, smtp):
    shop.place_order(shop.product()["id"], email="lea@example.com")
    with runtime.uow() as uow:
        uow.session.execute(update(Email).values(from_name="Maison\r\nBcc: everyone@example.com"))
        uow.commit()
    worker.run_until_idle()
    [email] = shop.get("/emails").json()["emails"]
    assert (email["status"], email["attempts"]) == ("pending", 1)
    assert "cannot build the message" in email["last_error"] and "linefeed" in email["last_error"]
    for _ in range(len(EMAIL_RETRY_DELAYS) + 1):
        clock.advance(hours=4)
        worker.run_until_idle()
    [email] = shop.get("/emails").json()["emails"]
    assert (email["status"], email["attempts"]) == ("failed", 7)
    assert smtp.messages == []
    assert _metric(client, 'tandem_outbox_failed{kind="email"}') == 1


def test_a_webhook_that_cannot_be_built_follows_its_backoff_to_failed(
    client, shop, worker, runtime, clock, receiver, allow_private_webhooks
):
    shop.post("/webhooks", {"topic": "orders/create", "address": receiver.url()})
    with runtime.uow() as uow:  # as if TANDEM_SECRET_KEY had changed since
        uow.session.execute(update(WebhookSubscription).values(secret_encrypted="unreadable"))
        uow.commit()
    runtime.mailer = None
    shop.place_order(shop.product()["id"])
    worker.run_until_idle()
    [delivery] = shop.get("/webhook_deliveries").json()["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("pending", 1)
    assert "cannot build the request" in delivery["last_error"]
    for delay in WEBHOOK_RETRY_DELAYS:
        clock.advance(seconds=delay.total_seconds())
        worker.run_until_idle()
    [delivery] = shop.get("/webhook_deliveries").json()["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("failed", len(WEBHOOK_RETRY_DELAYS) + 1)
    assert receiver.requests == []
    assert _metric(client, 'tandem_outbox_failed{kind="webhook"}') == 1
    logged_in(client, shop)
    assert "Failed webhooks: 1" in client.get("/admin/outbox", params={"kind": "webhooks"}).text


def test_an_email_whose_job_kept_interrupting_its_workers_fails_with_the_reason(shop, worker, runtime):
    runtime.mailer = None
    shop.place_order(shop.product()["id"])
    with runtime.uow() as uow:  # three workers died holding it
        uow.session.execute(
            update(Job).where(Job.kind == service.SEND_EMAIL).values(attempts=Job.max_attempts)
        )
        uow.commit()
    worker.run_until_idle()
    [email] = shop.get("/emails").json()["emails"]
    assert email["status"] == "failed" and email["attempts"] == 1
    assert "kept interrupting its workers" in email["last_error"]


def test_metrics_count_jobs_due_running_and_failed_and_the_oldest_wait(client, shop, runtime, clock):
    runtime.mailer = None
    shop.place_order(shop.product()["id"])
    clock.advance(seconds=42)
    assert _metric(client, "tandem_jobs_due") >= 1
    assert _metric(client, "tandem_jobs_oldest_due_age_seconds") == 42
    assert _metric(client, "tandem_jobs_running") == 0
    assert _metric(client, "tandem_jobs_failed") == 0
