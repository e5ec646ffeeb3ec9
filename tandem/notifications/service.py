"""The outbox: queueing emails and webhook deliveries in the caller's transaction,
webhook subscriptions, and staff actions (resend)."""

import secrets
import uuid
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import func, literal_column, select, update
from sqlalchemy.orm import Session

from tandem.caching import config_changed
from tandem.db import UnitOfWork, insert_rows, insert_statement, next_ids
from tandem.errors import Conflict, InvalidInput, NotFound
from tandem.notifications import domain
from tandem.notifications.domain import DeliveryStatus, EmailStatus, Topic
from tandem.notifications.models import DeliveryAttempt, Email, WebhookDelivery, WebhookSubscription
from tandem.notifications.rendering import TEMPLATES, RenderedEmail
from tandem.notifications.webhooks import AddressRefused, SecretBox, check_address
from tandem.paging import Page, PageRequest, newest_first
from tandem.stores.models import Store
from tandem.worker import service as jobs

SEND_EMAIL = "notifications.send_email"
DELIVER_WEBHOOK = "notifications.deliver_webhook"


# -- emails ----------------------------------------------------------------------------------


def queue_email(
    session: Session,
    *,
    store,
    template: str,
    to_address: str,
    to_name: str | None,
    locale: str | None,
    context: dict,
    base_url: str,
    now: datetime,
    subject: tuple[str, int] | None = None,
) -> None:
    """Write an email and its sending job in the caller's transaction; sent from the store."""
    queue_emails(
        session,
        [email_row(store, template, to_address, to_name, locale, context, base_url, now, subject)],
        now=now,
    )


def email_row(
    store,
    template: str,
    to_address: str,
    to_name: str | None,
    locale: str | None,
    context: dict,
    base_url: str,
    now: datetime,
    subject: tuple[str, int] | None = None,
) -> dict:
    """An outbox email from `store` (a Store, or its cached settings)."""
    if template not in TEMPLATES:
        raise LookupError(f"no email template {template!r}")
    common = {"store": store_context(store, base_url), "recipient": {"name": to_name, "email": to_address}}
    return {
        "store_id": store.id,
        "template": template,
        "locale": locale or store.locale,
        "context": {**common, **context},
        "to_address": to_address,
        "to_name": to_name,
        "from_address": sender_address(store, base_url),
        "from_name": store.sender_name or store.name,
        "message_id": _message_id(base_url),
        "subject_type": subject[0] if subject else None,
        "subject_id": subject[1] if subject else None,
        "status": EmailStatus.PENDING.value,
        "attempts": 0,
        "created_at": now,
    }


def queue_emails(session: Session, rows: list[dict], *, now: datetime) -> None:
    """Emails (email_row) and their sending jobs: one statement each, however many."""
    if not rows:
        return
    ids = insert_rows(session, Email.__table__, rows)
    jobs.schedule_many(
        session,
        [_job(SEND_EMAIL, {"email_id": i}, row["store_id"], now) for i, row in zip(ids, rows, strict=True)],
        now=now,
    )


def queue_emails_later(uow: UnitOfWork, rows: list[dict], *, now: datetime) -> None:
    """queue_emails, sent with the transaction's writes (ids taken beforehand)."""
    if not rows:
        return
    ids = next_ids(uow.session, {Email.__table__: len(rows)})[Email.__table__]
    uow.writes.add(
        insert_statement(
            uow.session, Email.__table__, [{"id": i, **r} for i, r in zip(ids, rows, strict=True)]
        )
    )
    jobs.schedule_later(
        uow,
        [_job(SEND_EMAIL, {"email_id": i}, row["store_id"], now) for i, row in zip(ids, rows, strict=True)],
        now=now,
    )


def store_context(store: Store, base_url: str) -> dict:
    # No shop website is known yet, so customer mails do not link the store's name anywhere.
    return {
        "name": store.name,
        "email": store.sender_email or store.email,
        "url": None,
        "timezone": store.timezone,
    }


def sender_address(store: Store, base_url: str) -> str:
    return store.sender_email or store.email or f"no-reply@{_domain(base_url)}"


def staff_address(store: Store) -> str | None:
    """Where staff mails of a store go: its contact address."""
    return store.email or store.sender_email


def _message_id(base_url: str) -> str:
    return f"<{uuid.uuid4().hex}@{_domain(base_url)}>"


