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
    dies meanwhile sends again (at least once)."""
    ids = [payload["email_id"] for payload in payloads]
    emails = list(
        uow.session.scalars(
            select(Email)
            .where(Email.id.in_(ids), Email.status == EmailStatus.PENDING.value)
            .order_by(Email.id)
        )
    )
    rendered, broken = {}, {}
    for email in emails:
        try:
            rendered[email.id] = uow.ports.renderer.render(email.template, email.locale, email.context)
        except Exception as exc:  # a template error does not fix itself: fail it visibly
            log.exception("email %s cannot be rendered", email.id)
            broken[email.id] = f"cannot render: {exc}"
    outcomes = _deliver(uow, [e for e in emails if e.id in rendered], rendered)
    for email_id, error in broken.items():
        _record_email(uow, email_id, now, error=error, give_up=True)
    for email_id, (error, started) in outcomes.items():
        _record_email(uow, email_id, now, error=error, started=started, rendered=rendered[email_id])


def _deliver(uow: UnitOfWork, emails: list[Email], rendered: dict) -> dict[int, tuple[str | None, float]]:
    """Send (or keep, without a mail server) each email: {id: (error, started)}; kept ones are
    settled here."""
    mailer = uow.ports.mailer
    if mailer is None:
        for email in emails:
            _keep_rendering(email, rendered[email.id])
            domain.move(email, EmailStatus.KEPT, domain.EMAIL_TRANSITIONS)
        return {}
    outgoing = []
    for email in emails:
        _keep_rendering(email, rendered[email.id])
        outgoing.append((email.id, build_message(email)))
    uow.rollback()  # let go of the database while the SMTP server talks
    outcomes = {}
    for email_id, message in outgoing:
        started = time.monotonic()
        try:
            mailer.send(message)
            outcomes[email_id] = (None, started)
        except SmtpError as exc:
            outcomes[email_id] = (str(exc), started)
    return outcomes


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
    """Record one attempt in the caller's transaction."""
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
# Kept emails (no mail server) commit by the batch; through a mail server each message commits
# as soon as it is accepted, so a worker that dies resends at most the one in flight.
BATCH_HANDLERS = {SEND_EMAIL: BatchHandler(send_emails, applies=lambda ports: ports.mailer is None)}
