"""Worker jobs: send an email, deliver a webhook. One attempt per job; a failed attempt
schedules the next one with backoff, in the transaction that records it.

No transaction is open while the SMTP server or the webhook receiver is talking:
the job reads, lets go of the database, sends, then records the outcome.
"""

import logging
import time
from datetime import datetime

from tandem.db import UnitOfWork
from tandem.notifications import domain
from tandem.notifications.domain import DeliveryStatus, EmailStatus
from tandem.notifications.models import DeliveryAttempt, Email, WebhookDelivery, WebhookSubscription
from tandem.notifications.rendering import RenderedEmail
from tandem.notifications.service import DELIVER_WEBHOOK, SEND_EMAIL, _schedule
from tandem.notifications.smtp import SmtpError, build_message
from tandem.notifications.webhooks import DeliveryResult, SecretBox, post

log = logging.getLogger(__name__)


def send_email(uow: UnitOfWork, payload: dict, now: datetime) -> None:
    email = uow.session.get(Email, payload["email_id"])
    if email is None or email.status != EmailStatus.PENDING:
        return
    try:
        rendered = uow.ports.renderer.render(email.template, email.locale, email.context)
    except Exception as exc:  # a template error does not fix itself: fail it visibly
        log.exception("email %s cannot be rendered", email.id)
        _record_email(uow, email.id, now, error=f"cannot render: {exc}", give_up=True)
        return
    _keep_rendering(email, rendered)
    mailer = uow.ports.mailer
    if mailer is None:
        domain.move(email, EmailStatus.KEPT, domain.EMAIL_TRANSITIONS)
        uow.commit()
        return
    email_id, message = email.id, build_message(email)
    uow.rollback()  # let go of the database while the SMTP server talks
    started = time.monotonic()
    try:
        mailer.send(message)
    except SmtpError as exc:
        _record_email(uow, email_id, now, error=str(exc), started=started, rendered=rendered)
        return
    _record_email(uow, email_id, now, error=None, started=started, rendered=rendered)


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
    give_up: bool = False,
) -> None:
    email = uow.session.get(Email, email_id, with_for_update=True, populate_existing=True)
    if rendered:
        _keep_rendering(email, rendered)
    email.attempts += 1
    uow.session.add(
        DeliveryAttempt(
            email_id=email.id,
            succeeded=error is None,
            error=error,
            duration_ms=_elapsed(started),
            attempted_at=now,
        )
    )
    if error is None:
        email.sent_at, email.last_error = now, None
        domain.move(email, EmailStatus.SENT, domain.EMAIL_TRANSITIONS)
    else:
        email.last_error = error
        delay = None if give_up else domain.retry_delay(domain.EMAIL_RETRY_DELAYS, email.attempts)
        if delay is None:
            domain.move(email, EmailStatus.FAILED, domain.EMAIL_TRANSITIONS)
        else:
            _schedule(uow.session, SEND_EMAIL, {"email_id": email.id}, email.store_id, now + delay)
    uow.commit()


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
    settings = uow.settings
    request = dict(
        address=subscription.address,
        topic=delivery.topic,
        webhook_id=delivery.webhook_id,
        store_id=delivery.store_id,
        body=delivery.body,
        secret=SecretBox(settings.secret()).open(subscription.secret_encrypted),
        allow_private=settings.webhook_allow_private_addresses,
    )
    delivery_id = delivery.id
    uow.rollback()  # let go of the database while the receiver answers
    _record_delivery(uow, delivery_id, now, post(**request))


def _record_delivery(uow: UnitOfWork, delivery_id: int, now: datetime, result: DeliveryResult) -> None:
    delivery = uow.session.get(WebhookDelivery, delivery_id, with_for_update=True, populate_existing=True)
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


def _elapsed(started: float | None) -> int:
    return 0 if started is None else int((time.monotonic() - started) * 1000)


HANDLERS = {SEND_EMAIL: send_email, DELIVER_WEBHOOK: deliver_webhook}