def _domain(base_url: str) -> str:
    return urlsplit(base_url).hostname or "tandem.invalid"


def failed_counts(uow: UnitOfWork, *, store_id: int | None = None) -> dict[str, int]:
    """How many emails and webhook deliveries gave up (of one store, or of all)."""
    counts = {}
    for kind, model in (("emails", Email), ("webhooks", WebhookDelivery)):
        # A literal, not a parameter: the partial index on failed messages then applies.
        query = select(func.count()).select_from(model).where(model.status == literal_column("'failed'"))
        if store_id is not None:
            query = query.where(model.store_id == store_id)
        counts[kind] = uow.session.scalar(query)
    return counts


def list_emails(uow: UnitOfWork, *, store_id: int, status: str | None, limit: int) -> list[Email]:
    query = select(Email).where(Email.store_id == store_id).order_by(Email.id.desc()).limit(limit)
    if status:
        query = query.where(Email.status == _known(status, EmailStatus))
    return list(uow.session.scalars(query))


def get_email(uow: UnitOfWork, *, store_id: int, email_id: int) -> Email:
    email = uow.session.scalar(select(Email).where(Email.id == email_id, Email.store_id == store_id))
    if email is None:
        raise NotFound("email not found")
    return email


def resend_email(uow: UnitOfWork, *, store_id: int, email_id: int, now: datetime) -> Email:
    """Send a sent, kept or failed email again (with the same Message-ID)."""
    email = get_email(uow, store_id=store_id, email_id=email_id)
    if email.status == EmailStatus.PENDING:
        raise Conflict("this email is already waiting to be sent", code="already_pending")
    domain.move(email, EmailStatus.PENDING, domain.EMAIL_TRANSITIONS)
    email.attempts, email.last_error = 0, None
    _schedule(uow.session, SEND_EMAIL, {"email_id": email.id}, store_id, now)
    uow.commit()
    return email


# -- webhooks --------------------------------------------------------------------------------


def create_subscription(
    uow: UnitOfWork, *, store_id: int, topic: str, address: str, now: datetime
) -> tuple[WebhookSubscription, str]:
    """Subscribe `address` to `topic`; returns the signing secret, which is shown only now."""
    _known(topic, Topic, field="topic")
    try:
        check_address(address, allow_private=uow.settings.webhook_allow_private_addresses)
    except AddressRefused as exc:
        raise InvalidInput("address", str(exc)) from None
    secret = "whsec_" + secrets.token_urlsafe(32)
    subscription = WebhookSubscription(
        store_id=store_id,
        topic=topic,
        address=address,
        secret_encrypted=SecretBox(uow.settings.secret()).seal(secret),
        created_at=now,
    )
    uow.session.add(subscription)
    config_changed(uow, store_id)
    uow.commit()
    return subscription, secret


def list_subscriptions(uow: UnitOfWork, *, store_id: int, page: PageRequest) -> Page[WebhookSubscription]:
    query = select(WebhookSubscription).where(
        WebhookSubscription.store_id == store_id, WebhookSubscription.deleted_at.is_(None)
    )
    return newest_first(uow.session, query, WebhookSubscription.id, page)


def delete_subscription(uow: UnitOfWork, *, store_id: int, subscription_id: int, now: datetime) -> None:
    """Stop a subscription; deliveries not yet made are cancelled, history is kept."""
    subscription = _subscription(uow.session, store_id, subscription_id)
    subscription.deleted_at = now
    uow.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription.id,
            WebhookDelivery.status == DeliveryStatus.PENDING.value,
        )
        .values(status=DeliveryStatus.CANCELLED.value)
        .execution_options(synchronize_session=False)
    )
    config_changed(uow, store_id)
    uow.commit()


def queue_webhooks(
    uow: UnitOfWork, *, store_id: int, topic: Topic, body: Callable[[], str], now: datetime
) -> int:
    """One delivery per live subscription to `topic` (known from the store's cached settings);
    the body is built only if someone listens."""
    subscriptions = uow.caches.store(uow.session, store_id).subscribed(topic.value)
    if subscriptions:
        queue_deliveries(uow.session, [(store_id, topic, subscriptions, body())], now=now)
    return len(subscriptions)


