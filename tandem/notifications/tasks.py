"""Worker jobs: send an email, deliver a webhook. One attempt per job; a failed attempt
schedules the next one with backoff, in the transaction that records it.

No transaction is open while the SMTP server or the webhook receiver is talking:
the job reads, lets go of the database, sends, then records the outcome.
"""

import logging
import time
from datetime import datetime

from sqlalchemy import select

from tandem.db import UnitOfWork
from tandem.notifications import domain
from tandem.notifications.domain import DeliveryStatus, EmailStatus
from tandem.notifications.models import DeliveryAttempt, Email, WebhookDelivery, WebhookSubscription
from tandem.notifications.rendering import RenderedEmail
from tandem.notifications.service import DELIVER_WEBHOOK, SEND_EMAIL, _schedule
from tandem.notifications.smtp import SmtpError, build_message
from tandem.notifications.webhooks import DeliveryResult, SecretBox, post
from tandem.worker.service import BatchHandler

log = logging.getLogger(__name__)


def send_email(uow: UnitOfWork, payload: dict, now: datetime) -> None:
    send_emails(uow, [payload], now)


def send_emails(uow: UnitOfWork, payloads: list[dict], now: datetime) -> None:
    """Jobs: render and send (or keep) emails; their outcomes commit with the jobs' done marks
    (the worker commits). No transaction is open while the SMTP server talks: a worker that
    dies meanwhile sends again (at least once). An email that cannot be rendered, built or
    sent records the error as an attempt and is retried on its backoff, then fails."""
    ids = [payload["email_id"] for payload in payloads]
    emails = list(
        uow.session.scalars(
            select(Email)
            .where(Email.id.in_(ids), Email.status == EmailStatus.PENDING.value)
            .order_by(Email.id)
        )
    )
    rendered, broken = _render(uow, emails)
    outcomes = _deliver(uow, [e for e in emails if e.id in rendered], rendered, broken)
    for email_id, error in broken.items():
        _record_email(uow, email_id, now, error=error, rendered=rendered.get(email_id))
    for email_id, (error, started) in outcomes.items():
        _record_email(uow, email_id, now, error=error, started=started, rendered=rendered[email_id])


def _render(uow: UnitOfWork, emails: list[Email]) -> tuple[dict[int, RenderedEmail], dict[int, str]]:
    """{id: rendering} for the emails that render, {id: error} for those that do not."""
    rendered, broken = {}, {}
    for email in emails:
        try:
            rendered[email.id] = uow.ports.renderer.render(email.template, email.locale, email.context)
        except Exception as exc:  # noqa: BLE001 - any template error is this email's, not the batch's
            log.warning("email %s cannot be rendered: %s", email.id, exc)
            broken[email.id] = _described("cannot render", exc)
    return rendered, broken


def _deliver(
    uow: UnitOfWork, emails: list[Email], rendered: dict, broken: dict[int, str]
) -> dict[int, tuple[str | None, float]]:
    """Send (or keep, without a mail server) each email: {id: (error, started)}; kept ones are
    settled here, and those that cannot be made into a message join `broken`."""
    mailer = uow.ports.mailer
    if mailer is None:
        for email in emails:
            _keep_rendering(email, rendered[email.id])
            domain.move(email, EmailStatus.KEPT, domain.EMAIL_TRANSITIONS)
        return {}
    outgoing = []
    for email in emails:
        _keep_rendering(email, rendered[email.id])
        try:
            outgoing.append((email.id, build_message(email)))
        except Exception as exc:  # noqa: BLE001 - e.g. a sender name that makes an invalid header
            log.warning("email %s cannot be built: %s", email.id, exc)
            broken[email.id] = _described("cannot build the message", exc)
    uow.rollback()  # let go of the database while the SMTP server talks
    return {email_id: _send(mailer, message) for email_id, message in outgoing}


def _send(mailer, message) -> tuple[str | None, float]:
    started = time.monotonic()
    try:
        mailer.send(message)
    except SmtpError as exc:
        return str(exc), started
    except Exception as exc:  # noqa: BLE001 - whatever the client refuses is a failed attempt
        return _described("cannot send", exc), started
    return None, started


def _described(what: str, exc: Exception) -> str:
    return f"{what}: {type(exc).__name__}: {exc}"[:2000]


def _keep_rendering(email: Email, rendered: RenderedEmail) -> None:
    email.subject, email.text_body, email.html_body = rendered.subject[:500], rendered.text, rendered.html


def _record_email(
    uow: UnitOfWork,
    email_id: int,
    now: datetime,
    *,
    error: str | None,
    started: float | None = None,
    rendered: RenderedEmail | None = None,
) -> None:
    """Record one attempt in the caller's transaction; a failed one is retried on the email
    backoff (EMAIL_RETRY_DELAYS) until the email fails."""
    email = uow.session.get(Email, email_id, with_for_update=True, populate_existing=True)
    if rendered:
        _keep_rendering(email, rendered)
    _count_attempt(uow, email, now, error=error, started=started)
    if error is None:
        email.sent_at = now
        domain.move(email, EmailStatus.SENT, domain.EMAIL_TRANSITIONS)
        return
    delay = domain.retry_delay(domain.EMAIL_RETRY_DELAYS, email.attempts)
    if delay is None:
        domain.move(email, EmailStatus.FAILED, domain.EMAIL_TRANSITIONS)
    else:
        _schedule(uow.session, SEND_EMAIL, {"email_id": email.id}, email.store_id, now + delay)


