from pydantic import BaseModel

from tandem.api.presenting import timestamp
from tandem.api.types import Input, Text, WebhookAddress
from tandem.notifications.models import Email, WebhookDelivery, WebhookSubscription


class WebhookIn(Input):
    topic: Text
    address: WebhookAddress


class WebhookOut(BaseModel):
    id: int
    topic: str
    address: str
    created_at: str

    @classmethod
    def of(cls, subscription: WebhookSubscription) -> "WebhookOut":
        return cls(
            id=subscription.id,
            topic=subscription.topic,
            address=subscription.address,
            created_at=timestamp(subscription.created_at),
        )


class CreatedWebhookOut(WebhookOut):
    secret: str  # shown once, at creation


class WebhookList(BaseModel):
    webhooks: list[WebhookOut]
    next_cursor: str | None = None


class DeliveryOut(BaseModel):
    id: int
    subscription_id: int
    topic: str
    webhook_id: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: str
    delivered_at: str | None

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> "DeliveryOut":
        return cls(
            id=delivery.id,
            subscription_id=delivery.subscription_id,
            topic=delivery.topic,
            webhook_id=delivery.webhook_id,
            status=delivery.status,
            attempts=delivery.attempts,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            created_at=timestamp(delivery.created_at),
            delivered_at=timestamp(delivery.delivered_at),
        )


class DeliveryList(BaseModel):
    deliveries: list[DeliveryOut]


class EmailOut(BaseModel):
    id: int
    template: str
    locale: str
    to: str
    sender: str
    subject: str | None
    message_id: str
    status: str
    attempts: int
    last_error: str | None
    created_at: str
    sent_at: str | None

    @classmethod
    def of(cls, email: Email) -> "EmailOut":
        return cls(
            id=email.id,
            template=email.template,
            locale=email.locale,
            to=email.to_address,
            sender=f"{email.from_name} <{email.from_address}>",
            subject=email.subject,
            message_id=email.message_id,
            status=email.status,
            attempts=email.attempts,
            last_error=email.last_error,
            created_at=timestamp(email.created_at),
            sent_at=timestamp(email.sent_at),
        )


class EmailList(BaseModel):
    emails: list[EmailOut]