def queue_deliveries(
    session: Session, messages: list[tuple[int, Topic, list[int] | tuple[int, ...], str]], *, now: datetime
) -> None:
    """Webhook deliveries and their jobs, one statement each: (store_id, topic, subscriptions, body)."""
    rows = [
        {
            "store_id": store_id,
            "subscription_id": subscription_id,
            "topic": topic.value,
            "webhook_id": str(uuid.uuid4()),
            "body": body,
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "created_at": now,
        }
        for store_id, topic, subscriptions, body in messages
        for subscription_id in subscriptions
    ]
    if not rows:
        return
    ids = insert_rows(session, WebhookDelivery.__table__, rows)
    jobs.schedule_many(
        session,
        [
            _job(DELIVER_WEBHOOK, {"delivery_id": i}, row["store_id"], now)
            for i, row in zip(ids, rows, strict=True)
        ],
        now=now,
    )


def list_deliveries(
    uow: UnitOfWork, *, store_id: int, status: str | None, subscription_id: int | None, limit: int
) -> list[WebhookDelivery]:
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.store_id == store_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(WebhookDelivery.status == _known(status, DeliveryStatus))
    if subscription_id:
        query = query.where(WebhookDelivery.subscription_id == subscription_id)
    return list(uow.session.scalars(query))


def resend_delivery(uow: UnitOfWork, *, store_id: int, delivery_id: int, now: datetime) -> WebhookDelivery:
    delivery = uow.session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.id == delivery_id, WebhookDelivery.store_id == store_id)
    )
    if delivery is None:
        raise NotFound("webhook delivery not found")
    subscription = _subscription(uow.session, store_id, delivery.subscription_id)
    if delivery.status == DeliveryStatus.PENDING:
        raise Conflict("this delivery is already waiting to be made", code="already_pending")
    domain.move(delivery, DeliveryStatus.PENDING, domain.DELIVERY_TRANSITIONS)
    delivery.attempts, delivery.last_error = 0, None
    _schedule(uow.session, DELIVER_WEBHOOK, {"delivery_id": delivery.id}, subscription.store_id, now)
    uow.commit()
    return delivery


def _subscription(session: Session, store_id: int, subscription_id: int) -> WebhookSubscription:
    subscription = session.scalar(
        select(WebhookSubscription).where(
            WebhookSubscription.id == subscription_id,
            WebhookSubscription.store_id == store_id,
            WebhookSubscription.deleted_at.is_(None),
        )
    )
    if subscription is None:
        raise NotFound("webhook subscription not found")
    return subscription


def _schedule(session: Session, kind: str, payload: dict, store_id: int, run_at: datetime) -> None:
    jobs.schedule_many(session, [_job(kind, payload, store_id, run_at)], now=run_at)


def _job(kind: str, payload: dict, store_id: int, run_at: datetime) -> dict:
    # The outbox message counts its own attempts; a job runs twice only if a worker died.
    return {"kind": kind, "payload": payload, "store_id": store_id, "run_at": run_at, "max_attempts": 3}


def _known(value: str, enum, field: str = "status") -> str:
    if value not in {e.value for e in enum}:
        raise InvalidInput(field, f"must be one of {', '.join(e.value for e in enum)}")
    return value


def attempts_of(
    uow: UnitOfWork, *, email_id: int | None = None, delivery_id: int | None = None
) -> list[DeliveryAttempt]:
    column = DeliveryAttempt.email_id if email_id else DeliveryAttempt.delivery_id
    return list(
        uow.session.scalars(
            select(DeliveryAttempt).where(column == (email_id or delivery_id)).order_by(DeliveryAttempt.id)
        )
    )


def preview(uow: UnitOfWork, email: Email) -> RenderedEmail | None:
    """What the email says: as sent or kept, or rendered now if the worker has not yet;
    None if it cannot be rendered (its attempts say why)."""
    if email.subject is not None:
        return RenderedEmail(email.subject, email.text_body or "", email.html_body or "")
    try:
        return uow.ports.renderer.render(email.template, email.locale, email.context)
    except Exception:  # noqa: BLE001 - the worker records the error; the page still opens
        return None


def addresses_of(uow: UnitOfWork, deliveries: list[WebhookDelivery]) -> dict[int, str]:
    ids = {d.subscription_id for d in deliveries}
    rows = uow.session.execute(
        select(WebhookSubscription.id, WebhookSubscription.address).where(WebhookSubscription.id.in_(ids))
    )
    return dict(rows.all())