def _count_attempt(
    uow: UnitOfWork, email: Email, now: datetime, *, error: str | None, started: float | None = None
) -> None:
    email.attempts += 1
    email.last_error = error
    uow.session.add(
        DeliveryAttempt(
            email_id=email.id,
            succeeded=error is None,
            error=error,
            duration_ms=_elapsed(started),
            attempted_at=now,
        )
    )


def email_job_failed(uow: UnitOfWork, payload: dict, error: str, now: datetime, gave_up: bool) -> None:
    """A sending job failed outside send_emails' own bookkeeping (the worker retries the job):
    the email shows the attempt and the error, and fails with the job."""
    email = uow.session.get(Email, payload["email_id"], with_for_update=True, populate_existing=True)
    if email is None or email.status != EmailStatus.PENDING:
        return
    _count_attempt(uow, email, now, error=error)
    if gave_up:
        domain.move(email, EmailStatus.FAILED, domain.EMAIL_TRANSITIONS)


def deliver_webhook(uow: UnitOfWork, payload: dict, now: datetime) -> None:
    session = uow.session
    delivery = session.get(WebhookDelivery, payload["delivery_id"])
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return
    subscription = session.get(WebhookSubscription, delivery.subscription_id)
    if subscription.deleted_at is not None:
        domain.move(delivery, DeliveryStatus.CANCELLED, domain.DELIVERY_TRANSITIONS)
        uow.commit()
        return
    delivery_id = delivery.id
    try:
        request = _webhook_request(uow.settings, subscription, delivery)
    except Exception as exc:  # noqa: BLE001 - e.g. a secret that cannot be read: a failed attempt
        log.warning("webhook delivery %s cannot be built: %s", delivery_id, exc)
        result = DeliveryResult(False, None, _described("cannot build the request", exc)[:1000], 0)
    else:
        uow.rollback()  # let go of the database while the receiver answers
        result = post(**request)
    _record_delivery(uow, delivery_id, now, result)


def _webhook_request(settings, subscription: WebhookSubscription, delivery: WebhookDelivery) -> dict:
    return dict(
        address=subscription.address,
        topic=delivery.topic,
        webhook_id=delivery.webhook_id,
        store_id=delivery.store_id,
        body=delivery.body,
        secret=SecretBox(settings.secret()).open(subscription.secret_encrypted),
        allow_private=settings.webhook_allow_private_addresses,
    )


def _record_delivery(uow: UnitOfWork, delivery_id: int, now: datetime, result: DeliveryResult) -> None:
    delivery = uow.session.get(WebhookDelivery, delivery_id, with_for_update=True, populate_existing=True)
    _count_delivery_attempt(uow, delivery, now, result)
    if result.succeeded:
        delivery.delivered_at = now
        domain.move(delivery, DeliveryStatus.DELIVERED, domain.DELIVERY_TRANSITIONS)
    else:
        delay = domain.retry_delay(domain.WEBHOOK_RETRY_DELAYS, delivery.attempts)
        if delay is None:
            domain.move(delivery, DeliveryStatus.FAILED, domain.DELIVERY_TRANSITIONS)
        else:
            _schedule(
                uow.session, DELIVER_WEBHOOK, {"delivery_id": delivery.id}, delivery.store_id, now + delay
            )
    uow.commit()


def _count_delivery_attempt(
    uow: UnitOfWork, delivery: WebhookDelivery, now: datetime, result: DeliveryResult
) -> None:
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_error = result.status_code, result.error
    uow.session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            succeeded=result.succeeded,
            status_code=result.status_code,
            error=result.error,
            duration_ms=result.duration_ms,
            attempted_at=now,
        )
    )


def webhook_job_failed(uow: UnitOfWork, payload: dict, error: str, now: datetime, gave_up: bool) -> None:
    """A delivery job failed outside deliver_webhook's own bookkeeping: shown on the delivery."""
    delivery = uow.session.get(
        WebhookDelivery, payload["delivery_id"], with_for_update=True, populate_existing=True
    )
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return
    _count_delivery_attempt(uow, delivery, now, DeliveryResult(False, None, error[:1000], 0))
    if gave_up:
        domain.move(delivery, DeliveryStatus.FAILED, domain.DELIVERY_TRANSITIONS)


def _elapsed(started: float | None) -> int:
    return 0 if started is None else int((time.monotonic() - started) * 1000)


HANDLERS = {SEND_EMAIL: send_email, DELIVER_WEBHOOK: deliver_webhook}
# When a job fails anyway (an unexpected error, a worker that kept dying), its message says so.
FAILURE_HANDLERS = {SEND_EMAIL: email_job_failed, DELIVER_WEBHOOK: webhook_job_failed}
# Kept emails (no mail server) commit by the batch; through a mail server each message commits
# as soon as it is accepted, so a worker that dies resends at most the one in flight.
BATCH_HANDLERS = {SEND_EMAIL: BatchHandler(send_emails, applies=lambda ports: ports.mailer is None)}
